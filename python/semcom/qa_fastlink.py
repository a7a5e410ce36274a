#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for the batched link engine (core.fastlink) against GNU Radio's own blocks.

* codewords bit-identical to ``fec.ldpc_encoder_make`` for every alist file GNU Radio ships;
* CRC bytes identical to ``digital.crc32_async_bb``;
* symbols identical to ``digital.constellation_encoder_bc`` with symbol_link's constellations
  (and the QPSK bit packing of ``repack_bits_bb``);
* on the same LLR frames, the fast decoder, the stock decoder and pyldpc (a third,
  independent sum-product decoder) have frame error rates within each other's 95 % intervals;
* the same small grid of packets through ``app.link.run_packets`` (the GNU Radio symbol
  link) and ``fastlink.transmit``: frame error rates within each other's 95 % intervals.
"""

import math
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import blocks, digital, fec, gr, gr_unittest

from gnuradio.semcom.core import fastlink as fl
from gnuradio.semcom.core import registry
from gnuradio.semcom.core import softvalues as sv
from gnuradio.semcom.phy import fec as semfec
from gnuradio.semcom.app.link import run_packets
from gnuradio.semcom.phy.waveform import constellation


def _run_msgs(block, msgs, timeout=60.0, window=32):
    """Post PDUs into a stock message block (``window`` in flight), return the outputs."""
    tb = gr.top_block()
    dbg = blocks.message_debug()
    tb.msg_connect((block, "out"), (dbg, "store"))
    tb.start()
    try:
        deadline = time.time() + timeout
        sent = 0
        while dbg.num_messages() < len(msgs) and time.time() < deadline:
            while sent < len(msgs) and sent - dbg.num_messages() < window:
                block.to_basic_block()._post(pmt.intern("in"), msgs[sent])
                sent += 1
            time.sleep(0.002)
    finally:
        tb.stop()
        tb.wait()
    return [dbg.get_message(i) for i in range(dbg.num_messages())]


def _wilson(errors: int, trials: int, z: float = 1.96) -> tuple:
    """95 % Wilson score interval of a proportion."""
    p = errors / trials
    den = 1 + z * z / trials
    mid = (p + z * z / (2 * trials)) / den
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / den
    return mid - half, mid + half


def _stock_decode(code_key, llr):
    """Information bits of the stock decoder (fec.async_decoder) for LLR frames (B, n)."""
    k, n = semfec.code_dims(code_key)
    flen = semfec.async_decoder_frame_len(code_key, 1)
    pad = np.zeros((llr.shape[0], flen - n), np.float32)
    frames = np.concatenate([llr.astype(np.float32), pad], axis=1)
    dec = fec.async_decoder(semfec.make_ldpc_decoder(code_key, 50), False, False, 1 << 14)
    out = _run_msgs(dec, [pmt.cons(pmt.make_dict(), pmt.init_f32vector(flen, f)) for f in frames],
                    timeout=300.0)
    return np.array([pmt.u8vector_elements(pmt.cdr(m)) for m in out], dtype=np.uint8)


def _pyldpc_decode(code, llr, max_iter=50):
    """Information bits of pyldpc's log-domain sum-product decoder for LLR frames (B, n).

    pyldpc 0.7.9's ``decode()`` fails on codes with unequal column weights (it tests
    ``np.unique(...) * np.unique(...) == 1`` on arrays) and stops only when *all* frames of
    a batch are codewords, so its iteration kernel is driven here one frame at a time, with
    the loop of ``decode()``: up to ``max_iter`` iterations, stop on a zero syndrome.
    pyldpc's LLRs are positive for bit 0, hence ``Lc = -L``.
    """
    from pyldpc import utils as pyldpc_utils
    from pyldpc.decoder import _logbp_numba

    h = code.h.astype(np.int64)
    bits_hist, bits_values, nodes_hist, nodes_values = pyldpc_utils._bitsandnodes(h)
    out = np.empty((llr.shape[0], code.n), dtype=np.uint8)
    for f, frame in enumerate(llr):
        lc = -frame.astype(np.float64)[:, None]
        lq = np.zeros((code.m, code.n, 1))
        lr = np.zeros((code.m, code.n, 1))
        for it in range(max_iter):
            lq, lr, post = _logbp_numba(bits_hist, bits_values, nodes_hist, nodes_values, lc,
                                        lq, lr, it)
            x = (post[:, 0] <= 0).astype(np.uint8)
            if not code.syndrome(x).any():
                break
        out[f] = x
    return code.systematic_bits(out)


class qa_fastlink(gr_unittest.TestCase):
    def test_codewords_bit_identical_to_the_stock_encoder(self):
        """Every alist file that ships with GNU Radio, the shipped codes among them."""
        files = sorted(Path(semfec.ALIST_DIR).glob("*.alist"))
        shipped = {registry.ldpc_code(c).file for c in semfec.CODES}
        self.assertTrue(shipped <= {f.name for f in files})
        rng = np.random.default_rng(1)
        for path in files:
            code = fl.load_code(path)
            enc = fec.ldpc_encoder_make(str(path))
            self.assertEqual((code.k, code.n), (enc.get_input_size(), enc.get_output_size()),
                             path.name)
            info = rng.integers(0, 2, (6, code.k), dtype=np.uint8)
            aenc = fec.async_encoder(enc, False, True, True, 1 << 14)
            out = _run_msgs(aenc, [pmt.cons(pmt.make_dict(), pmt.init_u8vector(code.k, r))
                                   for r in info])
            stock = np.array([pmt.u8vector_elements(pmt.cdr(m)) for m in out], dtype=np.uint8)
            np.testing.assert_array_equal(code.encode(info), stock, err_msg=path.name)

    def test_crc_bytes_identical_to_crc32_async_bb(self):
        rng = np.random.default_rng(2)
        payloads = [rng.integers(0, 256, n, dtype=np.uint8) for n in (1, 2, 7, 108, 1500)]
        out = _run_msgs(digital.crc32_async_bb(False),
                        [pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(p), p)) for p in payloads])
        for p, m in zip(payloads, out):
            stock = bytes(pmt.u8vector_elements(pmt.cdr(m)))
            self.assertEqual(fl.append_crc(p.tobytes()), stock)
            self.assertTrue(fl.check_crc(stock))

    def test_constellation_mapping_identical(self):
        bits = np.random.default_rng(3).integers(0, 2, 400, dtype=np.uint8)
        for mod in ("bpsk", "qpsk"):
            tb = gr.top_block()
            src = blocks.vector_source_b(bits.tolist())
            sink = blocks.vector_sink_c()
            chain = [src]
            if mod == "qpsk":
                chain.append(blocks.repack_bits_bb(1, 2, "", False, gr.GR_LSB_FIRST))
            chain += [digital.constellation_encoder_bc(constellation(mod)), sink]
            tb.connect(*chain)
            tb.run()
            np.testing.assert_allclose(fl.modulate(bits, mod), np.array(sink.data()), atol=1e-6,
                                       err_msg=mod)

    def _frames(self, code, ebn0_db, count, seed):
        rng = np.random.default_rng(seed)
        info = rng.integers(0, 2, (count, code.k), dtype=np.uint8)
        es = sv.esn0_from_ebn0(ebn0_db, "bpsk", code.rate)
        y = (2.0 * code.encode(info) - 1.0) + \
            math.sqrt(10 ** (-es / 10) / 2) * rng.standard_normal((count, code.n))
        return info, sv.llrs(y, sv.llr_scale(es, "bpsk"))

    def _assert_overlap(self, label, a, b, trials):
        lo_a, hi_a = _wilson(a, trials)
        lo_b, hi_b = _wilson(b, trials)
        self.assertTrue(lo_a <= hi_b and lo_b <= hi_a,
                        f"{label}: FER {a}/{trials} vs {b}/{trials}, 95 % intervals "
                        f"[{lo_a:.3f}, {hi_a:.3f}] and [{lo_b:.3f}, {hi_b:.3f}] do not overlap")

    def test_decoders_agree_on_the_same_frames(self):
        """Fast vs stock on the shipped code; fast vs stock vs pyldpc on a short one."""
        for key, ebn0, count, third in (("n1800_r05", 1.5, 200, False),
                                        ("n0300_r05", 2.5, 150, True)):
            code = fl.load_code(semfec.alist_path(key))
            info, llr = self._frames(code, ebn0, count, seed=4)
            fast = fl.decode(code, llr).info_bits(code)
            stock = _stock_decode(key, llr)
            e_fast = int((fast != info).any(1).sum())
            e_stock = int((stock != info).any(1).sum())
            self.assertGreater(e_stock, 0, f"{key} at {ebn0} dB: pick a waterfall point")
            self._assert_overlap(f"{key} fast vs stock", e_fast, e_stock, count)
            if third:
                e_py = int((_pyldpc_decode(code, llr) != info).any(1).sum())
                self._assert_overlap(f"{key} fast vs pyldpc", e_fast, e_py, count)
                self._assert_overlap(f"{key} stock vs pyldpc", e_stock, e_py, count)

    def test_engines_agree_on_a_small_grid(self):
        """run_packets (GNU Radio symbol link) vs fastlink.transmit, FER per point."""
        key = semfec.DEFAULT_CODE
        code = fl.load_code(semfec.alist_path(key))
        taps = [0.8554, 0.4528, 0.2516j]       # unit energy, ISI 3 dB below the direct path
        grid = [("bpsk", "awgn", sv.esn0_from_ebn0(1.5, "bpsk", code.rate), 108),
                ("qpsk", "awgn", sv.esn0_from_ebn0(1.75, "qpsk", code.rate), 300),
                ("qpsk", "rayleigh", 10.0, 108),
                ("bpsk", "multipath", 2.0, 108)]
        count = 150
        rng = np.random.default_rng(5)
        for mod, channel, snr, size in grid:
            label = f"{mod} {channel} Es/N0 {snr:.2f} dB, {size}-byte packets"
            packets = [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for _ in range(count)]
            ref = run_packets(packets, snr_db=snr, channel=channel, modulation=mod, code=key,
                              taps=taps, seed=11, timeout_s=600.0)
            fast = fl.transmit(packets, snr_db=snr, channel=channel, modulation=mod,
                               code_alist=semfec.alist_path(key), taps=taps, seed=11,
                               mtu=size)
            self.assertEqual(len(ref.received), count, label)
            self.assertEqual(len(fast.received), count, label)
            self.assertEqual(fast.symbols, ref.symbols, label)
            self.assertGreater(ref.crc_failures, 0, f"{label}: pick a waterfall point")
            self._assert_overlap(label, fast.crc_failures, ref.crc_failures, count)
            for (data, ok), sent in zip(fast.received, packets):
                if ok:
                    self.assertEqual(data, sent, label)


if __name__ == "__main__":
    gr_unittest.run(qa_fastlink)
