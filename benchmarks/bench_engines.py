#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The sweep's two link engines side by side: the Fig. 5 sweep, and the LDPC decoder alone.

**Sweep** (``--part sweep``): the Fig. 5 grid of the README (AWGN, Cr 20, Es/N0 -4 ... 2 dB,
every scheme) on the first ``--images`` MNIST test images, run by ``semcom sweep``'s own
runner (``app.sweep.run_sweep``) once with ``engine="gnuradio"`` (one GNU Radio flowgraph
per point, the reference) and once with ``engine="fast"`` (``core.fastlink``), in the same
process on the same cores, each into a fresh results file. Printed: wall time, points,
packet bits and their rate over the wall time per engine, and the speed-up. The per-process
caches of the runner (transmitted packets, per-image scores) are emptied between the two,
so neither engine inherits the other's work; the dataset and classifier load before the
clock starts.

**Decoder alone** (``--part decoder``): for each Eb/N0 point the same frames (BPSK, AWGN, one
codeword each, the shipped soft values: 0.8 x the exact LLR clipped to +-10) go through

* ``stock``: ``fec.async_decoder`` with ``fec.ldpc_decoder`` (50 iterations), fed as the
  symbol link feeds it (``--window`` frames in flight);
* ``fast``: ``core.fastlink.decode``, the Numba back end (all frames in one call), with its
  default layered schedule;
* ``stallK`` (``--stalls``): the layered schedule with another stall rule (``stall0``: none,
  every failing frame runs 50 iterations);
* ``flood``: the same back end with the flooding schedule (GNU Radio's);
* ``torch``: the same decoder on PyTorch (``--torch-device``; skipped with ``--no-torch``),

one after the other in the same process, so that the ratio holds even on a busy machine.
Printed per point and decoder: codewords/s, information Mbit/s (k bits per codeword), frame
error rate with its 95 % interval, mean iterations, and the speed-up over the stock decoder.
The frame errors are counted on identical frames, so the FER columns compare the
decoders' error-correcting power directly.

Usage::

    .venv/bin/python benchmarks/bench_engines.py                    # both parts, ~10 minutes
    .venv/bin/python benchmarks/bench_engines.py --part sweep --images 200 --workers 2
    .venv/bin/python benchmarks/bench_engines.py --part decoder --frames 1000 --ebn0 1.25,1.5,2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import blocks, fec, gr

from gnuradio.semcom.core import fastlink as fl
from gnuradio.semcom.core import softvalues as sv
from gnuradio.semcom.phy import fec as semfec


def wilson(errors: int, trials: int, z: float = 1.96) -> tuple:
    p = errors / trials
    den = 1 + z * z / trials
    mid = (p + z * z / (2 * trials)) / den
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def frames(code, ebn0_db, count, seed, trust=sv.LLR_TRUST):
    rng = np.random.default_rng(seed)
    info = rng.integers(0, 2, (count, code.k), dtype=np.uint8)
    es = sv.esn0_from_ebn0(ebn0_db, "bpsk", code.rate)
    y = (2.0 * code.encode(info) - 1.0) + \
        math.sqrt(10 ** (-es / 10) / 2) * rng.standard_normal((count, code.n))
    return info, sv.llrs(y, sv.llr_scale(es, "bpsk", trust=trust))


def stock_decode(key, llr, window):
    """(seconds, information bits (B, k)) of fec.async_decoder on LLR frames (B, n)."""
    k, n = semfec.code_dims(key)
    flen = semfec.async_decoder_frame_len(key, 1)
    padded = np.concatenate([llr, np.zeros((llr.shape[0], flen - n), np.float32)], axis=1)
    msgs = [pmt.cons(pmt.make_dict(), pmt.init_f32vector(flen, f)) for f in padded]
    dec = fec.async_decoder(semfec.make_ldpc_decoder(key, 50), False, False, 1 << 14)
    tb = gr.top_block()
    dbg = blocks.message_debug()
    tb.msg_connect((dec, "out"), (dbg, "store"))
    tb.start()
    try:
        t0 = time.perf_counter()
        sent = 0
        while dbg.num_messages() < len(msgs):
            while sent < len(msgs) and sent - dbg.num_messages() < window:
                dec.to_basic_block()._post(pmt.intern("in"), msgs[sent])
                sent += 1
            time.sleep(0.0005)
        dt = time.perf_counter() - t0
    finally:
        tb.stop()
        tb.wait()
    out = np.array([pmt.u8vector_elements(pmt.cdr(dbg.get_message(i)))
                    for i in range(len(msgs))], dtype=np.uint8)
    return dt, out


FIG5_SNRS = [-4, -3, -2.5, -2, -1.5, -1, 0, 2]


def bench_sweep(images: int, workers: int, snrs, engines=("gnuradio", "fast")) -> dict:
    """Wall time of the Fig. 5 grid through each engine; returns {engine: summary}."""
    from gnuradio.semcom.app import sweep
    from gnuradio.semcom.core.grid import SweepConfig

    import numba
    import torch

    print(f"# sweep: Fig. 5 grid (AWGN, Cr 20, Es/N0 {', '.join(f'{s:g}' for s in snrs)} dB, "
          f"every scheme), {images} MNIST test images per point, {workers} worker(s); "
          f"GNU Radio {gr.version()}, numba {numba.__version__} "
          f"({numba.get_num_threads()} threads), torch {torch.__version__}")
    from gnuradio.semcom.core import fastlink as fl

    code = fl.load_code(semfec.alist_path(semfec.DEFAULT_CODE))
    fl.decode(code, np.ones((1, code.n), np.float32))     # load (or compile) the kernel first
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            cfg = SweepConfig(name=f"fig5-{engine}", channels=["awgn"], crs=[20], snrs=list(snrs),
                              num_images=images, engine=engine)
            sweep._data(cfg)                         # dataset + classifier, outside the clock
            for key in [k for k in sweep._CACHE if k[0] in ("tx", "scores", "lpips")]:
                del sweep._CACHE[key]
            sweep._lpips(cfg)                        # the LPIPS model, outside the clock
            path = Path(tmp) / f"{engine}.json"
            t0 = time.perf_counter()
            results = sweep.run_sweep(cfg, path, workers=workers, progress=False)
            wall = time.perf_counter() - t0
            points = results["points"]
            bits = sum(p["packet_bits"] for p in points)
            link_s = sum(p["link"]["wall_s"] for p in points)
            out[engine] = {"wall_s": wall, "points": len(points), "packet_bits": bits,
                           "link_s": link_s, "point_s": sum(p["wall_s"] for p in points)}
            print(f"{engine:>9}: {wall:8.1f} s wall, {len(points)} points, "
                  f"{bits / 1e6:.2f} Mbit of packets, {bits / wall / 1e6:.3f} Mbit/s over the "
                  f"wall time; link {link_s:.1f} s of {out[engine]['point_s']:.1f} s in the "
                  f"points", flush=True)
    if "gnuradio" in out and "fast" in out:
        ratio = out["gnuradio"]["wall_s"] / out["fast"]["wall_s"]
        print(f"speed-up of the fast engine on the sweep: {ratio:.1f}x")
        out["speedup"] = ratio
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("both", "sweep", "decoder"), default="both")
    ap.add_argument("--images", type=int, default=200, help="sweep: images per point")
    ap.add_argument("--workers", type=int, default=1, help="sweep: points in parallel processes")
    ap.add_argument("--snr", default=",".join(f"{s:g}" for s in FIG5_SNRS),
                    help="sweep: Es/N0 points (dB; default the Fig. 5 grid)")
    ap.add_argument("--json", default=None, help="also write the sweep figures here")
    ap.add_argument("--code", default=semfec.DEFAULT_CODE, choices=sorted(semfec.CODES))
    ap.add_argument("--ebn0", default="1.5,2.0,10.0", help="comma-separated Eb/N0 points (dB)")
    ap.add_argument("--frames", type=int, default=300, help="codewords per point")
    ap.add_argument("--stock-frames", type=int, default=None,
                    help="codewords per point for the (slow) stock decoder: the first ones "
                         "of the same set (default: all)")
    ap.add_argument("--window", type=int, default=32, help="stock decoder frames in flight")
    ap.add_argument("--stalls", default="0",
                    help="decoder: also run the layered schedule with these stall rules "
                         "(comma list; 0: no stall rule, every failing frame runs 50 "
                         "iterations; empty: none)")
    ap.add_argument("--no-torch", action="store_true", help="leave the torch back end out")
    ap.add_argument("--torch-device", default="cpu")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trust", type=float, default=sv.LLR_TRUST,
                    help="factor on the exact LLR (1.0: exact LLRs, where the 3.10.5 stock "
                         "decoder shows its saturation floor)")
    args = ap.parse_args(argv)

    if args.part in ("both", "sweep"):
        summary = bench_sweep(args.images, args.workers, [float(v) for v in args.snr.split(",")])
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=1))
        if args.part == "sweep":
            return 0
        print()

    import numba
    import torch

    code = fl.load_code(semfec.alist_path(args.code))
    stalls = [int(v) for v in args.stalls.split(",") if v.strip()]
    print(f"# GNU Radio {gr.version()}, numba {numba.__version__} ({numba.get_num_threads()} "
          f"threads), torch {torch.__version__} ({torch.get_num_threads()} threads); code "
          f"{args.code} (n={code.n}, k={code.k}); fast: layered, stall {fl.bp.DEFAULT_STALL}; "
          f"BPSK AWGN; LLR = {args.trust} x exact, "
          f"clipped to +-{sv.LLR_CLIP:g}; 50 iterations at most, early stop")
    warm = frames(code, 1.5, 16, seed=0)[1]                 # compile / warm up outside timing
    fl.decode(code, warm)
    fl.decode(code, warm, schedule="flooding")
    if not args.no_torch:
        fl.decode(code, warm, backend="torch", device=args.torch_device)
    head = (f"{'Eb/N0':>6} {'decoder':>7} {'frames':>6} {'cw/s':>8} {'Mbit/s':>7} "
            f"{'FER':>7} {'95 % interval':>15} {'iter':>5} {'speed-up':>8}")
    print(head)
    print("-" * len(head))
    for eb in (float(v) for v in args.ebn0.split(",")):
        info, llr = frames(code, eb, args.frames, seed=args.seed, trust=args.trust)
        ns = min(args.stock_frames or args.frames, args.frames)
        rows = []
        dt, bits = stock_decode(args.code, llr[:ns], args.window)
        rows.append(("stock", ns, dt, (bits != info[:ns]).any(1), None))
        t0 = time.perf_counter()
        res = fl.decode(code, llr)
        rows.append(("fast", args.frames, time.perf_counter() - t0,
                     (res.info_bits(code) != info).any(1), res.iterations))
        for stall in stalls:
            t0 = time.perf_counter()
            res_s = fl.decode(code, llr, stall=stall)
            rows.append((f"stall{stall}", args.frames, time.perf_counter() - t0,
                         (res_s.info_bits(code) != info).any(1), res_s.iterations))
        t0 = time.perf_counter()
        res_f = fl.decode(code, llr, schedule="flooding")
        rows.append(("flood", args.frames, time.perf_counter() - t0,
                     (res_f.info_bits(code) != info).any(1), res_f.iterations))
        if not args.no_torch:
            t0 = time.perf_counter()
            res_t = fl.decode(code, llr, backend="torch", device=args.torch_device)
            if args.torch_device.startswith("cuda"):
                torch.cuda.synchronize()
            rows.append(("torch", args.frames, time.perf_counter() - t0,
                         (res_t.info_bits(code) != info).any(1), res_t.iterations))
        stock_rate = ns / rows[0][2]
        for name, count, dt, wrong, iters in rows:
            rate = count / dt
            lo, hi = wilson(int(wrong.sum()), count)
            it = f"{iters.mean():5.1f}" if iters is not None else f"{'-':>5}"
            print(f"{eb:>6.2f} {name:>7} {count:>6} {rate:>8.0f} {rate * code.k / 1e6:>7.3f} "
                  f"{wrong.mean():>7.4f} [{lo:.4f}, {hi:.4f}] {it} {rate / stock_rate:>7.1f}x",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
