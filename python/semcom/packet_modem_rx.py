# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Packet modem receiver: complex baseband in, PDUs out (the burst of
:mod:`gnuradio.semcom.phy.waveform`, as packet_modem_tx sends it)."""

from __future__ import annotations

import math

import numpy as np
import pmt
from gnuradio import analog, blocks, digital, fec, filter, gr, pdu
from gnuradio.filter import firdes

from .phy import fec as semfec
from .phy.glue import msg_map
from .phy.waveform import (CRC_BYTES, HEADER_LEN_KEY, HEADER_REPEAT, HEADER_SEQ_KEY,
                           HEADER_SYMBOLS, MAX_PAYLOAD, RRC_SPAN, SYNC_WORD, bits_per_symbol,
                           check_modulation, check_params, header_axis, num_codewords)

__all__ = ["packet_modem_rx"]

_PLD_KEY = "semcom_pld_syms"        # payload length (symbols), hpd length tag
_NBYTES_KEY = "semcom_nbytes"       # payload + CRC bytes, from the header
_SEQ_KEY = "semcom_seq"
_FREQ_KEY = "semcom_freq"
_LLR_CLIP = 30.0
_AGC_REF = 0.5                       # mean |sample| the AGC aims at; the loops are tuned for it


def _snr_m2m4(y: np.ndarray):
    """(signal power, noise power) of a PSK symbol vector y in complex Gaussian noise."""
    m2 = float(np.mean(np.abs(y) ** 2))
    m4 = float(np.mean(np.abs(y) ** 4))
    s = math.sqrt(max(2.0 * m2 * m2 - m4, 0.0))
    n = max(m2 - s, 1e-12 * max(m2, 1e-30))
    return s, n


class packet_modem_rx(gr.hier_block2):
    """Packet modem receiver (stock GNU Radio blocks + thin PDU glue).

    Input stream: complex baseband at ``sps`` samples per symbol, carrying the bursts of
    ``packet_modem_tx`` with the same ``modulation``, ``code``, ``sps`` and ``rolloff``.
    Noise and other signals produce nothing; a burst with a bad header is dropped (the
    demux logs "Parser returned #f"); a burst cut off after its header fails the CRC and
    is dropped (or, with ``drop_bad_crc`` False, emitted with ``crc_ok`` False). After a
    header the receiver takes the whole payload length from the stream before it looks
    for the next sync word.

    Output message port ``out``: one PDU per received packet: (metadata dict, u8vector of
    the payload). Metadata keys:
      ``crc_ok`` (bool): the payload's CRC-32 matched (always True if ``drop_bad_crc``);
      ``payload_len`` (int): payload bytes, from the header;
      ``snr_db`` (float): Es/N0 estimate in dB over the payload symbols (M2M4);
      ``freq_offset`` (float): carrier frequency offset estimate of the loops when the
        header was decoded, cycles per sample;
      ``seq`` (int): the header's 12-bit packet counter;
      ``ldpc_iterations`` (int): iterations the LDPC decoder used (last codeword).

    Chain (stock blocks; Python only for the PDU glue): ``analog.agc2_cc`` -> FLL
    band-edge (``digital.fll_band_edge_cc``) -> ``digital.symbol_sync_cc`` (ML TED, polyphase
    RRC matched filter) -> ``digital.costas_loop_cc`` -> sync word search with
    ``digital.correlate_access_code_bb`` in each phase ambiguity of the Costas loop (2 for
    BPSK, 4 for QPSK; only the right rotation holds the sync word), whose flag triggers
    ``digital.header_payload_demux`` and, through ``blocks.sample_and_hold_ff`` +
    ``analog.phase_modulator_fc``, de-rotates the burst -> header: repetition soft
    combining (``blocks.integrate_ff``) + ``digital.protocol_parser_b``
    (``header_format_crc``) -> payload: per-packet LLRs (M2M4 SNR estimate) ->
    ``fec.async_decoder`` (stock LDPC) -> ``digital.crc_check`` -> ``pdu.pdu_set``.
    No preamble correlator needs a level threshold, so the receiver works at any input
    level (the AGC only sets the loops' gains) and noise alone triggers nothing.

    Parameters:
      modulation, code, sps, rolloff: as the transmitter (``'bpsk'``/``'qpsk'``, LDPC code
        key, samples per symbol, RRC excess bandwidth).
      drop_bad_crc: drop packets whose CRC fails (default); if False they are emitted with
        ``crc_ok`` False (their payload then holds decoding errors).
      max_iter: LDPC decoder iterations per codeword.
      fll_bw: FLL loop bandwidth, rad/sample (0: no FLL; the Costas loop alone then tracks
        the frequency offset).
      timing_bw, ted_gain: symbol sync loop bandwidth (normalised to the symbol rate) and
        the TED gain it assumes.
      costas_bw: Costas loop bandwidth, rad/symbol (-1: 0.02 * sqrt(sps / 2)).
      max_freq: largest carrier offset the loops may reach, cycles per sample.
      sync_errors: sync word bit errors tolerated (of 64).
      agc_rate: AGC adaptation rate per sample (0 disables the AGC; the loops are tuned
        for the level the AGC sets, mean |sample| = 0.5).
      mtu: largest payload in bytes; longer headers are rejected.
    """

    def __init__(self, modulation="qpsk", code=semfec.DEFAULT_CODE, sps=2, rolloff=0.35,
                 drop_bad_crc=True, max_iter=50, fll_bw=0.005, timing_bw=0.04, ted_gain=1.0,
                 costas_bw=-1.0, max_freq=0.01, sync_errors=6, agc_rate=1e-4, mtu=1500):
        gr.hier_block2.__init__(self, "semcom_packet_modem_rx",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        self._check_settings(modulation, code, sps, rolloff, drop_bad_crc, max_freq,
                             sync_errors, mtu)
        self.stats = {"headers": 0, "bad_headers": 0, "packets": 0}
        self.message_port_register_hier_out("out")
        self._log = gr.logger("semcom_packet_modem_rx")
        self.axis = header_axis(self.modulation)
        self._build_front_end(agc_rate, fll_bw, max_freq, timing_bw, ted_gain, costas_bw)
        self._build_sync_search(sync_errors)
        self._build_demux()
        self._build_header()
        self._build_payload(max_iter)

    # ---- construction steps --------------------------------------------------------------
    def _check_settings(self, modulation, code, sps, rolloff, drop_bad_crc, max_freq,
                        sync_errors, mtu):
        self.modulation = check_modulation(modulation)
        check_params(sps, rolloff)
        self.sps = int(sps)
        self.rolloff = float(rolloff)
        self.code = code
        self.n, self.k = semfec.code_dims(code)
        self.bps = bits_per_symbol(self.modulation)
        self.drop_bad_crc = bool(drop_bad_crc)
        self.mtu = int(mtu)
        if not 1 <= self.mtu <= MAX_PAYLOAD:
            raise ValueError(f"mtu must be in 1..{MAX_PAYLOAD}, not {mtu!r}")
        if not 0 < float(max_freq) < 0.25:
            raise ValueError("max_freq must be in (0, 0.25) cycles/sample")
        if not 0 <= int(sync_errors) <= 12:
            raise ValueError("sync_errors must be in 0..12")

    def _build_front_end(self, agc_rate, fll_bw, max_freq, timing_bw, ted_gain, costas_bw):
        """AGC -> FLL -> half-sample delay -> symbol sync -> Costas loop."""
        chain = []
        self.agc = None
        if float(agc_rate) > 0:
            self.agc = analog.agc2_cc(float(agc_rate), float(agc_rate), _AGC_REF, 1.0)
            self.agc.set_max_gain(1e6)
            chain.append(self.agc)
        self.fll = None
        if float(fll_bw) > 0:
            self.fll = digital.fll_band_edge_cc(self.sps, self.rolloff, 16 * self.sps + 1,
                                                float(fll_bw))
            self.fll.set_max_freq(2 * math.pi * float(max_freq))
            self.fll.set_min_freq(-2 * math.pi * float(max_freq))
            chain.append(self.fll)
        # Half a sample of delay: the symbol clock starts on a sample; a burst that starts
        # on a sample too (a noiseless loopback, or TX and RX started together) would put
        # it exactly on the timing error detector's unstable point (half a symbol off) for
        # some delays, where the loop hangs and, without noise to push it, never leaves.
        self.half_sample = filter.mmse_resampler_cc(0.5, 1.0)
        chain.append(self.half_sample)
        nfilts = 32
        pfb_taps = firdes.root_raised_cosine(nfilts, nfilts * self.sps, 1.0, self.rolloff,
                                             nfilts * RRC_SPAN * self.sps + 1)
        self.timing = digital.symbol_sync_cc(digital.TED_SIGNAL_TIMES_SLOPE_ML, self.sps,
                                             float(timing_bw), 1.0, float(ted_gain), 0.5, 1,
                                             digital.constellation_bpsk().base(),
                                             digital.IR_PFB_MF, nfilts, pfb_taps)
        if float(costas_bw) <= 0:   # wider for more samples per symbol: the same offset in
            costas_bw = 0.02 * math.sqrt(self.sps / 2)    # cycles/sample is more per symbol
        self.costas = digital.costas_loop_cc(float(costas_bw), 2 * self.bps)
        max_w = 2 * math.pi * float(max_freq) * self.sps
        self.costas.set_max_freq(max_w)
        self.costas.set_min_freq(-max_w)
        # unit phase detector gain for the Costas loop (re*im for BPSK, the QPSK detector
        # is sqrt(2) * amplitude * phase): symbols of amplitude 1 (BPSK), 1/sqrt(2) (QPSK)
        self.costas_gain = blocks.multiply_const_cc(
            (1.0 if self.bps == 1 else math.sqrt(0.5)) / _AGC_REF)
        self.connect(self, *chain, self.timing, self.costas_gain, self.costas)

    def _build_sync_search(self, sync_errors):
        """Sync word search in each phase ambiguity of the Costas loop, and de-rotation."""
        # Rotation r (one per ambiguity: 2 for BPSK, 4 for QPSK) multiplies the symbols
        # by r * conj(axis); in the rotation that undoes the loop's ambiguity, training,
        # sync word and header lie on the real axis and correlate_access_code_bb finds the
        # sync word there (in no other rotation). Its flag (on the first header bit, with
        # the data delayed by 64 bits) triggers the demux and samples the rotation's angle,
        # which then de-rotates the (equally delayed) symbols until the next sync word.
        rotations = (1, -1) if self.bps == 1 else (1, 1j, -1, -1j)
        self.trigger = blocks.or_bb(1)
        self.rot_hold = blocks.sample_and_hold_ff()
        self.rot_angle = blocks.add_ff(1)
        self.rotor = analog.phase_modulator_fc(1.0)
        self.delay = blocks.delay(gr.sizeof_gr_complex, 64)
        self.derotate = blocks.multiply_cc(1)
        self.search = []
        for idx, rot in enumerate(rotations):
            b = {"proj": blocks.multiply_const_cc(complex(rot) * self.axis.conjugate()),
                 "slice": digital.binary_slicer_fb(),
                 "corr": digital.correlate_access_code_bb(SYNC_WORD, int(sync_errors)),
                 "flag": blocks.and_const_bb(2)}
            angle = float(np.angle(rot))
            # flag value 2 -> this rotation's angle (rotation 0 adds nothing)
            b["angle"] = blocks.char_to_float(1, 2.0 / angle) if angle else None
            if self.bps == 1:
                b["re"] = blocks.complex_to_real(1)
                self.connect(self.costas, b["proj"], b["re"], b["slice"])
            else:
                # bit 1 only for points near the +real axis: Re - |Im| / 2 > 0. With a
                # plain sign of Re, a rotation 90 degrees off would see +-sin(phase error)
                # (data-correlated signs when the noise is weak) and could find the sync
                # word too; here its points give 0 bits.
                b["c2f"] = blocks.complex_to_float(1)
                b["abs"] = blocks.abs_ff(1)
                b["half"] = blocks.multiply_const_ff(0.5)
                b["sub"] = blocks.sub_ff(1)
                self.connect(self.costas, b["proj"], b["c2f"])
                self.connect((b["c2f"], 1), b["abs"], b["half"], (b["sub"], 1))
                self.connect((b["c2f"], 0), (b["sub"], 0))
                self.connect(b["sub"], b["slice"])
            self.connect(b["slice"], b["corr"], b["flag"])
            self.connect(b["flag"], (self.trigger, idx))
            if b["angle"] is not None:
                self.connect(b["flag"], b["angle"], (self.rot_angle, len(
                    [x for x in self.search if x["angle"] is not None])))
            self.search.append(b)
        self.connect(self.trigger, (self.rot_hold, 1))
        self.connect(self.rot_angle, (self.rot_hold, 0))
        self.connect(self.rot_hold, self.rotor, (self.derotate, 1))
        self.connect(self.costas, self.delay, (self.derotate, 0))

    def _build_demux(self):
        """header_payload_demux, triggered by the sync word search."""
        max_syms = num_codewords(self.mtu + CRC_BYTES, self.k) * self.n // self.bps
        self.hpd = digital.header_payload_demux(HEADER_SYMBOLS, 1, 0, _PLD_KEY, "", False,
                                                gr.sizeof_gr_complex, "", 1.0, [], 0)
        # the demux needs a whole payload in its input and output buffers, and rejects
        # payloads longer than half its payload buffer
        for blk, port in ((self.hpd, 0), (self.hpd, 1), (self.derotate, 0),
                          (self.trigger, 0)):
            blk.set_min_output_buffer(port, 2 * max_syms + 2048)
        self.connect(self.derotate, (self.hpd, 0))
        self.connect(self.trigger, (self.hpd, 1))

    def _build_header(self):
        """Header: repetition soft combining -> protocol parser -> demux header data."""
        self.hdr_format = digital.header_format_crc(HEADER_LEN_KEY, HEADER_SEQ_KEY)
        self.hdr_proj = blocks.multiply_const_cc(self.axis.conjugate())
        self.hdr_re = blocks.complex_to_real(1)
        self.hdr_combine = blocks.integrate_ff(HEADER_REPEAT)    # soft repetition decoding
        self.hdr_slice = digital.binary_slicer_fb()
        self.hdr_parser = digital.protocol_parser_b(self.hdr_format)
        self.hdr_glue = msg_map("semcom_rx_header", self._on_header, self._log,
                                fallback=pmt.PMT_F)
        self.connect((self.hpd, 0), self.hdr_proj, self.hdr_re, self.hdr_combine,
                     self.hdr_slice, self.hdr_parser)
        self.msg_connect(self.hdr_parser, "info", self.hdr_glue, "in")
        self.msg_connect(self.hdr_glue, "out", self.hpd, "header_data")
        self.pld_pdu = pdu.tagged_stream_to_pdu(gr.types.complex_t, _PLD_KEY)
        self.connect((self.hpd, 1), self.pld_pdu)

    def _build_payload(self, max_iter):
        """Payload: LLRs -> stock LDPC decoder -> CRC check -> crc_ok -> out."""
        self.sigma = 0.5
        self._llr_scale = (1.0 if semfec.gr_version_tuple() >= (3, 10, 8)
                           else 2.0 * self.sigma ** 2)
        self.llr = msg_map("semcom_rx_llr", self._on_payload, self._log)
        self.decoder = fec.async_decoder(
            semfec.make_ldpc_decoder(self.code, int(max_iter), self.sigma), False, False,
            (MAX_PAYLOAD + CRC_BYTES) * 8 * 4)
        self.unpad = msg_map("semcom_rx_unpad", self._on_decoded, self._log)
        self.crc = digital.crc_check(32, 0x04C11DB7, 0xFFFFFFFF, 0xFFFFFFFF, True, True,
                                     False, True, 0)
        self.mark_ok = pdu.pdu_set(pmt.intern("crc_ok"), pmt.PMT_T)
        self.mark_bad = pdu.pdu_set(pmt.intern("crc_ok"), pmt.PMT_F)
        self.msg_connect(self.pld_pdu, "pdus", self.llr, "in")
        self.msg_connect(self.llr, "out", self.decoder, "in")
        self.msg_connect(self.decoder, "out", self.unpad, "in")
        self.msg_connect(self.unpad, "out", self.crc, "in")
        self.msg_connect(self.crc, "ok", self.mark_ok, "pdus")
        self.msg_connect(self.mark_ok, "pdus", self, "out")
        self.msg_connect(self.crc, "fail", self.mark_bad, "pdus")
        if not self.drop_bad_crc:
            self.msg_connect(self.mark_bad, "pdus", self, "out")

    # ---- glue ------------------------------------------------------------------------
    def freq_offset(self) -> float:
        """Current carrier offset estimate of the loops, cycles per sample."""
        fll = self.fll.get_frequency() if self.fll is not None else 0.0
        return (self.costas.get_frequency() / self.sps - fll) / (2 * math.pi)

    def _on_header(self, info):
        """protocol_parser_b info -> header_payload_demux header data (or #f)."""
        if not pmt.is_dict(info):
            self.stats["bad_headers"] += 1
            return pmt.PMT_F
        nbits = pmt.to_long(pmt.dict_ref(info, pmt.intern(HEADER_LEN_KEY), pmt.from_long(0)))
        nbytes = nbits // 8
        if nbits % 8 or not CRC_BYTES < nbytes <= self.mtu + CRC_BYTES:
            self.stats["bad_headers"] += 1
            return pmt.PMT_F
        self.stats["headers"] += 1
        seq = pmt.dict_ref(info, pmt.intern(HEADER_SEQ_KEY), pmt.from_long(0))
        syms = num_codewords(nbytes, self.k) * self.n // self.bps
        out = pmt.make_dict()
        out = pmt.dict_add(out, pmt.intern(_PLD_KEY), pmt.from_long(syms))
        out = pmt.dict_add(out, pmt.intern(_NBYTES_KEY), pmt.from_long(nbytes))
        out = pmt.dict_add(out, pmt.intern(_SEQ_KEY), seq)
        out = pmt.dict_add(out, pmt.intern(_FREQ_KEY), pmt.from_double(self.freq_offset()))
        return out

    def _on_payload(self, msg):
        """Payload symbols -> LDPC decoder input (scaled LLRs, bit 1 positive)."""
        meta, vec = pmt.car(msg), pmt.cdr(msg)
        nbytes = pmt.to_long(pmt.dict_ref(meta, pmt.intern(_NBYTES_KEY), pmt.from_long(-1)))
        if not pmt.is_c32vector(vec) or nbytes <= CRC_BYTES:
            raise ValueError("payload without a valid header")
        y = np.asarray(pmt.c32vector_elements(vec), dtype=np.complex64)
        ncw = num_codewords(nbytes, self.k)
        if len(y) != ncw * self.n // self.bps:
            raise ValueError(f"payload of {len(y)} symbols, expected {ncw * self.n // self.bps}")
        sig, noise = _snr_m2m4(y)
        amp = math.sqrt(max(sig, 1e-30))
        if self.bps == 1:
            soft = y.real.astype(np.float64)
            comp_amp = amp
        else:   # Gray QPSK: MSB on the imaginary axis, LSB on the real axis
            soft = np.empty(2 * len(y))
            soft[0::2] = y.imag
            soft[1::2] = y.real
            comp_amp = amp * math.sqrt(0.5)
        llr = np.clip(4.0 * comp_amp * soft / noise, -_LLR_CLIP, _LLR_CLIP)
        # +1 value: fec.async_decoder truncates len * rate to the frame size (k*ncw) and
        # float rounding would otherwise lose a bit for most ncw with n=1800; the decoder
        # reads only ncw*n values.
        dec_in = np.append(llr * self._llr_scale, 0.0).astype(np.float32)
        snr_db = 10 * math.log10(max(sig, 1e-30) / noise) if sig > 0 else -99.0
        meta = pmt.dict_add(meta, pmt.intern("snr_db"), pmt.from_double(snr_db))
        return pmt.cons(meta, pmt.init_f32vector(len(dec_in), dec_in))

    def _on_decoded(self, msg):
        """Decoded bits -> payload + CRC bytes, with the output metadata."""
        meta, vec = pmt.car(msg), pmt.cdr(msg)

        def get(key, default):
            return pmt.to_python(pmt.dict_ref(meta, pmt.intern(key), pmt.to_pmt(default)))

        nbytes = int(get(_NBYTES_KEY, -1))
        bits = np.asarray(pmt.u8vector_elements(vec), dtype=np.uint8)
        if nbytes <= CRC_BYTES or len(bits) < 8 * nbytes:
            raise ValueError("decoded payload shorter than its header says")
        data = np.packbits(bits[:8 * nbytes] & 1)
        out = pmt.make_dict()
        for key, value in (("payload_len", pmt.from_long(nbytes - CRC_BYTES)),
                           ("snr_db", pmt.from_double(float(get("snr_db", 0.0)))),
                           ("freq_offset", pmt.from_double(float(get(_FREQ_KEY, 0.0)))),
                           ("seq", pmt.from_long(int(get(_SEQ_KEY, 0)))),
                           ("ldpc_iterations", pmt.from_long(int(get("iterations", 0))))):
            out = pmt.dict_add(out, pmt.intern(key), value)
        self.stats["packets"] += 1
        return pmt.cons(out, pmt.init_u8vector(len(data), data))
