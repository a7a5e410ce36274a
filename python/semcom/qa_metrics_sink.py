#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for semcom.metrics_sink: real flowgraphs, figures checked against hand-computed values."""

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pmt
import torch
from gnuradio import blocks, gr, gr_unittest, pdu

from gnuradio import semcom
from gnuradio.semcom.app import plots
from gnuradio.semcom.core import metrics, zoo
from gnuradio.semcom.core.results import load_results
from gnuradio.semcom.phy.pdu import DONE, SYSTEM_PORT, make_image_pdu
from gnuradio.semcom.core.models import Classifier
from _qa_util import run_to_completion, wait_for


def setUpModule():
    torch.set_num_threads(1)     # the test images are few; leave the other cores alone






def post(block, port, msg):
    """Queue a message on an input port, as an upstream block would."""
    port = pmt.intern(port) if isinstance(port, str) else port
    block.to_basic_block()._post(port, msg)


def constant_classifier(path, cls):
    """A classifier file (zoo format) whose network answers ``cls`` for every image."""
    model = Classifier("mnist")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.head[-1].bias[cls] = 1.0
    torch.save({"meta": {"dataset": "mnist", "kind": "test constant"},
                "state_dict": model.state_dict()}, path)
    return str(path)


def pkt(**meta):
    return pmt.cons(pmt.to_pmt(meta), pmt.init_u8vector(0, []))


class qa_metrics_sink(gr_unittest.TestCase):

    def setUp(self):
        self.tb = gr.top_block()
        self.tmp = Path(tempfile.mkdtemp(prefix="qa_metrics_sink_"))
        self.images, self.labels = zoo.load_sample()
        self.cls = int(self.labels[0])
        self.classifier = constant_classifier(self.tmp / "const.pt", self.cls)

    def tearDown(self):
        self.tb = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sink(self, **kwargs):
        kwargs.setdefault("classifier", "file")
        kwargs.setdefault("classifier_path", self.classifier)
        return semcom.metrics_sink(**kwargs)

    def hits(self, ids):
        return sum(int(self.labels[i]) == self.cls for i in ids)

    def test_identical_images_give_the_psnr_cap_and_ratio_one(self):
        src = semcom.image_source("sample", num_images=20)
        sink = self.sink(update_every=8, json_path=str(self.tmp / "m.json"))
        debug = blocks.message_debug()
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (sink, "rx"))
        self.tb.msg_connect((sink, "stats"), (debug, "store"))
        run_to_completion(self.tb)
        s = sink.summary()
        acc = self.hits(range(20)) / 20
        self.assertGreater(acc, 0)
        expected = {
            "images_sent": 20, "images_received": 20, "images_matched": 20,
            "images_unmatched": 0, "images_pending": 0, "images_lost": 0, "loss_rate": 0.0,
            "psnr_db": 100.0, "ssim": 1.0, "images_scored": 20,
            "accuracy_original": acc, "accuracy_received": acc, "recognition_rate_ratio": 1.0,
            "images_scored_end_to_end": 20, "accuracy_original_all": acc,
            "accuracy_received_end_to_end": acc, "recognition_rate_ratio_end_to_end": 1.0,
            "malformed": 0, "final": True,
        }
        self.assertEqual({k: s[k] for k in expected}, expected)
        # stats after 8 and 16 received images, then the final figures before the end
        self.assertEqual(debug.num_messages(), 3)
        last = pmt.to_python(pmt.car(debug.get_message(2)))
        self.assertEqual(last["images_matched"], 20)
        self.assertTrue(last["final"])
        self.assertEqual(pmt.to_python(pmt.car(debug.get_message(0)))["images_received"], 8)
        doc = load_results(self.tmp / "m.json")          # the sweep's schema, validated
        self.assertEqual(doc["points"][0]["live"], json.loads(json.dumps(s)))
        self.assertEqual(doc["config"]["classifier"], f"file:{self.classifier}")

    def test_lost_and_distorted_images(self):
        # 10 originals; the receiver gets 0 (inverted), 1, 2, 4, 5: 3, 6, 7, 8, 9 are lost.
        src = semcom.image_source("sample", num_images=10)
        sink = self.sink()
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        received = {0: 255 - self.images[0], 1: self.images[1], 2: self.images[2],
                    4: self.images[4], 5: self.images[5]}
        for k, image in received.items():
            post(sink, "rx", make_image_pdu(image, k, label=int(self.labels[k])))
        post(sink, SYSTEM_PORT, pmt.cons(DONE, pmt.from_long(1)))    # the receive chain ended
        run_to_completion(self.tb)
        s = sink.summary()
        matched, everything = list(received), list(range(10))
        self.assertEqual((s["images_matched"], s["images_lost"], s["loss_rate"]), (5, 5, 0.5))
        ids = sorted(received)
        self.assertAlmostEqual(s["psnr_db"], float(np.mean(metrics.psnr(
            self.images[ids], np.stack([received[i] for i in ids]), per_image=True))))
        self.assertLess(s["ssim"], 1.0)
        acc_matched = self.hits(matched) / 5
        self.assertAlmostEqual(s["accuracy_original"], acc_matched)
        self.assertAlmostEqual(s["accuracy_received"], acc_matched)
        self.assertEqual(s["recognition_rate_ratio"], 1.0)
        # end to end: the 5 lost images count as misclassified
        self.assertEqual(s["images_scored_end_to_end"], 10)
        self.assertAlmostEqual(s["accuracy_original_all"], self.hits(everything) / 10)
        self.assertAlmostEqual(s["accuracy_received_end_to_end"], self.hits(matched) / 10)
        self.assertAlmostEqual(s["recognition_rate_ratio_end_to_end"],
                               self.hits(matched) / self.hits(everything))

    def test_odd_pdus_are_counted_not_fatal(self):
        src = semcom.image_source("sample", num_images=3)
        sink = self.sink()
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (sink, "rx"))
        post(sink, "rx", make_image_pdu(np.zeros((1, 14, 14), np.uint8), 0, label=0))
        post(sink, "rx", pmt.intern("garbage"))
        post(sink, "ref", pmt.cons(pmt.make_dict(), pmt.init_u8vector(3, [1, 2, 3])))
        run_to_completion(self.tb)
        s = sink.summary()
        self.assertEqual((s["malformed"], s["shape_mismatch"], s["duplicates"]), (2, 1, 1))
        self.assertEqual(s["images_matched"], 3)
        # image 0 arrived with the wrong shape: no PSNR for it, and it counts as wrong
        self.assertEqual(s["psnr_db"], 100.0)
        self.assertAlmostEqual(s["accuracy_received"], self.hits([1, 2]) / 3)
        self.assertAlmostEqual(s["accuracy_original"], self.hits([0, 1, 2]) / 3)

    def test_images_too_small_for_ssim_do_not_stop_the_sink(self):
        tiny = np.random.default_rng(4).integers(0, 256, (3, 1, 4, 4), dtype=np.uint8)
        np.savez(self.tmp / "tiny.npz", images=tiny, labels=np.array([1, 2, 3]))
        src = semcom.image_source("array", path=str(self.tmp / "tiny.npz"))
        sink = self.sink()
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (sink, "rx"))
        run_to_completion(self.tb)
        s = sink.summary()
        self.assertEqual((s["images_matched"], s["psnr_db"], s["ssim"]), (3, 100.0, None))
        self.assertIsNone(s["accuracy_original"])     # not the classifier's input shape

    def test_packets_are_counted_per_type(self):
        src = semcom.image_source("sample", num_images=1)
        sink = semcom.metrics_sink(classifier="none")
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (sink, "rx"))
        for snr in (10.0, 12.0, 14.0):
            post(sink, "pkt", pkt(packet_type="code", crc_ok=True, snr_db=snr))
        post(sink, "pkt", pkt(packet_type="code", crc_ok=False))
        post(sink, "pkt", pkt(packet_type="model_segment", crc_ok=True, seq=1))
        post(sink, "pkt", pkt(packet_type="model_segment", crc_ok=0))
        post(sink, "pkt", pkt(payload_len=12))
        post(sink, "pkt", pmt.PMT_NIL)
        post(sink, SYSTEM_PORT, pmt.cons(DONE, pmt.from_long(1)))    # the packet chain ended
        run_to_completion(self.tb)
        s = sink.summary()
        self.assertEqual((s["packets_ok"], s["packets_failed"], s["malformed"]), (5, 2, 1))
        self.assertEqual(s["packets_by_type"], {"code": {"ok": 3, "failed": 1},
                                                "model_segment": {"ok": 1, "failed": 1},
                                                "unknown": {"ok": 1, "failed": 0}})
        self.assertAlmostEqual(s["snr_db_mean"], 12.0)
        self.assertIsNone(s["accuracy_original"])
        self.assertEqual(s["classifier"], "none")
        sink.reset()
        s = sink.summary()
        self.assertEqual((s["images_sent"], s["packets_ok"], s["malformed"]), (0, 0, 0))
        self.assertIsNone(s["snr_db_mean"])

    def test_setters_change_the_running_sink(self):
        src = semcom.image_source("sample", num_images=12, interval_s=0.05)
        sink = self.sink(update_every=100, json_path=str(self.tmp / "live.json"), write_every=0)
        debug = blocks.message_debug()
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (sink, "rx"))
        self.tb.msg_connect((sink, "stats"), (debug, "store"))
        self.tb.start()
        try:
            self.assertTrue(wait_for(lambda: sink.summary()["images_received"] >= 3))
            self.assertEqual(debug.num_messages(), 0)
            self.assertFalse((self.tmp / "live.json").exists())
            sink.set_update_every(1)
            sink.set_write_every(1)
            self.assertTrue(wait_for(lambda: debug.num_messages() >= 2, timeout=3.0))
            self.assertTrue(wait_for((self.tmp / "live.json").exists, timeout=3.0))
            self.assertFalse(pmt.to_python(pmt.car(debug.get_message(0)))["final"])
        finally:
            self.tb.wait()
        with self.assertRaisesRegex(ValueError, "update_every"):
            sink.set_update_every(0)
        with self.assertRaisesRegex(ValueError, "write_every"):
            sink.set_write_every(-1)

    def test_lost_after_s_declares_losses_while_running(self):
        src = semcom.image_source("sample", num_images=5, end_flowgraph=False)
        sink = semcom.metrics_sink(classifier="none", lost_after_s=0.0)
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.start()
        try:
            self.assertTrue(wait_for(lambda: sink.summary()["images_sent"] == 5))
            time.sleep(0.1)
            s = sink.summary()
            self.assertEqual((s["images_pending"], s["images_lost"]), (5, 0))
            sink.set_lost_after_s(0.05)
            s = sink.summary()
            self.assertEqual((s["images_pending"], s["images_lost"], s["loss_rate"]), (0, 5, 1.0))
            self.assertFalse(s["final"])
        finally:
            self.tb.stop()
            self.tb.wait()
        self.assertTrue(sink.summary()["final"])

    def test_waits_for_the_receive_chain_and_handles_zero_accuracy(self):
        # A class absent from the images: accuracy 0 on the originals, so no ratio.
        absent = next(c for c in range(10) if c not in self.labels[:16])
        sink = self.sink(classifier_path=constant_classifier(self.tmp / "absent.pt", absent),
                         linger_s=30.0)
        src = semcom.image_source("sample", num_images=16)
        to_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, "packet_len")
        to_pdu = pdu.tagged_stream_to_pdu(gr.types.byte_t, "packet_len")
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (to_stream, "pdus"))
        self.tb.connect(to_stream, to_pdu)
        self.tb.msg_connect((to_pdu, "pdus"), (sink, "rx"))
        run_to_completion(self.tb)
        s = sink.summary()
        self.assertEqual((s["images_matched"], s["images_lost"]), (16, 0))
        self.assertEqual((s["accuracy_original"], s["accuracy_received"]), (0.0, 0.0))
        self.assertIsNone(s["recognition_rate_ratio"])
        self.assertIsNone(s["recognition_rate_ratio_end_to_end"])

    def test_shipped_classifier_recognises_the_sample(self):
        # The classifier ships with the module: a missing file is a packaging bug, so no skip.
        self.assertTrue(zoo.classifier_path("mnist").is_file(),
                        f"the shipped classifier {zoo.classifier_path('mnist')} is missing")
        src = semcom.image_source("sample")
        sink = semcom.metrics_sink(classifier="shipped", dataset="mnist", batch_size=64)
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (sink, "rx"))
        run_to_completion(self.tb)
        s = sink.summary()
        self.assertGreaterEqual(s["accuracy_original"], 0.9)
        self.assertEqual(s["recognition_rate_ratio"], 1.0)

    def test_results_file_of_a_live_run_is_a_sweep_result(self):
        """A lossy live run through a flowgraph: the file loads with the sweep's loader, its
        point follows the sweep's conventions, and `semcom plot` draws it."""
        src = semcom.image_source("sample", num_images=30)
        path = self.tmp / "live.json"
        sink = semcom.metrics_sink(classifier="shipped", dataset="mnist", json_path=str(path),
                                   scheme="aesc-verified", channel="awgn", snr_db=-1.5, cr=20)
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        # images 0..19 come back, 20..29 are lost; image 3 comes back black
        for k in range(20):
            image = np.zeros_like(self.images[k]) if k == 3 else self.images[k]
            post(sink, "rx", make_image_pdu(image, k, label=int(self.labels[k])))
        post(sink, "pkt", pkt(packet_type="code", crc_ok=True, snr_db=-1.0))
        post(sink, "pkt", pkt(packet_type="code", crc_ok=False, snr_db=-2.0))
        post(sink, SYSTEM_PORT, pmt.cons(DONE, pmt.from_long(1)))
        run_to_completion(self.tb)
        doc = load_results(path)
        self.assertEqual((doc["schema"], doc["config"]["dataset"]),
                         ("gr-semcom/sweep-results", "mnist"))
        (p,) = doc["points"]
        self.assertEqual((p["key"], p["scheme"], p["channel"], p["snr_db"], p["cr"]),
                         ("awgn|snr=-1.5|cr=20|aesc-verified", "aesc-verified", "awgn", -1.5, 20))
        self.assertEqual((p["images"], p["images_ok"], p["images_lost"]), (30, 20, 10))
        # end to end, as the sweep scores: a lost image is the black image
        black = np.zeros_like(self.images[:30])
        received = np.concatenate([self.images[:20], black[20:]])
        received[3] = 0
        want = metrics.mean_interval(metrics.psnr(self.images[:30], received, per_image=True))
        self.assertAlmostEqual(p["psnr_db"]["value"], want[0], places=9)
        self.assertAlmostEqual(p["psnr_db"]["ci"][0], want[1], places=9)
        want = metrics.mean_interval(metrics.ssim(self.images[:30], received, per_image=True))
        self.assertAlmostEqual(p["ssim"]["value"], want[0], places=9)
        live = p["live"]
        self.assertEqual((live["images_matched"], live["images_lost"]), (20, 10))
        self.assertAlmostEqual(p["recognition_rate_ratio"]["value"],
                               live["recognition_rate_ratio_end_to_end"])
        lo, hi = p["recognition_rate_ratio"]["ci"]
        self.assertLess(lo, p["recognition_rate_ratio"]["value"])
        self.assertGreater(hi, p["recognition_rate_ratio"]["value"])
        self.assertEqual(p["link"]["crc_failures"], 1)
        self.assertEqual(p["link"]["fer"], 0.5)
        self.assertTrue(p["examples"])
        written = plots.plot_results([path], self.tmp / "figures", ["fig5", "fig7"])
        self.assertEqual([f.name for f in written], ["fig5.png", "fig7.png"])

    def test_memory_is_bounded_by_the_window(self):
        """Refs whose rx never comes are counted lost once `window` newer ones wait, so the
        sink holds at most `window` images; a late rx for one of them counts as late."""
        sink = semcom.metrics_sink(classifier="none", window=8)
        debug = blocks.message_debug()
        self.tb.msg_connect((sink, "stats"), (debug, "store"))
        held = []
        self.tb.start()
        try:
            for k in range(64):              # every odd image is lost on the link
                post(sink, "ref", make_image_pdu(self.images[k], k, label=int(self.labels[k])))
                self.assertTrue(wait_for(lambda: sink.summary()["images_sent"] == k + 1))
                if k % 2 == 0:
                    post(sink, "rx", make_image_pdu(self.images[k], k))
                    self.assertTrue(
                        wait_for(lambda: sink.summary()["images_matched"] == k // 2 + 1))
                held.append(sink.pending_images())
            s = sink.summary()
            self.assertEqual((s["images_lost"], s["images_pending"]), (32 - 8, 8))
            # after its ref was counted lost (ids are remembered for 4 windows)
            post(sink, "rx", make_image_pdu(self.images[47], 47))
            self.assertTrue(wait_for(lambda: sink.summary()["images_late"] == 1))
        finally:
            self.tb.stop()
            self.tb.wait()
        self.assertEqual(max(held), 8)
        s = sink.summary()
        self.assertEqual((s["images_matched"], s["images_lost"], s["images_pending"]), (32, 32, 0))
        self.assertEqual((s["images_received"], s["psnr_db"]), (33, 100.0))

    def test_bad_parameters_name_the_problem(self):
        cases = [
            (dict(classifier="magic"), "classifier"),
            (dict(classifier="shipped", dataset="imagenet"), "dataset"),
            (dict(classifier="file", classifier_path=""), "classifier_path"),
            (dict(classifier="none", batch_size=0), "batch_size"),
            (dict(classifier="none", update_every=0), "update_every"),
            (dict(classifier="none", write_every=-1), "write_every"),
            (dict(classifier="none", lost_after_s=-1), "lost_after_s"),
            (dict(classifier="none", linger_s=-1), "linger_s"),
            (dict(classifier="none", json_path=str(Path(__file__))  + "/m.json"), "json_path"),
            (dict(classifier="none", scheme="aesc"), "scheme"),
            (dict(classifier="none", channel="vacuum"), "channel"),
            (dict(classifier="none", snr_db=float("nan")), "snr_db"),
            (dict(classifier="none", cr=0.5), "cr"),
            (dict(classifier="none", window=0), "window"),
        ]
        for kwargs, pattern in cases:
            with self.subTest(kwargs=kwargs), self.assertRaisesRegex(ValueError, pattern):
                semcom.metrics_sink(**kwargs)
        with self.assertRaisesRegex(zoo.ModelFileError, "does not exist"):
            semcom.metrics_sink(classifier="file", classifier_path=str(self.tmp / "none.pt"))
        # A missing output folder is created, as the image sink does.
        semcom.metrics_sink(classifier="none", json_path=str(self.tmp / "new" / "m.json"))
        self.assertTrue((self.tmp / "new").is_dir())


if __name__ == "__main__":
    gr_unittest.run(qa_metrics_sink)
