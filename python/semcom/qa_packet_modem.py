#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for packet_modem_tx / packet_modem_rx: real flowgraphs, TX -> channel -> RX.

Noise is set by Es/N0 (energy per symbol over noise density): the channel model's noise
voltage is amplitude * sqrt(sps / (Es/N0)), amplitude being the TX burst's RMS amplitude.
"""

import threading
import time

import numpy as np
import pmt
from gnuradio import analog, blocks, channels, gr, gr_unittest
from gnuradio.filter import firdes

from gnuradio import semcom
from gnuradio.semcom.core import registry


class _pdu_source(gr.basic_block):
    """Publishes the messages it is given on its ``out`` port (from the test thread)."""

    def __init__(self):
        gr.basic_block.__init__(self, name="qa_pdu_source", in_sig=None, out_sig=None)
        self.message_port_register_out(pmt.intern("out"))

    def send(self, msg):
        self.message_port_pub(pmt.intern("out"), msg)

    def end(self):
        """Tell GNU Radio this source is done, as the image source does after its last image."""
        self._post(pmt.intern("system"), pmt.cons(pmt.intern("done"), pmt.from_long(1)))


class _valve(gr.sync_block):
    """Passes complex samples through once ``opened`` is set; takes nothing before."""

    def __init__(self):
        gr.sync_block.__init__(self, name="qa_valve", in_sig=[np.complex64],
                               out_sig=[np.complex64])
        self.opened = threading.Event()

    def work(self, input_items, output_items):
        if not self.opened.wait(0.01):
            return 0
        output_items[0][:] = input_items[0]
        return len(output_items[0])


def _pdu(data, meta=None):
    d = pmt.make_dict()
    for key, value in (meta or {}).items():
        d = pmt.dict_add(d, pmt.intern(key), pmt.to_pmt(value))
    data = np.asarray(data, dtype=np.uint8)
    return pmt.cons(d, pmt.init_u8vector(len(data), data))


def _received(debug):
    out = []
    for i in range(debug.num_messages()):
        msg = debug.get_message(i)
        out.append((pmt.to_python(pmt.car(msg)),
                    np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)))
    return out


def _wait(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate():
        time.sleep(0.02)
    return predicate()


def _wait_quiet(counts, quiet, timeout):
    """Wait until ``counts()`` has not changed for ``quiet`` seconds."""
    deadline = time.time() + timeout
    last, since = counts(), time.time()
    while time.time() < deadline:
        time.sleep(0.05)
        now = counts()
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= quiet:
            return


def _noise_voltage(esn0_db, amplitude=0.5, sps=2):
    return amplitude * np.sqrt(sps / 10 ** (esn0_db / 10))


class qa_packet_modem(gr_unittest.TestCase):

    def setUp(self):
        self.tb = gr.top_block()

    def tearDown(self):
        self.tb = None

    def _loopback(self, payloads, esn0_db, freq=0.0, epsilon=1.0, modulation="qpsk",
                  sps=2, timeout=30.0, rx_kwargs=(), metas=None, seed=1, quiet=None,
                  tx_kwargs=None):
        """Send ``payloads`` through TX -> channel_model -> RX(s); returns one list of
        (metadata, payload) per receiver in ``rx_kwargs`` (default: one, drop_bad_crc)."""
        rx_kwargs = list(rx_kwargs) or [{}]
        src = _pdu_source()
        tx = semcom.packet_modem_tx(modulation, sps=sps, amplitude=0.5, **(tx_kwargs or {}))
        chan = channels.channel_model(noise_voltage=_noise_voltage(esn0_db, 0.5, sps),
                                      frequency_offset=freq, epsilon=epsilon, taps=[1.0],
                                      noise_seed=seed, block_tags=False)
        self.tb.msg_connect(src, "out", tx, "in")
        self.tb.connect(tx, chan)
        sinks, receivers = [], []   # Python hier blocks must outlive the run
        for kw in rx_kwargs:
            rx = semcom.packet_modem_rx(modulation, sps=sps, **kw)
            receivers.append(rx)
            dbg = blocks.message_debug()
            self.tb.connect(chan, rx)
            self.tb.msg_connect(rx, "out", dbg, "store")
            sinks.append(dbg)
        self.tb.start()
        for i, data in enumerate(payloads):
            src.send(_pdu(data, (metas or [None] * len(payloads))[i]))
        if quiet:   # not all will arrive: wait until the receivers are idle, counting the
            # samples they take in as activity (a receiver starved of CPU on a loaded
            # machine is still working through its bursts)
            _wait_quiet(lambda: ([d.num_messages() for d in sinks]
                                 + [rx.sync.nitems_read(0) for rx in receivers]),
                        quiet, timeout)
        else:
            _wait(lambda: all(d.num_messages() >= len(payloads) for d in sinks), timeout)
            time.sleep(0.2)
        self.tb.stop()
        self.tb.wait()
        return [_received(d) for d in sinks]

    def test_001_awgn_10db_freq_timing_offset(self):
        """The required demonstration: Es/N0 10 dB, frequency offset 0.002 cycles/sample,
        timing offset (resampling) 1.0001; 30 packets of 300-1000 random bytes must all
        arrive byte-exact, in order, with crc_ok True."""
        rng = np.random.default_rng(2024)
        payloads = [rng.integers(0, 256, int(rng.integers(300, 1001)), dtype=np.uint8)
                    for _ in range(30)]
        # metadata from upstream blocks (even a 'packet_len') must not disturb the TX
        metas = [{"packet_len": len(p), "image_id": i} for i, p in enumerate(payloads)]
        t0 = time.time()
        (got,) = self._loopback(payloads, 10.0, freq=0.002, epsilon=1.0001, metas=metas)
        elapsed = time.time() - t0
        exact = sum(1 for (_, d), p in zip(got, payloads) if np.array_equal(d, p))
        snrs = [m["snr_db"] for m, _ in got]
        freqs = [m["freq_offset"] for m, _ in got]
        print(f"\nAWGN 10 dB, f=0.002, eps=1.0001: sent {len(payloads)}, received "
              f"{len(got)}, byte-exact {exact}, {elapsed:.1f} s; snr_db median "
              f"{np.median(snrs) if snrs else float('nan'):.2f}, freq_offset median "
              f"{np.median(freqs) if freqs else float('nan'):.5f}")
        self.assertEqual(len(got), len(payloads))
        for (meta, data), sent in zip(got, payloads):
            self.assertTrue(meta["crc_ok"])
            self.assertEqual(meta["payload_len"], len(sent))
            self.assertTrue(np.array_equal(data, sent))
            for key in ("snr_db", "freq_offset", "seq"):
                self.assertIn(key, meta)
        self.assertEqual([m["seq"] for m, _ in got], list(range(len(payloads))))
        self.assertAlmostEqual(float(np.median(snrs)), 10.0, delta=1.5)
        self.assertAlmostEqual(float(np.median(freqs)), 0.002, delta=0.0007)

    def test_002_bpsk_sps4(self):
        """BPSK at 4 samples/symbol through the same channel; lengths 1..1500 bytes."""
        rng = np.random.default_rng(7)
        sizes = [1, 1500, 17, 902, 113, 1200, 450, 64]
        payloads = [rng.integers(0, 256, n, dtype=np.uint8) for n in sizes]
        (got,) = self._loopback(payloads, 10.0, freq=0.002, epsilon=1.0001,
                                modulation="bpsk", sps=4, quiet=3.0)
        sent = {p.tobytes() for p in payloads}
        exact = [d for m, d in got if m["crc_ok"] and d.tobytes() in sent]
        print(f"\nBPSK sps=4: sent {len(payloads)}, byte-exact {len(exact)}")
        # the first burst too: nothing has to pull in
        self.assertEqual(len(exact), len(payloads))
        self.assertEqual(len(exact), len(got))

    def test_003_noise_and_garbage_give_nothing(self):
        """Noise alone, then random pulse-shaped QPSK without any sync word: no PDU, no
        crash, and the flowgraph runs to its end."""
        n = 300000
        rng = np.random.default_rng(3)
        syms = (rng.integers(0, 2, n // 2) * 2 - 1 + 1j * (rng.integers(0, 2, n // 2) * 2 - 1))
        up = np.zeros(n, dtype=complex)
        up[::2] = syms * 0.5 / np.sqrt(2)
        garbage = np.convolve(up, firdes.root_raised_cosine(2.0, 2, 1.0, 0.35, 25))[:n]
        noise = analog.fastnoise_source_c(analog.GR_GAUSSIAN, 0.2, 5, 8192)
        head = blocks.head(gr.sizeof_gr_complex, n)
        garb = blocks.vector_source_c(garbage.astype(np.complex64).tolist())
        cat = blocks.stream_mux(gr.sizeof_gr_complex, [n, n])
        rx = semcom.packet_modem_rx("qpsk", drop_bad_crc=False)
        dbg = blocks.message_debug()
        self.tb.connect(noise, head, (cat, 0))
        self.tb.connect(garb, (cat, 1))
        self.tb.connect(cat, blocks.head(gr.sizeof_gr_complex, 2 * n), rx)
        self.tb.msg_connect(rx, "out", dbg, "store")
        self.tb.run()
        self.assertEqual(dbg.num_messages(), 0)
        self.assertEqual(rx.stats["headers"], 0)

    def test_004_low_snr_flags_bad_crc(self):
        """At Es/N0 1 dB (QPSK) some packets fail: with drop_bad_crc=False they come out flagged
        crc_ok False (payload_len and length still consistent); the default receiver on
        the same signal emits only good, byte-exact packets."""
        rng = np.random.default_rng(4)
        payloads = [rng.integers(0, 256, 400, dtype=np.uint8) for _ in range(16)]
        keep, drop = self._loopback(payloads, 1.0, freq=0.002, epsilon=1.0001, timeout=30,
                                    rx_kwargs=[{"drop_bad_crc": False}, {}], seed=11,
                                    quiet=3.0)
        bad = [m for m, _ in keep if not m["crc_ok"]]
        print(f"\nEs/N0 1 dB: sent {len(payloads)}, drop_bad_crc=False emitted {len(keep)} "
              f"({len(bad)} crc_ok False), drop_bad_crc=True emitted {len(drop)}")
        self.assertGreaterEqual(len(bad), 1)
        sent = {p.tobytes() for p in payloads}
        for meta, data in keep:
            self.assertIsInstance(meta["crc_ok"], bool)
            self.assertEqual(meta["payload_len"], len(data))
            if meta["crc_ok"]:
                self.assertIn(data.tobytes(), sent)
        for meta, data in drop:
            self.assertTrue(meta["crc_ok"])
            self.assertIn(data.tobytes(), sent)

    def test_005_bad_tx_input_is_dropped(self):
        """Garbage messages into the TX are dropped; valid PDUs around them still arrive."""
        good = [np.arange(100, dtype=np.uint8), np.arange(200, dtype=np.uint8)[::-1]]
        src = _pdu_source()
        tx = semcom.packet_modem_tx("qpsk", mtu=1000)
        rx = semcom.packet_modem_rx("qpsk", mtu=1000)
        dbg = blocks.message_debug()
        self.tb.msg_connect(src, "out", tx, "in")
        self.tb.connect(tx, rx)
        self.tb.msg_connect(rx, "out", dbg, "store")
        self.tb.start()
        src.send(_pdu(good[0]))
        for junk in (pmt.intern("junk"), pmt.PMT_NIL, _pdu([]),
                     pmt.cons(pmt.make_dict(), pmt.init_f32vector(3, [1, 2, 3])),
                     _pdu(np.zeros(1001, dtype=np.uint8)), pmt.cons(pmt.PMT_T, pmt.PMT_F)):
            src.send(junk)
        src.send(_pdu(good[1]))
        _wait(lambda: dbg.num_messages() >= 2, 10)
        time.sleep(0.3)
        self.tb.stop()
        self.tb.wait()
        got = _received(dbg)
        self.assertEqual(len(got), 2)
        for (meta, data), sent in zip(got, good):
            self.assertTrue(np.array_equal(data, sent))
        self.assertEqual(tx.packets, 2)

    def test_006_truncated_burst(self):
        """A burst cut off in its payload, then noise, then a whole burst: only the whole
        one comes out. (The receiver takes the cut burst's payload length from its header,
        so the next burst must start after that many symbols.)"""
        src = _pdu_source()
        tx = semcom.packet_modem_tx("qpsk")
        snk = blocks.vector_sink_c()
        self.tb.msg_connect(src, "out", tx, "in")
        self.tb.connect(tx, snk)
        self.tb.start()
        first, second = np.arange(600, dtype=np.uint8), np.arange(300, dtype=np.uint8)
        src.send(_pdu(first))
        src.send(_pdu(second))
        total = tx.burst_samples(600) + tx.burst_samples(300)
        _wait(lambda: len(snk.data()) >= total, 10)
        self.tb.stop()
        self.tb.wait()
        x = np.asarray(snk.data())
        n1 = tx.burst_samples(600)
        cut = np.concatenate([x[:n1 // 2], np.zeros(n1, dtype=complex), x[n1:total]])
        tb = gr.top_block()
        vs = blocks.vector_source_c(cut.astype(np.complex64).tolist())
        chan = channels.channel_model(noise_voltage=_noise_voltage(12.0), noise_seed=2)
        rx = semcom.packet_modem_rx("qpsk")
        dbg = blocks.message_debug()
        tb.connect(vs, chan, rx)
        tb.msg_connect(rx, "out", dbg, "store")
        tb.start()
        _wait(lambda: dbg.num_messages() >= 1, 10)
        time.sleep(0.5)
        tb.stop()
        tb.wait()
        got = _received(dbg)
        self.assertEqual(len(got), 1)
        self.assertTrue(np.array_equal(got[0][1], second))

    def test_007_implementation_loss(self):
        """The implementation loss at one operating point, with a safe margin. BPSK, 64-byte
        payloads, carrier offset 0.01 cycles/sample (the end of the specified range) and a
        100 ppm sample-clock offset, at Es/N0 -1.35 dB: 1.0 dB above the symbol-level
        link's 1 % FER point (-2.35 dB, core.fastlink, 1000 packets; symbol_link agrees).
        A loss within 1 dB means FER <= 1 % here; the test fails only above 3 %
        (P(>= 7 failures of 200 | FER 1 %) = 0.5 %, and the measured FER there is lower:
        docs/link.md)."""
        rng = np.random.default_rng(77)
        payloads = [rng.integers(0, 256, 64, dtype=np.uint8) for _ in range(200)]
        (got,) = self._loopback(payloads, -1.35, freq=0.01, epsilon=1.0001, modulation="bpsk",
                                timeout=120, seed=21, quiet=4.0)
        sent = {p.tobytes() for p in payloads}
        exact = sum(1 for m, d in got if m["crc_ok"] and d.tobytes() in sent)
        print(f"\nBPSK 64 B at Es/N0 -1.35 dB, f 0.01, 100 ppm: {exact}/{len(payloads)}")
        self.assertGreaterEqual(exact, len(payloads) - 6)

    def test_008_equalizer_fixed_multipath(self):
        """A fixed multipath channel (paths at 0, 1.0, 2.5 and 4.0 samples, magnitudes 1,
        0.5, 0.3, 0.15 normalised, fixed phases) at Es/N0 14 dB: with the equaliser trained
        on the preamble ('auto' decides to use it) every packet arrives; without it
        ('off') most are lost."""
        n = np.arange(12)
        taps = np.zeros(12, dtype=complex)
        for delay, mag, phase in ((0.0, 1.0, 0.0), (1.0, 0.5, 2.1), (2.5, 0.3, -1.3),
                                  (4.0, 0.15, 0.7)):
            taps += mag * np.exp(1j * phase) * np.sinc(n - delay) * np.hamming(12)
        taps /= np.sqrt(np.sum(np.abs(taps) ** 2))
        rng = np.random.default_rng(8)
        payloads = [rng.integers(0, 256, size, dtype=np.uint8) for size in (1000, 64) * 6]
        src = _pdu_source()
        tx = semcom.packet_modem_tx("qpsk", amplitude=0.5)
        chan = channels.channel_model(noise_voltage=_noise_voltage(14.0), frequency_offset=0.003,
                                      epsilon=1.00005, taps=list(taps), noise_seed=4,
                                      block_tags=False)
        rx_eq = semcom.packet_modem_rx("qpsk")
        rx_off = semcom.packet_modem_rx("qpsk", equalizer="off")
        dbg_eq, dbg_off = blocks.message_debug(), blocks.message_debug()
        self.tb.msg_connect(src, "out", tx, "in")
        self.tb.connect(tx, chan, rx_eq)
        self.tb.connect(chan, rx_off)
        self.tb.msg_connect(rx_eq, "out", dbg_eq, "store")
        self.tb.msg_connect(rx_off, "out", dbg_off, "store")
        self.tb.start()
        for data in payloads:
            src.send(_pdu(data))
        _wait_quiet(lambda: (dbg_eq.num_messages(), dbg_off.num_messages()), 4.0, 90)
        self.tb.stop()
        self.tb.wait()
        sent = {p.tobytes() for p in payloads}
        eq = [m for m, d in _received(dbg_eq) if d.tobytes() in sent]
        off = [m for m, d in _received(dbg_off) if d.tobytes() in sent]
        print(f"\nmultipath, Es/N0 14 dB: equaliser {len(eq)}/{len(payloads)}, "
              f"without {len(off)}/{len(payloads)}")
        self.assertEqual(len(eq), len(payloads))
        self.assertTrue(all(m["equalized"] for m in eq))
        self.assertLessEqual(len(off), len(payloads) // 2)

    def test_009_first_burst_after_silence(self):
        """Bursts that each follow a long stretch of noise alone (0.2 s at 1 Msps), at a
        level a thousand times below the loopback's and Es/N0 3 dB (QPSK, 1 dB above the
        symbol-level link's 1 % point), with a carrier offset of -0.008 cycles/sample:
        each is received (nothing in the receiver adapts to the noise in between)."""
        src = _pdu_source()
        tx = semcom.packet_modem_tx("qpsk", amplitude=0.5)
        snk = blocks.vector_sink_c()
        self.tb.msg_connect(src, "out", tx, "in")
        self.tb.connect(tx, snk)
        self.tb.start()
        rng = np.random.default_rng(9)
        payloads = [rng.integers(0, 256, 64, dtype=np.uint8) for _ in range(6)]
        for data in payloads:
            src.send(_pdu(data))
        total = 6 * tx.burst_samples(64)
        _wait(lambda: len(snk.data()) >= total, 10)
        self.tb.stop()
        self.tb.wait()
        bursts = np.asarray(snk.data())[:total].reshape(6, -1)
        silence = 200000
        x = np.concatenate([np.concatenate([np.zeros(silence, complex), b]) for b in bursts])
        x = 1e-3 * x * np.exp(-2j * np.pi * 0.008 * np.arange(len(x)))
        sigma = 1e-3 * _noise_voltage(3.0)
        x = x + sigma * np.sqrt(0.5) * (rng.standard_normal(len(x))
                                        + 1j * rng.standard_normal(len(x)))
        tb = gr.top_block()
        vs = blocks.vector_source_c(x.astype(np.complex64).tolist())
        rx = semcom.packet_modem_rx("qpsk")
        dbg = blocks.message_debug()
        tb.connect(vs, rx)
        tb.msg_connect(rx, "out", dbg, "store")
        tb.start()
        _wait(lambda: dbg.num_messages() >= len(payloads), 60)
        time.sleep(0.3)
        tb.stop()
        tb.wait()
        got = [d.tobytes() for _, d in _received(dbg)]
        print(f"\nafter silence: {len(got)}/{len(payloads)}")
        self.assertEqual(got, [p.tobytes() for p in payloads])

    def test_010_every_burst_reaches_the_stream_before_the_run_ends(self):
        """150 bursts (2.6 Msamples, more than the stream buffers hold) posted at once, then
        ``done``, while the stream's consumer takes nothing yet (a receiver slower than the
        transmitter): the stream carries every burst before it ends. (pdu_to_tagged_stream
        alone ends at the ``done`` and drops the PDUs still queued at its input.)"""
        tb = gr.top_block()
        src = _pdu_source()
        tx = semcom.packet_modem_tx("qpsk", sps=2, amplitude=0.5)
        valve = _valve()
        counter = blocks.head(gr.sizeof_gr_complex, 1 << 40)
        tb.msg_connect(src, "out", tx, "in")
        tb.connect(tx, valve, counter, blocks.null_sink(gr.sizeof_gr_complex))
        rng = np.random.default_rng(7)
        payloads = [rng.integers(0, 256, 1000, dtype=np.uint8) for _ in range(150)]
        expected = sum(tx.burst_samples(len(p)) for p in payloads)
        tb.start()
        for data in payloads:
            src.send(_pdu(data))
        src.end()
        # every burst made (the done has reached the end of the message chain), none taken
        self.assertTrue(_wait(lambda: tx._symbols * tx.sps == expected, 60))
        time.sleep(0.5)
        valve.opened.set()
        done = threading.Event()
        threading.Thread(target=lambda: (tb.wait(), done.set()), daemon=True).start()
        finished = done.wait(60)
        if not finished:
            tb.stop()
            tb.wait()
        self.assertTrue(finished, "the flowgraph did not end within 60 s")
        self.assertEqual(counter.nitems_written(0), expected)

    def _uep_payloads(self, count, size, seed):
        """``count`` model segments and ``count`` code packets (type byte 1 / 2),
        interleaved."""
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(count):
            for kind in (1, 2):     # core.packet.MODEL_SEGMENT, core.packet.CODE
                p = rng.integers(0, 256, size, dtype=np.uint8)
                p[0] = kind
                out.append(p)
        return out

    def test_011_code_per_packet_kind(self):
        """UEP: model segments on the rate-1/4 code, code packets on the default one,
        through TX -> channel -> RX: every packet arrives, decoded with the code its
        header names; a receiver without the map (one
        code) takes none of the segments' bursts for its own code."""
        uep = {"packet_codes": "model_segment=n0500_r025"}
        payloads = self._uep_payloads(4, 150, 21)
        got, plain = self._loopback(payloads, 8.0, freq=0.001, epsilon=1.00005,
                                    tx_kwargs=uep, rx_kwargs=[uep, {}],
                                    quiet=2.0, timeout=30)
        sent = {p.tobytes(): p for p in payloads}
        self.assertEqual(sorted(d.tobytes() for _, d in got), sorted(sent))
        for meta, data in got:
            self.assertTrue(meta["crc_ok"])
            self.assertEqual(meta["ldpc_code"],
                             "n0500_r025" if data[0] == 1 else "n1800_r05")
        self.assertEqual(sorted(m["seq"] for m, _ in got), list(range(len(payloads))))
        # the one-code receiver reads the code bits as counter bits: bursts of the default
        # code (index 0) decode, the segments' (other length) fail their CRC-32
        self.assertEqual(sorted(d.tobytes() for _, d in plain),
                         sorted(p.tobytes() for p in payloads if p[0] == 2))

    def test_012_header_code_is_the_code_used(self):
        """At BPSK Es/N0 -3 dB the default code loses most 72-byte packets (frame error rate
        0.80 on the symbol-level link, docs/link.md) and n0500_r025 none (0 in 2 000): with
        model segments on n0500_r025, the segments arrive and most code packets do not.
        (At -3.5 dB the burst's acquisition itself starts to lose short bursts.)"""
        uep = {"packet_codes": "model_segment=n0500_r025"}
        payloads = self._uep_payloads(16, 72, 22)
        got, = self._loopback(payloads, -3.0, modulation="bpsk", tx_kwargs=uep,
                              rx_kwargs=[uep], quiet=3.0, timeout=60, seed=5)
        kinds = [int(d[0]) for _, d in got]
        print(f"\nBPSK -3 dB, 16 + 16 packets: {kinds.count(1)} segments "
              f"(n0500_r025), {kinds.count(2)} code packets (n1800_r05) arrived")
        self.assertGreaterEqual(kinds.count(1), 14)
        self.assertLessEqual(kinds.count(2), 9)       # expected about 3
        sent = {p.tobytes() for p in payloads}
        for meta, data in got:
            self.assertIn(data.tobytes(), sent)
            self.assertEqual(meta["ldpc_code"], "n0500_r025" if data[0] == 1 else "n1800_r05")

    def test_013_packet_codes_checked(self):
        with self.assertRaisesRegex(ValueError, "packet kind"):
            semcom.packet_modem_tx(packet_codes="segment=n0500_r025")
        with self.assertRaisesRegex(ValueError, "LDPC code"):
            semcom.packet_modem_rx(packet_codes="model_segment=n9")
        tx = semcom.packet_modem_tx(packet_codes="model_segment=n0500_r025")
        self.assertEqual(tx.codes, ["n1800_r05", "n0500_r025"])
        self.assertGreater(tx.burst_samples_of(bytes([1]) + bytes(71)),
                           tx.burst_samples_of(bytes([2]) + bytes(71)))


    def test_014_every_code(self):
        """Every code of the registry through TX -> channel -> RX at QPSK Es/N0 8 dB,
        comfortably above every code's waterfall: three packets of
        one, two and several codewords arrive byte-exact on the fast and the stock decoder.
        The codes of row weight 5 (n1100_r04, n0700_r04, n0500_r04) once lost every packet
        to a sign error in the fast decoder's check rule."""
        rng = np.random.default_rng(14)
        for code in registry.keys(registry.LDPC_CODES):
            with self.subTest(code=code):
                self.tb = gr.top_block()
                payloads = [rng.integers(0, 256, size, dtype=np.uint8) for size in (20, 100, 300)]
                t0 = time.time()
                got = self._loopback(payloads, 8.0, freq=0.001, epsilon=1.00005, seed=3,
                                     tx_kwargs={"code": code},
                                     rx_kwargs=[{"code": code}, {"code": code, "decoder": "stock"}])
                print(f"\n{code}: {[len(g) for g in got]} of {len(payloads)} packets "
                      f"(fast, stock decoder), {time.time() - t0:.1f} s")
                for rx in got:
                    self.assertEqual([d.tobytes() for _, d in rx], [p.tobytes() for p in payloads])
                    for meta, _ in rx:
                        self.assertTrue(meta["crc_ok"])
                        self.assertEqual(meta["ldpc_code"], code)

if __name__ == "__main__":
    gr_unittest.run(qa_packet_modem)

