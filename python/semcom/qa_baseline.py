#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for baseline_encoder / baseline_decoder through the symbol-level link."""

import time

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest

from gnuradio.semcom.phy.pdu import make_image_pdu, parse_image_pdu
from gnuradio.semcom import baseline_decoder, baseline_encoder, symbol_link
from gnuradio.semcom.core import jpeg, zoo


class qa_baseline(gr_unittest.TestCase):
    def setUp(self):
        self.tb = gr.top_block()
        self.images = zoo.load_sample()[0][:12]

    def tearDown(self):
        self.tb.stop()
        self.tb.wait()

    def run_link(self, scheme, snr_db=6.0, extra=()):
        enc = baseline_encoder(scheme, 19, "header-known")
        link = symbol_link("bpsk", channel="awgn", snr_db=snr_db, seed=3, drop_bad_crc=False)
        dec = baseline_decoder(scheme, 19, "header-known", (1, 28, 28))
        sink = blocks.message_debug()
        self.tb.msg_connect(enc, "out", link, "in")
        self.tb.msg_connect(link, "out", dec, "in")
        self.tb.msg_connect(dec, "out", sink, "store")
        self.tb.start()
        for msg in extra:
            enc.to_basic_block()._post(pmt.intern("in"), msg)
        for i, im in enumerate(self.images):
            enc.to_basic_block()._post(pmt.intern("in"), make_image_pdu(im, i))
        deadline = time.time() + 60
        while sink.num_messages() < len(self.images) and time.time() < deadline:
            time.sleep(0.01)
        got = {}
        for k in range(sink.num_messages()):
            pdu = parse_image_pdu(sink.get_message(k))
            got[pdu.image_id] = pdu.image
        return enc, dec, got

    def test_direct_through_the_link_is_pixel_exact(self):
        enc, dec, got = self.run_link("direct")
        self.assertEqual(sorted(got), list(range(len(self.images))))
        for i, im in enumerate(self.images):
            np.testing.assert_array_equal(got[i], im)
        self.assertEqual(enc.stats["data_bits"], self.images.size * 8)

    def test_jpeg_through_the_link_equals_the_local_decode_and_bad_input_is_counted(self):
        junk = [pmt.intern("not a pdu"), pmt.cons(pmt.make_dict(), pmt.init_u8vector(3, [1, 2, 3]))]
        enc, dec, got = self.run_link("jpeg", extra=junk)
        self.assertEqual(enc.stats["dropped"], 2)
        self.assertEqual(len(got), len(self.images))
        for i, im in enumerate(self.images):
            want = jpeg.decode(jpeg.encode(im, 19), (1, 28, 28), 19)
            np.testing.assert_array_equal(got[i], want)
        self.assertEqual(dec.stats["decode_failed"], 0)

    def test_decoder_drops_what_it_cannot_route_and_keeps_running(self):
        dec = baseline_decoder("direct")
        enc = baseline_encoder("direct")
        sink = blocks.message_debug()
        src = blocks.message_strobe(pmt.PMT_NIL, 1000)   # placeholder source for the port
        self.tb.msg_connect(src, "strobe", dec, "in")
        self.tb.msg_connect(dec, "out", sink, "store")
        self.tb.start()
        bad = pmt.cons(pmt.make_dict(), pmt.init_u8vector(30, [0] * 30))
        dec.to_basic_block()._post(pmt.intern("in"), bad)
        packet = enc._scheme.encode_packet(5, self.images[0])[0]
        meta = pmt.dict_add(pmt.make_dict(), pmt.intern("crc_ok"), pmt.PMT_F)
        dec.to_basic_block()._post(pmt.intern("in"),
                                   pmt.cons(meta, pmt.init_u8vector(len(packet), list(packet))))
        deadline = time.time() + 10
        while sink.num_messages() < 1 and time.time() < deadline:
            time.sleep(0.01)
        self.assertEqual(
            dec.stats["reasons"].get("type", 0) + dec.stats["reasons"].get("length", 0), 1)
        pdu = parse_image_pdu(sink.get_message(0))
        self.assertEqual(pdu.image_id, 5)            # corrupted-by-flag packets are still used
        self.assertEqual(dec.stats["crc_failed_used"], 1)

    def test_bad_parameters_are_named(self):
        with self.assertRaisesRegex(ValueError, "scheme"):
            baseline_encoder("wavelet")
        with self.assertRaisesRegex(ValueError, "shape"):
            baseline_decoder("direct", shape=(28, 28))
        with self.assertRaisesRegex(ValueError, "quality"):
            baseline_encoder("jpeg", 101)


if __name__ == "__main__":
    gr_unittest.run(qa_baseline)
