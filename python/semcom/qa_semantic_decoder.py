#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for the message side of the link: encoder → carousel → framer → deframer → decoder."""

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest

from gnuradio import semcom
from gnuradio.semcom.phy.pdu import make_pdu
from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.evaluate import transmit_noiseless
from _qa_util import image_pdu, messages, post, wait_for


class qa_semantic_decoder(gr_unittest.TestCase):
    def setUp(self):
        self.tb = gr.top_block()
        self.images, self.labels = zoo.load_sample()
        self.model = zoo.load_aesc("mnist", 40)

    def tearDown(self):
        self.tb.stop()
        self.tb.wait()
        self.tb = None

    def _chain(self, protection="verified", repeat_codes=100, corrupt=None):
        tb = self.tb
        self.enc = semcom.semantic_encoder("auto", 40)
        self.car = semcom.model_carousel(1024, repeat_codes, 0)
        self.fr = semcom.framer()
        self.defr = semcom.deframer(protection)
        self.dec = semcom.semantic_decoder(protection)
        self.out = blocks.message_debug()
        self.framed = blocks.message_debug()
        tb.msg_connect(self.enc, "out", self.car, "in")
        tb.msg_connect(self.enc, "model", self.car, "model")
        tb.msg_connect(self.car, "out", self.fr, "in")
        tb.msg_connect(self.fr, "out", self.framed, "store")
        tb.msg_connect(self.defr, "code", self.dec, "code")
        tb.msg_connect(self.defr, "model", self.dec, "model")
        tb.msg_connect(self.dec, "out", self.out, "store")
        if corrupt is None:
            tb.msg_connect(self.fr, "out", self.defr, "in")

    def test_noiseless_chain_reproduces_the_reference_decoder(self):
        self._chain()
        self.tb.start()
        for i in range(20):
            post(self.enc, "in", image_pdu(self.images[i], i, self.labels[i]))
        self.assertTrue(wait_for(lambda: self.out.num_messages() == 20))
        expected = np.round(
            np.clip(transmit_noiseless(self.model, self.images[:20]).recon, 0, 1) * 255)
        got = {m["image_id"]: p for m, p in messages(self.out)}
        self.assertEqual(sorted(got), list(range(20)))
        for i in range(20):
            self.assertLessEqual(np.abs(got[i].astype(int) - expected[i].reshape(-1)).max(), 1)
        meta = messages(self.out)[0][0]
        self.assertEqual(tuple(meta["shape"]), (1, 28, 28))
        self.assertEqual(meta["model_id"], blobfmt.model_id(blobfmt.blob_from_aesc(self.model)))
        self.assertEqual(self.dec.stats["models"], 1)

    def test_codes_before_the_model_are_held_then_decoded(self):
        """A receiver that starts late: codes arrive first, the carousel's copy later."""
        self._chain(corrupt=True)
        self.tb.start()
        for i in range(5):
            post(self.enc, "in", image_pdu(self.images[i], i))
        self.assertTrue(wait_for(lambda: self.framed.num_messages() >= 5 + 8))
        framed = messages(self.framed)
        codes = [make_pdu({}, p) for m, p in framed if m["packet_type"] == "code"]
        segs = [make_pdu({}, p) for m, p in framed if m["packet_type"] == "model_segment"]
        for msg in codes:
            post(self.defr, "in", msg)
        self.assertTrue(wait_for(lambda: self.dec.pending() == 5))
        self.assertEqual(self.out.num_messages(), 0)
        for msg in reversed(segs):  # any order
            post(self.defr, "in", msg)
        self.assertTrue(wait_for(lambda: self.out.num_messages() == 5))
        self.assertEqual(self.dec.pending(), 0)

    def test_corrupted_segment_is_rejected_until_a_clean_copy_arrives(self):
        self._chain(corrupt=True)
        self.tb.start()
        post(self.enc, "in", image_pdu(self.images[0], 0))
        self.assertTrue(wait_for(lambda: self.framed.num_messages() >= 9))
        framed = messages(self.framed)
        segs = [p.tobytes() for m, p in framed if m["packet_type"] == "model_segment"]
        code = [p.tobytes() for m, p in framed if m["packet_type"] == "code"][0]
        # Flip a weight bit inside segment 3 and recompute the packet CRC: only the
        # blob's SHA-256 can catch it.
        raw = bytearray(segs[3][:-4])
        raw[pk.HEADER_BYTES + 100] ^= 0x04
        packet = pk.unpack(pk.pack(pk.MODEL_SEGMENT, bytes(raw[2:10]), 3, len(segs),
                                   bytes(raw[pk.HEADER_BYTES:])))
        bad = list(segs)
        bad[3] = pk.pack(packet.type, packet.model_tag, packet.index, packet.count, packet.payload)
        post(self.defr, "in", make_pdu({}, code))
        for s in bad:
            post(self.defr, "in", make_pdu({}, s))
        self.assertTrue(wait_for(lambda: self.defr.stats["reasons"].get("blob", 0) == 1))
        self.assertEqual(self.out.num_messages(), 0)
        for s in segs:  # the next carousel round
            post(self.defr, "in", make_pdu({}, s))
        self.assertTrue(wait_for(lambda: self.out.num_messages() == 1))

    def test_paper_mode_builds_from_corrupted_weights(self):
        blob = bytearray(blobfmt.blob_from_aesc(self.model))
        clean_id = blobfmt.model_id(bytes(blob))
        blob[400] ^= 0x40  # a weight byte: the hash no longer matches
        tag = bytes.fromhex(clean_id[:16])
        dec = semcom.semantic_decoder("paper")
        ver = semcom.semantic_decoder("verified")
        out_p, out_v = blocks.message_debug(), blocks.message_debug()
        self.tb.msg_connect(dec, "out", out_p, "store")
        self.tb.msg_connect(ver, "out", out_v, "store")
        self.tb.start()
        q = np.arange(40, dtype=np.uint8)
        code = make_pdu({"model_tag": tag.hex(), "scale": 0.05, "image_id": 1}, q)
        for d in (dec, ver):
            post(d, "model", make_pdu({"model_tag": tag.hex()}, bytes(blob)))
            post(d, "code", code)
        self.assertTrue(wait_for(lambda: out_p.num_messages() == 1))
        self.assertTrue(wait_for(lambda: ver.stats["models_rejected"] == 1))
        self.assertEqual(out_v.num_messages(), 0)
        self.assertEqual(ver.pending(), 1)

    def test_garbage_is_dropped_and_counted(self):
        self._chain()
        self.tb.start()
        post(self.defr, "in", pmt.intern("not a pdu"))
        post(self.defr, "in", make_pdu({}, b"\x01\x02"))                        # truncated
        post(self.defr, "in",
             make_pdu({}, pk.pack(pk.CODE, b"A" * 8, 0, 1, b"x" * 12)[:-1] + b"\x00"))  # CRC
        raw = bytearray(pk.pack(pk.CODE, b"A" * 8, 0, 1, b"x" * 12)[:-4])
        raw[0] = 7
        import struct
        import zlib
        post(self.defr, "in",
             make_pdu({}, bytes(raw) + struct.pack(">I", zlib.crc32(bytes(raw)))))  # type
        post(self.defr, "in",
             make_pdu({"crc_ok": False}, pk.pack(pk.CODE, b"A" * 8, 0, 1, b"x" * 12)))
        post(self.enc, "in", make_pdu({"shape": (1, 5, 5)}, b"\x00" * 25))      # unknown source
        post(self.dec, "code", pmt.PMT_NIL)
        self.assertTrue(wait_for(lambda: self.defr.stats["dropped"] == 5))
        self.assertEqual(self.defr.stats["reasons"],
                         {"not_pdu": 1, "short": 1, "crc": 2, "type": 1})
        self.assertTrue(wait_for(lambda: self.enc.stats["dropped"] == 1
                                 and self.dec.stats["dropped"] == 1))


if __name__ == "__main__":
    gr_unittest.run(qa_semantic_decoder)
