#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for channel_model: noise level from Es/N0, fading, and the runtime setters."""

import time

import numpy as np
import pmt
from gnuradio import analog, blocks, gr, gr_unittest

from gnuradio.semcom import channel_model
from gnuradio.semcom.phy.channel import FADING_TAG, noise_voltage


def _run(samples, ch, tags=()):
    """Push a finite vector through the channel; return the output and its tags."""
    tb = gr.top_block()
    src = blocks.vector_source_c(list(samples), False, 1, list(tags))
    snk = blocks.vector_sink_c()
    tb.connect(src, ch, snk)
    tb.run()
    return np.asarray(snk.data()), snk.tags()


class qa_channel_model(gr_unittest.TestCase):
    def test_noise_voltage_formula(self):
        self.assertAlmostEqual(noise_voltage(10.0), np.sqrt(0.1))
        self.assertAlmostEqual(noise_voltage(10.0, signal_power=2.0, sps=4), np.sqrt(0.8))
        self.assertAlmostEqual(noise_voltage(-3.0, 0.25, 2), np.sqrt(0.5 / 10 ** -0.3))

    def test_awgn_noise_power_matches_es_n0(self):
        """Zero input: the output is the noise; its variance must be P sps / (Es/N0)."""
        n = 200000
        for snr_db, power, sps in ((10.0, 2.0, 4.0), (0.0, 1.0, 1.0)):
            ch = channel_model("awgn", snr_db, power, sps, seed=3)
            y, _ = _run(np.zeros(n, dtype=np.complex64), ch)
            want = power * sps / 10 ** (snr_db / 10)
            self.assertGreater(len(y), n - 64)
            self.assertAlmostEqual(np.var(y) / want, 1.0, delta=0.03)
            self.assertAlmostEqual(np.var(y.real) / np.var(y.imag), 1.0, delta=0.05)

    def test_measured_snr_of_a_qpsk_signal(self):
        rng = np.random.default_rng(1)
        sym = ((2 * rng.integers(0, 2, 100000) - 1) + 1j * (2 * rng.integers(0, 2, 100000) - 1))
        sym = (sym / np.sqrt(2)).astype(np.complex64)
        ch = channel_model("awgn", 6.0, 1.0, 1.0, seed=4)
        y, _ = _run(sym, ch)
        # the stock block's resampler delays by a few samples: align by correlation
        d = int(np.argmax([abs(np.vdot(sym[k:k + 1000], y[:1000])) for k in range(8)]))
        x = sym[d:d + len(y)]
        y = y[:len(x)]
        snr = 10 * np.log10(np.mean(abs(x) ** 2) / np.mean(abs(y - x) ** 2))
        self.assertAlmostEqual(snr, 6.0, delta=0.1)

    def test_rayleigh_block_fading(self):
        """Gain constant over each block of 500 samples, redrawn between blocks, tagged."""
        n, blk = 5000, 500
        ch = channel_model("rayleigh", 200.0, fading_block=blk, seed=7)
        y, tags = _run(np.ones(n, dtype=np.complex64), ch)
        ftags = sorted((t.offset, pmt.to_complex(t.value)) for t in tags
                       if pmt.symbol_to_string(t.key) == FADING_TAG)
        self.assertGreaterEqual(len(ftags), n // blk - 1)
        offsets = [o for o, _ in ftags]
        self.assertTrue(all(b - a == blk for a, b in zip(offsets, offsets[1:])), offsets)
        gains = np.array([g for _, g in ftags])
        for off, g in ftags[:-1]:     # mid-block sample == that block's gain
            self.assertAlmostEqual(abs(y[off + blk // 2] - g), 0.0, delta=1e-4)
        self.assertGreater(np.std(np.abs(gains)), 0.1)   # they really change

    def test_rayleigh_gain_redrawn_at_packet_tags(self):
        n = 3000
        starts = [0, 700, 1000, 2400]
        tags = [gr.tag_utils.python_to_tag((s, pmt.intern("packet_len"), pmt.from_long(1),
                                            pmt.intern("src"))) for s in starts]
        ch = channel_model("rayleigh", 200.0, fading_tag="packet_len", seed=8)
        y, out_tags = _run(np.ones(n, dtype=np.complex64), ch, tags)
        ftags = sorted(t.offset for t in out_tags if pmt.symbol_to_string(t.key) == FADING_TAG)
        self.assertEqual(ftags, starts)
        g = [y[s + 50] for s in starts]
        self.assertGreater(min(abs(a - b) for a, b in zip(g, g[1:])), 1e-3)

    def test_multipath_taps(self):
        x = np.zeros(200, dtype=np.complex64)
        x[100] = 1
        ch = channel_model("multipath", 200.0, taps=[0.8, 0.5j, -0.3], seed=1)
        y, _ = _run(x, ch)
        k = int(np.argmax(abs(y)))
        np.testing.assert_allclose(y[k:k + 3], [0.8, 0.5j, -0.3], atol=1e-3)

    def test_setters_take_effect_at_runtime(self):
        tb = gr.top_block()
        src = analog.sig_source_c(1.0, analog.GR_CONST_WAVE, 0, 1.0, 0)
        thr = blocks.throttle(gr.sizeof_gr_complex, 400000)
        ch = channel_model("awgn", 20.0, seed=2)
        snk = blocks.vector_sink_c()
        tb.connect(src, thr, ch, snk)
        tb.start()
        marks = []

        def mark(setter=None):
            if setter:
                setter()
            time.sleep(0.25)
            marks.append(len(snk.data()))

        try:
            mark()                                          # 20 dB
            mark(lambda: ch.set_snr_db(0.0))                # 0 dB
            mark(lambda: (ch.set_snr_db(200.0), ch.set_freq_offset(0.01)))
            mark(lambda: (ch.set_freq_offset(0.0), ch.set_channel("multipath"),
                          ch.set_taps([0.5])))
            mark(lambda: (ch.set_channel("rayleigh"), ch.set_fading(1000)))
        finally:
            tb.stop()
            tb.wait()
        y = np.asarray(snk.data())
        seg = [y[a + (b - a) // 2:b] for a, b in zip([0] + marks[:-1], marks)]
        self.assertTrue(all(len(s) > 2000 for s in seg), marks)
        self.assertAlmostEqual(np.var(seg[0]) / 0.01, 1.0, delta=0.15)
        self.assertAlmostEqual(np.var(seg[1]) / 1.0, 1.0, delta=0.15)
        f = np.angle(np.mean(seg[2][1:] * np.conj(seg[2][:-1]))) / (2 * np.pi)
        self.assertAlmostEqual(f, 0.01, delta=1e-4)
        self.assertAlmostEqual(np.mean(abs(seg[3])), 0.5, delta=1e-3)
        mags = np.abs(seg[4][::1000])
        self.assertGreater(np.std(mags), 0.05)              # fading now
        self.assertEqual(ch.channel_kind(), "rayleigh")

    def test_timing_offset_setter_reaches_the_stock_block(self):
        """epsilon = 1.25: the stock resampler gives 1/1.25 output samples per input."""
        ch = channel_model("awgn", 200.0, timing_offset=1.0, seed=1)
        ch.set_timing_offset(1.25)
        self.assertAlmostEqual(ch.timing_offset(), 1.25)
        y, _ = _run(np.ones(8000, dtype=np.complex64), ch)
        self.assertAlmostEqual(len(y) / 8000, 1 / 1.25, delta=0.01)


if __name__ == "__main__":
    gr_unittest.run(qa_channel_model)
