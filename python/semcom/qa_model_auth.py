#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for signed decoders and model updates through real flowgraphs:
carousel → framer → deframer → semantic decoder.

* A receiver that requires a trusted signature rejects every unsigned, untrusted-key and
  altered-after-signing blob (logged, counted), keeps running and keeps decoding with the
  decoder it has.
* An update is applied only by a receiver that holds its base; one that lacks the base
  (or holds another model) waits for the full blob from the carousel and then decodes the
  same images.
"""

import copy
import hashlib
import tempfile

import numpy as np
import torch
from gnuradio import blocks, gr, gr_unittest

from gnuradio import semcom
from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import signing
from gnuradio.semcom.core import update as updates
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.receiver import to_pixels
from gnuradio.semcom.phy.pdu import make_pdu
from _qa_util import messages, post, wait_for


def _changed_blob(model, seed: int) -> bytes:
    """The blob of ``model``'s decoder with every weight nudged (a stand-in for a
    fine-tuned model: same layers, different weights)."""
    gen = torch.Generator().manual_seed(seed)
    decoder = copy.deepcopy(model.decoder)
    with torch.no_grad():
        for p in decoder.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.01 * p.abs().mean())
    return blobfmt.encode_decoder(model.decoder_layers, decoder, (model.code_length,),
                                  model.weight_bits, blobfmt.parse_blob(
                                      blobfmt.blob_from_aesc(model)).meta)


def _code_pdu(model_id: str, image_id: int) -> tuple:
    code = np.random.default_rng(image_id).integers(0, 256, 40, dtype=np.uint8)
    return make_pdu({"packet_type": "code", "model_id": model_id, "image_id": image_id,
                     "scale": 0.02}, code), code


def _reference(blob: bytes, code: np.ndarray) -> np.ndarray:
    decoder, parsed = blobfmt.decoder_from_blob(blob)
    with torch.no_grad():
        out = decoder(torch.from_numpy(code.astype(np.float32) * np.float32(0.02))[None])
    return to_pixels(out[0].numpy()).reshape(-1)


class qa_model_auth(gr_unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.key = signing.generate_key()
        cls.private, cls.public = signing.save_keypair(cls.key, cls.tmp.name + "/tx")
        cls.rogue = signing.generate_key()
        model = zoo.load_aesc("mnist", 40)
        cls.base = blobfmt.blob_from_aesc(model)
        cls.new = _changed_blob(model, 1)
        cls.other = _changed_blob(model, 2)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.tb = gr.top_block()
        # Python blocks must outlive the flowgraph's stop(): keep a reference to each.
        self.blocks = []

    def tearDown(self):
        self.tb.stop()
        self.tb.wait()
        self.tb = None
        self.blocks = None

    def _receiver(self, require=True):
        defr = semcom.deframer("verified")
        dec = semcom.semantic_decoder("verified", 4, 1024, str(self.public), require)
        out = blocks.message_debug()
        self.tb.msg_connect(defr, "code", dec, "code")
        self.tb.msg_connect(defr, "model", dec, "model")
        self.tb.msg_connect(dec, "out", out, "store")
        self.blocks += [defr, dec, out]
        return defr, dec, out

    def _transmitter(self, repeat_codes=0, send_updates=False):
        car = semcom.model_carousel(1024, repeat_codes, 0, str(self.private), send_updates)
        fr = semcom.framer()
        framed = blocks.message_debug()
        self.tb.msg_connect(car, "out", fr, "in")
        self.tb.msg_connect(fr, "out", framed, "store")
        self.blocks += [car, fr, framed]
        return car, framed

    @staticmethod
    def _send(defr, obj: bytes):
        """Segment an object as the carousel would and post its packets."""
        for raw in pk.segment_blob(obj, bytes.fromhex(updates.object_id(obj)[:16]), 1024):
            post(defr, "in", make_pdu({}, raw))

    @staticmethod
    def _deliver(defr, framed, start, stop):
        for _, payload in messages(framed)[start:stop]:
            post(defr, "in", make_pdu({}, payload))

    def test_unsigned_untrusted_and_altered_blobs_are_all_rejected(self):
        car, framed = self._transmitter()
        defr, dec, out = self._receiver()
        self.tb.start()
        base_id = blobfmt.model_id(self.base)
        post(car, "model", make_pdu({"model_id": base_id}, self.base))
        rounds = -(-(len(self.base) + signing.OVERHEAD_BYTES) // 1024)
        self.assertTrue(wait_for(lambda: framed.num_messages() == rounds))
        self._deliver(defr, framed, 0, rounds)
        self.assertTrue(wait_for(lambda: dec.stats["models"] == 1))

        forged = {"unsigned": [self.new, self.other],
                  "untrusted": [signing.sign(self.new, self.rogue),
                                signing.sign(self.other, self.rogue)],
                  "bad_signature": []}
        signed = signing.sign(self.new, self.key)
        # Altered after signing: a weight, the meta, the hash of the inner blob, the
        # signature itself. The envelope's SHA-256 is recomputed, as a forger would, so the
        # link layer passes it and only the signature can catch it.
        for at in (signing.HEADER_BYTES + 3000, signing.HEADER_BYTES + 30,
                   len(signed) - 40, 60):
            bad = bytearray(signed)
            bad[at] ^= 0x10
            bad[-32:] = hashlib.sha256(bytes(bad[:-32])).digest()
            forged["bad_signature"].append(bytes(bad))
        attempts = sum(len(v) for v in forged.values())
        for objs in forged.values():
            for obj in objs:
                self._send(defr, obj)
        self.assertTrue(wait_for(lambda: dec.stats["models_rejected"] == attempts))
        self.assertEqual(dec.stats["rejections"], {k: len(v) for k, v in forged.items()})
        self.assertEqual(dec.stats["models"], 1)
        self.assertEqual(dec.models(), [base_id])

        # Codes of the forged model wait; the receiver keeps decoding with its decoder.
        post(defr, "in", make_pdu({}, pk.pack(pk.CODE, bytes.fromhex(blobfmt.model_id(
            self.new)[:16]), 0, 1, pk.pack_code(7, 0.02, np.zeros(40, np.uint8)))))
        pdu, code = _code_pdu(base_id, 1)
        car_codes = framed.num_messages()
        post(car, "in", pdu)
        self.assertTrue(wait_for(lambda: framed.num_messages() == car_codes + 1))
        self._deliver(defr, framed, car_codes, car_codes + 1)
        self.assertTrue(wait_for(lambda: out.num_messages() == 1))
        meta, pixels = messages(out)[0]
        self.assertEqual(meta["model_id"], base_id)
        np.testing.assert_array_equal(pixels, _reference(self.base, code))
        self.assertEqual(dec.pending(), 1)

    def test_update_applies_only_to_its_base_and_others_wait_for_the_full_blob(self):
        car, framed = self._transmitter(repeat_codes=3, send_updates=True)
        with_base = self._receiver()
        other_base = self._receiver()
        self.tb.start()
        base_id, new_id = blobfmt.model_id(self.base), blobfmt.model_id(self.new)
        # Receiver 2 holds another model of the same layers (signed by the transmitter).
        self._send(other_base[0], signing.sign(self.other, self.key))
        self.assertTrue(wait_for(lambda: other_base[1].stats["models"] == 1))

        post(car, "model", make_pdu({"model_id": base_id}, self.base))
        n_base = -(-(len(self.base) + signing.OVERHEAD_BYTES) // 1024)
        self.assertTrue(wait_for(lambda: framed.num_messages() == n_base))
        self._deliver(with_base[0], framed, 0, n_base)
        self.assertTrue(wait_for(lambda: with_base[1].stats["models"] == 1))

        post(car, "model", make_pdu({"model_id": new_id}, self.new))   # the switch
        self.assertTrue(wait_for(lambda: car.stats["updates"] == 1))
        # the carousel counts the update before the framer has passed all its packets on:
        # wait until they are out and the count has settled
        self.assertTrue(wait_for(lambda: framed.num_messages() > n_base))
        settled = framed.num_messages()
        while wait_for(lambda: framed.num_messages() != settled, timeout=0.5):
            settled = framed.num_messages()
        n_update = framed.num_messages() - n_base
        self.assertLessEqual(n_update, 2)           # a few kB instead of 8 segments
        sent = []
        for i in range(3):
            pdu, code = _code_pdu(new_id, 100 + i)
            sent.append(code)
            post(car, "in", pdu)
        n_full = -(-(len(self.new) + signing.OVERHEAD_BYTES) // 1024)
        total = n_base + n_update + 3 + n_full        # the codes, then the repeat round
        self.assertTrue(wait_for(lambda: framed.num_messages() == total))
        switch = n_base + n_update + 3

        # Update and codes, no full blob yet: only the receiver with the base decodes.
        for defr, _, _ in (with_base, other_base):
            self._deliver(defr, framed, n_base, switch)
        self.assertTrue(wait_for(lambda: with_base[2].num_messages() == 3))
        self.assertTrue(wait_for(lambda: other_base[1].pending() == 3))
        self.assertEqual(with_base[1].stats["updates"], 1)
        self.assertEqual(other_base[1].stats["rejections"], {"no_base": 1})
        self.assertEqual(other_base[2].num_messages(), 0)

        # The carousel's full round: the other receiver now decodes the same images.
        self._deliver(other_base[0], framed, switch, total)
        self.assertTrue(wait_for(lambda: other_base[2].num_messages() == 3))
        for _, dec, out in (with_base, other_base):
            got = {m["image_id"]: (m["model_id"], p) for m, p in messages(out)}
            for i, code in enumerate(sent):
                model_id, pixels = got[100 + i]
                self.assertEqual(model_id, new_id)
                np.testing.assert_array_equal(pixels, _reference(self.new, code))
            self.assertIn(new_id, dec.models())


if __name__ == "__main__":
    gr_unittest.run(qa_model_auth)
