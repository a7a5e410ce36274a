#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""What sending the decoder costs on the air: blob size, segments, air time per carousel
round, a late receiver's wait and the cost of one lost segment.

The burst geometry comes from the running code (``packet_modem_tx.burst_samples``: preamble,
header, LDPC codewords, padding), so the figures follow the waveform as built. Air time is
at the flowgraphs' sample rate (``--samp-rate``, default 1 Msps as the USRP examples) and
sps; nothing here depends on the speed of this machine.

    .venv/bin/python benchmarks/decoder_transfer.py [--samp-rate 1e6] [--sps 2]
        [--segment-size 1024] [--duty 0.25]

A carousel that spends a fraction ``duty`` of the air on the decoder sends one round of
``R`` seconds every ``P = R / duty`` seconds. Segments of different rounds combine, so a
receiver that joins at a uniformly random time ``t`` in the period has the whole blob after
``P`` when it joined during a round (``t < R``: the rest of this round, then the start of the
next) and after ``P + R - t`` otherwise: ``R + (P² - R²) / (2P)`` on average, ``P`` at most.
One lost segment (verified mode) costs the wait for its copy in the next round: ``P``.
"""

from __future__ import annotations

import argparse

from gnuradio import semcom
from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core.models import AESC, compression_ratio

MODELS = (("mnist", 40), ("cifar10", 32), ("cifar10", 12), ("cifar10", 8))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samp-rate", type=float, default=1e6)
    p.add_argument("--sps", type=int, default=2)
    p.add_argument("--segment-size", type=int, default=1024)
    p.add_argument("--duty", type=float, default=0.25,
                   help="share of the air the carousel may use (default 0.25)")
    args = p.parse_args(argv)
    if not 0 < args.duty <= 1:
        p.error("--duty must be in (0, 1]")

    print(f"samp_rate {args.samp_rate:g} Sps, sps {args.sps}, {args.segment_size}-byte "
          f"segments, carousel duty {args.duty:.0%}")
    print("| model | Cr | blob | segments | modulation | air per segment | air per round "
          "| code packet air | late joiner mean / max wait | one lost segment costs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dataset, zdim in MODELS:
        model = AESC(dataset, zdim)          # sizes do not depend on the weights' values
        blob = blobfmt.blob_from_aesc(model)
        n_seg = -(-len(blob) // args.segment_size)
        last = len(blob) - (n_seg - 1) * args.segment_size
        code_bytes = model.code_length + 4  # 8-bit codes and their float32 scale
        for modulation in ("bpsk", "qpsk"):
            tx = semcom.packet_modem_tx(modulation, sps=args.sps)
            seg_air = tx.burst_samples(pk.HEADER_BYTES + args.segment_size + 4) / args.samp_rate
            last_air = tx.burst_samples(pk.HEADER_BYTES + last + 4) / args.samp_rate
            round_s = (n_seg - 1) * seg_air + last_air
            code_air = tx.burst_samples(pk.HEADER_BYTES + code_bytes + 4) / args.samp_rate
            period = round_s / args.duty
            mean_wait = round_s + (period ** 2 - round_s ** 2) / (2 * period)
            print(f"| {dataset} z{zdim} | {compression_ratio(dataset, zdim):.2f} "
                  f"| {len(blob) * 8 / 1e6:.2f} Mbit | {n_seg} | {modulation} "
                  f"| {seg_air * 1e3:.2f} ms | {round_s:.2f} s | {code_air * 1e3:.2f} ms "
                  f"| {mean_wait:.1f} / {period:.1f} s | {period:.1f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
