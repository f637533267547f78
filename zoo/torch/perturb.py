"""Seeded Gaussian directions over a list of parameter tensors, never stored: regenerated from the seed.

MeZO (Malladi et al., NeurIPS 2023) perturbs the parameters in place by ``mu z(s)`` and later regenerates
``z(s)`` from the seed ``s``, so that a step needs no memory beyond inference. Here ``z`` is drawn chunk by chunk
(``CHUNK`` elements at a time, in the parameter's own dtype, on its device), so the only temporary is one chunk.

Exact restore. ``(p + a) - a`` is not always ``p`` in floating point (about 2% of fp32 elements differ in the
last bit when the sum crosses a binade). :func:`perturb` therefore checks each chunk as it perturbs it and keeps
the few elements whose round trip would not return exactly (chunk-local int16 index + on the CPU the int8
difference of the element's bit pattern from its round trip's, the value itself where that does not fit: about
3 bytes per patched element, 4-5 % of the elements of fp32 weights perturbed by 1e-3, 0.13 bytes a parameter);
:func:`restore` subtracts the regenerated ``a`` (the same op, so the same round-trip value) and corrects those
elements, so the parameters return bit for bit.

Small tensors (LayerNorm weights, biases: at most ``SMALL`` elements each, ``SAVE_BUDGET`` elements in all per
walk) are instead copied whole before they are perturbed and written back from the copy: on them the check's
five per-chunk ops cost a few microseconds each of fixed overhead for a few hundred elements, while the copy is
one op and its restore another (no ``z`` arithmetic, no index write), for at most one chunk of extra memory.

Patch memory on the CPU comes from blocks kept and reused across walks (:class:`_Block`, anonymous memory
maps returned to a free list when the last patch list using one is dropped), not from the malloc heap. A patch lives from one forward to
the next; allocated between them, the small patches landed inside the heap space glibc had just reclaimed from
the forward's activations, and the next forward's large buffers no longer fitted there: on a 4-layer GPT-2 the
process peak grew to 1.7x inference (MeZO's step, whose temporaries die at once, stayed at 1.0x); with the
reused blocks it is within 5 % of inference's (RESULTS.md, issue 11, section 6.5).
"""

from __future__ import annotations

import mmap
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

CHUNK = 1 << 15  # chunk-local patch indices fit in int16
SMALL = 1 << 12  # tensors up to this many elements are saved whole instead of round-trip checked...
SAVE_BUDGET = CHUNK  # ...up to this many elements in all per walk (the size of one scratch buffer)

# (param index, chunk start, local int16 indices, original values): numpy arrays on the CPU, tensors elsewhere;
# on the CPU values may be int8: bit-pattern offsets from the round trip's value instead of the values;
# indices None: values is a copy of the whole chunk (a small tensor, see SMALL)
Patch = tuple[int, int, Any, Any]


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed for ``(seed, *keys)``: independent streams per step and direction, no stored state."""
    state = np.random.SeedSequence([int(seed), *(int(k) for k in keys)]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def _mix(seed: int, key: int) -> int:
    # each parameter tensor draws from its own stream, so that a group can regenerate its part alone
    return (seed + 0x9E3779B97F4A7C15 * (key + 1)) % (1 << 63)


def _direction_chunks(
    params: Sequence[torch.Tensor],
    seed: int,
    keys: Sequence[int] | None = None,
    buffers: dict[tuple, torch.Tensor] | None = None,
) -> Iterator[tuple[int, torch.Tensor, int, torch.Tensor]]:
    """Yield ``(param index, flat chunk view, start, z chunk)``; the same seed yields the same ``z``.

    ``keys[i]`` names the stream of ``params[i]`` (default ``i``): the stream depends on (seed, key) only.
    The z chunk is a view of one buffer reused for the whole call (no allocation per chunk, which would
    fragment the heap between the small long-lived patches): use it before asking for the next chunk.
    ``buffers`` (per dtype and device, at least as long as the largest chunk): the caller's, else new ones.
    """
    buffers = {} if buffers is None else buffers
    generators: dict[torch.device, torch.Generator] = {}
    size = None
    for i, p in enumerate(params):
        gen = generators.get(p.device)
        if gen is None:
            gen = generators[p.device] = torch.Generator(device=p.device)
        gen.manual_seed(_mix(seed, i if keys is None else keys[i]))
        flat = p.data.view(-1)
        key = (p.dtype, p.device)
        buf = buffers.get(key)
        if buf is None:
            size = min(CHUNK, max(q.numel() for q in params)) if size is None else size
            buf = buffers[key] = torch.empty(size, dtype=p.dtype, device=p.device)
        for start in range(0, flat.numel(), CHUNK):
            chunk = flat[start : start + CHUNK]
            # normal_ on a view: the numbers of torch.randn(n, generator=gen), without randn(out=)'s slower path
            z = buf[: chunk.numel()].normal_(generator=gen)
            yield i, chunk, start, z


def direction_chunks(p: torch.Tensor, seed: int, key: int) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, z chunk)`` of one tensor's direction, the chunk a view valid until the next one is drawn."""
    for _, _, start, z in _direction_chunks([p], seed, [key]):
        yield start, z


def direction(
    params: Sequence[torch.Tensor], seed: int, keys: Sequence[int] | None = None
) -> list[torch.Tensor]:
    """The direction ``z(seed)`` as full tensors shaped like ``params`` (for batched evaluation and tests)."""
    out = [torch.empty_like(p.data) for p in params]
    for i, _, start, z in _direction_chunks(params, seed, keys):
        flat = out[i].view(-1)
        flat[start : start + z.numel()] = z
    return out


class _Block:
    """A block of patch memory for one (dtype, CPU): values (tensor, and its numpy view where numpy has the
    dtype) and int16 indices, handed out front to back; ``leases``: the patch lists that use it. The memory is
    an anonymous mapping of its own, outside the malloc heap: a block made between two forwards (the first
    steps, before the blocks have their size) must not land in the heap space of the activations either."""

    __slots__ = ("vals", "vals_np", "idx", "used", "leases", "maps")

    def __init__(self, dtype: torch.dtype, size: int) -> None:
        item = torch.empty((), dtype=dtype).element_size()
        self.maps = (mmap.mmap(-1, size * item), mmap.mmap(-1, 2 * size))  # pages are touched only when used
        self.vals = torch.from_numpy(np.frombuffer(self.maps[0], dtype=f"u{item}")).view(dtype)
        self.vals_np = self.vals.numpy() if dtype != torch.bfloat16 else None
        self.idx = np.frombuffer(self.maps[1], dtype=np.int16)
        self.used, self.leases = 0, 0

    def discard_pages(self) -> None:
        """Give the used pages back (a free block must not add to the peak while the next forward runs; the
        freed patch arrays of a heap version were reused by that forward). They fault in again as zeros."""
        if hasattr(mmap, "MADV_DONTNEED"):
            for m in self.maps:
                m.madvise(mmap.MADV_DONTNEED)


_FREE: dict[torch.dtype, list[_Block]] = {}  # blocks no patch list uses, largest last
_FREE_KEEP = 3  # per dtype: a spsa pair holds two lists at once (flip reads one and writes the next)
_NEED: dict[torch.dtype, int] = {}  # per dtype: the most patch memory one walk has used, times 1.25
_LOCK = threading.Lock()  # a patch list may be dropped (and its blocks returned) on any thread


class _Patches(list):
    """The patches of one walk, holding its blocks until it is dropped."""

    blocks: list[_Block] = []  # noqa: RUF012 (read only; hold() sets the instance's own)

    def hold(self, blocks: list[_Block]) -> None:
        self.blocks = blocks
        with _LOCK:
            for b in blocks:
                b.leases += 1
        weakref.finalize(self, _release, blocks)


def _release(blocks: list[_Block]) -> None:
    with _LOCK:
        for b in blocks:
            b.leases -= 1
            dtype = b.vals.dtype
            if b.leases == 0 and b.vals.numel() >= _NEED.get(dtype, 0):  # smaller ones: dropped
                b.used = 0
                b.discard_pages()
                free = _FREE.setdefault(dtype, [])
                free.append(b)
                free.sort(key=lambda blk: blk.vals.numel())
                del free[:-_FREE_KEEP]


class _Arena:
    """Patch memory for one walk: slices of a reused block (one as large as the most a walk has needed, or
    ``first`` elements before any walk), another block taken when it runs out."""

    def __init__(self, first: int) -> None:
        self.first, self.blocks = first, []
        self._current: dict[torch.dtype, _Block] = {}

    def take(self, dtype: torch.dtype, n: int) -> tuple[_Block, int]:
        b = self._current.get(dtype)
        if b is None or b.used + n > b.vals.numel():
            size = max(n, _NEED.get(dtype, self.first) if b is None else b.vals.numel())
            with _LOCK:
                free = _FREE.get(dtype, [])
                b = free.pop() if free and free[-1].vals.numel() >= size else None
            b = _Block(dtype, size) if b is None else b
            self._current[dtype] = b
            self.blocks.append(b)
        start = b.used
        b.used += n
        return b, start

    def close(self) -> None:
        """Note this walk's use, so that the next walks take one block large enough."""
        used: dict[torch.dtype, int] = {}
        for b in self.blocks:
            used[b.vals.dtype] = used.get(b.vals.dtype, 0) + b.used
        with _LOCK:
            for dtype, n in used.items():
                _NEED[dtype] = max(_NEED.get(dtype, 0), n + n // 4)


def _walk(
    params: Sequence[torch.Tensor],
    seed: int,
    keys: Sequence[int] | None,
    *,
    undo: float = 0.0,
    patches: Sequence[Patch] = (),
    add: float = 0.0,
    shift: float = 0.0,
) -> list[Patch]:
    """One pass over ``z(seed)``, chunk by chunk, doing in this order what is asked:

    1. ``undo``: ``p <- p - undo z``, then the chunk's ``patches`` written back (undoes a ``shift`` exactly);
    2. ``add``: ``p <- p + add z`` (an SGD update);
    3. ``shift``: ``p <- p + shift z``, noting the elements whose round trip would not return (the new patches;
       a small tensor's patch is its copy, carried from ``patches`` when the walk also undoes).

    Fusing them regenerates ``z`` once instead of once per operation (randn dominates a MeZO step's cost);
    the numbers are those of the separate operations, bit for bit.
    """
    out = _Patches()
    size = min(CHUNK, max(p.numel() for p in params)) if params else 0
    scratch = _scratch(params, size)
    j, saved_elems = 0, 0
    # the first block's size before any walk: the saved copies and 1/16 of the rest (fp32 weights of ~0.05
    # perturbed by 1e-3: 2-7 % of the elements do not round-trip)
    arena = _Arena(SAVE_BUDGET + sum(p.numel() for p in params) // 16) if shift else None
    zbufs = {key: bufs[0] for key, bufs in scratch.items()}
    for i, chunk, start, z in _direction_chunks(params, seed, keys, zbufs):
        n = z.numel()
        saved = None
        here = undo and j < len(patches) and patches[j][0] == i and patches[j][1] == start
        if here and patches[j][2] is None:
            saved, j = patches[j][3], j + 1  # a small tensor's copy: the original values, exactly
        elif shift and n <= SMALL and saved_elems + n <= SAVE_BUDGET and not (undo or add):
            # perturb: save the small tensor whole
            if chunk.device.type == "cpu":
                block, at = arena.take(chunk.dtype, n)
                saved = block.vals[at : at + n]
                saved.copy_(chunk)
            else:
                saved = chunk.clone()
        if saved is not None:
            # the same ops on the same values as the path below (the undo there returns exactly ``saved``)
            if shift:
                if arena is not None and chunk.device.type == "cpu" and (undo or add):
                    # carried from the input patches: into this walk's block, so that the input's blocks go
                    # back as soon as the input list is dropped (not held through the next forward)
                    block, at = arena.take(chunk.dtype, n)
                    saved = block.vals[at : at + n].copy_(saved)
                if add:
                    saved.add_(z, alpha=add)
                torch.add(saved, z, alpha=shift, out=chunk)
                out.append((i, start, None, saved))
                saved_elems += n
            elif add:
                torch.add(saved, z, alpha=add, out=chunk)
            else:
                chunk.copy_(saved)
            continue
        _, new, back, bad, views = scratch[(chunk.dtype, chunk.device)]
        cn = chunk.numpy() if views is not None else None  # the CPU path: numpy views, no torch op per use
        if undo:  # the same fused op as the round-trip check of ``shift`` below: exact by construction
            chunk.sub_(z, alpha=undo)
            while j < len(patches) and patches[j][0] == i and patches[j][1] == start:
                if cn is not None:  # numpy arrays on the CPU; numpy's fancy assignment takes int16 indices
                    local, vals = patches[j][2], patches[j][3]
                    if vals.dtype == np.int8:  # bit-pattern offsets from the round trip's value (see below)
                        ci = cn.view(views[1].dtype)
                        ci[local] += vals
                    else:
                        cn[local] = vals
                else:
                    chunk[patches[j][2].long()] = patches[j][3]
                j += 1
        if add:
            chunk.add_(z, alpha=add)
        if shift:
            if n != new.numel():
                new, back = new[:n], back[:n]
            torch.add(chunk, z, alpha=shift, out=new)
            torch.sub(new, z, alpha=shift, out=back)
            if cn is not None:
                # the check on integer views through numpy: torch's ne + nonzero cost about a third of a
                # randn per chunk on the CPU, numpy's not_equal + nonzero a sixth of that
                back_i, mask = views[1][:n], views[2][:n]
                np.not_equal(back_i, cn.view(back_i.dtype), out=mask)
                (idx,) = mask.nonzero()
                if idx.size:
                    # x differs from its round trip ``back`` by a few units in the last place: kept as the
                    # difference of their bit patterns in one int8 (3 bytes a patched element with the index,
                    # not 6: the patches are the memory a step adds over inference); the rare element whose
                    # difference does not fit (a sign change, a round trip to zero) keeps its value
                    # (in the integer dtype, wrapping: x = back + diff holds modulo 2^bits, and the restore's
                    # in-place add on the integer view wraps the same way)
                    diff = cn.view(back_i.dtype)[idx]
                    diff -= back_i[idx]
                    k = idx.size
                    block, at = arena.take(torch.int8, k)
                    vals, local = block.vals_np[at : at + k], block.idx[at : at + k]
                    vals[:] = diff  # truncated to int8: equal to diff where it fits
                    local[:] = idx
                    fits = vals == diff
                    if fits.all():
                        out.append((i, start, local, vals))
                    else:
                        where, m = idx[~fits], int(np.count_nonzero(fits))
                        # the fitting ones compacted to the front of their slice (the temporaries die here:
                        # no small long-lived arrays in the malloc heap, see the module docstring)
                        if m:  # none fits: no empty int8 patch for restore to walk over
                            local[:m], vals[:m] = local[fits], vals[fits]
                            out.append((i, start, local[:m], vals[:m]))
                        block, at = arena.take(chunk.dtype, where.size)
                        vals, local = block.vals_np[at : at + where.size], block.idx[at : at + where.size]
                        np.take(cn, where, out=vals)
                        local[:] = where
                        out.append((i, start, local, vals))
            else:
                ints = _BITS[chunk.element_size()]
                bad = bad[:n]
                torch.ne(back.view(ints), chunk.view(ints), out=bad)
                idx = torch.nonzero(bad).squeeze(1)
                if idx.numel():
                    out.append((i, start, idx.to(torch.int16), chunk[idx]))
            chunk.copy_(new)
    if arena is not None and arena.blocks:
        arena.close()
        out.hold(arena.blocks)
    return out


_SCRATCH = threading.local()


def _scratch(params: Sequence[torch.Tensor], size: int) -> dict[tuple, tuple]:
    """Per (dtype, device) of ``params``: ``z``, ``new``, ``back`` (the chunk perturbed and round-tripped), a
    bool mask, and on the CPU the numpy integer views of ``back`` and the mask. Kept per thread and reused
    by every walk (grown when a larger chunk comes): fresh buffers per walk cost a page fault per 4 KiB on
    their first write, which on a model of small tensors cost more than the walk's arithmetic."""
    cache = getattr(_SCRATCH, "buffers", None)
    if cache is None:
        cache = _SCRATCH.buffers = {}
    out = {}
    for p in params:
        key = (p.dtype, p.device)
        if key in out:
            continue
        bufs = cache.get(key)
        if bufs is None or bufs[0].numel() < size:
            z, new, back = (torch.empty(size, dtype=p.dtype, device=p.device) for _ in range(3))
            bad = torch.empty(size, dtype=torch.bool, device=p.device)
            views = None
            if p.device.type == "cpu" and p.dtype != torch.bfloat16:  # numpy has no bfloat16: torch's ops
                ints = _BITS[back.element_size()]
                views = (ints, back.view(ints).numpy(), bad.numpy())
            bufs = cache[key] = (z, new, back, bad, views)
        out[key] = bufs
    return out


_BITS = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def perturb(
    params: Sequence[torch.Tensor], seed: int, scale: float, keys: Sequence[int] | None = None
) -> list[Patch]:
    """In place ``p <- p + scale z(seed)``; returns the patches :func:`restore` needs to return exactly."""
    return _walk(params, seed, keys, shift=scale)


def restore(
    params: Sequence[torch.Tensor],
    seed: int,
    scale: float,
    patches: list[Patch],
    keys: Sequence[int] | None = None,
) -> None:
    """Undo :func:`perturb` bit for bit: ``p <- p - scale z(seed)``, then write back the patched elements."""
    _walk(params, seed, keys, undo=scale, patches=patches)


def flip(
    params: Sequence[torch.Tensor],
    seed: int,
    scale: float,
    patches: list[Patch],
    keys: Sequence[int] | None = None,
) -> list[Patch]:
    """From ``theta + scale z`` to ``theta - scale z`` in one pass (restore, then perturb by ``-scale``)."""
    return _walk(params, seed, keys, undo=scale, patches=patches, shift=-scale)


def restore_and_add(
    params: Sequence[torch.Tensor],
    seed: int,
    scale: float,
    patches: list[Patch],
    alpha: float,
    keys: Sequence[int] | None = None,
) -> None:
    """Restore from ``theta + scale z`` exactly, then ``theta <- theta + alpha z``, in one pass."""
    _walk(params, seed, keys, undo=scale, patches=patches, add=alpha)


def add_direction(
    params: Sequence[torch.Tensor], seed: int, alpha: float, keys: Sequence[int] | None = None
) -> None:
    """In place ``p <- p + alpha z(seed)`` (the MeZO-SGD update: ``z`` regenerated, never stored)."""
    for _, chunk, _, z in _direction_chunks(params, seed, keys):
        chunk.add_(z, alpha=alpha)
