#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""How LPIPS depends on the size small images are resized to before AlexNet.

LPIPS's AlexNet was made for ImageNet-sized inputs; the sweeps resize MNIST's 28×28 and
CIFAR-10's 32×32 images bilinearly to 64×64 (``docs/results.md``, "How a point is
measured"). This script scores the two schemes of the paper's comparison on an error-free
link, AESC-I (the shipped model, rebuilt from its blob) and header-known JPEG at the
quality the sweeps calibrate to the same Cr, at several input sizes, and prints the mean
LPIPS of each with its 95 % interval and which scheme is lower, so that one can see whether
the order of the schemes (what the paper's claims are about) depends on the convention.

Usage (``SEMCOM_DATA`` and ``SEMCOM_LPIPS_BACKBONE`` set, as ``make`` sets them)::

    .venv/bin/python benchmarks/lpips_input_size.py --images 2000 --sizes 64,96,128,224
"""

from __future__ import annotations

import argparse

import numpy as np

from gnuradio.semcom.core import datasets as ds
from gnuradio.semcom.core import jpeg, metrics, zoo
from gnuradio.semcom.core.evaluate import transmit_noiseless
from gnuradio.semcom.core.perceptual import load_lpips

#: dataset -> (AESC-I zdim, JPEG's target Cr): the paper's Fig. 5 and Fig. 11 operating points
CASES = {"mnist": (40, 20), "cifar10": (8, 12)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="mnist,cifar10")
    ap.add_argument("--images", type=int, default=2000, help="first N test images")
    ap.add_argument("--sizes", default="64,96,128,224", help="input sizes (pixels)")
    ap.add_argument("--lpips-backbone", default=None)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    lpips = load_lpips(args.lpips_backbone)
    print(f"{'dataset':8} {'size':>5} {'AESC-I':>22} {'JPEG':>22}  lower")
    for name in args.datasets.split(","):
        zdim, cr = CASES[name]
        x = ds.load(name, "test").images[:args.images]
        recon = transmit_noiseless(zoo.load_aesc(name, zdim), x).recon
        recon = np.clip(np.rint(recon * 255.0), 0, 255).astype(np.uint8)   # as received
        quality, _ = jpeg.quality_for_ratio(x, cr)
        jp = np.stack([jpeg.decode(jpeg.encode(im, quality), im.shape, quality) for im in x])
        for size in sizes:
            row = []
            for test in (recon, jp):
                value, low, high = metrics.mean_interval(lpips.score(x, test, size=size))
                row.append((value, f"{value:.3f} [{low:.3f}, {high:.3f}]"))
            lower = "AESC-I" if row[0][0] < row[1][0] else "JPEG"
            print(f"{name:8} {size:>5} {row[0][1]:>22} {row[1][1]:>22}  {lower}"
                  f"   (zdim {zdim}, JPEG quality {quality})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
