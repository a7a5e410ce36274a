#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for semcom.image_sink: real flowgraphs fed by the image source and by posted PDUs."""

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest, pdu

from gnuradio import semcom
from gnuradio.semcom.phy.pdu import DONE, SYSTEM_PORT, make_image_pdu
from gnuradio.semcom.core import zoo
from _qa_util import run_to_completion, wait_for






def read_png(path):
    from PIL import Image

    with Image.open(path) as im:
        arr = np.asarray(im)
    return arr[None] if arr.ndim == 2 else np.transpose(arr, (2, 0, 1))


def post(block, port, msg):
    """Queue a message on an input port, as an upstream block would."""
    port = pmt.intern(port) if isinstance(port, str) else port
    block.to_basic_block()._post(port, msg)


class qa_image_sink(gr_unittest.TestCase):

    def setUp(self):
        self.tb = gr.top_block()
        self.tmp = Path(tempfile.mkdtemp(prefix="qa_image_sink_"))
        self.images, self.labels = zoo.load_sample()

    def tearDown(self):
        self.tb = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_writes_one_png_per_image_with_the_payload_pixels(self):
        src = semcom.image_source("sample", num_images=6)
        sink = semcom.image_sink(str(self.tmp / "rx"), sheet_every=4, sheet_columns=4,
                                 sheet_scale=1)
        self.tb.msg_connect((src, "out"), (sink, "in"))
        run_to_completion(self.tb)
        self.assertEqual(sink.images_received(), 6)
        self.assertEqual(sink.images_written(), 6)
        self.assertEqual(sink.malformed(), 0)
        for k in range(6):
            path = self.tmp / "rx" / f"image_{k:06d}_label{self.labels[k]}.png"
            self.assertTrue(path.is_file(), path)
            np.testing.assert_array_equal(read_png(path), self.images[k])
        # 6 images, 4 per row, no references: 2 rows of 28 px cells with 2 px gaps
        sheet = read_png(sink.sheet_path())
        self.assertEqual(sheet.shape, (3, 2 * 30 + 2, 4 * 30 + 2))
        np.testing.assert_array_equal(sheet[0, 2:30, 2:30], self.images[0][0])
        np.testing.assert_array_equal(sheet[0, 32:60, 32:60], self.images[5][0])

    def test_reference_row_sits_above_the_received_row(self):
        # Received images are the originals inverted, and image 2 never arrives.
        src = semcom.image_source("sample", num_images=4)
        sink = semcom.image_sink(str(self.tmp), save_images=False, sheet_every=0, sheet_scale=1)
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        for k in (0, 1, 3):
            post(sink, "in", make_image_pdu(255 - self.images[k], k))
        post(sink, SYSTEM_PORT, pmt.cons(DONE, pmt.from_long(1)))    # the receive chain ended
        run_to_completion(self.tb)
        self.assertEqual(sink.images_written(), 0)
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["contact_sheet.png"])
        sheet = read_png(sink.sheet_path())
        self.assertEqual(sheet.shape, (3, 2 * 30 + 2, 4 * 30 + 2))
        for col, k in enumerate(range(4)):
            x = 2 + 30 * col
            np.testing.assert_array_equal(sheet[0, 2:30, x:x + 28], self.images[k][0])
            if k == 2:      # lost: blank (background grey) cell under its original
                self.assertTrue((sheet[:, 32:60, x:x + 28] == 64).all())
            else:
                np.testing.assert_array_equal(sheet[0, 32:60, x:x + 28], 255 - self.images[k][0])

    def test_colour_images_and_labels_round_trip_through_the_folder_source(self):
        rng = np.random.default_rng(5)
        rgb = rng.integers(0, 256, (3, 3, 8, 8), dtype=np.uint8)
        np.savez(self.tmp / "rgb.npz", images=rgb, labels=np.array([2, 0, 1]))
        src = semcom.image_source("array", path=str(self.tmp / "rgb.npz"))
        sink = semcom.image_sink(str(self.tmp / "out"), sheet_name="")
        self.tb.msg_connect((src, "out"), (sink, "in"))
        run_to_completion(self.tb)
        self.assertIsNone(sink.sheet_path())
        self.tb = gr.top_block()
        back = semcom.image_source("folder", path=str(self.tmp / "out"))
        debug = blocks.message_debug()
        self.tb.msg_connect((back, "out"), (debug, "store"))
        run_to_completion(self.tb)
        self.assertEqual(debug.num_messages(), 3)
        for k in range(3):
            msg = debug.get_message(k)
            meta = pmt.to_python(pmt.car(msg))
            self.assertEqual(meta["label"], [2, 0, 1][k])
            np.testing.assert_array_equal(
                np.asarray(pmt.to_python(pmt.cdr(msg))).reshape(3, 8, 8), rgb[k])

    def test_malformed_pdus_are_counted_and_dropped(self):
        src = semcom.image_source("sample", num_images=2)
        sink = semcom.image_sink(str(self.tmp), sheet_every=1)
        self.tb.msg_connect((src, "out"), (sink, "in"))
        good = make_image_pdu(self.images[9], 100)
        meta, payload = pmt.car(good), pmt.cdr(good)
        bad = [
            pmt.intern("not a pdu"),
            pmt.cons(pmt.dict_delete(meta, pmt.intern("shape")), payload),
            pmt.cons(pmt.dict_delete(meta, pmt.intern("image_id")), payload),
            pmt.cons(meta, pmt.init_u8vector(10, [0] * 10)),
            make_image_pdu(np.zeros((2, 4, 4), np.uint8), 101),      # 2 channels
        ]
        for msg in bad:
            post(sink, "in", msg)
        post(sink, "ref", pmt.PMT_T)
        post(sink, "in", good)
        run_to_completion(self.tb)
        self.assertEqual(sink.malformed(), 6)
        self.assertEqual(sink.images_received(), 3)
        self.assertEqual(sorted(p.name for p in self.tmp.glob("image_*.png")),
                         ["image_000000_label7.png", "image_000001_label2.png", "image_000100.png"])

    def test_set_sheet_every_changes_the_running_sink(self):
        src = semcom.image_source("sample", num_images=8, interval_s=0.1)
        sink = semcom.image_sink(str(self.tmp), save_images=False, sheet_every=0)
        self.tb.msg_connect((src, "out"), (sink, "in"))
        self.tb.start()
        try:
            self.assertTrue(wait_for(lambda: sink.images_received() >= 2))
            self.assertFalse(sink.sheet_path().exists())     # 0: only at stop
            sink.set_sheet_every(1)
            self.assertEqual(sink.sheet_every(), 1)
            self.assertTrue(wait_for(lambda: sink.sheet_path().exists(), timeout=2.0))
            self.assertLess(sink.images_received(), 8)       # drawn while running
        finally:
            self.tb.stop()
            self.tb.wait()
        with self.assertRaisesRegex(ValueError, "sheet_every"):
            sink.set_sheet_every(-1)

    def test_waits_for_the_receive_chain_before_ending(self):
        # ref straight from the source, in through a stream detour: the sink must not end on
        # the source's done (which comes first) but once the stream half has drained.
        src = semcom.image_source("sample", num_images=20)
        to_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, "packet_len")
        to_pdu = pdu.tagged_stream_to_pdu(gr.types.byte_t, "packet_len")
        sink = semcom.image_sink(str(self.tmp), save_images=False, linger_s=30.0)
        self.tb.msg_connect((src, "out"), (sink, "ref"))
        self.tb.msg_connect((src, "out"), (to_stream, "pdus"))
        self.tb.connect(to_stream, to_pdu)
        self.tb.msg_connect((to_pdu, "pdus"), (sink, "in"))
        t0 = time.monotonic()
        run_to_completion(self.tb)
        self.assertLess(time.monotonic() - t0, 10.0)
        self.assertEqual(sink.images_received(), 20)

    def test_linger_ends_a_sink_whose_receive_chain_never_ends(self):
        ref_src = semcom.image_source("sample", num_images=3)
        rx_src = semcom.image_source("sample", num_images=2, end_flowgraph=False)
        sink = semcom.image_sink(str(self.tmp), save_images=False, linger_s=60.0)
        self.tb.msg_connect((ref_src, "out"), (sink, "ref"))
        self.tb.msg_connect((rx_src, "out"), (sink, "in"))
        self.tb.start()
        try:
            self.assertTrue(wait_for(lambda: sink.images_received() == 2))
            time.sleep(0.3)
            self.assertFalse(sink.to_basic_block().finished())      # still lingering
            sink.set_linger_s(0.1)
            self.assertTrue(wait_for(lambda: sink.to_basic_block().finished(), timeout=3.0))
        finally:
            self.tb.stop()
            self.tb.wait()
        self.assertTrue(sink.sheet_path().exists())

    def test_bad_parameters_name_the_problem(self):
        blocker = self.tmp / "file"
        blocker.write_text("x")
        cases = [
            (dict(folder=""), "folder"),
            (dict(folder=str(blocker / "sub")), "folder"),
            (dict(sheet_name="sub/sheet.png"), "sheet_name"),
            (dict(sheet_name="sheet.jpg"), "sheet_name"),
            (dict(sheet_every=-1), "sheet_every"),
            (dict(sheet_columns=0), "sheet_columns"),
            (dict(sheet_max_images=0), "sheet_max_images"),
            (dict(sheet_scale=17), "sheet_scale"),
            (dict(linger_s=-1), "linger_s"),
        ]
        for kwargs, pattern in cases:
            kwargs.setdefault("folder", str(self.tmp))
            with self.subTest(kwargs=kwargs), self.assertRaisesRegex(ValueError, pattern):
                semcom.image_sink(**kwargs)


if __name__ == "__main__":
    gr_unittest.run(qa_image_sink)
