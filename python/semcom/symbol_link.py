# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Symbol-level link for fast sweeps: PDU in -> CRC-32 -> LDPC -> BPSK/QPSK -> channel -> back.

``symbol_link`` is the paper's "ordinary PHY" without the waveform: ideal timing and
carrier, one complex sample per symbol, no pulse shaping, no synchronisation.  Each
input PDU (metadata dict + u8 payload) is one packet; it comes out of ``out`` with its
metadata plus ``crc_ok`` (bool) and ``snr_db`` (the configured Es/N0 when the packet
went in).

Data path (stock blocks, Python only for glue and the fading channel)::

    in -> [ingress] -> digital.crc32_async_bb (append) -> [bits, zero pad to m*k]
       -> fec.async_encoder (stock LDPC, unpacked) -> [shorten: drop the pad bits]
       -> pdu.pdu_to_tagged_stream -> (QPSK: blocks.repack_bits_bb 1->2, LSB first)
       -> digital.constellation_encoder_bc (unit-energy BPSK / Gray QPSK)
       -> block_fading_cc (rayleigh: one h ~ CN(0,1) per packet, else gain 1)
       -> filter.fir_filter_ccc (multipath taps, else [1])
       -> blocks.multiply_const_cc (sqrt(Es/N0)) -> blocks.add_cc <- analog.noise_source_c (unit)
       -> blocks.multiply_const_cc (1/sqrt(Es/N0)) -> coherent_derotate_cc (x conj(h), known h)
       -> blocks.complex_to_real (BPSK)
          | blocks.vector_to_stream + blocks.tagged_stream_multiply_length (QPSK: re, im)
       -> blocks.multiply_const_ff (LLR scale) -> analog.rail_ff (+-LLR_CLIP)
       -> pdu.tagged_stream_to_pdu -> [re-insert pad bits as known zeros]
       -> fec.async_decoder (stock LDPC, LLR input) -> [bits -> bytes, split CRC]
       -> digital.crc32_async_bb (append, to recompute the CRC) -> [compare] -> out

Conventions
-----------
* ``snr_db`` is **Es/N0** per channel symbol (unit-energy symbols; complex noise of
  variance N0 = 10**(-snr_db/10) per symbol).  Eb/N0 per *information* bit:
  ``Es/N0 = Eb/N0 + 10 log10(bits_per_symbol * code_rate)``, e.g. BPSK with the rate
  0.501 code n1800_r05: Es/N0 = Eb/N0 - 3.0 dB; QPSK: Es/N0 = Eb/N0 + 0.0 dB.  (CRC,
  padding and shortening are not counted in the code rate.)  Helpers:
  :func:`gnuradio.semcom.phy.fec.esn0_from_ebn0` / ``ebn0_from_esn0``.
* Soft values are LLRs ``LLR_TRUST * 4 a Re(y conj(h)) / N0`` (``a`` = 1 for BPSK, 1/sqrt 2
  for QPSK; ``LLR_TRUST`` = 0.8), clipped to +-:data:`phy.fec.LLR_CLIP`; the decoder reads
  them as LLRs on every GNU Radio 3.10 release (see :mod:`gnuradio.semcom.phy.fec` for
  why this beats both the true-sigma and the ``sigma = 0.5`` recipes on 3.10.5).  The
  receiver knows the configured SNR (genie).
* Soft demapping uses ``complex_to_real`` / the (re, im) floats of each symbol rather
  than ``digital.constellation_soft_decoder_cf``: on 3.10.5 that block computes
  ``exp(-|d| / npwr)`` with the *unsquared* distance, so its soft bits saturate at the
  constellation point (measured: FER 0.41 instead of 0.13 at Eb/N0 1.5 dB), and its
  scaling changed in later 3.10 releases.  For BPSK and Gray QPSK the exact LLR is
  linear in Re/Im, so the stock float blocks give it exactly.
* Gray QPSK: the first of each pair of code bits rides on the real axis, the second on
  the imaginary axis (symbol value = b0 + 2 b1 into ``[(-1-1j), (1-1j), (-1+1j), (1+1j)]/sqrt 2``,
  the order of ``digital.constellation_qpsk``).
* Shortening: the zero padding that fills the last codeword is not transmitted (the
  stock encoder is systematic with the information bits last, so the pad bits are the
  last code bits); the receiver re-inserts them as known zeros (LLR -LLR_CLIP).
* The payload length is known to the receiver (ideal framing), carried by the block.
* Unequal error protection (``packet_codes``, :mod:`gnuradio.semcom.core.uep`): each kind
  of link packet (``model_segment``, ``code``, ``image_data``, read from the packet's type
  byte) can travel with its own stock LDPC code; the others use ``code``. Each code has its
  own stock encoder and decoder, and the packet's code index travels with it through the
  link like its length (ideal signalling; a burst header would carry it on the air).

Channels
--------
* ``'awgn'``: complex AWGN.
* ``'rayleigh'``: slow flat Rayleigh fading as in the paper: one gain h ~ CN(0,1) per
  packet, constant within the packet and independent between packets, followed by AWGN
  (``snr_db`` is then the *average* Es/N0).  Ideal coherent equalisation: the receiver
  knows h and multiplies by conj(h) — the same hard decisions as dividing by h, with the
  soft values weighted by |h|^2 as the LLR requires.
* ``'multipath'``: tapped delay line ``y[n] = sum_l h_l x[n-l] + w[n]`` (FIR ``taps``, used
  as given: normalise them for Es/N0 to be the received one).  The receiver is synchronised
  to the direct path ``h_0`` and does a one-tap coherent correction with it (x conj(h_0));
  the later taps are left as inter-symbol interference (no equaliser), counted as
  Gaussian noise of power ``sum_{l>0} |h_l|^2`` in the LLR scale.  Back-to-back packets:
  the tail of one packet interferes with the start of the next, as in a continuous burst.

Why the channel is not ``channels.channel_model``: measured on 3.10.5, its built-in
sample-clock resampler (``mmse_resampler_cc``, present even at epsilon = 1) shifts the
stream by a few samples and withholds the last ones until more input arrives, so a
tagged packet comes out misaligned and the last packet never comes out.  The same stock
primitives it uses for taps and noise (``fir_filter_ccc``, a Gaussian noise source,
``add_cc``) are used here directly.  The full-waveform :class:`channel_model` uses the
stock block.  The noise source runs ahead of the packets (it fills its output buffer
with samples of the amplitude of the moment), so instead of changing its amplitude the
link adds *unit* noise to the signal scaled by ``sqrt(Es/N0)`` and scales the sum back:
``y = (g x + w) / g = x + w / g``.  Both gains sit on the packet path, so
:meth:`set_snr_db` applies to the next packet (packets inside the channel at that instant
may see either value; their ``snr_db`` is the value when they went in).  The FIR keeps a
fixed number of taps (zero-padded to at least :data:`MAX_TAPS`): a change of its length at
run time would change its history and shift the packet stream.

Runtime setters: :meth:`set_snr_db`, :meth:`set_channel`, :meth:`set_taps`,
:meth:`set_drop_bad_crc`.  Counters: :meth:`stats`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import pmt
from gnuradio import analog, blocks, digital, fec, filter, gr, pdu

from .core import registry, uep
from .phy import fec as semfec
from .phy.channel import (block_fading_cc, check_channel, check_taps, coherent_derotate_cc,
                          new_seed)
from .phy.glue import msg_map, msg_route, per_pdu
from .phy.waveform import bits_per_symbol, check_modulation, constellation

__all__ = ["symbol_link"]

LEN_KEY = "packet_len"
MAX_TAPS = 16
_SEQ_KEY = pmt.intern("semcom_seq")
_CRC_BYTES = 4
_MAX_PENDING = 65536


def _meta_get(meta, key, default=None):
    if pmt.is_dict(meta) and pmt.dict_has_key(meta, key):
        return pmt.dict_ref(meta, key, pmt.PMT_NIL)
    return default


class symbol_link(gr.hier_block2):
    """Symbol-level PHY link: PDUs in ``in``, PDUs out of ``out`` (metadata + crc_ok, snr_db).

    Args:
        modulation: ``'bpsk'`` or ``'qpsk'``.
        code: LDPC code key of :data:`gnuradio.semcom.core.registry.LDPC_CODES` (or an
            alist path).
        channel: ``'awgn'``, ``'rayleigh'`` or ``'multipath'``.
        snr_db: Es/N0 in dB per channel symbol (average for ``'rayleigh'``).
        taps: multipath taps (complex list), used when ``channel == 'multipath'``.
        seed: seed of noise and fading (``None``: random).
        drop_bad_crc: drop packets whose CRC-32 fails (default); False passes them on
            with ``crc_ok`` False so that errors can be measured.
        max_iter: LDPC decoder iterations.
        mtu: largest payload in bytes (sizes the stream buffers and the FEC blocks).
        llr_scale: ``None`` (default) for LLRs from ``snr_db`` (:func:`phy.fec.llr_scale`);
            a float to feed the decoder ``llr_scale * Re(y conj(h)) / a`` instead (soft
            values normalised to +-1 symbol amplitude ``a``, times a fixed factor: 2.0 is
            the old ``sigma = 0.5`` recipe); for comparisons.
        decoder_sigma: ``None`` (default, LLR input); a float is passed to the
            < 3.10.8 decoder as is (legacy; for comparisons).
        packet_codes: unequal error protection: ``{packet kind: code key}`` or the string
            ``"model_segment=n0500_r025,code=..."`` (``core.uep``); kinds not named, and
            packets of no known kind, use ``code``. Default: every packet uses ``code``.
    """

    def __init__(self, modulation: str = "bpsk", code: str = semfec.DEFAULT_CODE,
                 channel: str = "awgn", snr_db: float = 10.0, taps=(1.0,), seed=None,
                 drop_bad_crc: bool = True, max_iter: int = 50, mtu: int = 4096,
                 llr_scale: float | None = None, decoder_sigma: float | None = None,
                 packet_codes=None):
        gr.hier_block2.__init__(self, "semcom_symbol_link", gr.io_signature(0, 0, 0),
                                gr.io_signature(0, 0, 0))
        self.message_port_register_hier_in("in")
        self.message_port_register_hier_out("out")
        self._check_settings(modulation, code, channel, snr_db, taps, drop_bad_crc, mtu,
                             llr_scale, packet_codes)
        seed = new_seed(seed)
        self._lock = threading.Lock()
        self._pending = OrderedDict()      # seq -> per-packet state
        self._seq = 0
        self._stats = {"in": 0, "out": 0, "crc_fail": 0, "dropped": 0, "errors": 0}

        # Geometry of the largest packet, over the codes: buffer sizes.
        max_bits = fec_mtu = 0
        for c in self._codes:
            n, k = semfec.code_dims(c)
            m_max, _ = semfec.frame_geometry(8 * (self._mtu + _CRC_BYTES), c)
            max_bits = max(max_bits, m_max * n)
            fec_mtu = max(fec_mtu, -(-(m_max * k) // 8) + 16)   # bytes of padded info bits
        max_syms = -(-max_bits // self._bps)

        self._build_transmitter(fec_mtu)
        soft_chain = self._build_channel_and_demapper(seed)
        self._size_stream_buffers(soft_chain, max_bits, max_syms)
        self._build_receiver(max_iter, decoder_sigma, fec_mtu)

    # ------------------------------------------------------------------ construction steps
    def _check_settings(self, modulation, code, channel, snr_db, taps, drop_bad_crc, mtu,
                        llr_scale, packet_codes):
        if int(mtu) < 1:
            raise ValueError("mtu must be >= 1 byte")
        self._modulation = check_modulation(modulation)
        self._bps = bits_per_symbol(self._modulation)
        self._code = code
        self._n, self._k = semfec.code_dims(code)
        self._packet_codes = uep.parse_packet_codes(packet_codes)
        # the distinct codes, the link's own first: a packet carries its index into these
        self._codes = uep.code_table(code, self._packet_codes)
        self._channel = check_channel(channel)
        self._taps = self._check_taps(taps)
        self._snr_db = float(snr_db)
        self._drop_bad_crc = bool(drop_bad_crc)
        self._fixed_llr_scale = None if llr_scale is None else float(llr_scale)
        self._mtu = int(mtu)

    def _glue(self, name, fn):
        return msg_map(name, per_pdu(fn), gr.logger(name), on_error=self._count_error)

    def _build_transmitter(self, fec_mtu):
        """PDU -> CRC-32 -> bits padded to whole codewords -> LDPC -> shortened bits."""
        self.ingress = self._glue("semcom_link_ingress", self._ingress)
        self.crc_tx = digital.crc32_async_bb(False)
        self.framer = self._glue("semcom_link_frame", self._frame)
        self.encoders = [fec.async_encoder(semfec.make_ldpc_encoder(c), False, True, True,
                                           fec_mtu) for c in self._codes]
        self.encoder = self.encoders[0]
        self.shorten = self._glue("semcom_link_shorten", self._shorten)
        self.msg_connect(self, "in", self.ingress, "in")
        self.msg_connect(self.ingress, "out", self.crc_tx, "in")
        self.msg_connect(self.crc_tx, "out", self.framer, "in")
        self._connect_per_code(self.framer, "semcom_link_tx_route", self.encoders)
        for enc in self.encoders:
            self.msg_connect(enc, "out", self.shorten, "in")

    def _connect_per_code(self, src, name, blocks_per_code):
        """``src`` -> the block of each packet's code (directly when there is one code)."""
        if len(blocks_per_code) == 1:
            self.msg_connect(src, "out", blocks_per_code[0], "in")
            return
        route = msg_route(name, len(blocks_per_code), self._code_index_of, gr.logger(name),
                          on_error=self._count_error)
        setattr(self, name.replace("semcom_link_", ""), route)
        self.msg_connect(src, "out", route, "in")
        for i, blk in enumerate(blocks_per_code):
            self.msg_connect(route, f"out{i}", blk, "in")

    def _code_index_of(self, msg) -> int:
        return self._state(pmt.car(msg))[1]["code_index"]

    def _build_channel_and_demapper(self, seed) -> list:
        """Bits -> symbols -> fading, taps, noise -> coherent soft values -> LLR PDUs.

        Returns the soft-demapping blocks (their buffers are sized with the others)."""
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, LEN_KEY)
        self.const = constellation(self._modulation)
        self.mapper = digital.constellation_encoder_bc(self.const)
        self.fading = block_fading_cc(1, LEN_KEY, seed + 1, enabled=(self._channel == "rayleigh"),
                                      always_tag=True)
        self._ntaps = max(MAX_TAPS, len(self._taps))
        self.multipath = filter.fir_filter_ccc(1, self._active_taps())
        self.sig_gain = blocks.multiply_const_cc(self._sig_gain())
        self.noise = analog.noise_source_c(analog.GR_GAUSSIAN, 1.0, seed)
        self.add = blocks.add_cc()
        self.sig_norm = blocks.multiply_const_cc(1.0 / self._sig_gain())
        self.derotate = coherent_derotate_cc(self._h_ref())
        self.scale = blocks.multiply_const_ff(self._llr_scale())
        self.clip = analog.rail_ff(-semfec.LLR_CLIP, semfec.LLR_CLIP)
        self.to_pdu = pdu.tagged_stream_to_pdu(gr.types.float_t, LEN_KEY)
        self.msg_connect(self.shorten, "out", self.to_stream, "pdus")

        chain = [self.to_stream]
        if self._bps == 2:
            self.repack = blocks.repack_bits_bb(1, 2, LEN_KEY, False, gr.GR_LSB_FIRST)
            chain.append(self.repack)
        chain += [self.mapper, self.fading, self.multipath, self.sig_gain, (self.add, 0)]
        self.connect(*chain)
        self.connect(self.noise, (self.add, 1))
        if self._bps == 1:
            self.soft = blocks.complex_to_real(1)
            soft_chain = [self.soft]
        else:
            self.soft = blocks.vector_to_stream(gr.sizeof_float, 2)   # (re, im) per symbol
            self.soft_len = blocks.tagged_stream_multiply_length(gr.sizeof_float, LEN_KEY, 2.0)
            soft_chain = [self.soft, self.soft_len]
        self.connect(self.add, self.sig_norm, self.derotate, *soft_chain, self.scale, self.clip,
                     self.to_pdu)
        return soft_chain

    def _size_stream_buffers(self, soft_chain, max_bits, max_syms):
        # Whole packets must fit in the buffers of the tagged-stream blocks.
        for blk, items in [(self.to_stream, max_bits), (self.mapper, max_syms),
                           (self.fading, max_syms), (self.multipath, max_syms),
                           (self.sig_gain, max_syms), (self.add, max_syms),
                           (self.sig_norm, max_syms), (self.derotate, max_syms),
                           (self.scale, max_bits), (self.clip, max_bits)] + \
                [(b, max_bits) for b in soft_chain] + \
                ([(self.repack, max_syms)] if self._bps == 2 else []):
            blk.set_min_output_buffer(2 * int(items) + 1024)
        # VOLK-aligned blocks otherwise hold back the last (len % alignment) samples of a
        # packet until more arrive (seen with add_cc on 3.10.5): the last packet would
        # never come out.  An explicit output multiple of 1 turns the alignment logic off.
        for blk in (self.mapper, self.sig_gain, self.add, self.sig_norm, self.scale,
                    self.clip) + \
                ((self.soft,) if self._bps == 1 else ()):
            blk.set_output_multiple(1)

    def _build_receiver(self, max_iter, decoder_sigma, fec_mtu):
        """LLR PDUs -> pad bits re-inserted -> LDPC decoder -> CRC-32 check -> out."""
        self.unshorten = self._glue("semcom_link_unshorten", self._unshorten)
        self.decoders = [fec.async_decoder(
            semfec.make_ldpc_decoder(c, max_iter, decoder_sigma), False, False, fec_mtu)
            for c in self._codes]
        self.decoder = self.decoders[0]
        self.deframer = self._glue("semcom_link_deframe", self._deframe)
        self.crc_rx = digital.crc32_async_bb(False)
        self.judge = self._glue("semcom_link_judge", self._judge)
        self.msg_connect(self.to_pdu, "pdus", self.unshorten, "in")
        self._connect_per_code(self.unshorten, "semcom_link_rx_route", self.decoders)
        for dec in self.decoders:
            self.msg_connect(dec, "out", self.deframer, "in")
        self.msg_connect(self.deframer, "out", self.crc_rx, "in")
        self.msg_connect(self.crc_rx, "out", self.judge, "in")
        self.msg_connect(self.judge, "out", self, "out")

    @staticmethod
    def _check_taps(taps) -> list:
        taps = check_taps(taps)
        if taps[0] == 0:
            raise ValueError("taps[0] (the direct path the receiver locks to) must be non-zero")
        return taps

    def _count_error(self) -> None:
        with self._lock:
            self._stats["errors"] += 1

    # ------------------------------------------------------------------ channel maths
    def _sig_gain(self) -> float:
        """sqrt(Es/N0): signal gain in front of the unit-variance noise."""
        return float(np.sqrt(10.0 ** (self._snr_db / 10.0)))

    def _active_taps(self) -> list:
        taps = self._taps if self._channel == "multipath" else [1 + 0j]
        return list(taps) + [0j] * (self._ntaps - len(taps))

    def _h_ref(self) -> complex:
        return self._taps[0] if self._channel == "multipath" else 1 + 0j

    def _llr_scale(self) -> float:
        if self._fixed_llr_scale is not None:     # per unit of symbol amplitude
            amplitude = registry.modulation(self._modulation).component_amplitude
            return self._fixed_llr_scale / amplitude
        isi = 0.0
        if self._channel == "multipath":
            isi = float(sum(abs(t) ** 2 for t in self._taps[1:]))
        return semfec.llr_scale(self._snr_db, self._modulation, isi)

    def _apply_channel(self) -> None:
        g = self._sig_gain()
        self.sig_gain.set_k(g)
        self.sig_norm.set_k(1.0 / g)
        self.multipath.set_taps(self._active_taps())
        self.derotate.set_h_ref(self._h_ref())
        self.fading.set_enabled(self._channel == "rayleigh")
        self.scale.set_k(self._llr_scale())

    # ------------------------------------------------------------------ message glue
    def _ingress(self, meta, data):
        if not pmt.is_u8vector(data) or pmt.length(data) == 0:
            raise ValueError("payload must be a non-empty u8vector")
        nbytes = pmt.length(data)
        if nbytes > self._mtu:
            raise ValueError(f"payload of {nbytes} bytes exceeds the mtu of {self._mtu}")
        code = uep.code_for(bytes([pmt.u8vector_ref(data, 0)]), self._code, self._packet_codes)
        code_index = self._codes.index(code)
        m, pad = semfec.frame_geometry(8 * (nbytes + _CRC_BYTES), code)
        drop = pad - (pad % self._bps)          # pad bits left out of the transmission
        with self._lock:
            seq = self._seq
            self._seq += 1
            self._stats["in"] += 1
            self._pending[seq] = {"meta": meta, "nbytes": nbytes, "m": m, "pad": pad,
                                  "drop": drop, "snr_db": self._snr_db,
                                  "code_index": code_index}
            while len(self._pending) > _MAX_PENDING:
                self._pending.popitem(last=False)
        return pmt.dict_add(pmt.make_dict(), _SEQ_KEY, pmt.from_long(seq)), data

    def _state(self, meta) -> tuple:
        seq = pmt.to_long(_meta_get(meta, _SEQ_KEY))
        with self._lock:
            st = self._pending.get(seq)
        if st is None:
            raise KeyError(f"unknown packet sequence number {seq}")
        return seq, st

    def _frame(self, meta, data):
        _, st = self._state(meta)
        bits = np.unpackbits(np.asarray(pmt.u8vector_elements(data), dtype=np.uint8))
        bits = np.concatenate([bits, np.zeros(st["pad"], dtype=np.uint8)])
        return meta, pmt.init_u8vector(len(bits), bits)

    def _shorten(self, meta, data):
        _, st = self._state(meta)
        bits = np.asarray(pmt.u8vector_elements(data), dtype=np.uint8)
        if st["drop"]:
            bits = bits[:len(bits) - st["drop"]]
        return meta, pmt.init_u8vector(len(bits), bits)

    def _unshorten(self, meta, data):
        _, st = self._state(meta)
        llr = np.asarray(pmt.f32vector_elements(data), dtype=np.float32)
        code = self._codes[st["code_index"]]
        n, _ = semfec.code_dims(code)
        want = semfec.async_decoder_frame_len(code, st["m"])
        full = np.zeros(want, dtype=np.float32)
        nsent = st["m"] * n - st["drop"]
        full[:nsent] = llr[:nsent]
        full[nsent:st["m"] * n] = -semfec.LLR_CLIP              # known zeros
        return pmt.dict_add(pmt.make_dict(), _SEQ_KEY, _meta_get(meta, _SEQ_KEY)), \
            pmt.init_f32vector(len(full), full)

    def _deframe(self, meta, data):
        seq, st = self._state(meta)
        bits = np.asarray(pmt.u8vector_elements(data), dtype=np.uint8)
        nb = 8 * (st["nbytes"] + _CRC_BYTES)
        if len(bits) < nb:
            raise ValueError(f"decoder gave {len(bits)} bits, expected {nb}")
        raw = np.packbits(bits[:nb] & 1)
        with self._lock:
            st["rx_crc"] = raw[-_CRC_BYTES:].tobytes()
        payload = raw[:-_CRC_BYTES]
        return meta, pmt.init_u8vector(len(payload), payload)

    def _judge(self, meta, data):
        seq = pmt.to_long(_meta_get(meta, _SEQ_KEY))
        with self._lock:
            st = self._pending.pop(seq, None)
        if st is None:
            raise KeyError(f"unknown packet sequence number {seq}")
        both = np.asarray(pmt.u8vector_elements(data), dtype=np.uint8)
        payload, crc = both[:-_CRC_BYTES], both[-_CRC_BYTES:].tobytes()
        ok = crc == st.get("rx_crc")
        with self._lock:
            if not ok:
                self._stats["crc_fail"] += 1
            if not ok and self._drop_bad_crc:
                self._stats["dropped"] += 1
                return None
            self._stats["out"] += 1
        out_meta = st["meta"] if pmt.is_dict(st["meta"]) else pmt.make_dict()
        out_meta = pmt.dict_add(out_meta, pmt.intern("crc_ok"), pmt.from_bool(bool(ok)))
        out_meta = pmt.dict_add(out_meta, pmt.intern("snr_db"), pmt.from_double(st["snr_db"]))
        return out_meta, pmt.init_u8vector(len(payload), payload)

    # ------------------------------------------------------------------ public API
    def post(self, msg) -> None:
        """Deliver a PDU to the ``in`` port directly (for scripts: a hier block's own port
        cannot be posted to)."""
        self.ingress.to_basic_block()._post(pmt.intern("in"), msg)

    def set_snr_db(self, snr_db: float) -> None:
        """New Es/N0 (dB) for the packets that enter the channel from now on."""
        self._snr_db = float(snr_db)
        self._apply_channel()

    def set_channel(self, channel: str) -> None:
        """Switch between 'awgn', 'rayleigh' and 'multipath' while running."""
        self._channel = check_channel(channel)
        self._apply_channel()

    def set_taps(self, taps) -> None:
        """New multipath taps (take effect when the channel is 'multipath'); at most
        ``max(MAX_TAPS, len(initial taps))`` of them."""
        taps = self._check_taps(taps)
        if len(taps) > self._ntaps:
            raise ValueError(f"at most {self._ntaps} taps (fixed when the link was built)")
        self._taps = taps
        self._apply_channel()

    def set_drop_bad_crc(self, drop_bad_crc: bool) -> None:
        self._drop_bad_crc = bool(drop_bad_crc)

    def snr_db(self) -> float:
        return self._snr_db

    def ebn0_db(self) -> float:
        """Eb/N0 (dB) per information bit of the configured Es/N0."""
        return semfec.ebn0_from_esn0(self._snr_db, self._modulation, self._code)

    def channel(self) -> str:
        return self._channel

    def taps(self) -> list:
        return list(self._taps)

    def modulation(self) -> str:
        return self._modulation

    def code_dims(self) -> tuple:
        """``(n, k)`` of the LDPC code, as :func:`gnuradio.semcom.phy.fec.code_dims`."""
        return self._n, self._k

    def symbols_per_packet(self, nbytes: int, code: str | None = None) -> int:
        """Channel symbols used by a payload of ``nbytes`` bytes on ``code`` (default: the
        link's ``code``)."""
        code = self._code if code is None else code
        n, _ = semfec.code_dims(code)
        m, pad = semfec.frame_geometry(8 * (int(nbytes) + _CRC_BYTES), code)
        return (m * n - (pad - pad % self._bps)) // self._bps

    def symbols_of_packet(self, data) -> int:
        """Channel symbols used by the payload ``data`` (bytes), on its kind's code."""
        return self.symbols_per_packet(len(data),
                                       uep.code_for(data, self._code, self._packet_codes))

    def packet_codes(self) -> dict:
        """The unequal-error-protection map ``{packet kind: code}`` (empty: none)."""
        return dict(self._packet_codes)

    def pending(self) -> int:
        """Packets inside the link."""
        with self._lock:
            return len(self._pending)

    def stats(self) -> dict:
        """Counters: in, out, crc_fail, dropped (CRC failures not passed on), errors
        (packets lost to an exception in the glue, e.g. a payload over the mtu)."""
        with self._lock:
            return dict(self._stats)
