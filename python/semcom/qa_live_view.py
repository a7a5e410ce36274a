#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for semcom.live_view: a real flowgraph feeds it images, the metrics sink's figures and
packets; the widget, drawn off screen, must show them."""

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # no display needed

import numpy as np
import pmt
from gnuradio import gr, gr_unittest
from PyQt5 import QtWidgets

from gnuradio import semcom
from gnuradio.semcom.phy.pdu import DONE, make_image_pdu, make_pdu
from _qa_util import post

APP = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["qa_live_view"])

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def solid(rgb, size=10):
    return np.broadcast_to(np.array(rgb, np.uint8)[:, None, None], (3, size, size)).copy()


def pump_until(predicate, timeout=20.0):
    """Run the GUI's event loop (timers, repaints) until ``predicate()`` or the timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        APP.processEvents()
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def pixels(widget) -> np.ndarray:
    """What the widget shows, as uint8 [H, W, 3]."""
    image = widget.grab().toImage().convertToFormat(4)     # QImage.Format_RGB32: B, G, R, X
    ptr = image.constBits()
    ptr.setsize(image.byteCount())
    arr = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return arr[:, :image.width(), 2::-1].copy()


def count(arr, rgb) -> int:
    return int(np.all(arr == np.array(rgb, np.uint8), axis=-1).sum())


class qa_live_view(gr_unittest.TestCase):
    def setUp(self):
        self.tb = gr.top_block()

    def tearDown(self):
        self.tb.stop()
        self.tb.wait()
        self.tb = None

    def test_shows_the_received_images_figures_and_packets(self):
        """The sample images through a metrics sink that sees them on both sides (a perfect
        link: ratio 1), then posted packets and images: the widget shows each of them."""
        src = semcom.image_source("sample", num_images=6)
        metrics = semcom.metrics_sink(classifier="shipped", dataset="mnist", update_every=1)
        view = semcom.live_view(max_images=3, columns=3, update_period_s=0.05)
        self.tb.msg_connect((src, "out"), (metrics, "ref"))
        self.tb.msg_connect((src, "out"), (metrics, "rx"))
        self.tb.msg_connect((src, "out"), (view, "in"))
        self.tb.msg_connect((metrics, "stats"), (view, "stats"))
        widget = view.widget()
        widget.resize(480, 360)
        widget.show()
        self.tb.start()

        text = widget.images_label.text
        self.assertTrue(pump_until(lambda: "6 received of 6 sent" in text()), text())
        self.assertIn("recognition-rate ratio 1.000", text())
        self.assertIn("0 lost", text())
        self.assertEqual(view.images_received(), 6)
        self.assertIn("Packets: none yet", widget.packets_label.text())

        # Packets as the packet modem RX gives them: two good, one failed, with estimates.
        for ok, snr in ((True, 11.0), (False, 3.0), (True, 13.0)):
            post(view, "pkt", make_pdu({"crc_ok": ok, "snr_db": snr, "freq_offset": 0.002},
                                       b"\x00" * 8))
        packets = widget.packets_label.text
        self.assertTrue(pump_until(lambda: "3 received" in packets()), packets())
        self.assertIn("2 CRC ok, 1 failed", packets())
        self.assertIn("Es/N0 estimate 13.0 dB (mean 9.0 dB)", packets())
        self.assertIn("+0.00200 cycles/sample", packets())

        # Four coloured images into a view of three: the first scrolls out, the rest show,
        # each scaled by the same whole factor (10 x 10 pixels -> z^2 * 100 on screen).
        for k, rgb in enumerate((RED, GREEN, BLUE, WHITE)):
            post(view, "in", make_image_pdu(solid(rgb), 100 + k))
        self.assertTrue(pump_until(lambda: view.images_received() == 10
                                   and count(pixels(widget.grid), GREEN) > 0))
        shown = pixels(widget.grid)
        self.assertEqual(count(shown, RED), 0)
        areas = [count(shown, rgb) for rgb in (GREEN, BLUE, WHITE)]
        self.assertEqual(len(set(areas)), 1, areas)
        zoom = int(round(np.sqrt(areas[0] / 100)))
        self.assertGreaterEqual(zoom, 2)
        self.assertEqual(areas[0], 100 * zoom * zoom)
        self.assertEqual([i for i, _ in view.snapshot()["images"]], [101, 102, 103])

    def test_bad_messages_are_counted_and_the_view_keeps_listening(self):
        src = semcom.image_source("sample", num_images=2)
        view = semcom.live_view(max_images=4, update_period_s=0.05)
        self.tb.msg_connect((src, "out"), (view, "in"))
        widget = view.widget()
        self.tb.start()
        self.assertTrue(pump_until(lambda: view.images_received() == 2))
        # the source has ended and sent its "done": a display keeps showing what comes
        post(view, "system", pmt.cons(DONE, pmt.from_long(1)))
        post(view, "in", pmt.intern("garbage"))
        post(view, "in", make_pdu({"image_id": 7, "shape": (1, 5, 5)}, b"\x00" * 24))
        post(view, "in", make_image_pdu(np.zeros((2, 4, 4), np.uint8), 8))   # 2 channels
        post(view, "stats", pmt.cons(pmt.intern("not a dict"), pmt.PMT_NIL))
        post(view, "stats", pmt.PMT_T)
        post(view, "pkt", pmt.PMT_T)                  # counted as a packet without estimates
        post(view, "in", make_image_pdu(solid(GREEN), 9))
        self.assertTrue(pump_until(lambda: view.images_received() == 3), view.malformed())
        self.assertEqual(view.malformed(), 5)
        self.assertEqual(view.packets_received(), 1)
        self.assertTrue(pump_until(lambda: "3 received" in widget.images_label.text()))
        self.assertIn("Es/N0 estimate –", widget.packets_label.text())

    def test_set_update_period_changes_the_running_view(self):
        src = semcom.image_source("sample", num_images=1)
        view = semcom.live_view(update_period_s=5.0)
        self.tb.msg_connect((src, "out"), (view, "in"))
        widget = view.widget()
        self.tb.start()
        self.assertTrue(pump_until(lambda: view.images_received() == 1))
        time.sleep(0.3)
        APP.processEvents()
        self.assertNotIn("1 received", widget.images_label.text())   # not redrawn yet
        view.set_update_period_s(0.05)
        self.assertAlmostEqual(view.update_period_s(), 0.05)
        self.assertTrue(pump_until(lambda: "1 received" in widget.images_label.text(), 2.0))

    def test_bad_parameters_name_the_problem(self):
        for kwargs, word in (({"max_images": 0}, "max_images"), ({"columns": 65}, "columns"),
                             ({"update_period_s": 0}, "update_period_s")):
            with self.subTest(**kwargs), self.assertRaisesRegex(ValueError, word):
                semcom.live_view(**kwargs)
        view = semcom.live_view()
        with self.assertRaisesRegex(ValueError, "update_period_s"):
            view.set_update_period_s(20)


if __name__ == "__main__":
    gr_unittest.run(qa_live_view)
