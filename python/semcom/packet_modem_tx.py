# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Packet modem transmitter: PDUs in, pulse-shaped complex baseband bursts out.

The burst and its parameters are defined in :mod:`gnuradio.semcom.phy.waveform`, which
packet_modem_rx reads too.
"""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import blocks, digital, fec, filter, gr, pdu

from .phy import fec as semfec
from .phy.glue import msg_map
from .phy.waveform import (CRC_BYTES, HEADER_BITS, HEADER_LEN_KEY, HEADER_REPEAT,
                           HEADER_SEQ_KEY, HEADER_SYMBOLS, MAX_PAYLOAD, RRC_SPAN,
                           bits_per_symbol, check_modulation, check_params, header_points,
                           num_codewords, payload_points, preamble_bits, rrc_taps,
                           rx_latency_symbols)

__all__ = ["packet_modem_tx"]

_TX_LEN_KEY = "packet_len"


class packet_modem_tx(gr.hier_block2):
    """Packet modem transmitter (stock GNU Radio blocks + thin PDU glue).

    Input message port ``in``: PDUs (metadata dict, u8vector of 1..``mtu`` bytes). The
    metadata is not transmitted. PDUs that are not u8 vectors of a valid length are
    dropped with a warning.

    Output stream: complex baseband, ``sps`` samples per symbol, root-raised-cosine pulse
    shaped. Each PDU becomes one burst (zeros, training, sync word, header, LDPC-coded
    payload, zeros) whose first sample carries a ``packet_len`` tag with the burst length
    in samples (a UHD sink transmits it as one burst). Bursts follow each other with no
    gap other than their zero padding; the stream only advances when PDUs arrive, so a
    simulation needs no throttle.

    Parameters:
      modulation: payload modulation, ``'bpsk'`` or ``'qpsk'`` (Gray).
      code: LDPC code key of ``gnuradio.semcom.core.registry.LDPC_CODES`` (default ``'n1800_r05'``,
        n=1800, k=902) or the path of an alist file.
      sps: samples per symbol (integer, 2..16).
      rolloff: RRC excess bandwidth (0.05..1, default 0.35).
      amplitude: RMS amplitude of the modulated part of a burst (linear; the peaks are
        about twice as high with rolloff 0.35, so keep it <= 0.5 for a DAC's [-1, 1]).
      pre_pad: zero symbols before each burst (>= 6 keeps the RRC pulse's start in its
        own burst).
      post_pad: zero symbols after each burst; -1 (default): what packet_modem_rx needs to
        finish a burst without further input (``rx_latency_symbols()``, 128 symbols), so
        that the last packet of a simulation comes out. A receiver fed by a radio gets
        samples all the time and needs no padding (>= 12).
      mtu: largest PDU payload in bytes (<= 4091).
    """

    def __init__(self, modulation="qpsk", code=semfec.DEFAULT_CODE, sps=2, rolloff=0.35,
                 amplitude=0.5, pre_pad=16, post_pad=-1, mtu=1500):
        gr.hier_block2.__init__(self, "semcom_packet_modem_tx",
                                gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self._check_settings(modulation, code, sps, rolloff, amplitude, pre_pad, post_pad, mtu)
        self.packets = 0
        self.message_port_register_hier_in("in")
        self._pre_bits = preamble_bits()
        self._lead = np.full(self.pre_pad, 2, dtype=np.uint8)   # symbol 2 of hdr_map: 0
        self._build_framing()
        self._build_header_path()
        self._build_payload_path()
        self._build_burst()

    # ---- construction steps --------------------------------------------------------------
    def _check_settings(self, modulation, code, sps, rolloff, amplitude, pre_pad, post_pad, mtu):
        self.modulation = check_modulation(modulation)
        check_params(sps, rolloff, amplitude)
        self.sps = int(sps)
        self.rolloff = float(rolloff)
        self.amplitude = float(amplitude)
        self.code = code
        self.n, self.k = semfec.code_dims(code)
        self.mtu = int(mtu)
        if not 1 <= self.mtu <= MAX_PAYLOAD:
            raise ValueError(f"mtu must be in 1..{MAX_PAYLOAD}, not {mtu!r}")
        if int(pre_pad) < 0:
            raise ValueError("pre_pad must be >= 0")
        self.pre_pad = int(pre_pad)
        post_pad = rx_latency_symbols(self.sps) if int(post_pad) < 0 else int(post_pad)
        self.post_pad = max(post_pad, RRC_SPAN)                # room for the filter tail
        self.bps = bits_per_symbol(self.modulation)

    def _build_framing(self):
        """PDU -> CRC-32 -> header and payload PDUs (bits) -> LDPC encoder."""
        log = gr.logger("semcom_packet_modem_tx")
        self.validate = msg_map("semcom_tx_validate", self._validate, log)
        self.crc = digital.crc_append(32, 0x04C11DB7, 0xFFFFFFFF, 0xFFFFFFFF, True, True,
                                      False, 0)
        self.hdr_format = digital.header_format_crc(HEADER_LEN_KEY, HEADER_SEQ_KEY)
        self.formatter = digital.protocol_formatter_async(self.hdr_format)
        self.hdr_glue = msg_map("semcom_tx_header", self._header_bits, log)
        self.pld_glue = msg_map("semcom_tx_pad", self._payload_bits, log)
        self.encoder = fec.async_encoder(semfec.make_ldpc_encoder(self.code), False, False,
                                         False, (MAX_PAYLOAD + CRC_BYTES) * 8 * 4)

        self.msg_connect(self, "in", self.validate, "in")
        self.msg_connect(self.validate, "out", self.crc, "in")
        self.msg_connect(self.crc, "out", self.formatter, "in")
        self.msg_connect(self.formatter, "header", self.hdr_glue, "in")
        self.msg_connect(self.formatter, "payload", self.pld_glue, "in")
        self.msg_connect(self.pld_glue, "out", self.encoder, "in")

    def _build_header_path(self):
        """Header bits -> BPSK on the header axis."""
        self.hdr_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, _TX_LEN_KEY)
        self.hdr_map = digital.chunks_to_symbols_bc(header_points(self.modulation) + [0j], 1)
        self.msg_connect(self.hdr_glue, "out", self.hdr_stream, "pdus")

    def _build_payload_path(self):
        """Coded bits -> bps-bit symbols (first bit the MSB) -> points."""
        self.pld_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, _TX_LEN_KEY)
        self.pld_repack = blocks.repack_bits_bb(1, self.bps, _TX_LEN_KEY, False,
                                                gr.GR_MSB_FIRST)
        self.pld_map = digital.chunks_to_symbols_bc(payload_points(self.modulation), 1)
        self.msg_connect(self.encoder, "out", self.pld_stream, "pdus")

    def _build_burst(self):
        """Header, payload and trailing zeros muxed into one burst, pulse shaped, tagged."""
        # trailing zeros: an endless tagged stream of post_pad-long zero blocks, one per burst
        tail_tag = gr.tag_utils.python_to_tag(
            (0, pmt.intern(_TX_LEN_KEY), pmt.from_long(self.post_pad), pmt.intern("tail")))
        self.tail = blocks.vector_source_c([0j] * self.post_pad, True, 1, [tail_tag])
        self.mux = blocks.tagged_stream_mux(gr.sizeof_gr_complex, _TX_LEN_KEY, 0)
        self.pulse = filter.interp_fir_filter_ccf(
            self.sps, list(rrc_taps(self.sps, self.rolloff) * self.amplitude))
        self.pulse.declare_sample_delay(0)
        self.burst_len = blocks.tagged_stream_multiply_length(gr.sizeof_gr_complex,
                                                              _TX_LEN_KEY, self.sps)
        # tagged-stream blocks need a whole burst in their buffers
        max_syms = self.burst_samples(self.mtu) // self.sps
        for blk in (self.hdr_stream, self.hdr_map, self.pld_stream, self.pld_repack,
                    self.pld_map, self.mux):
            blk.set_min_output_buffer(0, 2 * max_syms * self.bps + 4096)
        self.connect(self.hdr_stream, self.hdr_map, (self.mux, 0))
        self.connect(self.pld_stream, self.pld_repack, self.pld_map, (self.mux, 1))
        self.connect(self.tail, (self.mux, 2))
        self.connect(self.mux, self.pulse, self.burst_len, self)

    # ---- glue ----------------------------------------------------------------------------
    def _validate(self, msg):
        if not pmt.is_pair(msg) or not pmt.is_u8vector(pmt.cdr(msg)):
            raise ValueError("input is not a PDU with a u8vector payload")
        size = pmt.length(pmt.cdr(msg))
        if not 1 <= size <= self.mtu:
            raise ValueError(f"payload of {size} bytes; must be 1..{self.mtu}")
        self.packets += 1
        return pmt.cons(pmt.make_dict(), pmt.cdr(msg))     # metadata stays here

    def _header_bits(self, msg):
        hdr = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
        hdr_bits = np.repeat(np.unpackbits(hdr)[:HEADER_BITS], HEADER_REPEAT)
        bits = np.concatenate([self._lead, self._pre_bits, hdr_bits])
        return pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(bits), bits))

    def _payload_bits(self, msg):
        data = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
        ncw = num_codewords(len(data), self.k)
        bits = np.zeros(ncw * self.k, dtype=np.uint8)
        bits[:8 * len(data)] = np.unpackbits(data)
        return pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(bits), bits))

    def burst_samples(self, payload_bytes: int) -> int:
        """Samples of the burst that carries a ``payload_bytes``-byte PDU."""
        ncw = num_codewords(payload_bytes + CRC_BYTES, self.k)
        symbols = (len(self._pre_bits) + HEADER_SYMBOLS + ncw * self.n // self.bps
                   + self.pre_pad + self.post_pad)
        return symbols * self.sps
