#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for symbol_link: the symbol-level PHY (CRC-32, stock LDPC, BPSK/QPSK, channels)."""

import time

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest

from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.phy import fec as semfec
from gnuradio.semcom import symbol_link


def _pdu(meta: dict, payload: np.ndarray):
    m = pmt.make_dict()
    for key, value in meta.items():
        m = pmt.dict_add(m, pmt.intern(key), pmt.to_pmt(value))
    return pmt.cons(m, pmt.init_u8vector(len(payload), payload))


def _wait(pred, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


class qa_symbol_link(gr_unittest.TestCase):
    def setUp(self):
        self.tb = gr.top_block()
        self.rng = np.random.default_rng(11)
        self.sent = {}

    def tearDown(self):
        self.tb.stop()
        self.tb.wait()
        self.tb = None

    def _link(self, **kw):
        kw.setdefault("seed", 5)
        kw.setdefault("mtu", 1500)
        self.link = symbol_link(**kw)
        self.dbg = blocks.message_debug()
        self.tb.msg_connect(self.link, "out", self.dbg, "store")
        self.tb.start()
        return self.link

    def _send(self, count, sizes=(1, 37, 108, 113, 600, 1500)):
        """Post ``count`` random payloads (sizes cycled) and wait until all are through."""
        first = len(self.sent)
        for i in range(first, first + count):
            p = self.rng.integers(0, 256, sizes[i % len(sizes)], dtype=np.uint8)
            self.sent[i] = p
            self.link.post(_pdu({"pkt": i, "tag": "x"}, p))
        # Through the link, and every packet it let out handled by the debug sink (on a
        # loaded machine the sink's queue lags behind the link).
        self.assertTrue(_wait(lambda: self.link.stats()["in"] == first + count and
                              self.link.pending() == 0 and
                              self.dbg.num_messages() >= self.link.stats()["out"]),
                        self.link.stats())
        return self._received()[first:]

    def _received(self):
        out = []
        for i in range(self.dbg.num_messages()):
            msg = self.dbg.get_message(i)
            meta = pmt.to_python(pmt.car(msg))
            data = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
            out.append((meta, data))
        return out

    def _assert_exact(self, got, snr_db):
        for meta, data in got:
            self.assertTrue(meta["crc_ok"])
            self.assertEqual(meta["snr_db"], snr_db)
            self.assertEqual(meta["tag"], "x")
            np.testing.assert_array_equal(data, self.sent[meta["pkt"]])

    def test_bpsk_high_snr_is_byte_exact(self):
        self._link(modulation="bpsk", snr_db=20.0)
        got = self._send(12)
        self.assertEqual(len(got), 12)
        self._assert_exact(got, 20.0)
        self.assertEqual(self.link.stats()["crc_fail"], 0)

    def test_qpsk_high_snr_is_byte_exact(self):
        self._link(modulation="qpsk", code="n0700_r04", snr_db=20.0)
        got = self._send(12)
        self.assertEqual(len(got), 12)
        self._assert_exact(got, 20.0)
        # shortening: 1 byte + CRC = 40 bits in one n=700 codeword -> 458 symbols
        self.assertEqual(self.link.symbols_per_packet(1), (700 - (282 - 40)) // 2)

    def test_low_snr_passes_corrupted_packets_with_crc_false(self):
        self._link(snr_db=-5.0, drop_bad_crc=False)
        got = self._send(6, sizes=(108, 300))     # short payloads are heavily shortened
        self.assertEqual(len(got), 6)
        for meta, data in got:
            self.assertFalse(meta["crc_ok"])
            self.assertEqual(len(data), len(self.sent[meta["pkt"]]))
        self.assertEqual(self.link.stats()["crc_fail"], 6)

    def test_low_snr_drops_bad_packets_by_default(self):
        self._link(snr_db=-5.0)
        got = self._send(6, sizes=(108, 300))
        self.assertEqual(got, [])
        st = self.link.stats()
        self.assertEqual((st["in"], st["out"], st["dropped"]), (6, 0, 6))

    def test_set_snr_db_changes_the_running_link(self):
        self._link(modulation="qpsk", snr_db=20.0, drop_bad_crc=False)
        self._assert_exact(self._send(6), 20.0)
        self.link.set_snr_db(-5.0)
        bad = self._send(6, sizes=(108, 300))
        self.assertEqual([m["crc_ok"] for m, _ in bad], [False] * 6)
        self.assertTrue(all(m["snr_db"] == -5.0 for m, _ in bad))
        self.link.set_snr_db(20.0)
        self._assert_exact(self._send(6), 20.0)

    def test_rayleigh_fading_at_20db_delivers_most_packets(self):
        self._link(channel="rayleigh", snr_db=20.0, drop_bad_crc=False)
        got = self._send(40, sizes=(100,))
        ok = sum(m["crc_ok"] for m, _ in got)
        self.assertEqual(len(got), 40)
        self.assertGreaterEqual(ok, 36)          # outage P(|h|^2 < ~0.01) is about 1 %
        for meta, data in got:
            if meta["crc_ok"]:
                np.testing.assert_array_equal(data, self.sent[meta["pkt"]])
        # switching to AWGN at run time: the receiver's gain is reset with the channel's
        self.link.set_channel("awgn")
        self._assert_exact(self._send(6, sizes=(100,)), 20.0)

    def test_rayleigh_fading_is_independent_per_packet(self):
        """Average Es/N0 3 dB: AWGN would be clean (Eb/N0 6 dB), block fading loses the
        packets whose |h|^2 falls below ~0.45 (about a third)."""
        self._link(channel="rayleigh", snr_db=3.0, drop_bad_crc=False)
        got = self._send(40, sizes=(100,))
        lost = 40 - sum(m["crc_ok"] for m, _ in got)
        self.assertGreaterEqual(lost, 4)
        self.assertLessEqual(lost, 28)

    def test_multipath_taps_and_runtime_channel_switch(self):
        # Four equal taps: direct path power 0.25 against ISI 0.75 -> undecodable.
        self._link(channel="multipath", taps=[0.5, 0.5, 0.5, 0.5], snr_db=20.0,
                   drop_bad_crc=False)
        bad = self._send(4, sizes=(200,))
        self.assertEqual(sum(m["crc_ok"] for m, _ in bad), 0)
        self.link.set_taps([0.95, 0.3j, 0.1])      # mild ISI: decodable at 20 dB
        self._assert_exact(self._send(4, sizes=(200,)), 20.0)
        self.link.set_taps([0.5, 0.5, 0.5, 0.5])
        self.link.set_channel("awgn")
        self._assert_exact(self._send(4, sizes=(200,)), 20.0)
        self.assertEqual(self.link.channel(), "awgn")

    def test_oversized_payload_is_refused_not_fatal(self):
        self._link(snr_db=20.0, mtu=64)
        self.link.post(_pdu({"pkt": -1}, np.zeros(65, dtype=np.uint8)))
        self.assertTrue(_wait(lambda: self.link.stats()["errors"] == 1))
        self._assert_exact(self._send(2, sizes=(64, 5)), 20.0)

    def test_ebn0_bookkeeping(self):
        link = symbol_link("qpsk", "n1800_r05", "awgn", 2.0)
        self.assertAlmostEqual(link.ebn0_db(), semfec.ebn0_from_esn0(2.0, "qpsk"))
        self.assertEqual(link.code_dims(), (1800, 902))
        with self.assertRaises(ValueError):
            symbol_link("8psk")
        with self.assertRaises(ValueError):
            symbol_link(channel="rician")
        with self.assertRaises(ValueError):
            symbol_link(channel="multipath", taps=[0, 1])

    def test_packet_codes_protect_the_model_segments(self):
        """Unequal error protection: at Es/N0 -3.5 dB the default code loses the 72-byte
        packets (FER ~1), the rate-1/4 code of the model segments gets them through."""
        self._link(snr_db=-3.5, drop_bad_crc=False, packet_codes="model_segment=n0500_r025")
        self.assertEqual(self.link.packet_codes(), {"model_segment": "n0500_r025"})
        body = bytes(range(48))
        segments = [pk.pack(pk.MODEL_SEGMENT, b"\x01" * 8, i, 8, body) for i in range(8)]
        codes = [pk.pack(pk.CODE, b"\x01" * 8, i, 1, body) for i in range(8)]
        for i, p in enumerate(segments + codes + [b"\x09" + body]):   # last: no known kind
            self.sent[i] = np.frombuffer(p, np.uint8)
            self.link.post(_pdu({"pkt": i}, self.sent[i]))
        self.assertTrue(_wait(lambda: self.link.pending() == 0 and
                              self.dbg.num_messages() == 17, 60), self.link.stats())
        ok = {m["pkt"]: bool(m["crc_ok"]) for m, _ in self._received()}
        self.assertGreaterEqual(sum(ok[i] for i in range(8)), 7, ok)       # segments
        self.assertLessEqual(sum(ok[i] for i in range(8, 17)), 1, ok)      # codes, unknown
        for meta, data in self._received():
            if meta["crc_ok"]:
                np.testing.assert_array_equal(data, self.sent[meta["pkt"]])
        # each packet's channel symbols are those of its code (rate 1/4: about 60 % more)
        n_seg = self.link.symbols_of_packet(segments[0])
        self.assertEqual(n_seg, self.link.symbols_per_packet(len(segments[0]), "n0500_r025"))
        self.assertEqual(self.link.symbols_of_packet(codes[0]),
                         self.link.symbols_per_packet(len(codes[0])))
        self.assertGreater(n_seg, 1.5 * self.link.symbols_of_packet(codes[0]))

    def test_bad_packet_codes_are_refused(self):
        for spec in ("blob=n0500_r025", "model_segment=n9_r9", "model_segment"):
            with self.assertRaises(ValueError):
                symbol_link(packet_codes=spec)


    def test_every_code_at_qpsk_8db(self):
        """Every code of the registry, QPSK Es/N0 8 dB: packets of one, two and several
        codewords arrive byte-exact (packet_modem's test_014 does the same on the burst
        waveform)."""
        for code in semfec.CODES:
            with self.subTest(code=code):
                self.tb.stop()
                self.tb.wait()
                self.tb, self.sent = gr.top_block(), {}
                self._link(modulation="qpsk", code=code, snr_db=8.0)
                got = self._send(3, sizes=(20, 100, 300))
                self.assertEqual(len(got), 3)
                self._assert_exact(got, 8.0)

if __name__ == "__main__":
    gr_unittest.run(qa_symbol_link)
