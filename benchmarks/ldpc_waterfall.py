#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""LDPC waterfall through the symbol-level link: BER / FER vs Eb/N0, soft-value recipes compared.

Each frame is one packet of ``--payload`` random bytes through ``semcom.symbol_link``
(CRC-32, stock LDPC, BPSK/QPSK, AWGN, ``drop_bad_crc=False``).  The default payload
(108 bytes + 4 CRC bytes = 896 bits) fills exactly one n1800_r05 codeword (k = 902; the
6 pad bits are shortened).  BER counts payload bit errors, FER counts CRC failures.
Each point stops after ``--target-errors`` frame errors or ``--max-frames`` frames.

Soft-value recipes (``--recipes``):

* ``llr``        what symbol_link ships: LLR_TRUST (0.8) x the exact LLR 4 a Re(y) / N0,
                 clipped to +-10;
* ``exact``      the exact LLR, clipped to +-10;
* ``sigma0.5``   +-1 soft values and decoder sigma 0.5 on < 3.10.8 (the often quoted recipe;
                 = LLR 2 Re(y)/a); on >= 3.10.8 this is LLR = Re(y)/a;
* ``truesigma``  +-1 soft values and the true noise sigma per real dimension as decoder
                 sigma (< 3.10.8 only; the reported failure);
* ``llrx1.5``    exact LLRs times 1.5 (over-confident).

Shortening and the known pad bits make frames a little stronger than a bare codeword.

Usage::

    .venv/bin/python benchmarks/ldpc_waterfall.py \
        --ebn0 0,0.5,1,1.5,2,2.5,3 --recipes llr,sigma0.5,truesigma
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import pmt
from gnuradio import blocks, gr

from gnuradio.semcom.phy import fec as semfec
from gnuradio.semcom import symbol_link

RECIPES = ("llr", "exact", "sigma0.5", "truesigma", "llrx1.5")


def _link_kwargs(recipe: str, esn0_db: float, modulation: str) -> dict:
    if recipe == "llr":
        return {}
    a = {"bpsk": 1.0, "qpsk": math.sqrt(0.5)}[modulation]
    if recipe in ("exact", "llrx1.5"):     # fixed factor on +-1-normalised soft values
        factor = 1.0 if recipe == "exact" else 1.5
        return {"llr_scale": factor * semfec.llr_scale(esn0_db, modulation, trust=1.0) * a}
    if recipe == "sigma0.5":
        return {"llr_scale": 1.0, "decoder_sigma": 0.5}
    if recipe == "truesigma":
        sigma = math.sqrt(10 ** (-esn0_db / 10) / 2) / a     # per real dim, +-1 amplitude
        return {"llr_scale": 1.0, "decoder_sigma": sigma}
    raise ValueError(f"unknown recipe {recipe!r}; choose from {RECIPES}")


def run_point(modulation, code, ebn0_db, recipe, payload, max_frames, target_errors,
              seed, batch=16, timeout=600.0):
    esn0 = semfec.esn0_from_ebn0(ebn0_db, modulation, code)
    tb = gr.top_block()
    link = symbol_link(modulation, code, "awgn", esn0, seed=seed, drop_bad_crc=False,
                       mtu=max(payload, 16), **_link_kwargs(recipe, esn0, modulation))
    dbg = blocks.message_debug()
    tb.msg_connect(link, "out", dbg, "store")
    tb.start()
    rng = np.random.default_rng(seed)
    sent, got, frame_err, bit_err = 0, 0, 0, 0
    payloads = {}
    t0 = time.time()
    try:
        while sent < max_frames and frame_err < target_errors:
            nb = min(batch, max_frames - sent)
            for _ in range(nb):
                p = rng.integers(0, 256, payload, dtype=np.uint8)
                payloads[sent] = p
                meta = pmt.dict_add(pmt.make_dict(), pmt.intern("frame"), pmt.from_long(sent))
                link.post(pmt.cons(meta, pmt.init_u8vector(payload, p)))
                sent += 1
            deadline = time.time() + timeout
            while dbg.num_messages() < sent and time.time() < deadline:
                time.sleep(0.002)
            while got < dbg.num_messages():
                msg = dbg.get_message(got)
                got += 1
                meta = pmt.car(msg)
                i = pmt.to_long(pmt.dict_ref(meta, pmt.intern("frame"), pmt.PMT_NIL))
                ok = pmt.to_bool(pmt.dict_ref(meta, pmt.intern("crc_ok"), pmt.PMT_F))
                rx = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
                nerr = int(np.unpackbits(rx ^ payloads.pop(i)).sum())
                bit_err += nerr
                frame_err += int((not ok) or nerr > 0)
            if got < sent:
                raise RuntimeError(f"link lost packets ({got} of {sent} came out)")
    finally:
        tb.stop()
        tb.wait()
    dt = time.time() - t0
    return {"ebn0": ebn0_db, "esn0": esn0, "recipe": recipe, "frames": got,
            "frame_errors": frame_err, "fer": frame_err / max(got, 1),
            "ber": bit_err / max(got * payload * 8, 1), "seconds": dt}


def uncoded_ber(esn0_db: float, modulation: str) -> float:
    """Theoretical BER of the uncoded constellation at this Es/N0 (Gray)."""
    es = 10 ** (esn0_db / 10)
    per_bit = es if modulation == "bpsk" else es / 2
    return 0.5 * math.erfc(math.sqrt(per_bit))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--code", default=semfec.DEFAULT_CODE, choices=semfec.CODES)
    ap.add_argument("--modulation", default="bpsk", choices=("bpsk", "qpsk"))
    ap.add_argument("--ebn0", default="0,0.5,1,1.5,2,2.5,3,3.5",
                    help="comma-separated Eb/N0 points in dB")
    ap.add_argument("--recipes", default="llr,sigma0.5,truesigma")
    ap.add_argument("--payload", type=int, default=None,
                    help="payload bytes per frame (default: one codeword)")
    ap.add_argument("--max-frames", type=int, default=400)
    ap.add_argument("--target-errors", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    n, k = semfec.code_dims(args.code)
    payload = args.payload or (k // 8 - 4)
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    points = [float(v) for v in args.ebn0.split(",")]
    print(f"# GNU Radio {gr.version()}; code {args.code} (k={k}, n={n}, R={k/n:.4f}); "
          f"{args.modulation}; AWGN; payload {payload} B + CRC-32 "
          f"({semfec.frame_geometry(8 * (payload + 4), args.code)[0]} codeword(s)); "
          f"Es/N0 = Eb/N0 + {semfec.esn0_from_ebn0(0, args.modulation, args.code):+.2f} dB")
    print(f"# stop per point: {args.target_errors} frame errors or {args.max_frames} frames")
    head = f"{'Eb/N0':>6} {'Es/N0':>6} {'unc.BER':>9} | " + " | ".join(
        f"{r:>9} FER {'BER':>8} {'frames':>6}" for r in recipes)
    print(head)
    print("-" * len(head))
    sys.stdout.flush()
    for eb in points:
        esn0 = semfec.esn0_from_ebn0(eb, args.modulation, args.code)
        cells = []
        for r in recipes:
            res = run_point(args.modulation, args.code, eb, r, payload, args.max_frames,
                            args.target_errors, args.seed)
            cells.append(f"{res['fer']:>13.3g} {res['ber']:>8.2e} {res['frames']:>6}")
        print(f"{eb:>6.2f} {esn0:>6.2f} {uncoded_ber(esn0, args.modulation):>9.2e} | "
              + " | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
