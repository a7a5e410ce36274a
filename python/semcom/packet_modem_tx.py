"""Packet modem transmitter: PDUs in, pulse-shaped complex baseband bursts out.

The burst (shared with :mod:`packet_modem_rx`, which imports the definitions below)::

    | zeros | training | sync word | header  | payload (LDPC codewords)  | zeros    |
      16 sym  32 sym     64 sym      96 sym    ncw * n / bits per symbol   128 sym

* training: 32 pseudo-random symbols (fixed) for the receiver's loops to settle;
* sync word: the 64-bit ``digital.packet_utils.default_access_code``; the receiver finds
  it with ``correlate_access_code_bb`` in each phase ambiguity of its Costas loop;
* header: ``digital.header_format_crc`` (12-bit length in bytes of payload + CRC-32,
  12-bit packet counter, CRC-8), 32 bits, each sent 3 times (soft-combined by the
  receiver);
* training, sync word and header are BPSK on the axis ``a`` (1 in BPSK mode, exp(j pi/4)
  in QPSK mode: points of the payload constellation, so one Costas loop serves it all);
* payload: the PDU bytes + CRC-32 (``digital.crc_append``), as bits, zero-padded to a
  whole number ``ncw`` of LDPC information words (the header carries the true length),
  LDPC-encoded (``fec.async_encoder`` with the stock encoder of
  :mod:`gnuradio.semcom.phy.fec`), BPSK or Gray QPSK;
* pulse shaping: root raised cosine, ``RRC_SPAN`` symbols long, ``sps`` samples/symbol.
"""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import blocks, digital, fec, filter, gr, pdu
from gnuradio.filter import firdes

from .phy import fec as semfec
from .phy.glue import msg_map

__all__ = ["packet_modem_tx"]

# --------------------------------------------------------------------------------------
# Waveform definition (imported by packet_modem_rx)
# --------------------------------------------------------------------------------------
MODULATIONS = ("bpsk", "qpsk")
SYNC_WORD = digital.packet_utils.default_access_code      # 64 bits, as a '0'/'1' string
TRAINING_SYMBOLS = 32
HEADER_BITS = 32                                           # header_format_crc
HEADER_REPEAT = 3                                          # each header bit sent 3 times
HEADER_SYMBOLS = HEADER_BITS * HEADER_REPEAT
HEADER_LEN_KEY = "semcom_hdr_len"                          # bits of payload + CRC
HEADER_SEQ_KEY = "semcom_hdr_seq"
CRC_BYTES = 4
MAX_PAYLOAD = 4095 - CRC_BYTES                             # 12-bit length field
RRC_SPAN = 12                                              # RRC length in symbols
_TX_LEN_KEY = "packet_len"
_R = np.sqrt(0.5)


def sync_bits() -> np.ndarray:
    return np.array([int(c) for c in SYNC_WORD], dtype=np.uint8)


def training_bits() -> np.ndarray:
    """A fixed pseudo-random sequence. (Alternating symbols would be the strongest timing
    signal, but they are two tones on the band edges that throw the receiver's band-edge
    FLL off at every burst; measured: more first-packet losses.)"""
    return np.random.default_rng(7).integers(0, 2, TRAINING_SYMBOLS).astype(np.uint8)


def preamble_bits() -> np.ndarray:
    """Training + sync word bits, sent before the header bits."""
    return np.concatenate([training_bits(), sync_bits()])


def header_axis(modulation: str) -> complex:
    """Unit vector of the BPSK axis used by training, sync word and header."""
    return complex(_R, _R) if modulation == "qpsk" else 1 + 0j


def header_points(modulation: str) -> list:
    a = header_axis(modulation)
    return [-a, a]                                         # bit 0 -> -a, bit 1 -> +a


def payload_points(modulation: str) -> list:
    """Symbol value -> point; bit 1 is the positive side of its axis (MSB: imag for QPSK)."""
    if modulation == "bpsk":
        return [-1 + 0j, 1 + 0j]
    return [complex(-_R, -_R), complex(_R, -_R), complex(-_R, _R), complex(_R, _R)]


def bits_per_symbol(modulation: str) -> int:
    return 1 if modulation == "bpsk" else 2


def check_modulation(modulation: str) -> str:
    mod = str(modulation).lower()
    if mod not in MODULATIONS:
        raise ValueError(f"modulation must be one of {MODULATIONS}, not {modulation!r}")
    return mod


def code_dims(code: str) -> tuple:
    """(n, k) of an LDPC code key of ``phy.fec.CODES`` (or alist path)."""
    with open(semfec.alist_path(code)) as f:
        n, m = (int(v) for v in f.readline().split()[:2])
    enc = semfec.make_ldpc_encoder(code)
    k = int(enc.get_input_size())
    if not 0 < k < n or m <= 0:
        raise ValueError(f"LDPC code {code!r}: unexpected dimensions n={n}, k={k}")
    return n, k


def num_codewords(nbytes: int, k: int) -> int:
    """Codewords for ``nbytes`` (payload + CRC) bytes."""
    return -(-8 * int(nbytes) // int(k))


def rrc_taps(sps: int, rolloff: float) -> np.ndarray:
    """RRC pulse, ``RRC_SPAN`` symbols long, normalised to energy ``sps`` (so that unit-energy
    symbols give a unit-power waveform and the matched filter output has unit amplitude)."""
    ntaps = RRC_SPAN * sps + 1
    taps = np.asarray(firdes.root_raised_cosine(1.0, sps, 1.0, rolloff, ntaps))
    return taps * np.sqrt(sps / np.sum(taps ** 2))


def rx_latency_symbols(sps: int = 2) -> int:
    """Zero symbols packet_modem_rx needs after a burst to finish it without further input.

    Its sync word correlator delays the symbols by 64, the FLL by ~16.5 symbols and the
    matched filter by RRC_SPAN / 2; 128 leaves a margin (measured: 110 suffice at sps 2
    and 4)."""
    return 128


def check_params(sps, rolloff, amplitude=1.0):
    if int(sps) != sps or not 2 <= int(sps) <= 16:
        raise ValueError(f"sps must be an integer in 2..16, not {sps!r}")
    if not 0.05 <= float(rolloff) <= 1.0:
        raise ValueError(f"rolloff must be in 0.05..1, not {rolloff!r}")
    if not 0 < float(amplitude) <= 100:
        raise ValueError(f"amplitude must be in (0, 100], not {amplitude!r}")


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
      code: LDPC code key of ``gnuradio.semcom.phy.fec.CODES`` (default ``'n1800_r05'``,
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
        self.modulation = check_modulation(modulation)
        check_params(sps, rolloff, amplitude)
        self.sps = int(sps)
        self.rolloff = float(rolloff)
        self.amplitude = float(amplitude)
        self.code = code
        self.n, self.k = code_dims(code)
        self.mtu = int(mtu)
        if not 1 <= self.mtu <= MAX_PAYLOAD:
            raise ValueError(f"mtu must be in 1..{MAX_PAYLOAD}, not {mtu!r}")
        if int(pre_pad) < 0:
            raise ValueError("pre_pad must be >= 0")
        self.pre_pad = int(pre_pad)
        post_pad = rx_latency_symbols(self.sps) if int(post_pad) < 0 else int(post_pad)
        self.post_pad = max(post_pad, RRC_SPAN)                # room for the filter tail
        self.bps = bits_per_symbol(self.modulation)
        self.packets = 0
        self.message_port_register_hier_in("in")

        self._pre_bits = preamble_bits()
        k = self.k

        def validate(msg):
            if not pmt.is_pair(msg) or not pmt.is_u8vector(pmt.cdr(msg)):
                raise ValueError("input is not a PDU with a u8vector payload")
            size = pmt.length(pmt.cdr(msg))
            if not 1 <= size <= self.mtu:
                raise ValueError(f"payload of {size} bytes; must be 1..{self.mtu}")
            self.packets += 1
            return pmt.cons(pmt.make_dict(), pmt.cdr(msg))     # metadata stays here

        lead = np.full(self.pre_pad, 2, dtype=np.uint8)       # symbol 2 of hdr_map: 0

        def header_bits(msg):
            hdr = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
            hdr_bits = np.repeat(np.unpackbits(hdr)[:HEADER_BITS], HEADER_REPEAT)
            bits = np.concatenate([lead, self._pre_bits, hdr_bits])
            return pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(bits), bits))

        def payload_bits(msg):
            data = np.asarray(pmt.u8vector_elements(pmt.cdr(msg)), dtype=np.uint8)
            ncw = num_codewords(len(data), k)
            bits = np.zeros(ncw * k, dtype=np.uint8)
            bits[:8 * len(data)] = np.unpackbits(data)
            return pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(bits), bits))

        log = gr.logger("semcom_packet_modem_tx")
        self.validate = msg_map("semcom_tx_validate", validate, log)
        self.crc = digital.crc_append(32, 0x04C11DB7, 0xFFFFFFFF, 0xFFFFFFFF, True, True,
                                      False, 0)
        self.hdr_format = digital.header_format_crc(HEADER_LEN_KEY, HEADER_SEQ_KEY)
        self.formatter = digital.protocol_formatter_async(self.hdr_format)
        self.hdr_glue = msg_map("semcom_tx_header", header_bits, log)
        self.pld_glue = msg_map("semcom_tx_pad", payload_bits, log)
        self.encoder = fec.async_encoder(semfec.make_ldpc_encoder(code), False, False, False,
                                         (MAX_PAYLOAD + CRC_BYTES) * 8 * 4)

        self.msg_connect(self, "in", self.validate, "in")
        self.msg_connect(self.validate, "out", self.crc, "in")
        self.msg_connect(self.crc, "out", self.formatter, "in")
        self.msg_connect(self.formatter, "header", self.hdr_glue, "in")
        self.msg_connect(self.formatter, "payload", self.pld_glue, "in")
        self.msg_connect(self.pld_glue, "out", self.encoder, "in")

        # header path: bits -> BPSK on the header axis
        self.hdr_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, _TX_LEN_KEY)
        self.hdr_map = digital.chunks_to_symbols_bc(header_points(self.modulation) + [0j], 1)
        # payload path: coded bits -> bps-bit symbols -> points
        self.pld_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, _TX_LEN_KEY)
        self.pld_repack = blocks.repack_bits_bb(1, self.bps, _TX_LEN_KEY, False,
                                                gr.GR_MSB_FIRST)
        self.pld_map = digital.chunks_to_symbols_bc(payload_points(self.modulation), 1)
        self.msg_connect(self.hdr_glue, "out", self.hdr_stream, "pdus")
        self.msg_connect(self.encoder, "out", self.pld_stream, "pdus")

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

    def burst_samples(self, payload_bytes: int) -> int:
        """Samples of the burst that carries a ``payload_bytes``-byte PDU."""
        ncw = num_codewords(payload_bytes + CRC_BYTES, self.k)
        symbols = (len(self._pre_bits) + HEADER_SYMBOLS + ncw * self.n // self.bps
                   + self.pre_pad + self.post_pad)
        return symbols * self.sps
