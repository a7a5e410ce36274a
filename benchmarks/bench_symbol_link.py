#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Throughput of the symbol-level link, and of the stock LDPC encoder/decoder alone.

Prints packets/s and information bits/s (payload bits, CRC and parity excluded) of
``semcom.symbol_link`` for a few configurations, then codewords/s and information
bits/s of ``fec.async_encoder`` / ``fec.async_decoder`` with the stock LDPC code on
their own (LLR frames prepared with numpy), at a high SNR (the decoder's initial hard
decision is already a codeword: no iterations) and near the waterfall (up to 50
iterations).  Packets are kept ``--window`` in flight.

Usage::

    .venv/bin/python benchmarks/bench_symbol_link.py
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import pmt
from gnuradio import blocks, fec, gr

from gnuradio.semcom.phy import fec as semfec
from gnuradio.semcom import symbol_link


def _pump(post, dbg, items, window, base=0, timeout=300.0):
    """Post ``items`` keeping at most ``window`` in flight; seconds until all are out.

    ``base``: messages already in ``dbg`` before.
    """
    t0 = time.perf_counter()
    deadline = time.time() + timeout
    sent = 0
    while dbg.num_messages() - base < len(items):
        while sent < len(items) and sent - (dbg.num_messages() - base) < window:
            post(items[sent])
            sent += 1
        if time.time() > deadline:
            raise RuntimeError(f"timeout: {dbg.num_messages() - base} of {len(items)} out")
        time.sleep(0.0005)
    return time.perf_counter() - t0


def bench_link(modulation, code, channel, esn0_db, payload, packets, window, seed=1):
    tb = gr.top_block()
    link = symbol_link(modulation, code, channel, esn0_db, seed=seed, drop_bad_crc=False,
                       mtu=max(payload, 16))
    dbg = blocks.message_debug()
    tb.msg_connect(link, "out", dbg, "store")
    rng = np.random.default_rng(seed)
    items = [pmt.cons(pmt.make_dict(), pmt.init_u8vector(payload, rng.integers(0, 256, payload,
                                                                               dtype=np.uint8)))
             for _ in range(packets)]
    tb.start()
    try:
        link.post(items[0])                               # warm-up packet, not timed
        while dbg.num_messages() < 1:
            time.sleep(0.001)
        dt = _pump(link.post, dbg, items, window, base=1)
        ok = sum(pmt.to_bool(pmt.dict_ref(pmt.car(dbg.get_message(i)), pmt.intern("crc_ok"),
                                          pmt.PMT_F)) for i in range(1, dbg.num_messages()))
    finally:
        tb.stop()
        tb.wait()
    return packets / dt, packets * payload * 8 / dt, ok / packets, \
        link.symbols_per_packet(payload) * packets / dt


def _run_alone(block, payloads, window):
    """Seconds to push ``payloads`` (pmt vectors) through a message block, and its outputs
    as a uint8 array ``[len(payloads), ...]``."""
    tb = gr.top_block()
    dbg = blocks.message_debug()
    tb.msg_connect(block, "out", dbg, "store")
    tb.start()
    try:
        dt = _pump(lambda msg: block.to_basic_block()._post(pmt.intern("in"), msg), dbg,
                   [pmt.cons(pmt.make_dict(), p) for p in payloads], window)
        out = np.array([pmt.u8vector_elements(pmt.cdr(dbg.get_message(i)))
                        for i in range(len(payloads))], dtype=np.uint8)
    finally:
        tb.stop()
        tb.wait()
    return dt, out


def bench_fec(code, ebn0_db, frames, codewords_per_frame, window, seed=2):
    """Stock async encoder and decoder alone on frames of ``codewords_per_frame``."""
    n, k = semfec.code_dims(code)
    m = codewords_per_frame
    rng = np.random.default_rng(seed)
    info = rng.integers(0, 2, (frames, m * k), dtype=np.uint8)

    enc = fec.async_encoder(semfec.make_ldpc_encoder(code), False, True, True, m * k // 8 + 64)
    dt_enc, cw = _run_alone(enc, [pmt.init_u8vector(m * k, r) for r in info], window)
    cw = cw.astype(np.float32)

    esn0 = 10 ** (semfec.esn0_from_ebn0(ebn0_db, "bpsk", code) / 10)
    y = (2 * cw - 1) + rng.standard_normal(cw.shape) / math.sqrt(2 * esn0)
    llr = np.clip(4 * esn0 * y, -semfec.LLR_CLIP, semfec.LLR_CLIP).astype(np.float32)
    flen = semfec.async_decoder_frame_len(code, m)
    llr = np.concatenate([llr, np.zeros((frames, flen - m * n), np.float32)], axis=1)
    dec = fec.async_decoder(semfec.make_ldpc_decoder(code, 50), False, False, m * k // 8 + 64)
    dt_dec, out = _run_alone(dec, [pmt.init_f32vector(flen, r) for r in llr], window)
    fer = float(np.mean(np.any(out.reshape(frames * m, k) != info.reshape(frames * m, k), 1)))
    return frames * m / dt_enc, frames * m / dt_dec, fer


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--code", default=semfec.DEFAULT_CODE, choices=semfec.CODES)
    ap.add_argument("--packets", type=int, default=200)
    ap.add_argument("--window", type=int, default=32, help="packets in flight")
    ap.add_argument("--payloads", default="108,1024", help="payload sizes in bytes")
    args = ap.parse_args(argv)
    n, k = semfec.code_dims(args.code)
    print(f"# GNU Radio {gr.version()}; code {args.code} (k={k}, n={n}); "
          f"{args.packets} packets per row, {args.window} in flight")
    print(f"{'modulation':>10} {'channel':>9} {'Eb/N0':>6} {'Es/N0':>6} {'payload':>7} "
          f"{'pkts/s':>8} {'info kbit/s':>11} {'ksym/s':>8} {'delivered':>9}")
    for payload in [int(p) for p in args.payloads.split(",")]:
        for mod, ch, eb in (("bpsk", "awgn", 10.0), ("bpsk", "awgn", 2.0),
                            ("qpsk", "awgn", 10.0), ("bpsk", "rayleigh", 20.0),
                            ("qpsk", "multipath", 15.0)):
            es = semfec.esn0_from_ebn0(eb, mod, args.code)
            pps, bps, ok, sps = bench_link(mod, args.code, ch, es, payload, args.packets,
                                           args.window)
            print(f"{mod:>10} {ch:>9} {eb:>6.1f} {es:>6.2f} {payload:>7} {pps:>8.1f} "
                  f"{bps / 1e3:>11.1f} {sps / 1e3:>8.1f} {ok:>9.2f}", flush=True)
    print()
    print("# stock LDPC alone (fec.async_encoder / fec.async_decoder, 50 iterations max)")
    print(f"{'Eb/N0':>6} {'cw/frame':>8} {'enc cw/s':>9} {'enc Mbit/s':>10} "
          f"{'dec cw/s':>9} {'dec kbit/s':>10} {'FER':>6}")
    for eb, m in ((10.0, 1), (10.0, 8), (2.0, 1), (1.5, 1)):
        frames = max(8, 400 // m) if eb > 5 else 150
        enc_cw, dec_cw, fer = bench_fec(args.code, eb, frames, m, args.window)
        print(f"{eb:>6.1f} {m:>8} {enc_cw:>9.0f} {enc_cw * k / 1e6:>10.2f} {dec_cw:>9.0f} "
              f"{dec_cw * k / 1e3:>10.1f} {fer:>6.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
