#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for semcom.image_source: real flowgraphs, PDUs read back from blocks.message_debug."""

import os
import shutil
import struct
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest, pdu

from gnuradio import semcom
from gnuradio.semcom.core import zoo
from _qa_util import run_to_completion, wait_for
from gnuradio.semcom.core.datasets import DatasetError
from gnuradio.semcom.phy.pdu import MalformedPdu, make_image_pdu, parse_image_pdu






def messages(debug):
    return [parse_image_pdu(debug.get_message(i)) for i in range(debug.num_messages())]


def meta_of(debug, i):
    return pmt.to_python(pmt.car(debug.get_message(i)))


def write_png(path, image):
    from PIL import Image

    arr = image[0] if image.shape[0] == 1 else np.transpose(image, (1, 2, 0))
    Image.fromarray(arr).save(path)


def write_fake_mnist(root, images, labels):
    """The t10k idx files of a tiny MNIST, in the official layout."""
    folder = Path(root) / "mnist"
    folder.mkdir(parents=True)
    n, h, w = images.shape
    (folder / "t10k-images-idx3-ubyte").write_bytes(
        struct.pack(">BBBBIII", 0, 0, 8, 3, n, h, w) + images.tobytes())
    (folder / "t10k-labels-idx1-ubyte").write_bytes(
        struct.pack(">BBBBI", 0, 0, 8, 1, n) + labels.astype(np.uint8).tobytes())


class qa_image_source(gr_unittest.TestCase):

    def setUp(self):
        self.tb = gr.top_block()
        self.tmp = tempfile.mkdtemp(prefix="qa_image_source_")

    def tearDown(self):
        self.tb = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_source(self, source, timeout=10.0):
        debug = blocks.message_debug()
        self.tb.msg_connect((source, "out"), (debug, "store"))
        run_to_completion(self.tb, timeout)
        return debug

    # ----------------------------------------------------------------- sources
    def test_sample_emits_images_then_ends_the_flowgraph(self):
        images, labels = zoo.load_sample()
        src = semcom.image_source("sample", num_images=10)
        debug = self.run_source(src)
        got = messages(debug)
        self.assertEqual(len(got), 10)
        self.assertEqual(src.images_sent(), 10)
        for k, p in enumerate(got):
            self.assertEqual(p.image_id, k)
            self.assertEqual(p.label, int(labels[k]))
            np.testing.assert_array_equal(p.image, images[k])
        meta = meta_of(debug, 3)
        self.assertEqual(meta["shape"], (1, 28, 28))
        self.assertEqual(meta["dataset"], "mnist")
        self.assertEqual(meta["source_index"], 3)

    def test_sample_of_cifar10_and_the_mixed_stream(self):
        """The CIFAR-10 sample; the mixed stream alternates both samples, each image with
        its own dataset, label and position in the interleaved set."""
        cifar, cifar_labels = zoo.load_sample(dataset="cifar10")
        mnist, mnist_labels = zoo.load_sample(dataset="mnist")
        debug = self.run_source(semcom.image_source("sample", dataset="cifar10", num_images=2))
        self.assertEqual([meta_of(debug, i)["dataset"] for i in range(2)], ["cifar10"] * 2)
        np.testing.assert_array_equal(messages(debug)[1].image, cifar[1])
        self.tb = gr.top_block()
        src = semcom.image_source("mixed", num_images=5, start=2)
        self.assertEqual(semcom.image_source("mixed").num_selected(), 128)
        debug = self.run_source(src)
        got = messages(debug)
        self.assertEqual([meta_of(debug, i)["dataset"] for i in range(5)],
                         ["mnist", "cifar10", "mnist", "cifar10", "mnist"])
        self.assertEqual([meta_of(debug, i)["source_index"] for i in range(5)], [2, 3, 4, 5, 6])
        self.assertEqual([p.image_id for p in got], [0, 1, 2, 3, 4])
        for k, p in enumerate(got):
            images, labels = (mnist, mnist_labels) if k % 2 == 0 else (cifar, cifar_labels)
            np.testing.assert_array_equal(p.image, images[1 + k // 2])
            self.assertEqual(p.label, int(labels[1 + k // 2]))

    def test_start_selects_a_window(self):
        images, labels = zoo.load_sample()
        debug = self.run_source(semcom.image_source("sample", num_images=3, start=60))
        got = messages(debug)
        self.assertEqual([p.image_id for p in got], [0, 1, 2])
        self.assertEqual([meta_of(debug, i)["source_index"] for i in range(3)], [60, 61, 62])
        np.testing.assert_array_equal(np.stack([p.image for p in got]), images[60:63])
        # num_images = 0 takes the rest of the set
        self.tb = gr.top_block()
        self.assertEqual(self.run_source(semcom.image_source("sample", start=62)).num_messages(), 2)

    def test_folder_round_trips_pixels_and_labels(self):
        rng = np.random.default_rng(1)
        gray = rng.integers(0, 256, (1, 12, 9), dtype=np.uint8)
        rgb = rng.integers(0, 256, (3, 8, 10), dtype=np.uint8)
        write_png(os.path.join(self.tmp, "b_label7.png"), gray)
        write_png(os.path.join(self.tmp, "a.png"), rgb)
        Path(self.tmp, "notes.txt").write_text("not an image")
        debug = self.run_source(semcom.image_source("folder", path=self.tmp))
        got = messages(debug)
        self.assertEqual(len(got), 2)
        np.testing.assert_array_equal(got[0].image, rgb)     # file-name order: a.png first
        self.assertIsNone(got[0].label)
        self.assertNotIn("dataset", meta_of(debug, 0))
        np.testing.assert_array_equal(got[1].image, gray)
        self.assertEqual(got[1].label, 7)

    def test_folder_drops_alpha(self):
        from PIL import Image

        rgba = np.zeros((5, 6, 4), np.uint8)
        rgba[..., 0], rgba[..., 3] = 200, 17
        Image.fromarray(rgba, "RGBA").save(os.path.join(self.tmp, "x.png"))
        (p,) = messages(self.run_source(semcom.image_source("folder", path=self.tmp)))
        self.assertEqual(p.image.shape, (3, 5, 6))
        self.assertTrue((p.image[0] == 200).all() and (p.image[1:] == 0).all())

    def test_array_npz_with_labels_and_npy_without(self):
        rng = np.random.default_rng(2)
        images = rng.integers(0, 256, (5, 3, 4, 4), dtype=np.uint8)
        labels = np.array([4, 3, 2, 1, 0])
        np.savez(os.path.join(self.tmp, "set.npz"), images=images, labels=labels)
        got = messages(self.run_source(
            semcom.image_source("array", path=os.path.join(self.tmp, "set.npz"), start=1)))
        self.assertEqual([p.label for p in got], [3, 2, 1, 0])
        np.testing.assert_array_equal(np.stack([p.image for p in got]), images[1:])

        self.tb = gr.top_block()
        gray = rng.integers(0, 256, (2, 6, 7), dtype=np.uint8)    # [N, H, W] means C = 1
        np.save(os.path.join(self.tmp, "gray.npy"), gray)
        got = messages(self.run_source(
            semcom.image_source("array", path=os.path.join(self.tmp, "gray.npy"))))
        self.assertEqual([p.image.shape for p in got], [(1, 6, 7)] * 2)
        self.assertEqual([p.label for p in got], [None, None])
        np.testing.assert_array_equal(got[1].image[0], gray[1])

    def test_dataset_split_from_data_root(self):
        rng = np.random.default_rng(3)
        images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
        labels = np.array([5, 0, 4, 1, 9, 2])
        write_fake_mnist(self.tmp, images, labels)
        debug = self.run_source(semcom.image_source(
            "dataset", dataset="mnist", split="test", data_root=self.tmp, num_images=4, start=2))
        got = messages(debug)
        self.assertEqual([p.label for p in got], [4, 1, 9, 2])
        np.testing.assert_array_equal(got[0].image[0], images[2])
        self.assertEqual(meta_of(debug, 0)["dataset"], "mnist")

    # ----------------------------------------------------------------- timing and ending
    def test_set_interval_s_changes_the_running_source(self):
        src = semcom.image_source("sample", num_images=5, interval_s=30.0)
        debug = blocks.message_debug()
        self.tb.msg_connect((src, "out"), (debug, "store"))
        self.tb.start()
        try:
            self.assertTrue(wait_for(lambda: debug.num_messages() == 1))
            time.sleep(0.2)
            self.assertEqual(debug.num_messages(), 1)        # waiting out the 30 s interval
            self.assertEqual(src.interval_s(), 30.0)
            t0 = time.monotonic()
            src.set_interval_s(0.01)                         # wakes the waiting thread
            self.assertTrue(wait_for(lambda: debug.num_messages() == 5, timeout=3.0))
            self.assertLess(time.monotonic() - t0, 3.0)
        finally:
            self.tb.stop()
            self.tb.wait()
        with self.assertRaisesRegex(ValueError, "interval_s"):
            src.set_interval_s(-1)

    def test_interval_and_initial_delay_space_the_images(self):
        src = semcom.image_source("sample", num_images=3, interval_s=0.1, initial_delay_s=0.2)
        t0 = time.monotonic()
        debug = self.run_source(src)
        self.assertEqual(debug.num_messages(), 3)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)

    def test_repeat_cycles_with_unique_ids_until_stopped(self):
        src = semcom.image_source("sample", num_images=3, interval_s=0.005, repeat=True)
        debug = blocks.message_debug()
        self.tb.msg_connect((src, "out"), (debug, "store"))
        self.tb.start()
        self.assertTrue(wait_for(lambda: debug.num_messages() >= 8))
        self.tb.stop()
        self.tb.wait()
        n = debug.num_messages()
        self.assertEqual([p.image_id for p in messages(debug)], list(range(n)))
        self.assertEqual([meta_of(debug, i)["source_index"] for i in range(7)],
                         [0, 1, 2, 0, 1, 2, 0])

    def test_end_flowgraph_false_keeps_running(self):
        src = semcom.image_source("sample", num_images=2, end_flowgraph=False)
        debug = blocks.message_debug()
        self.tb.msg_connect((src, "out"), (debug, "store"))
        runner = threading.Thread(target=self.tb.run, daemon=True)
        runner.start()
        self.assertTrue(wait_for(lambda: debug.num_messages() == 2))
        runner.join(0.5)
        self.assertTrue(runner.is_alive())
        self.tb.stop()
        runner.join(5.0)
        self.assertFalse(runner.is_alive())

    def test_done_travels_through_stream_blocks(self):
        # image source -> PDU to tagged stream -> tagged stream to PDU: the stream half ends
        # when its input runs dry, and the metadata comes back from the stream tags.
        src = semcom.image_source("sample", num_images=12)
        to_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, "packet_len")
        to_pdu = pdu.tagged_stream_to_pdu(gr.types.byte_t, "packet_len")
        debug = blocks.message_debug()
        self.tb.msg_connect((src, "out"), (to_stream, "pdus"))
        self.tb.connect(to_stream, to_pdu)
        self.tb.msg_connect((to_pdu, "pdus"), (debug, "store"))
        run_to_completion(self.tb)
        images, labels = zoo.load_sample()
        got = messages(debug)
        self.assertEqual([p.image_id for p in got], list(range(12)))
        np.testing.assert_array_equal(np.stack([p.image for p in got]), images[:12])

    def test_restart_after_a_finished_pass_starts_over(self):
        src = semcom.image_source("sample", num_images=2)
        debug = self.run_source(src)
        run_to_completion(self.tb)
        got = messages(debug)
        self.assertEqual([p.image_id for p in got], [0, 1, 2, 3])
        self.assertEqual([meta_of(debug, i)["source_index"] for i in range(4)], [0, 1, 0, 1])

    # ----------------------------------------------------------------- bad input
    def test_bad_parameters_name_the_problem(self):
        cases = [
            (dict(source="camera"), "source"),
            (dict(num_images=-1), "num_images"),
            (dict(start=-2), "start"),
            (dict(start=64), "start must be < 64"),
            (dict(start=60, num_images=5), "num_images"),
            (dict(interval_s=-0.5), "interval_s"),
            (dict(interval_s=float("nan")), "interval_s"),
            (dict(initial_delay_s=-1), "initial_delay_s"),
            (dict(source="folder"), "path"),
            (dict(source="folder", path=os.path.join(self.tmp, "nope")), "does not exist"),
            (dict(source="folder", path=self.tmp), "no .png"),
            (dict(source="array", path=os.path.join(self.tmp, "nope.npz")), "does not exist"),
            (dict(source="dataset", dataset="imagenet", data_root=self.tmp), "dataset"),
            (dict(source="dataset", split="val", data_root=self.tmp), "split"),
        ]
        for kwargs, pattern in cases:
            with self.subTest(kwargs=kwargs):
                with self.assertRaisesRegex(ValueError, pattern):
                    semcom.image_source(**kwargs)

    def test_bad_files_name_the_file(self):
        Path(self.tmp, "broken.png").write_bytes(b"\x89PNG not really")
        with self.assertRaisesRegex(ValueError, "broken.png"):
            semcom.image_source("folder", path=self.tmp)
        arrays = {
            "float.npy": np.zeros((2, 1, 4, 4), np.float32),
            "channels.npy": np.zeros((2, 2, 4, 4), np.uint8),
            "flat.npy": np.zeros((16,), np.uint8),
        }
        for name, arr in arrays.items():
            np.save(os.path.join(self.tmp, name), arr)
            with self.subTest(name=name), self.assertRaisesRegex(ValueError, name):
                semcom.image_source("array", path=os.path.join(self.tmp, name))
        np.savez(os.path.join(self.tmp, "nolabels.npz"), pixels=np.zeros((2, 1, 4, 4), np.uint8))
        with self.assertRaisesRegex(ValueError, "'images'"):
            semcom.image_source("array", path=os.path.join(self.tmp, "nolabels.npz"))
        np.savez(os.path.join(self.tmp, "short.npz"), images=np.zeros((3, 1, 4, 4), np.uint8),
                 labels=np.array([1, 2]))
        with self.assertRaisesRegex(ValueError, "labels"):
            semcom.image_source("array", path=os.path.join(self.tmp, "short.npz"))

    def test_missing_dataset_says_how_to_fix_it(self):
        with self.assertRaisesRegex(DatasetError, "SEMCOM_DATA"):
            semcom.image_source("dataset", dataset="cifar10", data_root=self.tmp)

    # ----------------------------------------------------------------- PDU helpers
    def test_parse_image_pdu_rejects_malformed_messages(self):
        good = make_image_pdu(np.zeros((1, 2, 3), np.uint8), 4, label=1)
        self.assertEqual(parse_image_pdu(good).image_id, 4)
        meta = pmt.car(good)
        bad = {
            "not a PDU": pmt.intern("hello"),
            "not a pmt dict": pmt.cons(pmt.from_long(3), pmt.init_u8vector(6, [0] * 6)),
            "not a u8vector": pmt.cons(meta, pmt.init_f32vector(6, [0.0] * 6)),
            "'shape'": pmt.cons(pmt.dict_delete(meta, pmt.intern("shape")),
                                pmt.init_u8vector(6, [0] * 6)),
            "'image_id'": pmt.cons(pmt.dict_delete(meta, pmt.intern("image_id")),
                                   pmt.init_u8vector(6, [0] * 6)),
            "holds 5 bytes": pmt.cons(meta, pmt.init_u8vector(5, [0] * 5)),
            "3 positive": pmt.cons(pmt.dict_add(meta, pmt.intern("shape"), pmt.to_pmt((6,))),
                                   pmt.init_u8vector(6, [0] * 6)),
            "'label' must be an integer": pmt.cons(
                pmt.dict_add(meta, pmt.intern("label"), pmt.intern("seven")),
                pmt.init_u8vector(6, [0] * 6)),
        }
        for pattern, msg in bad.items():
            with self.subTest(pattern=pattern), self.assertRaisesRegex(MalformedPdu, pattern):
                parse_image_pdu(msg)


if __name__ == "__main__":
    gr_unittest.run(qa_image_source)
