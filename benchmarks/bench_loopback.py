#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Speed of the whole AESC-I link: images/s and information bits/s.

Compiles examples/loopback_awgn.grc (full waveform: pulse shaping, synchronisation, LDPC)
and examples/loopback_symbol.grc (symbol-level path: same stock FEC, constellation and
channel, ideal timing) with grcc, runs each on the shipped MNIST sample and prints:

* images/s: images decoded at the receiver per second of flowgraph run time;
* information bits/s: link-layer packet bits (headers, codes and model segments)
  delivered to the deframer per second.

Run time is measured from ``tb.start()`` to the end of ``tb.wait()`` (module import and
model loading excluded). Usage: ``python3 benchmarks/bench_loopback.py [--images 64]``.
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_flowgraph(name: str, out_dir: Path):
    env = dict(os.environ)
    env["GRC_BLOCKS_PATH"] = os.pathsep.join([str(ROOT / "grc"), env.get("GRC_BLOCKS_PATH", "")])
    subprocess.run(["grcc", "-o", str(out_dir), str(ROOT / "examples" / f"{name}.grc")],
                   check=True, capture_output=True, env=env)
    spec = importlib.util.spec_from_file_location(name, out_dir / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def measure(name, kwargs, tmp: Path):
    cls = load_flowgraph(name, tmp)
    tb = cls(**kwargs, out_dir=str(tmp / f"{name}-out"))
    t0 = time.perf_counter()
    tb.start()
    tb.wait()
    seconds = time.perf_counter() - t0
    images = tb.semantic_decoder.stats["images"]
    bits = 8 * tb.deframer.stats["bytes"]
    return seconds, images, bits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64,
                        help="images per run (shipped sample: <= 64)")
    parser.add_argument("--snr-db", type=float, default=10.0)
    parser.add_argument("--zdim", type=int, default=40)
    args = parser.parse_args(argv)
    common = dict(snr_db=args.snr_db, zdim=args.zdim, num_images=args.images)
    runs = [
        ("full waveform (QPSK, sps 2, AWGN, offsets)", "loopback_awgn",
         dict(common, freq_offset=0.002, timing_offset=1.0001)),
        ("symbol-level path (QPSK, AWGN)", "loopback_symbol", dict(common)),
    ]
    print(f"{'path':45s} {'images':>7s} {'seconds':>8s} {'images/s':>9s} {'info bits/s':>12s}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, kwargs in runs:
            seconds, images, bits = measure(name, kwargs, Path(tmp))
            print(f"{label:45s} {images:7d} {seconds:8.2f} {images / seconds:9.1f} "
                  f"{bits / seconds:12.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
