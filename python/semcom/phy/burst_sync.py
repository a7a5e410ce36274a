# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``burst_sync``: the GNU Radio shell of the data-aided burst receiver
(:mod:`gnuradio.semcom.core.burstsync`), used inside ``packet_modem_rx``.

Why a block of our own rather than stock loops (``fll_band_edge_cc`` ->
``symbol_sync_cc`` -> ``costas_loop_cc`` -> ``correlate_access_code_bb``): measured with
``benchmarks/waveform_fer.py`` (docs/link.md), the loop receiver lost most short packets
below Es/N0 8 dB — missed sync words while the loops pulled in after each gap, Costas
cycle slips — an implementation loss of 7 dB and more; ``corr_est_cc`` had false
detections inside payloads that reset the loops. A receiver that sees the whole burst
estimates everything from the known preamble and pilots at once, needs no pull-in and has
no cycle slips.
"""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from ..core.burstsync import BurstReceiver

__all__ = ["burst_sync"]

_OUT = pmt.intern("out")


class burst_sync(gr.sync_block):
    """Complex stream in, one PDU per received burst out.

    Input: complex baseband at the waveform's ``sps`` (any level: nothing depends on it).
    Output message port ``out``: PDU (metadata, f32vector of the payload's LLRs,
    positive meaning bit 1, in transmission order). Metadata: ``semcom_nbytes`` (payload +
    CRC bytes), ``semcom_seq`` and ``semcom_code`` (index of the payload's code) from the
    header, ``snr_db`` (Es/N0 estimate, dB), ``freq_offset`` (cycles/sample),
    ``clock_offset`` (fraction), ``equalized`` (bool).
    Optional port ``symbols``: the same bursts' payload symbols after synchronisation and
    equalisation (c32vector), for a constellation display.

    Args:
        fmt: :class:`gnuradio.semcom.core.burstsync.BurstFormat`.
        parse_header: 32 bits -> (nbytes, seq, code) | None.
        body_len: (nbytes, code) -> body symbols of the burst (ValueError: not receivable).
        threshold, max_freq, equalizer, eq_span: see :class:`BurstReceiver`.
    """

    def __init__(self, fmt, parse_header, body_len, header_bits=32, threshold=11.0,
                 max_freq=0.02, equalizer="auto", eq_span=3):
        gr.sync_block.__init__(self, name="semcom_burst_sync", in_sig=[np.complex64],
                               out_sig=None)
        self._body_len = body_len
        self._parse = parse_header
        self.rx = BurstReceiver(fmt, self._header, header_bits, threshold=threshold,
                                max_freq=max_freq, equalizer=equalizer, eq_span=eq_span)
        self.errors = 0
        self.message_port_register_out(_OUT)
        self.message_port_register_out(pmt.intern("symbols"))

    def _header(self, bits):
        parsed = self._parse(bits)
        if parsed is None:
            return None
        nbytes, _, code = parsed
        try:
            return parsed, self._body_len(nbytes, code)
        except ValueError:          # a length this receiver cannot take (mtu)
            return None

    def work(self, input_items, output_items):
        x = input_items[0]
        try:
            bursts = self.rx.feed(x)
        except Exception as exc:   # never stop the flowgraph on what came from the air
            self.errors += 1
            self.logger.warn(f"burst receiver: samples dropped: {exc!r}")
            self.rx.reset()
            return len(x)
        for b in bursts:
            (nbytes, seq, code) = b.header
            meta = pmt.make_dict()
            for key, value in (("semcom_nbytes", pmt.from_long(nbytes)),
                               ("semcom_seq", pmt.from_long(seq)),
                               ("semcom_code", pmt.from_long(code)),
                               ("snr_db", pmt.from_double(b.snr_db)),
                               ("freq_offset", pmt.from_double(b.freq_offset)),
                               ("clock_offset", pmt.from_double(b.clock_offset)),
                               ("equalized", pmt.from_bool(b.equalized))):
                meta = pmt.dict_add(meta, pmt.intern(key), value)
            self.message_port_pub(_OUT, pmt.cons(meta, pmt.init_f32vector(len(b.llrs), b.llrs)))
            self.message_port_pub(pmt.intern("symbols"), pmt.cons(
                meta, pmt.init_c32vector(len(b.symbols), b.symbols)))
        return len(x)
