#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for the model carousel: first round at once, repeats by code count and by time,
and setters that change the running block."""

import time

import numpy as np
from gnuradio import blocks, gr, gr_unittest

from gnuradio import semcom
from gnuradio.semcom.phy.pdu import make_pdu
from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import zoo
from _qa_util import messages, post, wait_for


class qa_model_carousel(gr_unittest.TestCase):
    def setUp(self):
        self.blob = blobfmt.blob_from_aesc(zoo.load_aesc("mnist", 40))
        self.model_id = blobfmt.model_id(self.blob)
        self.tb = gr.top_block()
        self.car = semcom.model_carousel(1024, 0, 0)
        self.out = blocks.message_debug()
        self.tb.msg_connect(self.car, "out", self.out, "store")
        self.tb.start()
        post(self.car, "model", make_pdu({"model_id": self.model_id}, self.blob))

    def tearDown(self):
        self.tb.stop()
        self.tb.wait()

    def _segments(self):
        return [m for m, _ in messages(self.out) if m.get("packet_type") == "model_segment"]

    def _code(self, i):
        return make_pdu({"packet_type": "code", "model_id": self.model_id, "image_id": i},
                        np.zeros(40, np.uint8))

    def test_first_round_reassembles_the_blob(self):
        count = -(-len(self.blob) // 1024)
        self.assertTrue(wait_for(lambda: len(self._segments()) == count))
        parts = {m["segment_index"]: p.tobytes() for m, p in messages(self.out)}
        self.assertEqual(b"".join(parts[i] for i in range(count)), self.blob)
        self.assertEqual({m["segment_count"] for m in self._segments()}, {count})

    def test_set_repeat_codes_changes_the_running_block(self):
        count = -(-len(self.blob) // 1024)
        self.assertTrue(wait_for(lambda: len(self._segments()) == count))
        for i in range(6):                       # repeat_codes = 0: codes only
            post(self.car, "in", self._code(i))
        self.assertTrue(wait_for(lambda: self.out.num_messages() == count + 6))
        self.assertEqual(len(self._segments()), count)
        self.car.set_repeat_codes(3)
        for i in range(6, 12):                   # a new round after every 3 codes
            post(self.car, "in", self._code(i))
        self.assertTrue(wait_for(lambda: len(self._segments()) == 3 * count))

    def test_set_repeat_seconds_changes_the_running_block(self):
        count = -(-len(self.blob) // 1024)
        self.assertTrue(wait_for(lambda: len(self._segments()) == count))
        time.sleep(0.5)
        self.assertEqual(len(self._segments()), count)   # 0 s: no timer rounds
        self.car.set_repeat_seconds(0.2)
        self.assertTrue(wait_for(lambda: len(self._segments()) >= 3 * count, timeout=5))
        self.car.set_repeat_seconds(0)
        time.sleep(0.4)
        settled = len(self._segments())
        time.sleep(0.6)
        self.assertEqual(len(self._segments()), settled)

    def test_bad_model_pdu_is_dropped(self):
        post(self.car, "model", make_pdu({"model_id": "00" * 32}, self.blob))
        self.assertTrue(wait_for(lambda: self.car.stats["dropped"] == 1))
        with self.assertRaises(ValueError):
            self.car.set_repeat_codes(-1)


if __name__ == "__main__":
    gr_unittest.run(qa_model_carousel)
