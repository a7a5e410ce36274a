#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA: `semcom sweep`'s two link engines agree at the sweep level.

The same small grid runs through ``engine="gnuradio"`` (one GNU Radio flowgraph per point,
the reference) and ``engine="fast"`` (``core.fastlink``): schemes ``aesc-verified`` and
``jpeg-header-known`` at Cr 20, 300 MNIST test images, AWGN at Es/N0 -3, -2.5, -2 and
-1 dB (the cliffs of the JPEG data packets, of the AESC-I code packets and of the 1 KB
model-blob segments) and slow Rayleigh fading at 6 and 12 dB. At every point the two
engines' frame error rates (Wilson 95 % intervals over the packets) and recognition-rate
ratios (the results file's 95 % intervals) must overlap.

The two engines draw different noise (NumPy's generator, GNU Radio's noise source), so
they agree in distribution, not packet by packet. A point whose outcome hangs on one rare
event would be a coin toss between them: whether a 300-image point gets the decoder blob
at all. The grid avoids those: at -3 ... -2 dB AWGN no blob segment survives in either
engine, at -1 dB and under fading the blob is sent five times (``carousel_every`` 60) and
the verified receiver combines segments of any copy, so it arrives in both.

One more point checks unequal error protection (``packet_codes``): AWGN at -3 dB with the
model segments and the codes on the rate-1/4 code ``n0500_r025``, the JPEG packets on the
default code, so both engines route each packet kind to its own code.

Images: the MNIST test set under ``$SEMCOM_DATA`` when it is there (CI has it), else the
64 shipped sample images repeated to 320 (the engines still see the same packets; the
intervals are then narrower than the images' variety warrants, never wider).
"""

import gzip
import struct
import tempfile
import time
from pathlib import Path

import numpy as np
from gnuradio import gr_unittest

from gnuradio.semcom.app import sweep
from gnuradio.semcom.core import datasets as ds
from gnuradio.semcom.core import metrics, zoo
from gnuradio.semcom.core.grid import SweepConfig

IMAGES = 300
UEP = {"model_segment": "n0500_r025", "code": "n0500_r025"}
# (name, channel, SNRs, packet codes)
GRIDS = (("awgn", "awgn", [-3.0, -2.5, -2.0, -1.0], {}),
         ("rayleigh", "rayleigh", [6.0, 12.0], {}),
         # -2.5 dB, not lower: there the rate-1/4 code's frames on the fast engine's layered
         # decoder fail far less often than on GNU Radio 3.10.5's decoder (-3 dB: 0.003
         # against 0.047), a decoder difference, not the link's (docs/link.md)
         ("uep", "awgn", [-2.5], UEP))
SCHEMES = ["aesc-verified", "jpeg-header-known"]


def _write_idx(path: Path, array: np.ndarray):
    head = (struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
            + struct.pack(f">{array.ndim}I", *array.shape))
    with gzip.open(path, "wb") as f:
        f.write(head + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _data_root(tmp: Path):
    """``None`` (the default root) when it holds the MNIST test set, else a root made of
    the shipped sample."""
    try:
        if len(ds.load("mnist", "test")) >= IMAGES:
            return None
    except ds.DatasetError:
        pass
    images, labels = zoo.load_sample()
    reps = -(-IMAGES // len(images))
    (tmp / "mnist").mkdir()
    _write_idx(tmp / "mnist" / "t10k-images-idx3-ubyte.gz", np.tile(images[:, 0], (reps, 1, 1)))
    _write_idx(tmp / "mnist" / "t10k-labels-idx1-ubyte.gz", np.tile(labels, reps))
    return str(tmp)


def _overlap(a, b) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


class qa_engines(gr_unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = _data_root(Path(cls.tmp.name))
        cls.points, cls.wall = {}, {}
        for engine in ("gnuradio", "fast"):
            t0 = time.perf_counter()
            for name, channel, snrs, packet_codes in GRIDS:
                cfg = SweepConfig(name=f"{engine}-{name}", schemes=SCHEMES, crs=[20],
                                  channels=[channel], snrs=snrs, num_images=IMAGES,
                                  carousel_every=60, engine=engine, data_root=root,
                                  packet_codes=packet_codes)
                out = Path(cls.tmp.name) / f"{engine}-{name}.json"
                results = sweep.run_sweep(cfg, out, progress=False)
                prefix = "uep:" if packet_codes else ""
                for p in results["points"]:
                    cls.points[(engine, prefix + p["key"])] = p
            cls.wall[engine] = time.perf_counter() - t0
        cls.print_table()

    @classmethod
    def print_table(cls):
        """The agreement table of docs/link.md (ctest shows it with -V or on a failure)."""
        print(f"\nwall time: gnuradio {cls.wall['gnuradio']:.0f} s, fast {cls.wall['fast']:.0f} s")
        print("| point | FER gnuradio | FER fast | RR gnuradio | RR fast |")
        print("|---|---|---|---|---|")
        for key, ref, fast in cls.pairs(cls):
            cells = []
            for p in (ref, fast):
                link = p["link"]
                lo, hi = metrics.wilson_interval(link["crc_failures"], link["packets_received"])
                cells.append(f"{link['fer']:.3f} [{lo:.3f}, {hi:.3f}]")
            for p in (ref, fast):
                r = p["recognition_rate_ratio"]
                cells.append(f"{r['value']:.3f} [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]")
            print(f"| {key} | " + " | ".join(cells) + " |", flush=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def pairs(self):
        keys = sorted({k for _, k in self.points})
        return [(k, self.points[("gnuradio", k)], self.points[("fast", k)]) for k in keys]

    def test_every_point_ran_on_both_engines(self):
        self.assertEqual(len(self.pairs()), sum(len(g[2]) for g in GRIDS) * len(SCHEMES))
        for key, ref, fast in self.pairs():
            self.assertEqual(ref["link"]["engine"], "gnuradio", key)
            self.assertEqual(fast["link"]["engine"], "fast", key)
            # the same packets on the air, symbol for symbol
            self.assertEqual(fast["link"]["packets_sent"], ref["link"]["packets_sent"], key)
            self.assertEqual(fast["link"]["symbols"], ref["link"]["symbols"], key)
            self.assertEqual(fast["packet_bits"], ref["packet_bits"], key)
        # with unequal error protection the strong code's symbols are counted
        uep = [(k, r) for k, r, _ in self.pairs() if k.startswith("uep:")]
        plain = {k: r for k, r, _ in self.pairs()}
        for key, ref in uep:
            if "aesc" in key:
                self.assertGreater(ref["link"]["symbols"],
                                   1.4 * plain[key[len("uep:"):]]["link"]["symbols"], key)

    def test_frame_error_rates_agree_within_their_intervals(self):
        cliff = set()
        for key, ref, fast in self.pairs():
            ivals = []
            for p in (ref, fast):
                link = p["link"]
                ivals.append(metrics.wilson_interval(link["crc_failures"],
                                                     link["packets_received"]))
                if 0.05 < link["fer"] < 0.95:
                    cliff.add(p["channel"])
            self.assertTrue(_overlap(*ivals),
                            f"{key}: FER {ref['link']['fer']:.3f} (gnuradio) vs "
                            f"{fast['link']['fer']:.3f} (fast), 95 % intervals {ivals}")
        # the grid is where the engines can differ: on the waterfall, not only 0 or 1
        self.assertEqual(cliff, {g[1] for g in GRIDS})

    def test_recognition_rate_ratios_agree_within_their_intervals(self):
        for key, ref, fast in self.pairs():
            a, b = ref["recognition_rate_ratio"], fast["recognition_rate_ratio"]
            self.assertTrue(_overlap(a["ci"], b["ci"]),
                            f"{key}: recognition-rate ratio {a['value']:.3f} {a['ci']} "
                            f"(gnuradio) vs {b['value']:.3f} {b['ci']} (fast)")
            self.assertEqual(ref["receiver"].get("model_received"),
                             fast["receiver"].get("model_received"), key)


if __name__ == "__main__":
    gr_unittest.run(qa_engines)
