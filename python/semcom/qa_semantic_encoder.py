#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for source identification with two sources: MNIST and CIFAR-10 images in one stream,
through image source → encoder → carousel → framer → deframer → decoder."""

import numpy as np
from gnuradio import blocks, gr, gr_unittest

from gnuradio import semcom
from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.evaluate import transmit_noiseless
from _qa_util import image_pdu, messages, post, wait_for

# Images of each source in the mixed stream (the stream alternates MNIST, CIFAR-10, ...).
PER_SOURCE = 3


def noiseless(dataset, zdim, images):
    """Pixels the noiseless link gives: encoder, 8-bit code, decoder rebuilt from its blob."""
    recon = transmit_noiseless(zoo.load_aesc(dataset, zdim), images).recon
    return np.round(np.clip(recon, 0, 1) * 255)


class qa_semantic_encoder(gr_unittest.TestCase):
    def setUp(self):
        self.tb = gr.top_block()
        self.cifar_zdim = zoo.default_zdim("cifar10")

    def tearDown(self):
        self.tb.stop()
        self.tb.wait()
        self.tb = None

    def test_two_sources_each_decoded_by_its_own_model(self):
        """The encoder identifies each image's source by its shape and uses that source's
        model; the carousel carries both blobs; the decoder keeps both decoders and decodes
        each code with the one its model id names; the images come out tagged per source."""
        tb = self.tb
        src = semcom.image_source("mixed", num_images=2 * PER_SOURCE)
        enc = semcom.semantic_encoder("auto", 40)
        car = semcom.model_carousel(1024, 0, 0)
        fr, defr, dec = semcom.framer(), semcom.deframer(), semcom.semantic_decoder()
        refs, models, out = blocks.message_debug(), blocks.message_debug(), blocks.message_debug()
        tb.msg_connect(src, "out", enc, "in")
        tb.msg_connect(src, "out", refs, "store")
        tb.msg_connect(enc, "out", car, "in")
        tb.msg_connect(enc, "model", car, "model")
        tb.msg_connect(enc, "model", models, "store")
        tb.msg_connect(car, "out", fr, "in")
        tb.msg_connect(fr, "out", defr, "in")
        tb.msg_connect(defr, "code", dec, "code")
        tb.msg_connect(defr, "model", dec, "model")
        tb.msg_connect(dec, "out", out, "store")
        tb.start()
        self.assertTrue(wait_for(lambda: out.num_messages() == 2 * PER_SOURCE, timeout=60))

        self.assertEqual(enc.zdims(), {"mnist": 40, "cifar10": self.cifar_zdim})
        blobs = {m["dataset"]: p.tobytes() for m, p in messages(models)}
        self.assertEqual(sorted(blobs), ["cifar10", "mnist"])
        self.assertEqual(sorted(dec.models()), sorted(blobfmt.model_id(b) for b in blobs.values()))
        self.assertEqual(dec.stats["models"], 2)
        self.assertEqual(car.stats["segments"], sum(car.segment_count(blobfmt.model_id(b))
                                                    for b in blobs.values()))

        ref_meta = {m["image_id"]: m for m, _ in messages(refs)}
        self.assertEqual([ref_meta[i]["dataset"] for i in range(4)],
                         ["mnist", "cifar10", "mnist", "cifar10"])
        expected = {
            "mnist": noiseless("mnist", 40, zoo.load_sample(dataset="mnist")[0][:PER_SOURCE]),
            "cifar10": noiseless("cifar10", self.cifar_zdim,
                                 zoo.load_sample(dataset="cifar10")[0][:PER_SOURCE]),
        }
        for meta, pixels in messages(out):
            dataset = ref_meta[meta["image_id"]]["dataset"]
            self.assertEqual(meta["dataset"], dataset)
            self.assertEqual(meta["model_id"], blobfmt.model_id(blobs[dataset]))
            want = expected[dataset][ref_meta[meta["image_id"]]["source_index"] // 2]
            self.assertEqual(tuple(meta["shape"]), want.shape)
            self.assertLessEqual(np.abs(pixels.astype(int) - want.reshape(-1)).max(), 1)

    def test_forced_source_overrides_identification(self):
        """dataset="mnist" uses the MNIST model for every image: a CIFAR-10 image does not fit
        it and is dropped (counted, logged), the flowgraph keeps running."""
        enc = semcom.semantic_encoder("mnist", 40)
        codes = blocks.message_debug()
        self.tb.msg_connect(enc, "out", codes, "store")
        self.tb.start()
        cifar, _ = zoo.load_sample(dataset="cifar10")
        mnist, _ = zoo.load_sample(dataset="mnist")
        post(enc, "in", image_pdu(cifar[0], 0))
        post(enc, "in", image_pdu(mnist[0], 1))
        self.assertTrue(wait_for(lambda: codes.num_messages() == 1))
        self.assertEqual(enc.stats["dropped"], 1)
        self.assertEqual(messages(codes)[0][0]["dataset"], "mnist")

    def test_carousel_repeats_every_source_in_use(self):
        """With codes of both sources since the last round, a round resends both blobs."""
        tb = self.tb
        src = semcom.image_source("mixed", num_images=6)
        enc = semcom.semantic_encoder("auto", 40)
        car = semcom.model_carousel(4096, 4, 0)
        out = blocks.message_debug()
        tb.msg_connect(src, "out", enc, "in")
        tb.msg_connect(enc, "out", car, "in")
        tb.msg_connect(enc, "model", car, "model")
        tb.msg_connect(car, "out", out, "store")
        tb.start()
        self.assertTrue(wait_for(lambda: car.stats["codes"] == 6, timeout=60))
        sent = [(m["packet_type"], m.get("model_id")) for m, _ in messages(out)]
        ids = list(dict.fromkeys(i for t, i in sent if t == "model_segment"))
        self.assertEqual(len(ids), 2)
        # Each blob once when its source first came (the counter restarts then), and once
        # more in the round after the 4th code since: codes CIFAR 1, MNIST 2, CIFAR 3, MNIST 4.
        for model_id in ids:
            self.assertEqual(sum(i == model_id for t, i in sent if t == "model_segment"),
                             2 * car.segment_count(model_id))
        codes_before_round = [k for k, (t, _) in enumerate(sent) if t == "code"][4]
        round_ = sent[codes_before_round + 1:]
        self.assertEqual([t for t, _ in round_], ["model_segment"] * (len(round_) - 1) + ["code"])
        self.assertEqual(set(i for t, i in round_[:-1]), set(ids))

    def test_bad_cifar10_zdim_is_refused_at_construction(self):
        with self.assertRaisesRegex(ValueError, "cifar10_zdim"):
            semcom.semantic_encoder("auto", 40, "", -1)
        with self.assertRaisesRegex(ValueError, "cifar10_zdim: no cifar10 model with zdim 5"):
            semcom.semantic_encoder("auto", 40, "", 5)
        with self.assertRaisesRegex(ValueError, "zdim: no mnist model with zdim 41"):
            semcom.semantic_encoder("mnist", 41)
        semcom.semantic_encoder("cifar10", 41)   # MNIST's zdim does not matter then


if __name__ == "__main__":
    gr_unittest.run(qa_semantic_encoder)
