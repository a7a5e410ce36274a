#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Frame error rate of single packets per LDPC code on the fast engine (docs/link.md,
"Unequal error protection"): BPSK over AWGN, random payloads of the sizes of an AESC-I code
packet (72 B), a 192-B blob segment (216 B) and a 1 KB blob segment (1 044 B).

    python3 benchmarks/uep_fer.py --codes n1800_r05,n0500_r025
"""

import argparse
import time

import numpy as np

from gnuradio.semcom.core import fastlink
from gnuradio.semcom.phy import fec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codes", default="n1800_r05,n0500_r025",
                    help="comma list of code keys or alist paths")
    ap.add_argument("--snr", default="-3.5,-3,-2.5", help="Es/N0 values (dB)")
    args = ap.parse_args(argv)
    sizes = ((72, 400), (216, 100), (1044, 60))      # (bytes, packets)
    print("| code | bytes | Es/N0 dB | FER | symbols per packet | s |")
    print("|---|---|---|---|---|---|")
    for key in args.codes.split(","):
        code = fastlink.load_code(fec.alist_path(key))
        for nbytes, count in sizes:
            for snr in (float(s) for s in args.snr.split(",")):
                rng = np.random.default_rng(1)
                packets = [rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes()
                           for _ in range(count)]
                t0 = time.perf_counter()
                run = fastlink.transmit(packets, snr_db=snr, code=code, seed=3)
                print(f"| {key} | {nbytes} | {snr:g} | {run.crc_failures / count:.3f} | "
                      f"{run.symbols / count:.0f} | {time.perf_counter() - t0:.1f} |", flush=True)


if __name__ == "__main__":
    main()
