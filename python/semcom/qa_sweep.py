#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for `semcom sweep` and `semcom plot`: a tiny grid end to end (the default, fast
engine; the flowgraph engine for the full waveform), resuming, and the same grid through a
Dask cluster (a LocalCluster on the loopback) against the local process pool.

The data root is made from the shipped MNIST sample (written as the official idx files),
so this runs without the datasets. ``qa_engines`` checks the two engines against each other."""

import contextlib
import gzip
import io
import json
import struct
import tempfile
from pathlib import Path

import numpy as np
from gnuradio import gr_unittest

from gnuradio.semcom.app import cli
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.results import (ResultsError, decode_example, load_results,
                                           validate_results)


def _write_idx(path: Path, array: np.ndarray):
    head = (struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
            + struct.pack(f">{array.ndim}I", *array.shape))
    with gzip.open(path, "wb") as f:
        f.write(head + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _without_timings(results: dict) -> dict:
    """Points by key, less what depends on the machine's speed (wall times and rates) and
    on its number of threads (LPIPS beyond 6 decimals)."""
    out = {}
    for p in results["points"]:
        p = json.loads(json.dumps(p))
        p.pop("wall_s")
        for key in ("wall_s", "info_bits_per_s"):
            p["link"].pop(key)
        if p.get("lpips"):
            # AlexNet's convolutions sum in an order that depends on the number of torch
            # threads of the process that ran the point: the last bits of LPIPS differ.
            p["lpips"] = {k: np.round(np.asarray(v, dtype=float), 6).tolist()
                          for k, v in p["lpips"].items()}
        out[p["key"]] = p
    return out


class qa_sweep(gr_unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        images, labels = zoo.load_sample()
        (root / "mnist").mkdir()
        _write_idx(root / "mnist" / "t10k-images-idx3-ubyte.gz", images[:, 0])
        _write_idx(root / "mnist" / "t10k-labels-idx1-ubyte.gz", labels)
        cls.root, cls.images = root, images
        cls.out = root / "tiny.json"
        cls.args = ["sweep", "--out", str(cls.out), "--data", str(root), "--num-images", "12",
                    "--cr", "8,20", "--channel", "awgn,rayleigh", "--snr=-5,4",
                    "--carousel-every", "8", "--quiet"]
        assert cli.main(cls.args) == 0
        cls.results = load_results(cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def point(self, key):
        return next(p for p in self.results["points"] if p["key"] == key)

    def test_every_point_of_the_grid_is_in_one_valid_file(self):
        validate_results(self.results)
        # 2 channels x 2 SNRs x (4 schemes x 2 Crs + direct)
        self.assertEqual(len(self.results["points"]), 2 * 2 * 9)
        self.assertEqual(self.results["calibration"]["jpeg"]["20"]["cr"], 20)
        self.assertIn("gnuradio", self.results["versions"])
        self.assertIn("available", self.results["lpips"])

    def test_high_snr_delivers_everything_and_low_snr_does_not(self):
        good = self.point("awgn|snr=4|cr=1|direct")
        self.assertEqual(good["images_ok"], 12)
        self.assertEqual(good["link"]["crc_failures"], 0)
        self.assertEqual(good["psnr_db"]["value"], 100.0)        # pixel-exact
        self.assertAlmostEqual(good["recognition_rate_ratio"]["value"], 1.0)
        aesc = self.point("awgn|snr=4|cr=20|aesc-verified")
        self.assertEqual(aesc["images_ok"], 12)
        self.assertAlmostEqual(aesc["cr_paper"], 19.6)
        self.assertLess(aesc["cr_effective"], aesc["cr_paper"])    # the blob is counted
        self.assertEqual(aesc["model_copies"], 2)          # before codes 0 and 8
        bad = self.point("awgn|snr=-5|cr=1|direct")
        self.assertGreater(bad["link"]["crc_failures"], 0)
        self.assertGreater(bad["link"]["ber"], 0.0)
        self.assertLess(bad["psnr_db"]["value"], good["psnr_db"]["value"])
        lo, hi = bad["recognition_rate_ratio"]["ci"]
        self.assertLessEqual(lo, bad["recognition_rate_ratio"]["value"])
        self.assertGreaterEqual(hi, bad["recognition_rate_ratio"]["value"])

    def test_a_second_run_skips_finished_points(self):
        before = self.out.read_text()
        self.assertEqual(cli.main(self.args), 0)
        after = json.loads(self.out.read_text())
        self.assertEqual([p["wall_s"] for p in after["points"]],
                         [p["wall_s"] for p in json.loads(before)["points"]])

    def test_other_settings_are_refused_on_resume(self):
        args = list(self.args)
        args[args.index("--num-images") + 1] = "6"
        self.assertEqual(cli.main(args), 2)

    def test_the_engine_is_part_of_the_files_settings(self):
        self.assertEqual(self.results["config"]["engine"], "fast")
        self.assertEqual(self.results["config"]["decoder"], "numba")
        for p in self.results["points"]:
            self.assertEqual((p["link"]["engine"], p["link"]["decoder"], p["link"]["device"]),
                             ("fast", "numba", "cpu"))
            self.assertGreater(p["link"]["codewords"], 0)
        before = self.out.read_text()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(cli.main(self.args + ["--engine", "gnuradio"]), 2)
        self.assertIn("'engine': ('fast', 'gnuradio')", err.getvalue())
        self.assertEqual(self.out.read_text(), before)        # nothing mixed in

    def test_a_file_from_before_the_engine_choice_resumes_only_on_gnuradio(self):
        old = json.loads(self.out.read_text())
        del old["config"]["engine"]
        path = Path(self.tmp.name) / "predating.json"
        path.write_text(json.dumps(old))
        args = list(self.args)
        args[args.index("--out") + 1] = str(path)
        self.assertEqual(cli.main(args), 2)                  # default fast: refused
        self.assertEqual(cli.main(args + ["--engine", "gnuradio"]), 0)   # nothing left to run
        self.assertEqual(load_results(path)["config"]["engine"], "gnuradio")

    def test_the_full_waveform_needs_the_gnuradio_engine(self):
        out = Path(self.tmp.name) / "full-fast.json"
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(cli.main(["sweep", "--out", str(out), "--data", str(self.root),
                                       "--num-images", "4", "--schemes", "direct", "--snr", "12",
                                       "--waveform", "full", "--quiet"]), 2)
        self.assertIn("--engine gnuradio", err.getvalue())
        self.assertFalse(out.exists())

    def test_results_carry_the_example_originals(self):
        labels = self.results["example_labels"]
        self.assertEqual(sorted(labels.values()), sorted(set(labels.values())))  # one per class
        for idx, text in self.results["example_originals"].items():
            np.testing.assert_array_equal(decode_example(text, (1, 28, 28)), self.images[int(idx)])

    def test_the_full_waveform_option_runs_the_burst_modem(self):
        out = Path(self.tmp.name) / "full.json"
        args = ["sweep", "--out", str(out), "--data", str(self.root), "--num-images", "4",
                "--schemes", "direct", "--snr", "12", "--waveform", "full", "--engine", "gnuradio",
                "--modulation", "qpsk", "--freq-offset", "0.001", "--quiet"]
        self.assertEqual(cli.main(args), 0)
        point = load_results(out)["points"][0]
        self.assertEqual(point["link"]["engine"], "gnuradio")
        self.assertEqual(point["images_ok"], 4)
        self.assertEqual(point["psnr_db"]["value"], 100.0)
        self.assertIsNone(point["link"]["ber"])          # no genie index over the air

    def test_a_dask_cluster_writes_the_same_results_as_the_local_pool(self):
        """Each point's seed comes from its key, so where it ran does not matter."""
        from distributed import LocalCluster

        grid = ["--data", str(self.root), "--num-images", "12", "--cr", "20",
                "--schemes", "aesc-verified,jpeg-header-known,direct", "--channel",
                "awgn,rayleigh", "--snr=-2,4", "--carousel-every", "8", "--quiet"]
        pool_out = Path(self.tmp.name) / "pool.json"
        dask_out = Path(self.tmp.name) / "dask.json"
        self.assertEqual(cli.main(["sweep", "--out", str(pool_out), "--workers", "2"] + grid), 0)
        # one in-process worker thread, on the loopback only
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                          host="127.0.0.1", dashboard_address=None) as cluster:
            self.assertTrue(cluster.scheduler_address.startswith("tcp://127.0.0.1:"))
            self.assertEqual(cli.main(["sweep", "--out", str(dask_out), "--scheduler",
                                       cluster.scheduler_address] + grid), 0)
        pool, dask = load_results(pool_out), load_results(dask_out)
        self.assertEqual(len(dask["points"]), 2 * 2 * 3)
        self.assertEqual(_without_timings(dask), _without_timings(pool))

    def test_an_unreachable_scheduler_is_named(self):
        import dask

        err = io.StringIO()
        with contextlib.redirect_stderr(err), \
                dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
            code = cli.main(["sweep", "--out", str(Path(self.tmp.name) / "nowhere.json"),
                             "--data", str(self.root), "--num-images", "4", "--schemes",
                             "direct", "--snr", "4", "--scheduler", "tcp://127.0.0.1:9",
                             "--quiet"])
        self.assertEqual(code, 2)
        self.assertIn("tcp://127.0.0.1:9", err.getvalue())
        self.assertIn("dask scheduler", err.getvalue())

    def test_plot_writes_every_figure(self):
        figs = Path(self.tmp.name) / "figs"
        self.assertEqual(cli.main(["plot", str(self.out), "--out", str(figs)]), 0)
        names = sorted(p.name for p in figs.glob("*.png"))
        self.assertEqual(names, ["fig4.png", "fig5.png", "fig6.png", "fig7.png", "fig8.png",
                                 "waterfall.png"])
        for p in figs.glob("*.png"):
            self.assertEqual(p.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
            self.assertGreater(p.stat().st_size, 5000)

    def test_packet_codes_are_recorded_counted_and_plotted(self):
        """Unequal error protection through the CLI: the setting lands in the config, the
        strong code's symbols are counted, a resume must keep it, ``plot`` draws uep.png."""
        out = Path(self.tmp.name) / "uep.json"
        grid = ["--data", str(self.root), "--num-images", "12", "--cr", "20",
                "--schemes", "aesc-verified,jpeg-header-known", "--snr", "4",
                "--carousel-every", "8", "--quiet"]
        self.assertEqual(cli.main(["sweep", "--out", str(out), "--packet-code",
                                   "model_segment=n0500_r025", "--packet-code",
                                   "code=n0500_r025"] + grid), 0)
        res = load_results(out)
        self.assertEqual(res["config"]["packet_codes"],
                         {"model_segment": "n0500_r025", "code": "n0500_r025"})
        uep = {p["scheme"]: p for p in res["points"]}
        plain = {p["scheme"]: p for p in self.results["points"] if p["key"].startswith(
            "awgn|snr=4|cr=20|")}
        self.assertEqual(uep["aesc-verified"]["images_ok"], 12)
        # the same packets, about 1.8 times the channel symbols on the rate-1/4 code
        self.assertEqual(uep["aesc-verified"]["packet_bits"], plain["aesc-verified"]["packet_bits"])
        self.assertGreater(uep["aesc-verified"]["link"]["symbols"],
                           1.5 * plain["aesc-verified"]["link"]["symbols"])
        # JPEG's image-data packets are not named: their link is unchanged
        self.assertEqual(uep["jpeg-header-known"]["link"]["symbols"],
                         plain["jpeg-header-known"]["link"]["symbols"])
        err = io.StringIO()
        with contextlib.redirect_stderr(err):       # resuming without the setting is refused
            self.assertEqual(cli.main(["sweep", "--out", str(out)] + grid), 2)
        self.assertIn("packet_codes", err.getvalue())
        with contextlib.redirect_stderr(err):
            self.assertEqual(cli.main(["sweep", "--out", str(out), "--packet-code", "blob=x"]
                                      + grid), 2)
        self.assertIn("unknown packet kind 'blob'", err.getvalue())
        figs = Path(self.tmp.name) / "uep-figs"
        self.assertEqual(cli.main(["plot", str(out), str(self.out), "--out", str(figs),
                                   "--figures", "uep"]), 0)
        self.assertGreater((figs / "uep.png").stat().st_size, 5000)

    def test_plot_rejects_files_that_are_not_results(self):
        junk = Path(self.tmp.name) / "junk.json"
        junk.write_text(json.dumps({"schema": "something else"}))
        with self.assertRaises(ResultsError):
            load_results(junk)
        self.assertEqual(cli.main(["plot", str(junk), "--out", self.tmp.name]), 2)


if __name__ == "__main__":
    gr_unittest.run(qa_sweep)
