# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Batched belief-propagation LDPC decoding: sum-product in the LLR domain.

Algorithm: exact sum-product (tanh rule) check updates in the LLR domain, the same maximum
number of iterations as GNU Radio's decoder (50 in the link), a hard decision after each
iteration and an **early stop per frame** as soon as its decisions satisfy every parity
check.  As the stock decoder does, a frame whose channel decisions already form a codeword
is not iterated at all.  Two schedules (measured side by side in ``docs/link.md``, "Decoder:
algorithm and implementation"):

* ``"layered"`` (serial-C, the Numba back end's default): the checks are updated one after
  the other, each from posteriors that the checks before it in the same iteration have
  already refined, so information crosses the graph within one iteration.  It converges in
  about half the iterations of flooding and, with the same 50 at most, corrects more
  frames.  Its **stall rule** gives a frame up when its number of unsatisfied checks has
  not reached a new low for ``DEFAULT_STALL`` (20) iterations: below the code's threshold
  nearly every frame fails, and the rule ends it after about 25 instead of 50 iterations,
  at the price of a few late-converging frames per thousand near the threshold — fewer
  than the layered schedule gains there over flooding.
* ``"flooding"``: every iteration updates all check nodes, then all variable nodes — GNU
  Radio's schedule; the torch back end's only one.

Input LLRs are positive for bit 1 (the module's convention); decisions are
``1 if posterior > 0 else 0``.  In this convention the tanh rule of a check of degree
``dc`` carries a sign ``(-1)^dc``: ``r_e = (-1)^dc 2 atanh(prod_{e' != e} tanh(q_e' / 2))``
(``tanh(L/2) = P(1) - P(0)``; the product over the ``dc - 1`` other bits is
``(-1)^(dc-1) (P(even) - P(odd))``).  The textbook rule without it, written for
``L = ln P(0)/P(1)``, is right only for even ``dc``: it decoded the stock codes with row
weight 6 or 4 and corrected no error at all with those of row weight 5 (n1100_r04,
n0700_r04, n0500_r04).  Working in the LLR domain with clamped tanh arguments
keeps every message finite, so this decoder has no counterpart of the saturation floor of
GNU Radio 3.10.5's likelihood-ratio decoder (``phy/fec.py``).

Back ends (measured choice in ``docs/link.md``, "Batched link engine"):

* ``"numba"`` (CPU default): one compiled loop per thread over 8 frames side by side in
  SIMD lanes, frames spread over the cores (``prange``) or run in the calling thread
  (``parallel=False``); messages in float32, phi from a table.
* ``"torch"``: tensors ``(frames, edges)`` on any torch device, the active frames
  compacted after each iteration; ``device="cuda"`` decodes on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import registry
from .ldpc import LdpcCode

__all__ = ["DecodeResult", "decode", "BACKENDS", "DEFAULT_MAX_ITER", "SCHEDULES",
           "DEFAULT_SCHEDULE", "DEFAULT_STALL"]

BACKENDS = registry.keys(registry.DECODERS)
DEFAULT_MAX_ITER = 50
#: Message-passing schedules: "layered" (serial-C) and "flooding" (GNU Radio's).
SCHEDULES = ("layered", "flooding")
#: The schedule each back end uses unless told otherwise.
DEFAULT_SCHEDULE = {"numba": "layered", "torch": "flooding"}
#: Layered schedule: a frame whose count of unsatisfied checks has not reached a new low for
#: this many iterations is given up before ``max_iter`` (measured in ``docs/link.md``).
DEFAULT_STALL = 20

# tanh(x/2) is clamped to |x/2| <= 18 as in GNU Radio >= 3.10.8 (float64 tanh(19) == 1,
# whose atanh is infinite): check messages stay below 2 atanh(tanh(18)) ~ 37.
_TANH_CLAMP = 18.0
# The float32 torch path clamps earlier: tanh(x) rounds to 1 in float32 from x ~ 9.
_TANH_CLAMP_F32 = 8.5


@dataclass
class DecodeResult:
    """Output of :func:`decode` for ``B`` frames of an ``(n, k)`` code.

    Attributes:
        bits: hard decisions on all code bits, uint8 ``(B, n)``.
        iterations: iterations run per frame, int32 ``(B,)`` (0: the channel decisions
            were already a codeword).
        converged: frames whose decisions satisfy every parity check, bool ``(B,)``.
    """

    bits: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray

    def info_bits(self, code: LdpcCode) -> np.ndarray:
        """Information bits, uint8 ``(B, k)`` (the positions of GNU Radio's encoder)."""
        return code.systematic_bits(self.bits)


# ---------------------------------------------------------------------------- numba
# The CPU kernel evaluates the tanh rule in the "phi" form, r = s * phi(sum phi(|q|)) with
# phi(x) = -ln tanh(x/2) (its own inverse), from a table with linear interpolation: libm's
# tanh and atanh cost about 20 ns each here, a table lookup a few.  The table's phi is
# within 0.5 % of the exact one down to x = 0.01 and within 2e-4 from x = 0.25 on
# (tests/test_fastlink.py); the decisions match the exact tanh rule of the torch back end
# (tests, and benchmarks/bench_engines.py on the shipped code).
PHI_STEP = 1.0 / 256.0
PHI_MAX = 24.0            # phi(24) = 7.6e-11: beyond it phi is 0 in float32 terms


def phi_table() -> np.ndarray:
    """phi(x) = -ln(tanh(x / 2)) at x = i * PHI_STEP, float32 ``(PHI_MAX / PHI_STEP + 3,)``.

    phi(0) (infinite) is taken as phi(PHI_STEP / 2); the last two entries are 0, the value
    every x beyond PHI_MAX reads (phi(PHI_MAX) = 7.6e-11).
    """
    x = np.arange(int(PHI_MAX / PHI_STEP) + 3, dtype=np.float64) * PHI_STEP
    x[0] = PHI_STEP / 2
    table = (-np.log(np.tanh(x / 2.0))).astype(np.float32)
    table[-2:] = 0.0
    return table


def phi(x) -> np.ndarray:
    """The table's phi at ``x >= 0`` (float array), as the CPU kernel evaluates it."""
    table = phi_table()
    u = np.minimum(np.asarray(x, dtype=np.float32) / np.float32(PHI_STEP),
                   np.float32(table.size - 2))
    i = u.astype(np.int32)
    return table[i] + (u - i) * (table[i + 1] - table[i])


#: Frames decoded side by side in one thread, the inner loops running over these lanes
#: (measured side by side on n = 1800 at Eb/N0 1.5 dB: 4 and 8 lanes alike, 16 about 30 %
#: slower, its per-thread messages no longer fitting the core's cache).  A lane freed by
#: an early stop takes the next frame at once.
LANES = 8

_numba_kernels: dict = {}


def _build_numba_kernel(parallel: bool):
    """The kernel, compiled with ``parallel`` (frames over Numba's thread pool) or without
    (``prange`` runs as ``range`` in the calling thread: no threading layer at all)."""
    import numba

    W = LANES

    @numba.njit(parallel=parallel, cache=True, nogil=True, fastmath=True)
    def flood(llr, row_ptr, edge_var, var_ptr, var_edge, max_iter, table, bits, iters, ok,
              n_chunks):
        n_frames, n = llr.shape
        m = row_ptr.size - 1
        n_edges = edge_var.size
        inv_step = np.float32(1.0 / PHI_STEP)
        top = np.float32(table.size - 2)          # table[-2:] == 0: phi beyond the table
        for chunk in numba.prange(n_chunks):
            # Frames are dealt to the threads in turn (chunk, chunk + n_chunks, ...), not in
            # blocks: a sweep point's frames come in runs of alike difficulty (the AESC-I
            # model-blob segments, ten codewords each, fail together before the short code
            # packets), and a block split left one thread with all the hard ones.
            q = np.zeros((n_edges, W), np.float32)    # variable -> check messages
            r = np.zeros((n_edges, W), np.float32)    # check -> variable messages
            chan = np.zeros((n, W), np.float32)
            hard = np.zeros((n, W), np.uint8)
            synd = np.zeros(W, np.uint8)
            par = np.zeros(W, np.uint8)
            total = np.zeros(W, np.float32)
            sgn = np.zeros(W, np.float32)
            post = np.zeros(W, np.float32)
            lane_frame = -np.ones(W, np.int64)
            lane_iter = np.zeros(W, np.int64)
            next_frame = chunk + 0          # a copy: numba forbids writing the prange index
            while True:
                # Refill idle lanes, so that frames stopping early free their lane at once.
                for w in range(W):
                    while lane_frame[w] < 0 and next_frame < n_frames:
                        f = next_frame
                        next_frame += n_chunks
                        for v in range(n):
                            chan[v, w] = llr[f, v]
                            hard[v, w] = 1 if llr[f, v] > 0 else 0
                        codeword = True
                        for c in range(m):
                            x = 0
                            for e in range(row_ptr[c], row_ptr[c + 1]):
                                x ^= hard[edge_var[e], w]
                            if x:
                                codeword = False
                                break
                        if codeword or max_iter == 0:   # as the stock decoder: no iteration
                            for v in range(n):
                                bits[f, v] = hard[v, w]
                            iters[f] = 0
                            ok[f] = codeword
                        else:
                            for e in range(n_edges):
                                q[e, w] = chan[edge_var[e], w]
                            lane_frame[w] = f
                            lane_iter[w] = 0
                busy = False
                for w in range(W):
                    busy = busy or lane_frame[w] >= 0
                if not busy:
                    break
                # Idle lanes compute on stale numbers below; their results are never read.
                # Check nodes: r_e = prod_{e' != e} sign(q_e') * phi(sum_{e' != e} phi(|q_e'|)).
                for c in range(m):
                    lo = row_ptr[c]
                    hi = row_ptr[c + 1]
                    s0 = np.float32(1.0) if (hi - lo) % 2 == 0 else np.float32(-1.0)
                    for w in range(W):
                        total[w] = 0.0
                        sgn[w] = s0                     # (-1)^dc: module docstring
                    for e in range(lo, hi):
                        for w in range(W):
                            x = q[e, w]
                            sgn[w] = sgn[w] if x >= 0 else -sgn[w]
                            u = min(abs(x) * inv_step, top)
                            i = np.int32(u)
                            p = table[i] + (u - np.float32(i)) * (table[i + 1] - table[i])
                            r[e, w] = p                 # phi(|q_e|), consumed just below
                            total[w] += p
                    for e in range(lo, hi):
                        for w in range(W):
                            u = min(max(total[w] - r[e, w], np.float32(0.0)) * inv_step, top)
                            i = np.int32(u)
                            p = table[i] + (u - np.float32(i)) * (table[i + 1] - table[i])
                            r[e, w] = p * sgn[w] if q[e, w] >= 0 else -p * sgn[w]
                # Variable nodes: posterior, decision, extrinsic messages.
                for v in range(n):
                    for w in range(W):
                        post[w] = chan[v, w]
                    for j in range(var_ptr[v], var_ptr[v + 1]):
                        e = var_edge[j]
                        for w in range(W):
                            post[w] += r[e, w]
                    for w in range(W):
                        hard[v, w] = 1 if post[w] > 0 else 0
                    for j in range(var_ptr[v], var_ptr[v + 1]):
                        e = var_edge[j]
                        for w in range(W):
                            q[e, w] = post[w] - r[e, w]
                # Syndromes of all lanes.
                for w in range(W):
                    synd[w] = 0
                for c in range(m):
                    for w in range(W):
                        par[w] = 0
                    for e in range(row_ptr[c], row_ptr[c + 1]):
                        v = edge_var[e]
                        for w in range(W):
                            par[w] ^= hard[v, w]
                    for w in range(W):
                        synd[w] |= par[w]
                for w in range(W):
                    f = lane_frame[w]
                    if f >= 0:
                        lane_iter[w] += 1
                        if synd[w] == 0 or lane_iter[w] >= max_iter:
                            for v in range(n):
                                bits[f, v] = hard[v, w]
                            iters[f] = lane_iter[w]
                            ok[f] = synd[w] == 0
                            lane_frame[w] = -1

    return flood


def _build_layered_kernel(parallel: bool):
    """The layered (serial-C) kernel: the same sum-product rule as :func:`_build_numba_kernel`'s,
    the check nodes updated one after the other, each on the posteriors its predecessors in the
    same iteration have already refined.  Per lane it keeps only the posteriors (``n``) and the
    check messages (edges); the variable-to-check messages of a check are formed on the fly,
    ``q = post - r``, and consumed at once."""
    import numba

    W = LANES

    @numba.njit(parallel=parallel, cache=True, nogil=True, fastmath=True)
    def layered(llr, row_ptr, edge_var, dc_max, max_iter, stall, table, bits, iters, ok,
                n_chunks):
        n_frames, n = llr.shape
        m = row_ptr.size - 1
        n_edges = edge_var.size
        inv_step = np.float32(1.0 / PHI_STEP)
        top = np.float32(table.size - 2)          # table[-2:] == 0: phi beyond the table
        for chunk in numba.prange(n_chunks):
            # Frames dealt to the threads in turn, as in the flooding kernel.
            post = np.zeros((n, W), np.float32)       # posterior LLRs
            r = np.zeros((n_edges, W), np.float32)    # check -> variable messages
            qb = np.zeros((dc_max, W), np.float32)    # q = post - r of the current check
            pb = np.zeros((dc_max, W), np.float32)    # phi(|q|) of the current check
            synd = np.zeros(W, np.int32)             # unsatisfied checks
            par = np.zeros(W, np.int32)
            total = np.zeros(W, np.float32)
            sgn = np.zeros(W, np.float32)
            lane_frame = -np.ones(W, np.int64)
            lane_iter = np.zeros(W, np.int64)
            lane_best = np.zeros(W, np.int64)        # fewest unsatisfied checks so far
            lane_best_iter = np.zeros(W, np.int64)   # ... reached at this iteration
            next_frame = chunk + 0          # a copy: numba forbids writing the prange index
            while True:
                for w in range(W):
                    while lane_frame[w] < 0 and next_frame < n_frames:
                        f = next_frame
                        next_frame += n_chunks
                        codeword = True
                        for c in range(m):
                            x = 0
                            for e in range(row_ptr[c], row_ptr[c + 1]):
                                x ^= 1 if llr[f, edge_var[e]] > 0 else 0
                            if x:
                                codeword = False
                                break
                        if codeword or max_iter == 0:   # as the stock decoder: no iteration
                            for v in range(n):
                                bits[f, v] = 1 if llr[f, v] > 0 else 0
                            iters[f] = 0
                            ok[f] = codeword
                        else:
                            for v in range(n):
                                post[v, w] = llr[f, v]
                            for e in range(n_edges):
                                r[e, w] = 0.0
                            lane_frame[w] = f
                            lane_iter[w] = 0
                            lane_best[w] = m + 1
                            lane_best_iter[w] = 0
                busy = False
                for w in range(W):
                    busy = busy or lane_frame[w] >= 0
                if not busy:
                    break
                # One iteration: every check in turn (idle lanes compute on stale numbers,
                # bounded, never read).
                for c in range(m):
                    lo = row_ptr[c]
                    hi = row_ptr[c + 1]
                    s0 = np.float32(1.0) if (hi - lo) % 2 == 0 else np.float32(-1.0)
                    for w in range(W):
                        total[w] = 0.0
                        sgn[w] = s0                     # (-1)^dc: module docstring
                    for e in range(lo, hi):
                        v = edge_var[e]
                        j = e - lo
                        for w in range(W):
                            x = post[v, w] - r[e, w]
                            qb[j, w] = x
                            sgn[w] = sgn[w] if x >= 0 else -sgn[w]
                            u = min(abs(x) * inv_step, top)
                            i = np.int32(u)
                            p = table[i] + (u - np.float32(i)) * (table[i + 1] - table[i])
                            pb[j, w] = p
                            total[w] += p
                    for e in range(lo, hi):
                        v = edge_var[e]
                        j = e - lo
                        for w in range(W):
                            u = min(max(total[w] - pb[j, w], np.float32(0.0)) * inv_step, top)
                            i = np.int32(u)
                            p = table[i] + (u - np.float32(i)) * (table[i + 1] - table[i])
                            x = qb[j, w]
                            rn = p * sgn[w] if x >= 0 else -p * sgn[w]
                            r[e, w] = rn
                            post[v, w] = x + rn
                # Decisions (post > 0) and the syndromes of all lanes.
                for w in range(W):
                    synd[w] = 0
                for c in range(m):
                    for w in range(W):
                        par[w] = 0
                    for e in range(row_ptr[c], row_ptr[c + 1]):
                        v = edge_var[e]
                        for w in range(W):
                            par[w] ^= 1 if post[v, w] > 0 else 0
                    for w in range(W):
                        synd[w] += par[w]
                for w in range(W):
                    f = lane_frame[w]
                    if f >= 0:
                        lane_iter[w] += 1
                        if synd[w] < lane_best[w]:
                            lane_best[w] = synd[w]
                            lane_best_iter[w] = lane_iter[w]
                        stalled = stall > 0 and lane_iter[w] - lane_best_iter[w] >= stall
                        if synd[w] == 0 or lane_iter[w] >= max_iter or stalled:
                            for v in range(n):
                                bits[f, v] = 1 if post[v, w] > 0 else 0
                            iters[f] = lane_iter[w]
                            ok[f] = synd[w] == 0
                            lane_frame[w] = -1

    return layered


_PHI = None


def _decode_numba(code: LdpcCode, llr: np.ndarray, max_iter: int, parallel: bool,
                  schedule: str, stall: int) -> DecodeResult:
    global _PHI
    key = (schedule, parallel)
    kernel = _numba_kernels.get(key)
    if kernel is None:
        build = _build_layered_kernel if schedule == "layered" else _build_numba_kernel
        kernel = _numba_kernels[key] = build(parallel)
        _PHI = phi_table()
    b = llr.shape[0]
    bits = np.empty((b, code.n), dtype=np.uint8)
    iters = np.empty(b, dtype=np.int32)
    ok = np.empty(b, dtype=np.bool_)
    if b:
        import numba

        threads = numba.get_num_threads() if parallel else 1
        chunks = max(1, min(threads, -(-b // LANES)))
        if schedule == "layered":
            dc_max = int(np.diff(code.row_ptr).max())
            kernel(llr, code.row_ptr, code.edge_var, dc_max, int(max_iter), int(stall), _PHI,
                   bits, iters, ok, chunks)
        else:
            kernel(llr, code.row_ptr, code.edge_var, code.var_ptr, code.var_edge,
                   int(max_iter), _PHI, bits, iters, ok, chunks)
    return DecodeResult(bits, iters, ok)


# ---------------------------------------------------------------------------- torch
class _TorchGraph:
    """The code's graph as index tensors on one device, in "slot" layout.

    Check ``c`` owns slots ``c * dc_max ... c * dc_max + dc_max - 1``; a check of lower
    degree leaves its last slots to padding, which sees a variable ``n`` (a dummy whose
    message is a huge positive LLR: tanh 1, neutral in the products) and sends 0.  Every
    step of an iteration is then a gather on ``(frames, slots)`` tensors.
    """

    def __init__(self, code: LdpcCode, device):
        import torch

        dc = np.diff(code.row_ptr)
        dv = np.diff(code.var_ptr)
        dc_max, dv_max = int(dc.max()), int(dv.max())
        n_slots = code.m * dc_max
        slot_var = np.full((code.m, dc_max), code.n, dtype=np.int64)
        edge_slot = np.empty(code.edges, dtype=np.int64)
        for c in range(code.m):
            lo, hi = code.row_ptr[c], code.row_ptr[c + 1]
            slot_var[c, :hi - lo] = code.edge_var[lo:hi]
            edge_slot[lo:hi] = c * dc_max + np.arange(hi - lo)
        var_slots = np.full((code.n, dv_max), n_slots, dtype=np.int64)   # n_slots: a 0 column
        for v in range(code.n):
            var_slots[v, :dv[v]] = edge_slot[code.var_edge[code.var_ptr[v]:code.var_ptr[v + 1]]]
        self.slot_var = torch.as_tensor(slot_var.ravel(), device=device)
        self.var_slots = torch.as_tensor(var_slots.ravel(), device=device)
        self.shape_c = (code.m, dc_max)
        # (-1)^dc of each check (module docstring), broadcast over its slots
        self.check_sign = torch.as_tensor(np.where(dc % 2 == 0, 1.0, -1.0).astype(np.float32),
                                          device=device).view(1, code.m, 1)
        self.shape_v = (code.n, dv_max)


_torch_graphs: dict = {}


def _torch_graph(code: LdpcCode, device) -> _TorchGraph:
    key = (id(code), code.n, code.edges, str(device))
    if key not in _torch_graphs:
        _torch_graphs[key] = _TorchGraph(code, device)
    return _torch_graphs[key]


def _decode_torch(code: LdpcCode, llr: np.ndarray, max_iter: int, device) -> DecodeResult:
    import torch

    dev = torch.device(device)
    g = _torch_graph(code, dev)
    b = llr.shape[0]
    bits_out = np.zeros((b, code.n), dtype=np.uint8)
    iters_out = np.zeros(b, dtype=np.int32)
    ok_out = np.zeros(b, dtype=np.bool_)
    if b == 0:
        return DecodeResult(bits_out, iters_out, ok_out)

    def parity_ok(hard):                       # (B', n) uint8 -> (B',) bool
        h = torch.cat([hard, torch.zeros_like(hard[:, :1])], dim=1)
        rows = h.index_select(1, g.slot_var).view(-1, *g.shape_c)
        return (rows.sum(dim=2, dtype=torch.int32) & 1).amax(dim=1) == 0

    def finish(sel, hard, it, fin):
        i = sel.cpu().numpy()
        bits_out[i] = hard.cpu().numpy()
        iters_out[i] = it
        ok_out[i] = fin.cpu().numpy()

    with torch.no_grad():
        chan = torch.as_tensor(llr, device=dev)                       # (B, n) float32
        idx = torch.arange(b, device=dev)
        hard = (chan > 0).to(torch.uint8)
        fin = parity_ok(hard)
        finish(idx[fin], hard[fin], 0, fin[fin])
        chan, idx = chan[~fin], idx[~fin]
        big = torch.full((1, 1), 1e4, device=dev)                     # the dummy's LLR

        def extend(x):                                                # (B', n) -> (B', n + 1)
            return torch.cat([x, big.expand(x.shape[0], 1)], dim=1)

        q = extend(chan).index_select(1, g.slot_var)                  # (B', slots)
        zero_col = torch.zeros((1, 1), device=dev)
        it = 0
        while idx.numel() and it < max_iter:
            it += 1
            # check nodes, tanh rule: exclusive products from prefix and suffix products
            t = torch.tanh(torch.clamp(0.5 * q, -_TANH_CLAMP_F32, _TANH_CLAMP_F32))
            t = t.view(-1, *g.shape_c)
            ones = torch.ones_like(t[:, :, :1])
            pre = torch.cumprod(torch.cat([ones, t[:, :, :-1]], dim=2), dim=2)
            suf = torch.cumprod(torch.cat([ones, t.flip(2)[:, :, :-1]], dim=2), dim=2).flip(2)
            r = (2.0 * torch.atanh(pre * suf) * g.check_sign).view(t.shape[0], -1)
            # variable nodes (padding slots receive the dummy's LLR again: tanh stays 1)
            r_ext = torch.cat([r, zero_col.expand(r.shape[0], 1)], dim=1)
            post = chan + r_ext.index_select(1, g.var_slots).view(-1, *g.shape_v).sum(dim=2)
            q = extend(post).index_select(1, g.slot_var) - r
            hard = (post > 0).to(torch.uint8)
            fin = parity_ok(hard)
            out = torch.ones_like(fin) if it == max_iter else fin
            if bool(out.any()):
                finish(idx[out], hard[out], it, fin[out])
                keep = ~out
                chan, idx, q = chan[keep], idx[keep], q[keep]
    return DecodeResult(bits_out, iters_out, ok_out)


# ---------------------------------------------------------------------------- entry
def decode(code: LdpcCode, llr, max_iter: int = DEFAULT_MAX_ITER, backend: str = "numba",
           device: str = "cpu", parallel: bool = True, schedule: str | None = None,
           stall: int | None = None) -> DecodeResult:
    """Decode frames of LLRs.

    Args:
        code: the LDPC code.
        llr: float array ``(B, n)`` (or ``(n,)`` for one frame), positive meaning bit 1.
        max_iter: largest number of iterations per frame (>= 0).
        backend: ``"numba"`` (CPU) or ``"torch"``.
        device: torch device for the torch back end (``"cpu"``, ``"cuda"``, ...).
        parallel: numba back end: spread the frames over Numba's thread pool (sweeps).
            False decodes in the calling thread with the GIL released and touches no
            threading layer: what a flowgraph block wants, whose threads already keep the
            cores busy, and safe beside PyTorch's OpenMP work in the same process (Numba's
            OpenMP layer corrupted results there, ``docs/link.md``).
        schedule: ``"layered"`` (the numba back end's default: check nodes one after the
            other) or ``"flooding"`` (all checks, then all variables: GNU Radio's schedule,
            and the only one of the torch back end); ``None`` takes the back end's default.
        stall: layered schedule only: give a frame up once its number of unsatisfied checks
            has not reached a new low for this many iterations (0: never, every failing frame
            runs ``max_iter`` iterations); ``None``: :data:`DEFAULT_STALL` for the layered
            schedule, 0 for the flooding one.

    Returns:
        :class:`DecodeResult` with ``B`` rows.
    """
    arr = np.ascontiguousarray(llr, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != code.n:
        raise ValueError(f"{code.name}: LLRs need shape (frames, {code.n}), got {np.shape(llr)}")
    if not np.isfinite(arr).all():
        raise ValueError("LLRs must be finite; clip them (core.softvalues.llrs) before decoding")
    max_iter = int(max_iter)
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")
    if backend not in BACKENDS:
        raise ValueError(f"decoder back end must be one of {BACKENDS}, got {backend!r}")
    if schedule is None:
        schedule = DEFAULT_SCHEDULE[backend]
    if schedule not in SCHEDULES:
        raise ValueError(f"decoder schedule must be one of {SCHEDULES}, got {schedule!r}")
    if backend == "numba":
        if device != "cpu":
            raise ValueError(f"the numba back end runs on the CPU; for device={device!r} "
                             "choose backend='torch'")
        if stall is None:
            stall = DEFAULT_STALL if schedule == "layered" else 0
        stall = int(stall)
        if stall < 0:
            raise ValueError(f"stall must be >= 0 (0: never give a frame up), got {stall}")
        if stall and schedule != "layered":
            raise ValueError("stall applies to the layered schedule only; choose stall=0 or "
                             "schedule='layered'")
        return _decode_numba(code, arr, max_iter, bool(parallel), schedule, stall)
    if stall:
        raise ValueError("the torch back end has no stall rule; choose stall=0 or "
                         "backend='numba'")
    if schedule != "flooding":
        raise ValueError("the torch back end decodes with the flooding schedule only; choose "
                         "schedule='flooding' or backend='numba'")
    return _decode_torch(code, arr, max_iter, device)
