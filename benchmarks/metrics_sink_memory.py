#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Resident memory of the metrics sink over a long live run.

A flowgraph with one ``semcom.metrics_sink`` (shipped MNIST classifier, results file
written every 10 000 images) is fed N image pairs: the original of image ``i`` on ``ref``
and, for 99 % of them, its AESC-I reconstruction (zdim 40, noiseless) on ``rx``; 1 % are
lost and counted so after ``lost_after_s`` = 2 s. The images cycle through the 64 shipped
sample images, with unique ids. At most ``--in-flight`` pairs wait in the sink's input
queues (the driver waits for the sink to catch up), so the queues themselves stay small
and what is measured is the sink.

Prints the process's resident memory (VmRSS, raw and after ``malloc_trim``) after the
warm-up (the first 1000 images: torch, scikit-image and the classifier allocate on first
use), every 10 000 images and at the end, with the growth per image. Usage::

    .venv/bin/python benchmarks/metrics_sink_memory.py [--images 100000]
"""

import argparse
import ctypes
import tempfile
import time
from pathlib import Path

import numpy as np
import pmt
import torch
from gnuradio import blocks, gr

from gnuradio import semcom
from gnuradio.semcom.phy.pdu import make_image_pdu
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.evaluate import transmit_noiseless
from gnuradio.semcom.core.results import load_results


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def trimmed_rss_mib() -> float:
    """RSS after glibc has handed its free heap pages back: the scheduler's threads each
    have a malloc arena, whose freed-but-kept pages make raw RSS wander by several MiB."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--in-flight", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(1)

    images, labels = zoo.load_sample()
    model = zoo.load_aesc("mnist", 40)
    recon = np.round(transmit_noiseless(model, images).recon * 255).astype(np.uint8)
    # PDUs built once: the driver's own allocations must not grow either
    refs = [make_image_pdu(images[k], 0, label=int(labels[k])) for k in range(64)]

    tmp = Path(tempfile.mkdtemp(prefix="metrics_sink_memory_"))
    # stats only at the end: a message_debug storing them would grow by itself
    sink = semcom.metrics_sink(classifier="shipped", dataset="mnist", batch_size=64,
                               update_every=args.images, json_path=str(tmp / "live.json"),
                               write_every=10_000, lost_after_s=2.0, snr_db=10.0)
    tb = gr.top_block()
    tb.msg_connect((sink, "stats"), (blocks.message_debug(), "store"))
    ref_port, rx_port = pmt.intern("ref"), pmt.intern("rx")
    target = sink.to_basic_block()

    def pdu(base, image_id, rx):
        meta = pmt.dict_add(pmt.car(base), pmt.intern("image_id"), pmt.from_long(image_id))
        if rx:
            k = image_id % 64
            return pmt.cons(meta, pmt.init_u8vector(784, recon[k].reshape(-1)))
        return pmt.cons(meta, pmt.cdr(base))

    tb.start()
    t0 = time.perf_counter()
    rows = []
    received = 0

    def wait(behind):
        while sink.images_sent() < done - behind or sink.images_received() < received - behind:
            time.sleep(0.002)

    try:
        for i in range(args.images):
            target._post(ref_port, pdu(refs[i % 64], i, rx=False))
            if i % 100 != 17:
                target._post(rx_port, pdu(refs[i % 64], i, rx=True))
                received += 1
            done = i + 1
            if done % 64 == 0:
                wait(args.in_flight)
            if done == 1000 or done % 10_000 == 0 or done == args.images:
                wait(0)
                raw = rss_mib()
                rows.append((done, trimmed_rss_mib(), sink.pending_images(),
                             time.perf_counter() - t0, raw))
                print(f"{done:7d} images  RSS {raw:7.1f} MiB, after malloc_trim {rows[-1][1]:7.1f} "
                      f"MiB  held {rows[-1][2]:4d}  {rows[-1][3]:6.0f} s", flush=True)
    finally:
        tb.stop()
        tb.wait()
    s = sink.summary()
    start, end = rows[0], rows[-1]
    print(f"\nsent {s['images_sent']}, matched {s['images_matched']}, lost {s['images_lost']}, "
          f"PSNR {s['psnr_db']:.2f} dB, SSIM {s['ssim']:.3f}, "
          f"ratio {s['recognition_rate_ratio']:.4f}")
    print(f"RSS after {start[0]} images: {start[4]:.1f} MiB ({start[1]:.1f} trimmed); after "
          f"{end[0]}: {end[4]:.1f} MiB ({end[1]:.1f} trimmed); largest sample "
          f"{max(r[4] for r in rows):.1f} MiB; {end[0] / end[3]:.0f} images/s")
    # the ids remembered for duplicate detection fill up over the first 4 windows (16 384
    # images by default): growth after that is what a long run would see
    half = next(r for r in rows if r[0] >= end[0] // 2)
    if half is not end:
        print(f"growth over the second half ({half[0]} to {end[0]} images), trimmed RSS: "
              f"{(end[1] - half[1]) * 2**20 / (end[0] - half[0]):.1f} bytes/image")
    doc = load_results(tmp / "live.json")
    print(f"results file {tmp / 'live.json'}: {doc['points'][0]['key']}, "
          f"{doc['points'][0]['images']} images")


if __name__ == "__main__":
    main()
