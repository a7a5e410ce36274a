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

from .core import uep
from .phy import fec as semfec
from .phy.glue import msg_map, msg_route
from .phy.waveform import (CODE_BITS, CRC_BYTES, HEADER_REPEAT, MAX_PAYLOAD, RRC_SPAN, body_symbols,
                           bits_per_symbol, burst_format, check_modulation, check_params,
                           header_axis, header_bits, map_bits, num_codewords, rrc_taps,
                           rx_latency_symbols, shortening)

__all__ = ["packet_modem_tx"]

_TX_LEN_KEY = "packet_len"
_NBYTES = pmt.intern("semcom_nbytes")
_SEQ = pmt.intern("semcom_seq")
_CODE = pmt.intern("semcom_code")


class packet_modem_tx(gr.hier_block2):
    """Packet modem transmitter (stock CRC, LDPC encoder and pulse shaping + PDU glue).

    Input message port ``in``: PDUs (metadata dict, u8vector of 1..``mtu`` bytes). The
    metadata is not transmitted. PDUs that are not u8 vectors of a valid length are
    dropped with a warning.

    Output stream: complex baseband, ``sps`` samples per symbol, root-raised-cosine pulse
    shaped. Each PDU becomes one burst (:mod:`gnuradio.semcom.phy.waveform`: zeros,
    preamble, header and LDPC-coded payload in chunks with pilot blocks, zeros) whose first
    sample carries a ``packet_len`` tag with the burst length in samples (a UHD sink
    transmits it as one burst). Bursts follow each other with no gap other than their
    zero padding; the stream only advances when PDUs arrive, so a simulation needs no
    throttle.

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
      packet_codes: unequal error protection (:mod:`gnuradio.semcom.core.uep`): ``{packet
        kind: code key}`` or ``"kind=code,..."`` (e.g. ``"model_segment=n0500_r025"``); a
        PDU travels on its kind's code (its first byte, the link packet's type), others on
        ``code``. The header then names the code: two bits of its counter field index the
        code table ``uep.code_table(code, packet_codes)`` (the counter counts modulo 1024).
        Empty (default) or a map with no code other than ``code``: one code, the header as
        before (12-bit counter). packet_modem_rx needs the same ``code`` and map.
    """

    def __init__(self, modulation="qpsk", code=semfec.DEFAULT_CODE, sps=2, rolloff=0.35,
                 amplitude=0.5, pre_pad=16, post_pad=-1, mtu=1500, packet_codes=None):
        gr.hier_block2.__init__(self, "semcom_packet_modem_tx",
                                gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self._check_settings(modulation, code, sps, rolloff, amplitude, pre_pad, post_pad, mtu,
                             packet_codes)
        self.packets = 0
        self._seq = 0
        self._symbols = 0      # burst symbols handed to the stream so far
        self.message_port_register_hier_in("in")
        self._fmt = burst_format(self.modulation, self.sps, self.rolloff)
        self._build_framing()
        self._build_burst()

    # ---- construction steps --------------------------------------------------------------
    def _check_settings(self, modulation, code, sps, rolloff, amplitude, pre_pad, post_pad, mtu,
                        packet_codes):
        self.modulation = check_modulation(modulation)
        check_params(sps, rolloff, amplitude)
        self.sps = int(sps)
        self.rolloff = float(rolloff)
        self.amplitude = float(amplitude)
        self.code = code
        self.n, self.k = semfec.code_dims(code)
        self.packet_codes = uep.parse_packet_codes(packet_codes)
        self.codes = uep.code_table(code, self.packet_codes)
        self._dims = [semfec.code_dims(c) for c in self.codes]
        self._code_bits = CODE_BITS if len(self.codes) > 1 else 0
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
        """PDU -> CRC-32 -> information bits -> LDPC encoder -> burst symbols."""
        log = gr.logger("semcom_packet_modem_tx")
        self.validate = msg_map("semcom_tx_validate", self._validate, log)
        self.crc = digital.crc_append(32, 0x04C11DB7, 0xFFFFFFFF, 0xFFFFFFFF, True, True,
                                      False, 0)
        self.pld_glue = msg_map("semcom_tx_pad", self._payload_bits, log)
        self.encoders = [fec.async_encoder(semfec.make_ldpc_encoder(c), False, False, False,
                                           (MAX_PAYLOAD + CRC_BYTES) * 8 * 4)
                         for c in self.codes]
        self.encoder = self.encoders[0]
        # Holds the end of the run until every burst is in the stream (see _build_burst).
        self.assemble = msg_map("semcom_tx_burst", self._burst_symbols, log,
                                hold_done=self._bursts_queued)
        self.msg_connect(self, "in", self.validate, "in")
        self.msg_connect(self.validate, "out", self.crc, "in")
        self.msg_connect(self.crc, "out", self.pld_glue, "in")
        if len(self.encoders) == 1:
            self.msg_connect(self.pld_glue, "out", self.encoder, "in")
        else:   # one stock encoder per code; the PDU's code index picks it
            self.route = msg_route("semcom_tx_code", len(self.encoders), self._code_index, log)
            self.msg_connect(self.pld_glue, "out", self.route, "in")
            for i, enc in enumerate(self.encoders):
                self.msg_connect(self.route, f"out{i}", enc, "in")
        for enc in self.encoders:
            self.msg_connect(enc, "out", self.assemble, "in")

    def _build_burst(self):
        """Burst symbols -> tagged stream -> RRC pulse shaping -> burst length in samples."""
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, _TX_LEN_KEY)
        self.pulse = filter.interp_fir_filter_ccf(
            self.sps, list(rrc_taps(self.sps, self.rolloff) * self.amplitude))
        self.pulse.declare_sample_delay(0)
        self.burst_len = blocks.tagged_stream_multiply_length(gr.sizeof_gr_complex,
                                                              _TX_LEN_KEY, self.sps)
        # Tagged-stream blocks need a whole burst in their buffers. More than that: when
        # the upstream message blocks finish (an image source at the end of its images),
        # pdu_to_tagged_stream finishes too and drops the PDUs still queued at its input.
        # So the last message block (assemble) holds the end of the run until the stream
        # has taken every burst (a CIFAR-10 decoder blob is 24 s of bursts, far more than
        # any buffer), and the buffers hold 2**18 symbols (about 1 s at 0.25 Msymbol/s).
        syms = max(2 * (self.burst_samples(self.mtu) // self.sps) + 4096, 1 << 18)
        self.to_stream.set_min_output_buffer(0, syms)
        self.pulse.set_min_output_buffer(0, syms * self.sps)
        self.burst_len.set_min_output_buffer(0, syms * self.sps)
        self.msg_connect(self.assemble, "out", self.to_stream, "pdus")
        self.connect(self.to_stream, self.pulse, self.burst_len, self)

    # ---- glue ----------------------------------------------------------------------------
    def _validate(self, msg):
        if not pmt.is_pair(msg) or not pmt.is_u8vector(pmt.cdr(msg)):
            raise ValueError("input is not a PDU with a u8vector payload")
        size = pmt.length(pmt.cdr(msg))
        if not 1 <= size <= self.mtu:
            raise ValueError(f"payload of {size} bytes; must be 1..{self.mtu}")
        self.packets += 1
        data = pmt.u8vector_elements(pmt.cdr(msg))
        index = self.codes.index(uep.code_for(data, self.code, self.packet_codes))
        meta = pmt.dict_add(pmt.make_dict(), _SEQ, pmt.from_long(self._seq))
        meta = pmt.dict_add(meta, _CODE, pmt.from_long(index))
        self._seq = (self._seq + 1) % (1 << (12 - self._code_bits))
        return pmt.cons(meta, pmt.cdr(msg))     # upstream metadata stays here

    def _payload_bits(self, msg):
        data = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
        _, k = self._dims[self._code_index(msg)]
        ncw = num_codewords(len(data), k)
        bits = np.zeros(ncw * k, dtype=np.uint8)
        bits[:8 * len(data)] = np.unpackbits(data)
        meta = pmt.dict_add(pmt.car(msg), _NBYTES, pmt.from_long(len(data)))
        return pmt.cons(meta, pmt.init_u8vector(len(bits), bits))

    def _burst_symbols(self, msg):
        """Coded bits (+ length and counter in the metadata) -> the burst's symbols."""
        meta = pmt.car(msg)
        nbytes = pmt.to_long(pmt.dict_ref(meta, _NBYTES, pmt.from_long(0)))
        seq = pmt.to_long(pmt.dict_ref(meta, _SEQ, pmt.from_long(0)))
        index = self._code_index(msg)
        n, k = self._dims[index]
        coded = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
        _, sent = shortening(nbytes, n, k, self.bps)
        a = header_axis(self.modulation)
        hdr = np.tile(header_bits(nbytes, seq, index, self._code_bits), HEADER_REPEAT)
        body = np.concatenate([np.where(hdr > 0, a, -a).astype(np.complex64),
                               map_bits(coded[:sent], self.modulation)])
        syms = np.concatenate([np.zeros(self.pre_pad, dtype=np.complex64),
                               self._fmt.assemble(body),
                               np.zeros(self.post_pad, dtype=np.complex64)])
        self._symbols += len(syms)
        return pmt.cons(pmt.make_dict(), pmt.init_c32vector(len(syms), syms))

    @staticmethod
    def _code_index(msg) -> int:
        return pmt.to_long(pmt.dict_ref(pmt.car(msg), _CODE, pmt.from_long(0)))

    def _bursts_queued(self) -> bool:
        """Bursts handed to pdu_to_tagged_stream that it has not written to the stream yet."""
        return self.to_stream.nitems_written(0) < self._symbols

    def burst_samples(self, payload_bytes: int, code: str | None = None) -> int:
        """Samples of the burst that carries a ``payload_bytes``-byte PDU on ``code``
        (default: the block's ``code``)."""
        n, k = (self.n, self.k) if code is None else semfec.code_dims(code)
        body = body_symbols(payload_bytes + CRC_BYTES, n, k, self.bps)
        return (self._fmt.burst_symbols(body) + self.pre_pad + self.post_pad) * self.sps

    def burst_samples_of(self, data) -> int:
        """Samples of the burst that carries the PDU payload ``data`` (bytes), on its
        kind's code."""
        return self.burst_samples(len(data), uep.code_for(data, self.code, self.packet_codes))
