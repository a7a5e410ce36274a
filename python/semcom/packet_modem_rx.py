# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Packet modem receiver: complex baseband in, PDUs out (the burst of
:mod:`gnuradio.semcom.phy.waveform`, as packet_modem_tx sends it)."""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import digital, fec, gr, pdu

from .core import softvalues, uep
from .core.burstsync import EQUALIZER_MODES
from .phy import fec as semfec
from .phy.burst_sync import burst_sync
from .phy.glue import msg_map, msg_route
from .phy.waveform import (CODE_BITS, CRC_BYTES, HEADER_BITS, MAX_PAYLOAD, body_symbols,
                           bits_per_symbol, burst_format, check_modulation, check_params,
                           parse_header, shortening)

__all__ = ["packet_modem_rx", "DECODERS", "EQUALIZERS"]

_NBYTES_KEY = "semcom_nbytes"       # payload + CRC bytes, from the header
_SEQ_KEY = "semcom_seq"
_CODE_KEY = "semcom_code"           # index of the payload's code in self.codes
DECODERS = ("fast", "stock")
EQUALIZERS = EQUALIZER_MODES            # 'auto', 'on', 'off'


class packet_modem_rx(gr.hier_block2):
    """Packet modem receiver: a data-aided burst synchroniser, then stock LDPC and CRC.

    Input stream: complex baseband at ``sps`` samples per symbol, carrying the bursts of
    ``packet_modem_tx`` with the same ``modulation``, ``code``, ``sps`` and ``rolloff``, at
    any level. Noise and other signals produce nothing; a burst whose header fails its
    CRC-8 is dropped and counted (``stats['bad_headers']``); a burst cut off after its
    header fails the CRC-32 and is dropped (or, with ``drop_bad_crc`` False, emitted with
    ``crc_ok`` False).

    Output message port ``out``: one PDU per received packet: (metadata dict, u8vector of
    the payload). Metadata keys:
      ``crc_ok`` (bool): the payload's CRC-32 matched (always True if ``drop_bad_crc``);
      ``payload_len`` (int): payload bytes, from the header;
      ``snr_db`` (float): Es/N0 estimate in dB from the burst's known symbols;
      ``freq_offset`` (float): carrier frequency offset estimate, cycles per sample;
      ``clock_offset`` (float): sample-clock offset estimate (1e-6 = 1 ppm);
      ``equalized`` (bool): the burst went through the trained equaliser;
      ``seq`` (int): the header's packet counter (12 bits; 10 with ``packet_codes``);
      ``ldpc_code`` (str): the code the payload was decoded with (the header names it);
      ``ldpc_iterations`` (int): LDPC iterations (stock decoder: last codeword; fast
        decoder: the most any codeword of the packet took).
    Output message port ``symbols``: (metadata, c32vector) per burst: the payload symbols
    after synchronisation and equalisation, scaled to the constellation (for a display).

    Chain: :class:`gnuradio.semcom.phy.burst_sync.burst_sync` (the NumPy receiver of
    :mod:`gnuradio.semcom.core.burstsync`: preamble detection, timing, carrier frequency,
    phase, gain, optional T/2 equaliser trained on the preamble, tracking on the pilots,
    header, LLRs by ``core.softvalues``) -> known zeros of the shortened padding
    re-inserted -> LDPC decoder (the module's batched decoder; or GNU Radio's through
    ``fec.async_decoder``, ``decoder='stock'``) -> ``digital.crc_check`` ->
    ``pdu.pdu_set`` (crc_ok).

    Parameters:
      modulation, code, sps, rolloff: as the transmitter (``'bpsk'``/``'qpsk'``, LDPC code
        key, samples per symbol, RRC excess bandwidth).
      drop_bad_crc: drop packets whose CRC fails (default); if False they are emitted with
        ``crc_ok`` False (their payload then holds decoding errors).
      max_iter: LDPC decoder iterations per codeword.
      max_freq: largest carrier offset searched, cycles per sample (0 < max_freq < 0.25).
      threshold: first-stage preamble detection threshold (candidates per noise sample
        about exp(-threshold); each costs one coherent preamble search, which confirms or
        rejects it); 8..60.
      equalizer: ``'auto'`` (per burst: the T/2 equaliser when the preamble shows
        inter-symbol interference, else gain only), ``'on'`` or ``'off'``.
      eq_span: equaliser half-length in symbols (1..8; 4 * eq_span + 1 taps).
      decoder: ``'fast'`` (default: the module's Numba decoder, ``core.fastlink``, the
        sum-product in the LLR domain on the layered schedule, run in the block's own
        thread) or ``'stock'`` (GNU Radio's decoder through ``fec.async_decoder``).
        Measured (docs/link.md): on GNU Radio 3.10.5 the stock decoder leaves a packet
        error floor near 1 % for 9-codeword packets and decodes 7-15x slower, too slow
        for 1 Msample/s.
      mtu: largest payload in bytes; longer headers are rejected.
      packet_codes: unequal error protection, as packet_modem_tx's (the same ``code`` and
        map): the header's code field then names each burst's code in
        ``uep.code_table(code, packet_codes)``, and the receiver holds a decoder for each.
        Empty (default): one code, the header as before (recordings of a one-code
        transmitter decode with it).
    """

    def __init__(self, modulation="qpsk", code=semfec.DEFAULT_CODE, sps=2, rolloff=0.35,
                 drop_bad_crc=True, max_iter=50, max_freq=0.02, threshold=11.0,
                 equalizer="auto", eq_span=3, decoder="fast", mtu=1500, packet_codes=None):
        gr.hier_block2.__init__(self, "semcom_packet_modem_rx",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        self._check_settings(modulation, code, sps, rolloff, drop_bad_crc, max_iter, max_freq,
                             threshold, equalizer, eq_span, decoder, mtu)
        self.packet_codes = uep.parse_packet_codes(packet_codes)
        self.codes = uep.code_table(code, self.packet_codes)
        self._dims = [semfec.code_dims(c) for c in self.codes]
        self._code_bits = CODE_BITS if len(self.codes) > 1 else 0
        self._counts = {"packets": 0}
        self.message_port_register_hier_out("out")
        self.message_port_register_hier_out("symbols")
        self._log = gr.logger("semcom_packet_modem_rx")
        self.sync = burst_sync(burst_format(self.modulation, self.sps, self.rolloff),
                               self._parse_header, self._body_len, HEADER_BITS,
                               threshold=float(threshold), max_freq=float(max_freq),
                               equalizer=equalizer, eq_span=int(eq_span))
        self.connect(self, self.sync)
        self.msg_connect(self.sync, "symbols", self, "symbols")
        self._build_payload(int(max_iter))

    @property
    def stats(self) -> dict:
        """Counters: ``detections`` (preambles found), ``headers`` (accepted),
        ``bad_headers`` (rejected by the CRC-8), ``bursts`` (demodulated), ``equalized``,
        ``packets`` (decoded, before the CRC-32)."""
        return {**self.sync.rx.stats, **self._counts}

    # ---- construction steps --------------------------------------------------------------
    def _check_settings(self, modulation, code, sps, rolloff, drop_bad_crc, max_iter, max_freq,
                        threshold, equalizer, eq_span, decoder, mtu):
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
        if not 1 <= int(max_iter) <= 1000:
            raise ValueError(f"max_iter must be in 1..1000, not {max_iter!r}")
        if not 0 < float(max_freq) < 0.25:
            raise ValueError(f"max_freq must be in (0, 0.25) cycles/sample, not {max_freq!r}")
        if not 8 <= float(threshold) <= 60:
            raise ValueError(f"threshold must be in 8..60, not {threshold!r}")
        if equalizer not in EQUALIZERS:
            raise ValueError(f"equalizer must be one of {EQUALIZERS}, not {equalizer!r}")
        if not 1 <= int(eq_span) <= 8:
            raise ValueError(f"eq_span must be in 1..8 symbols, not {eq_span!r}")
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, not {decoder!r}")
        self.decoder_kind = decoder

    def _parse_header(self, bits):
        return parse_header(bits, self._code_bits)

    def _body_len(self, nbytes: int, code: int = 0) -> int:
        if not CRC_BYTES < nbytes <= self.mtu + CRC_BYTES:
            raise ValueError(f"header length {nbytes} out of range")
        if not 0 <= code < len(self.codes):
            raise ValueError(f"header code index {code} not in this receiver's code table")
        n, k = self._dims[code]
        return body_symbols(nbytes, n, k, self.bps)

    @staticmethod
    def _code_index(msg) -> int:
        return pmt.to_long(pmt.dict_ref(pmt.car(msg), pmt.intern(_CODE_KEY), pmt.from_long(0)))

    def _build_payload(self, max_iter):
        """Payload: LLRs (+ known padding) -> LDPC decoder -> CRC check -> crc_ok -> out."""
        self.unshorten = msg_map("semcom_rx_unshorten", self._on_payload, self._log)
        if self.decoder_kind == "stock":
            self.decoders = [fec.async_decoder(
                semfec.make_ldpc_decoder(c, max_iter), False, False,
                (MAX_PAYLOAD + CRC_BYTES) * 8 * 4) for c in self.codes]
        else:
            from .core import fastlink
            self._fast_codes = [fastlink.load_code(semfec.alist_path(c)) for c in self.codes]
            self._fast_code = self._fast_codes[0]
            self._max_iter = max_iter
            # Compile (or load from Numba's cache) now, not on the first burst: a first
            # compile takes seconds, during which a short transmission would end unheard.
            for fc, (n, _) in zip(self._fast_codes, self._dims):
                fastlink.decode(fc, np.zeros((1, n), np.float32), 1, parallel=False)
            # one block for every code: bursts stay in order
            self.decoders = [msg_map("semcom_rx_fast_ldpc", self._fast_decode, self._log)]
        self.decoder = self.decoders[0]
        self.unpad = msg_map("semcom_rx_unpad", self._on_decoded, self._log)
        self.crc = digital.crc_check(32, 0x04C11DB7, 0xFFFFFFFF, 0xFFFFFFFF, True, True,
                                     False, True, 0)
        self.mark_ok = pdu.pdu_set(pmt.intern("crc_ok"), pmt.PMT_T)
        self.mark_bad = pdu.pdu_set(pmt.intern("crc_ok"), pmt.PMT_F)
        self.msg_connect(self.sync, "out", self.unshorten, "in")
        if len(self.decoders) == 1:
            self.msg_connect(self.unshorten, "out", self.decoder, "in")
        else:   # stock decoders, one per code: the header's code index picks it
            self.route = msg_route("semcom_rx_code", len(self.decoders), self._code_index,
                                   self._log)
            self.msg_connect(self.unshorten, "out", self.route, "in")
            for i, dec in enumerate(self.decoders):
                self.msg_connect(self.route, f"out{i}", dec, "in")
        for dec in self.decoders:
            self.msg_connect(dec, "out", self.unpad, "in")
        self.msg_connect(self.unpad, "out", self.crc, "in")
        self.msg_connect(self.crc, "ok", self.mark_ok, "pdus")
        self.msg_connect(self.mark_ok, "pdus", self, "out")
        self.msg_connect(self.crc, "fail", self.mark_bad, "pdus")
        if not self.drop_bad_crc:
            self.msg_connect(self.mark_bad, "pdus", self, "out")

    # ---- glue ------------------------------------------------------------------------
    def _on_payload(self, msg):
        """Sent LLRs -> a whole frame for the decoder: the shortened padding's code bits
        are known zeros (-LLR_CLIP), as in ``symbol_link``."""
        meta, vec = pmt.car(msg), pmt.cdr(msg)
        nbytes = pmt.to_long(pmt.dict_ref(meta, pmt.intern(_NBYTES_KEY), pmt.from_long(-1)))
        if not pmt.is_f32vector(vec) or nbytes <= CRC_BYTES:
            raise ValueError("payload without a valid header")
        llr = np.asarray(pmt.f32vector_elements(vec), dtype=np.float32)
        index = self._code_index(msg)
        n, k = self._dims[index]
        ncw, sent = shortening(nbytes, n, k, self.bps)
        if len(llr) != sent:
            raise ValueError(f"payload of {len(llr)} soft values, expected {sent}")
        total = (semfec.async_decoder_frame_len(self.codes[index], ncw)
                 if self.decoder_kind == "stock" else ncw * n)
        full = np.zeros(total, dtype=np.float32)
        full[:sent] = llr
        full[sent:ncw * n] = -softvalues.LLR_CLIP
        return pmt.cons(meta, pmt.init_f32vector(len(full), full))

    def _fast_decode(self, msg):
        """LLR frames -> information bits with the batched decoder (fec.async_decoder's
        output layout; ``iterations``: the most any codeword took)."""
        from .core import fastlink
        meta, vec = pmt.car(msg), pmt.cdr(msg)
        index = self._code_index(msg)
        code, n = self._fast_codes[index], self._dims[index][0]
        llr = np.asarray(pmt.f32vector_elements(vec), dtype=np.float32)
        res = fastlink.decode(code, llr.reshape(-1, n), self._max_iter, parallel=False)
        bits = res.info_bits(code).reshape(-1).astype(np.uint8)
        meta = pmt.dict_add(meta, pmt.intern("iterations"),
                            pmt.from_long(int(res.iterations.max(initial=0))))
        return pmt.cons(meta, pmt.init_u8vector(len(bits), bits))

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
                           ("freq_offset", pmt.from_double(float(get("freq_offset", 0.0)))),
                           ("clock_offset", pmt.from_double(float(get("clock_offset", 0.0)))),
                           ("equalized", pmt.from_bool(bool(get("equalized", False)))),
                           ("seq", pmt.from_long(int(get(_SEQ_KEY, 0)))),
                           ("ldpc_code", pmt.intern(str(self.codes[int(get(_CODE_KEY, 0))]))),
                           ("ldpc_iterations", pmt.from_long(int(get("iterations", 0))))):
            out = pmt.dict_add(out, pmt.intern(key), value)
        self._counts["packets"] += 1
        return pmt.cons(out, pmt.init_u8vector(len(data), data))
