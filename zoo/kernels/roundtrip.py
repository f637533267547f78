"""The round-trip check of an in-place perturbation, and its undo: one pass each over a chunk's bit patterns.

zoo.torch's exact restore (zoo/torch/perturb.py): a parameter chunk ``x`` is perturbed to ``new = x + a``, and
``back = new - a`` (torch's ops, the same ones the restore will run) is its round trip, which differs from ``x``
in the last bits for a few percent of the elements. Those elements are kept as patches, so that the restore
returns ``x`` bit for bit. On integer views of the bit patterns (``int16`` / ``int32`` / ``int64`` for fp16 /
fp32 / fp64), this module's kernels:

- ``check``: one pass over the chunk: for each ``k`` with ``x[k] != back[k]`` the difference
  ``d = x[k] - back[k]`` modulo ``2^bits`` (a few units in the last place) goes to ``(idx, off)`` as an int8
  where it fits in [-128, 127], else the bit pattern ``x[k]`` itself goes to ``(far_idx, far_val)``; and the
  chunk takes the perturbed values, ``x[k] <- new[k]`` (the copy, in the same pass). Returns the two counts.
- ``apply_offsets``: ``x[idx] += off`` (modulo ``2^bits``: ``back + d = x`` exactly); ``apply_values``:
  ``x[idx] = val``.

Numba kernels and their numpy twins (``*_numpy``, several vectorized passes each), held equal by
``tests/kernels/test_roundtrip_kernels.py``. The kernels exist because the twins' five to eight numpy calls per
chunk were a fixed cost per chunk of the same order as the arithmetic on small tensors (issue 11: a spsa step's
bookkeeping against a plain MeZO step's).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def check(x, back, new, idx, off, far_idx, far_val, bits):  # pragma: no cover - compiled
    half = np.int64(1) << (bits - 1)
    mod = half << 1
    m = 0
    f = 0
    for k in range(x.shape[0]):
        xv = x[k]
        bv = back[k]
        if xv != bv:
            d = np.int64(xv) - np.int64(bv)  # exact for 16 / 32 bits; wraps like the dtype for 64
            if bits < 64:
                d = (d + half) % mod - half  # the difference modulo 2^bits, as the restore's add wraps
            if -128 <= d <= 127:
                idx[m] = k
                off[m] = d
                m += 1
            else:
                far_idx[f] = k
                far_val[f] = xv
                f += 1
        x[k] = new[k]
    return m, f


@numba.njit(cache=True, nogil=True)
def apply_offsets(x, idx, off):  # pragma: no cover - compiled
    for j in range(idx.shape[0]):
        k = idx[j]
        x[k] += off[j]  # stored back truncated: wraps in the integer dtype, back + d == x modulo 2^bits


@numba.njit(cache=True, nogil=True)
def apply_values(x, idx, val):  # pragma: no cover - compiled
    for j in range(idx.shape[0]):
        x[idx[j]] = val[j]


_WARM: set = set()


def warm(ints: type) -> None:
    """Compile (or load from the on-disk cache) the three kernels for one integer dtype, on empty arrays.

    zoo.torch calls it when it first walks a list of parameters of that dtype, before any perturbed forward:
    compiled lazily inside a step instead (the first time a chunk has an element whose offset does not fit,
    say), LLVM's memory would add to that step's peak (20-30 MiB; issue 11 measures a step's peak memory)."""
    if ints in _WARM:
        return
    x, i16, i8 = np.zeros(1, ints), np.zeros(1, np.int16), np.zeros(1, np.int8)
    check(x, x.copy(), x.copy(), i16, i8, i16.copy(), x.copy(), 8 * x.itemsize)
    apply_offsets(x, i16[:0], i8[:0])
    apply_values(x, i16[:0], x[:0])
    _WARM.add(ints)


# ------------------------------------------------------------------------------------------------ numpy twins
def check_numpy(x, back, new, idx, off, far_idx, far_val, bits):
    """The twin of :func:`check` (``bits`` unused: numpy's integer arithmetic already wraps in the dtype)."""
    (where,) = np.not_equal(x, back).nonzero()
    diff = x[where]
    diff -= back[where]  # modulo 2^bits
    fits = (diff >= -128) & (diff <= 127)
    m, f = int(np.count_nonzero(fits)), int(where.size - np.count_nonzero(fits))
    idx[:m], off[:m] = where[fits], diff[fits]
    far_idx[:f], far_val[:f] = where[~fits], x[where[~fits]]
    x[:] = new
    return m, f


def apply_offsets_numpy(x, idx, off):
    """The twin of :func:`apply_offsets` (indices are distinct: a gather, an add and a scatter)."""
    x[idx] += off.astype(x.dtype)


def apply_values_numpy(x, idx, val):
    """The twin of :func:`apply_values`."""
    x[idx] = val
