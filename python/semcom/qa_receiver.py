#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Differential QA of the AESC-I receiver: the block chain (deframer → semantic decoder in a
real flowgraph) and the sweep's scheme (:meth:`AescScheme.receive`) get the same packet
streams and must give the same images and the same counters.

Both are shells around ``core/receiver.py``; this test is what keeps a rule from living in
one of them only. Each stream mixes the cases of a real link: clean packets, packets the
PHY marks as CRC-failed, corrupted model segments (caught by the CRC, or only by the
blob's SHA-256), corrupted codes (code values, scale, image id, header), duplicates,
packets out of order and a decoder built from corrupted weights that outputs NaN; each
runs in both protection modes.
"""

import struct
import zlib

import numpy as np
import torch
from gnuradio import blocks, gr, gr_unittest

from gnuradio import semcom
from gnuradio.semcom.phy.pdu import make_pdu
from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.receiver import to_pixels
from gnuradio.semcom.core.schemes import FAILED, LOST, OK, AescScheme
from _qa_util import messages, post, wait_for

N_IMAGES = 16
SEGMENT_SIZE = 512        # the zdim-40 blob (7617 bytes) in 15 segments
SHAPE = (1, 28, 28)


def setUpModule():
    torch.set_num_threads(1)     # one image at a time; leave the other cores alone


# --------------------------------------------------------------------------- corruption

def stale(packet: bytes, byte: int, value: int) -> bytes:
    """``packet`` with one byte set to ``value`` and its CRC-32 left as it was."""
    data = bytearray(packet)
    data[byte] = value
    return bytes(data)


def flipped(packet: bytes, byte: int) -> bytes:
    """``packet`` with every bit of one byte flipped and its CRC-32 left as it was."""
    return stale(packet, byte, packet[byte] ^ 0xFF)


def resealed(body: bytes) -> bytes:
    """Header and payload with a fresh CRC-32: corruption that only the blob hash sees."""
    return bytes(body) + struct.pack(">I", zlib.crc32(bytes(body)))


class Streams:
    """The packet streams of the test, built from one transmission of the sample images."""

    def __init__(self, model, images):
        scheme = AescScheme(model, "verified", carousel_every=10_000, segment_size=SEGMENT_SIZE)
        packets = scheme.transmit(images)
        n_seg = len(packets) - len(images)
        self.segs, self.codes = packets[:n_seg], packets[n_seg:]
        self.blob = scheme.blob
        parsed = blobfmt.parse_blob(scheme.blob)
        # The first tensor's float32 scale: a huge exponent gives inf weights, NaN outputs.
        self.scale_at = parsed.tensor_offset
        self.weight_at = parsed.tensor_offset + 4 + 100     # a weight byte of tensor 0

    def seg_with(self, blob_offset: int, value: int | None, keep_crc: bool):
        """``(index, segment packet)`` with blob byte ``blob_offset`` set to ``value`` (or
        flipped, ``None``); ``keep_crc`` recomputes the CRC so that the packet passes."""
        index, offset = divmod(blob_offset, SEGMENT_SIZE)
        data = bytearray(self.segs[index][:-4])
        at = pk.HEADER_BYTES + offset
        data[at] = data[at] ^ 0xFF if value is None else value
        packet = resealed(data) if keep_crc else bytes(data) + self.segs[index][-4:]
        return index, packet

    def all(self) -> dict:
        ok = lambda packets: [(p, True) for p in packets]            # noqa: E731
        segs, codes = self.segs, self.codes
        streams = {}
        streams["clean"] = ok(segs) + ok(codes)

        # Codes first (held), the segments in reverse order, then the other codes backwards.
        streams["late_model_out_of_order"] = ok(codes[:8]) + ok(segs[::-1]) + ok(codes[:7:-1])

        # The PHY flags packets as failed (bytes intact): verified mode drops them and takes
        # segment 3 from the next carousel round; paper mode keeps them.
        round1 = [(p, i != 3) for i, p in enumerate(segs)]
        flagged = [(p, i not in (2, 9)) for i, p in enumerate(codes)]
        streams["crc_flagged"] = round1 + flagged[:8] + ok(segs) + flagged[8:]

        # Round 1: a weight byte changed with a fresh CRC (only SHA-256 sees it) and another
        # segment corrupted with a stale CRC. Verified mode rejects the reassembled blob and
        # needs round 3; paper mode builds from round 1's corrupted weights.
        i_a, seg_a = self.seg_with(self.weight_at, None, keep_crc=True)
        i_b, seg_b = self.seg_with(5 * SEGMENT_SIZE + 7, None, keep_crc=False)
        round1 = [(seg_a, True) if i == i_a else (seg_b, False) if i == i_b else (p, True)
                  for i, p in enumerate(segs)]
        streams["corrupted_segments"] = (round1 + ok(codes[:6]) + ok(segs) + ok(codes[6:12])
                                         + ok(segs) + ok(codes[12:]))

        # A corrupted tensor scale: paper mode builds a decoder whose outputs are NaN.
        i_s, seg_s = self.seg_with(self.scale_at, 0x7E, keep_crc=False)
        round1 = [(seg_s, False) if i == i_s else (p, True) for i, p in enumerate(segs)]
        streams["nan_decoder"] = round1 + ok(codes[:8]) + ok(segs) + ok(codes[8:])

        # Corrupted codes: code values, scale (huge, NaN), image id, type, version, length,
        # truncation; then a baseline's packet and bytes that are no packet at all.
        head = pk.HEADER_BYTES
        bad = [
            (flipped(codes[1], head + 8 + 5), False),                 # a code value
            (stale(codes[2], head + 4, 0x7E), False),                 # scale exponent: huge
            (stale(codes[3], head + 4, 0xFF), False),                 # scale: NaN
            (stale(codes[4], head + 4, 0xBF), False),                 # scale: negative
            (stale(codes[5], head + 0, 0x7F), False),                 # image id out of range
            (resealed(bytes([pk.IMAGE_DATA]) + codes[6][1:-4]), True),  # type
            (resealed(codes[7][:1] + b"\x09" + codes[7][2:-4]), True),  # version
            (resealed(codes[8][:-5]), True),                          # length
            (codes[9][:12], False),                                   # truncated
            (pk.pack(pk.IMAGE_DATA, b"baseline", 3, 1, b"\x00" * 20), True),
            (b"", False),
            (bytes(range(64)), True),
        ]
        streams["corrupted_codes"] = ok(segs) + ok(codes[:1]) + bad + ok(codes[10:])

        # Duplicates: segments and codes twice; a corrupted copy of code 7 before the clean
        # one (paper mode keeps the first, verified mode drops it and keeps the clean one).
        streams["duplicates"] = (ok(segs[:8]) + ok(segs[3:6]) + ok(segs[8:]) + ok(codes[:7])
                                 + [(flipped(codes[7], head + 8 + 3), False)]
                                 + ok(codes[7:]) + ok(codes[2:4]) + ok(segs))

        # No clean copy at all in verified mode: the codes wait for a decoder that never comes.
        streams["model_never_clean"] = [(p, i != 0) for i, p in enumerate(segs)] + ok(codes)
        return streams


# --------------------------------------------------------------------------- the test

class qa_receiver(gr_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        images, _ = zoo.load_sample()
        cls.images = images[:N_IMAGES]
        cls.model = zoo.load_aesc("mnist", 40)
        cls.builder = Streams(cls.model, cls.images)
        cls.streams = cls.builder.all()

    def scheme(self, stream, protection):
        return AescScheme(self.model, protection).receive(stream, N_IMAGES, SHAPE)

    def chain(self, stream, protection, paced=True):
        """Run ``stream`` through deframer → semantic_decoder in a flowgraph.

        ``paced``: post the next packet once both blocks have handled everything the last
        one caused, as a link delivering packets one by one does. (Posted all at once, the
        decoder's two input ports race: a code can be handled before the model PDU that
        came first, which changes when it counts as held, not what it decodes to.)
        Returns the blocks and the image PDUs, in output order."""
        tb = gr.top_block()
        defr = semcom.deframer(protection)
        dec = semcom.semantic_decoder(protection)
        out = blocks.message_debug()
        tb.msg_connect(defr, "code", dec, "code")
        tb.msg_connect(defr, "model", dec, "model")
        tb.msg_connect(dec, "out", out, "store")

        def idle(n):
            # stop() does not drain message queues: wait until the debug sink stored every
            # image too, or the last ones would be missing
            return (defr.messages_handled() == n and
                    dec.messages_handled() == defr.stats["codes"] + defr.stats["blobs"] and
                    out.num_messages() == dec.stats["images"])

        tb.start()
        try:
            for k, (data, crc_ok) in enumerate(stream, 1):
                post(defr, "in", make_pdu({"crc_ok": crc_ok}, data))
                if paced:
                    self.assertTrue(wait_for(lambda: idle(k)), f"chain stuck at packet {k}")
            self.assertTrue(wait_for(lambda: idle(len(stream))), "chain did not finish")
        finally:
            tb.stop()
            tb.wait()
        return defr, dec, messages(out)

    def chain_images(self, pdus):
        """The scheme's view of the chain's output: first image per id, counters."""
        images = np.zeros((N_IMAGES, *SHAPE), np.uint8)
        got = np.zeros(N_IMAGES, bool)
        extra = {"duplicates": 0, "out_of_range": 0, "shape_mismatch": 0}
        for meta, pixels in pdus:
            i = meta["image_id"]
            if i >= N_IMAGES:
                extra["out_of_range"] += 1
            elif got[i]:
                extra["duplicates"] += 1
            elif tuple(meta["shape"]) != SHAPE:
                extra["shape_mismatch"] += 1
            else:
                images[i], got[i] = pixels.reshape(SHAPE), True
        return images, got, extra

    def assert_same(self, name, protection, paced=True):
        stream = self.streams[name]
        rx = self.scheme(stream, protection)
        defr, dec, pdus = self.chain(stream, protection, paced)
        images, got, extra = self.chain_images(pdus)
        np.testing.assert_array_equal(got, rx.status == OK, err_msg="which images came out")
        np.testing.assert_array_equal(images, rx.images, err_msg="pixels")
        self.assertEqual(dict(defr.stats), rx.counters["deframer"])
        self.assertEqual({k: rx.counters[k] for k in extra}, extra)
        self.assertEqual(dec.pending(), rx.counters["codes_without_model"])
        decoder = dict(dec.stats)
        if not paced:                   # see chain(): only when a code was held may differ
            decoder.pop("held")
        self.assertEqual(decoder, {k: v for k, v in rx.counters["decoder"].items()
                                   if k in decoder})
        return rx

    def test_every_stream_in_both_modes(self):
        for name in self.streams:
            for protection in ("verified", "paper"):
                with self.subTest(stream=name, protection=protection):
                    self.assert_same(name, protection)

    def test_unpaced_chain_gives_the_same_images(self):
        for name in ("late_model_out_of_order", "corrupted_segments", "duplicates"):
            for protection in ("verified", "paper"):
                with self.subTest(stream=name, protection=protection):
                    self.assert_same(name, protection, paced=False)

    def test_the_streams_exercise_what_they_claim(self):
        """The streams are only worth comparing if they reach the rules they are named for."""
        status = {(name, protection): self.scheme(stream, protection)
                  for name, stream in self.streams.items() for protection in ("verified", "paper")}
        clean = status["clean", "verified"]
        self.assertTrue((clean.status == OK).all())
        np.testing.assert_array_equal(status["clean", "paper"].images, clean.images)
        for name in ("late_model_out_of_order", "crc_flagged", "corrupted_segments",
                     "nan_decoder"):
            rx = status[name, "verified"]
            self.assertGreater(rx.counters["decoder"]["held"], 0, name)
        # held codes decode with the clean decoder in verified mode
        for name in ("late_model_out_of_order", "nan_decoder", "corrupted_segments"):
            rx = status[name, "verified"]
            np.testing.assert_array_equal(rx.images, clean.images, err_msg=name)
        rx = status["corrupted_segments", "verified"]
        self.assertEqual(rx.counters["deframer"]["reasons"]["blob"], 1)     # SHA-256 caught it
        self.assertEqual(rx.counters["decoder"]["models"], 1)
        # paper mode used the corrupted weights: other images than the clean decoder's
        rx = status["corrupted_segments", "paper"]
        self.assertTrue((rx.status == OK).all())
        self.assertFalse(np.array_equal(rx.images, clean.images))
        # the NaN decoder: round 1's blob (paper mode) gives a decoder whose outputs are NaN
        # (inf weights), and the guard makes them black pixels
        i_s, seg_s = self.builder.seg_with(self.builder.scale_at, 0x7E, keep_crc=False)
        corrupted = bytearray(self.builder.blob)
        corrupted[i_s * SEGMENT_SIZE:(i_s + 1) * SEGMENT_SIZE] = pk.unpack(seg_s, False).payload
        nan_decoder, _ = blobfmt.decoder_from_blob(bytes(corrupted), verify=False)
        with torch.no_grad():
            self.assertTrue(torch.isnan(nan_decoder(torch.ones(1, 40))).any())
        rx = status["nan_decoder", "paper"]
        self.assertTrue((rx.status == OK).all())
        self.assertEqual(rx.counters["decoder"]["models"], 1)
        # verified mode keeps the clean code 2/9 only from its CRC-flagged copy: dropped
        rx = status["crc_flagged", "verified"]
        self.assertEqual(list(np.flatnonzero(rx.status != OK)), [2, 9])
        self.assertTrue((status["crc_flagged", "paper"].status == OK).all())
        # corrupted codes: verified keeps none of 1..9, paper decodes the routable ones
        rx_v, rx_p = status["corrupted_codes", "verified"], status["corrupted_codes", "paper"]
        self.assertEqual(list(np.flatnonzero(rx_v.status == OK)), [0] + list(range(10, 16)))
        self.assertEqual(list(np.flatnonzero(rx_p.status == OK)),
                         [0, 1, 2, 3, 4] + list(range(10, 16)))
        self.assertEqual(rx_p.counters["out_of_range"], 1)
        clean_decoder, _ = blobfmt.decoder_from_blob(self.builder.blob)
        with torch.no_grad():
            blank = to_pixels(clean_decoder(torch.zeros(1, 40))[0].numpy())
        for i in (2, 3, 4):                  # a bad scale decodes as the all-zero code
            np.testing.assert_array_equal(rx_p.images[i], blank)
        reasons = rx_p.counters["deframer"]["reasons"]
        for reason in ("type", "version", "length", "short"):
            self.assertGreaterEqual(reasons.get(reason, 0), 1, reason)
        # duplicates: the first copy wins (the corrupted one in paper mode)
        rx_v, rx_p = status["duplicates", "verified"], status["duplicates", "paper"]
        np.testing.assert_array_equal(rx_v.images, clean.images)
        self.assertFalse(np.array_equal(rx_p.images[7], clean.images[7]))
        self.assertEqual(rx_v.counters["duplicates"], 2)
        self.assertEqual(rx_p.counters["duplicates"], 3)
        # never a clean copy: every code arrived, none decoded
        rx = status["model_never_clean", "verified"]
        self.assertTrue((rx.status == FAILED).all())
        self.assertEqual(rx.counters["codes_without_model"], N_IMAGES)
        self.assertFalse((status["model_never_clean", "paper"].status == LOST).any())


if __name__ == "__main__":
    gr_unittest.run(qa_receiver)
