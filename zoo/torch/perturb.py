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
per-chunk ops cost a few microseconds each of fixed overhead for a few hundred elements, while the copy is one
op and its restore another (no ``z`` arithmetic, no index write), for at most one chunk of extra memory. They
are done together: on the CPU one ``torch._foreach_*`` call per op over all of them (the same per-tensor ops).

Fixed costs per tensor and per chunk. A spsa step walks the same list of tensors three times, every step, and
on a model of many small tensors what MeZO's plain step does not pay was per-call overhead, not arithmetic.
So: a walk's flat views, chunks and their numpy views are built once per list and kept (:class:`_Plan`,
rebuilt when a tensor's storage changes); on the CPU the check of a chunk, its patches and the copy of the
perturbed values are one pass of a Numba kernel (zoo/kernels/roundtrip.py, numpy twins held equal by tests)
instead of five to eight numpy calls.

The direction kept between the walks of a step. ``z`` is drawn by ``normal_`` (about 5 ns an element on one CPU
thread: half of a walk), and a spsa step walks the same ``z(seed)`` three times (perturb; flip; restore + update),
where MeZO's plain step draws it four times. When the whole direction of a list takes at most ``KEEP_BYTES``
(1 MiB), ``z`` is drawn once by the first walk of a seed into a buffer kept per thread and read back by the
next walks of the same (list, seed) instead of regenerated: the same numbers (the same ``normal_`` calls, into
other memory), two draws of three saved, for at most 1 MiB beside inference's peak. The suite's small
transformer (145k parameters, 0.55 MiB) is such a list; a model of millions of parameters keeps nothing and
regenerates ``z`` as MeZO does.

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

from zoo.kernels import roundtrip as _rt

CHUNK = 1 << 15  # chunk-local patch indices fit in int16
SMALL = 1 << 12  # tensors up to this many elements are saved whole instead of round-trip checked...
SAVE_BUDGET = CHUNK  # ...up to this many elements in all per walk (the size of one scratch buffer)
KEEP_BYTES = 1 << 20  # the direction of a list, up to this many bytes of it, is drawn once per seed and kept

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


_BITS = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
# the CPU round-trip check through zoo/kernels/roundtrip.py's kernels (False: their numpy twins)
use_numba = True


class _Plan:
    """What a walk over one list of parameters needs that does not change between walks, built once and kept
    (a spsa step walks the same list three times, every step): each tensor's stream key, flat view and chunks
    (with, on the CPU, the numpy integer view of each chunk's bit patterns), the tensors that :func:`perturb`
    saves whole (see ``SMALL``) and the size of the first patch block. Rebuilding these views per walk was a
    Python cost per tensor and per chunk of the same order as the arithmetic on a model of small tensors."""

    __slots__ = ("tensors", "small", "first", "size", "kinds", "devices", "kept", "kept_sizes", "__weakref__")

    def __init__(self, params: Sequence[torch.Tensor], keys: Sequence[int] | None) -> None:
        self.tensors: list[tuple] = []
        self.small: list[int] = []
        saved = 0
        for i, p in enumerate(params):
            flat = p.data.view(-1)
            n = flat.numel()
            kind = (p.dtype, p.device)
            numpy_path = p.device.type == "cpu" and p.dtype != torch.bfloat16  # numpy has no bfloat16
            ints = _NP_INTS.get(p.element_size()) if numpy_path else None
            if ints is not None and use_numba:
                _rt.warm(ints)
            chunks = []
            for start in range(0, n, CHUNK):
                c = flat[start : start + CHUNK]
                chunks.append((start, c, c.numpy().view(ints) if ints is not None else None))
            self.tensors.append((i, i if keys is None else int(keys[i]), flat, chunks, kind))
            if 0 < n <= SMALL and saved + n <= SAVE_BUDGET:
                self.small.append(i)
                saved += n
        self.size = min(CHUNK, max(p.numel() for p in params))
        # the first block's size before any walk: the saved copies and 1/16 of the rest (fp32 weights of ~0.05
        # perturbed by 1e-3: 2-7 % of the elements do not round-trip)
        self.first = SAVE_BUDGET + sum(p.numel() for p in params) // 16
        self.kinds = list(dict.fromkeys(t[4] for t in self.tensors))
        self.devices = list(dict.fromkeys(p.device for p in params))
        # the z kept between walks, where the list's whole direction takes at most KEEP_BYTES: param index ->
        # (kind, offset in that kind's kept buffer). All or nothing: keeping part of a larger model's z saved no
        # time on a 4-layer GPT-2 (2.1 M parameters) and made its process peak land in the high mode of
        # RESULTS 11, 8b more often (4 of 6 processes against 0 of 6; 8e)
        self.kept: dict[int, tuple[tuple, int]] = {}
        self.kept_sizes: dict[tuple, int] = {}
        if sum(p.numel() * p.element_size() for p in params) <= KEEP_BYTES:
            for i, p in enumerate(params):
                if p.numel():
                    kind = (p.dtype, p.device)
                    self.kept[i] = (kind, self.kept_sizes.get(kind, 0))
                    self.kept_sizes[kind] = self.kept_sizes.get(kind, 0) + p.numel()


_NP_INTS = {2: np.int16, 4: np.int32, 8: np.int64}
# id(params[0]) -> (weakref to it, the list's signature, plan)
_PLANS: dict[int, tuple[Any, tuple, _Plan]] = {}


def _plan(params: Sequence[torch.Tensor], keys: Sequence[int] | None) -> _Plan:
    """The cached :class:`_Plan` of ``params`` (rebuilt when a tensor's storage, size or dtype changed)."""
    sig = (
        tuple((p.data_ptr(), p.numel(), p.dtype, p.device) for p in params),
        None if keys is None else tuple(keys),
        CHUNK,
        SMALL,
        SAVE_BUDGET,
        KEEP_BYTES,
    )
    head = params[0]
    entry = _PLANS.get(id(head))
    if entry is not None and entry[0]() is head and entry[1] == sig:
        return entry[2]
    plan = _Plan(params, keys)
    # one plan per first tensor (the optimizer's list, or a group's): it holds views of the parameters'
    # storage, so it leaves with the tensor (the weakref's callback), and a newer list replaces it
    key = id(head)

    def drop(ref: Any, key: int = key) -> None:
        cur = _PLANS.get(key)
        if cur is not None and cur[0] is ref:
            del _PLANS[key]

    _PLANS[key] = (weakref.ref(head, drop), sig, plan)
    return plan


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
    the numbers are those of the separate operations, bit for bit. The small tensors saved whole are done
    together after their ``z`` is drawn (see :func:`_walk_saved`).
    """
    out = _Patches()
    if not params:
        return out
    plan = _plan(params, keys)
    scratch = _scratch(plan)
    gens = _generators(plan.devices)
    kept = _kept(plan) if plan.kept else None
    hit = kept is not None and kept.seed == seed  # this seed's z is in the kept buffer: read, not drawn
    if kept is not None and not hit:
        kept.seed = None  # drawn anew by this walk; valid once it completes
    views = kept.views if kept is not None else {}
    if undo:
        checked = [pt for pt in patches if pt[2] is not None]
        saved_in = {pt[0]: pt[3] for pt in patches if pt[2] is None}
        small = [i for i in range(len(params)) if i in saved_in] if saved_in else []
    else:
        checked, saved_in = [], {}
        small = plan.small if shift and not add else []
    small_set = set(small)
    if small:  # the small tensors' z buffers, sized once for the walk
        for kind in plan.kinds:
            _small_buffer(kind, sum(params[i].numel() for i in small if plan.tensors[i][4] == kind))
    arena = _Arena(plan.first) if shift else None
    kernels = (
        (_rt.check, _rt.apply_offsets, _rt.apply_values)
        if use_numba
        else (_rt.check_numpy, _rt.apply_offsets_numpy, _rt.apply_values_numpy)
    )
    check, apply_offsets, apply_values = kernels
    small_z: dict[tuple, list] = {}  # per kind: [(param index, flat view, z view)]
    small_at: dict[tuple, int] = {}
    j = 0
    for i, key, flat, chunks, kind in plan.tensors:
        if not chunks:
            continue
        kv = views.get(i)  # (the tensor's kept z, its chunks) or None: drawn into the scratch buffer
        if kv is None or not hit:
            gen = gens[flat.device]
            gen.manual_seed(_mix(seed, key))
        if i in small_set:
            # z into its own slice of the kind's small-z buffer (or the kept one), used after the loop
            if kv is not None:
                z = kv[0] if hit else kv[0].normal_(generator=gen)
            else:
                at = small_at.get(kind, 0)
                n = flat.numel()
                z = _small_buffer(kind, at + n)[at : at + n].normal_(generator=gen)
                small_at[kind] = at + n
            small_z.setdefault(kind, []).append((i, flat, z))
            continue
        zbuf, new, back, bad, iviews = scratch[kind]
        for c, (start, chunk, ci) in enumerate(chunks):
            n = chunk.numel()
            # normal_ on a view: the numbers of torch.randn(n, generator=gen), without randn(out=)'s slower path
            if kv is None:
                z = zbuf[:n].normal_(generator=gen)
            else:  # the same normal_ call into the kept buffer, or what it wrote there for this seed
                z = kv[1][c] if hit else kv[1][c].normal_(generator=gen)
            if undo:  # the same fused op as the round-trip check of ``shift`` below: exact by construction
                chunk.sub_(z, alpha=undo)
                while j < len(checked) and checked[j][0] == i and checked[j][1] == start:
                    local, vals = checked[j][2], checked[j][3]
                    if ci is not None:  # numpy arrays on the CPU; int8: bit-pattern offsets (see below)
                        if vals.dtype == np.int8:
                            apply_offsets(ci, local, vals)
                        else:
                            apply_values(ci, local, vals.view(ci.dtype))
                    else:
                        chunk[local.long()] = vals
                    j += 1
            if add:
                chunk.add_(z, alpha=add)
            if not shift:
                continue
            nw, bk = (new, back) if n == new.numel() else (new[:n], back[:n])
            torch.add(chunk, z, alpha=shift, out=nw)
            torch.sub(nw, z, alpha=shift, out=bk)
            if ci is not None:
                # one pass on the integer views (zoo/kernels/roundtrip.py): the elements whose round trip does
                # not return, kept as the int8 difference of the two bit patterns (a few units in the last
                # place: 3 bytes a patched element with its int16 index; the patches are the memory a step adds
                # over inference), or, the rare one where that does not fit (a sign change, a round trip to
                # zero), as its value; and the chunk takes the perturbed values
                back_i, new_i, idx, off, far_idx, far_val = iviews
                m, f = check(ci, back_i[:n], new_i[:n], idx, off, far_idx, far_val, 8 * chunk.element_size())
                if m:
                    block, at = arena.take(torch.int8, m)
                    vals, local = block.vals_np[at : at + m], block.idx[at : at + m]
                    vals[:] = off[:m]
                    local[:] = idx[:m]
                    out.append((i, start, local, vals))
                if f:
                    block, at = arena.take(chunk.dtype, f)
                    vals, local = block.vals_np[at : at + f], block.idx[at : at + f]
                    vals.view(far_val.dtype)[:] = far_val[:f]
                    local[:] = far_idx[:f]
                    out.append((i, start, local, vals))
            else:
                ints = _BITS[chunk.element_size()]
                mask = bad[:n]
                torch.ne(bk.view(ints), chunk.view(ints), out=mask)
                idx = torch.nonzero(mask).squeeze(1)
                if idx.numel():
                    out.append((i, start, idx.to(torch.int16), chunk[idx]))
                chunk.copy_(nw)
    for kind, items in small_z.items():
        _walk_saved(items, kind, saved_in, out, arena, undo=undo, add=add, shift=shift)
    if arena is not None and arena.blocks:
        arena.close()
        out.hold(arena.blocks)
    if kept is not None:
        kept.seed = seed  # only a completed walk leaves a valid z (a walk that raised left None)
    return out


def _walk_saved(items, kind, saved_in, out, arena, *, undo: float, add: float, shift: float) -> None:
    """The small tensors saved whole, of one (dtype, device): the ops of the checked path on their copies
    (the undo there returns exactly the copy), one ``torch._foreach_*`` call each over all of them (the adds:
    on the CPU, see :func:`_add_all`). The ops stay per tensor (no arithmetic on the concatenation: a
    kernel's vector body and scalar tail could round differently, and the numbers must be those of the
    separate per-tensor operations)."""
    idxs = [i for i, _, _ in items]
    flats = [c for _, c, _ in items]
    zs = [z for _, _, z in items]
    total = sum(c.numel() for c in flats)
    if shift:
        sources = [saved_in[i] for i in idxs] if undo else flats
        if kind[1].type == "cpu":
            # into this walk's block: carried copies too, so that the input's blocks go back as soon as the
            # input list is dropped (not held through the next forward)
            block, at = arena.take(kind[0], total)
            region = block.vals[at : at + total]
            torch.cat(sources, out=region)
        else:
            region = torch.cat(sources)
        saved = list(region.split([c.numel() for c in flats]))
        if add:
            _add_all(saved, zs, add)
        if undo or add:
            torch._foreach_copy_(flats, saved)
        _add_all(flats, zs, shift)  # = torch.add(saved, z, alpha=shift, out=chunk)
        out.extend((i, 0, None, s) for i, s in zip(idxs, saved))
        return
    torch._foreach_copy_(flats, [saved_in[i] for i in idxs])
    if add:
        _add_all(flats, zs, add)  # = torch.add(saved, z, alpha=add, out=chunk)


def _add_all(tensors: list[torch.Tensor], others: list[torch.Tensor], alpha: float) -> None:
    """``t.add_(o, alpha=alpha)`` for each pair. On the CPU one ``torch._foreach_add_`` call (its CPU kernel is
    that loop of ``add_``, same numbers, without a Python call per tensor; tests hold it to the checked path and
    to a hand-written MeZO bit for bit); elsewhere the loop itself: the fused multi-tensor kernels of other
    devices are not held to ``add_``'s rounding (contraction into an FMA), and the numbers must not depend on
    whether a tensor was saved whole."""
    if tensors and tensors[0].device.type == "cpu":
        torch._foreach_add_(tensors, others, alpha=alpha)
    else:
        for t, o in zip(tensors, others):
            t.add_(o, alpha=alpha)


_SCRATCH = threading.local()


def _generators(devices: Sequence[torch.device]) -> dict[torch.device, torch.Generator]:
    """One generator per device, kept per thread (each tensor reseeds it: its state between walks is unused)."""
    gens = getattr(_SCRATCH, "generators", None)
    if gens is None:
        gens = _SCRATCH.generators = {}
    for d in devices:
        if d not in gens:
            gens[d] = torch.Generator(device=d)
    return gens


def _small_buffer(kind: tuple, n: int) -> torch.Tensor:
    """The ``z`` of the small tensors saved whole, per (dtype, device): at least ``n`` elements, kept per thread."""
    bufs = getattr(_SCRATCH, "small", None)
    if bufs is None:
        bufs = _SCRATCH.small = {}
    buf = bufs.get(kind)
    if buf is None or buf.numel() < n:
        buf = bufs[kind] = torch.empty(n, dtype=kind[0], device=kind[1])
    return buf


class _Kept:
    """The kept direction of one thread: buffers per (dtype, device), the plan whose tensors' views into them are
    built (``views``: param index -> (whole z, its chunks)), and the seed whose z they hold (None: none valid)."""

    __slots__ = ("buffers", "plan", "views", "seed")

    def __init__(self) -> None:
        self.buffers: dict[tuple, torch.Tensor] = {}
        self.plan: Any = None
        self.views: dict[int, tuple[torch.Tensor, list[torch.Tensor]]] = {}
        self.seed: int | None = None


def _kept(plan: _Plan) -> _Kept:
    """This thread's :class:`_Kept`, its views set for ``plan`` (one plan at a time: another list's walk takes
    the buffer over, and the next walk of this one draws again)."""
    kept = getattr(_SCRATCH, "kept", None)
    if kept is None:
        kept = _SCRATCH.kept = _Kept()
    if kept.plan is None or kept.plan() is not plan:
        kept.seed, kept.views = None, {}
        for (dtype, device), n in plan.kept_sizes.items():
            buf = kept.buffers.get((dtype, device))
            if buf is None or buf.numel() < n:
                buf = kept.buffers[(dtype, device)] = _kept_buffer(dtype, device, n)
        for i, (kind, at) in plan.kept.items():
            n = plan.tensors[i][2].numel()
            whole = kept.buffers[kind][at : at + n]
            kept.views[i] = (whole, [whole[s : s + CHUNK] for s in range(0, n, CHUNK)])
        kept.plan = weakref.ref(plan)
    return kept


def _kept_buffer(dtype: torch.dtype, device: torch.device, n: int) -> torch.Tensor:
    """``n`` elements for kept directions; on the CPU an anonymous memory map of its own (as the patch blocks,
    :class:`_Block`: made between two forwards, it must not land in the heap space of the activations)."""
    if device.type != "cpu":
        return torch.empty(n, dtype=dtype, device=device)
    item = torch.empty((), dtype=dtype).element_size()
    return torch.from_numpy(np.frombuffer(mmap.mmap(-1, n * item), dtype=f"u{item}")).view(dtype)


def _scratch(plan: _Plan) -> dict[tuple, tuple]:
    """Per (dtype, device) of the plan: ``z``, ``new``, ``back`` (the chunk perturbed and round-tripped), a
    bool mask, and on the CPU the kernels' buffers: the integer views of ``back`` and ``new`` and the outputs
    of the check (indices and int8 offsets, indices and bit patterns of the far ones). Kept per thread and
    reused by every walk (grown when a larger chunk comes): fresh buffers per walk cost a page fault per 4 KiB
    on their first write, which on a model of small tensors cost more than the walk's arithmetic."""
    cache = getattr(_SCRATCH, "buffers", None)
    if cache is None:
        cache = _SCRATCH.buffers = {}
    out = {}
    size = plan.size
    for key in plan.kinds:
        bufs = cache.get(key)
        if bufs is None or bufs[0].numel() < size:
            dtype, device = key
            z, new, back = (torch.empty(size, dtype=dtype, device=device) for _ in range(3))
            bad = torch.empty(size, dtype=torch.bool, device=device)
            views = None
            if device.type == "cpu" and dtype != torch.bfloat16:  # numpy has no bfloat16: torch's ops
                ints = _NP_INTS[back.element_size()]
                views = (
                    back.numpy().view(ints),
                    new.numpy().view(ints),
                    np.empty(size, np.int16),
                    np.empty(size, np.int8),
                    np.empty(size, np.int16),
                    np.empty(size, ints),
                )
            bufs = cache[key] = (z, new, back, bad, views)
        out[key] = bufs
    return out


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
