# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The burst waveform of packet_modem_tx / packet_modem_rx, and the payload constellations.

The burst (symbols; zeros before and after it are the transmitter's padding)::

    | zeros | preamble | chunk 0 = header | pilot | chunk 1 | pilot | ... | last chunk | pilot |
              256 sym    512 sym            32      512               32     <= 512        32
    (then zeros)

* preamble: :data:`PREAMBLE_SYMBOLS` fixed pseudo-random symbols; the receiver
  (:mod:`gnuradio.semcom.core.burstsync`) detects it by a differential correlation that
  no carrier offset weakens and estimates timing, frequency, gain and (optionally) an
  equaliser from it;
* body = header + payload, cut into chunks of :data:`PILOT_SPACING` symbols, each chunk
  followed by a block of :data:`PILOT_SYMBOLS` known pilot symbols (the last, partial
  chunk too), from which the receiver tracks phase, amplitude and sample clock;
* header: 32 bits (:func:`header_bits`: 12-bit length in bytes of payload + CRC-32, 12-bit
  packet counter -- with codes per packet kind, a 2-bit index of the payload's LDPC code in
  the link's code table and a 10-bit counter -- CRC-8), the whole word sent
  :data:`HEADER_REPEAT` = 16 times (soft-combined by the receiver: 12 dB more energy per
  bit than a payload symbol, so the header fails far less often than the LDPC-coded
  payload at any Es/N0);
* preamble, header and pilots are BPSK on the axis ``a`` (1 in BPSK mode, exp(j pi/4) in
  QPSK mode: points of the payload constellation);
* payload: the PDU bytes + CRC-32 (``digital.crc_append``), as bits, zero-padded to a
  whole number ``ncw`` of LDPC information words (the header carries the true length),
  LDPC-encoded (``fec.async_encoder`` with the stock encoder of
  :mod:`gnuradio.semcom.phy.fec`), shortened as in ``symbol_link`` (the padding's code
  bits, the last of the frame with the systematic encoder, are not sent; the receiver
  re-inserts them as known zeros), BPSK or Gray QPSK
  (:data:`gnuradio.semcom.core.registry.MODULATIONS`, first bit of a pair the MSB);
* pulse shaping: root raised cosine, ``RRC_SPAN`` symbols long, ``sps`` samples/symbol.
"""

from __future__ import annotations

import math

import numpy as np
from gnuradio import digital
from gnuradio.filter import firdes

from ..core import registry

__all__ = ["MODULATIONS", "PREAMBLE_SYMBOLS", "PILOT_SYMBOLS", "PILOT_SPACING", "HEADER_BITS",
           "HEADER_REPEAT", "HEADER_SYMBOLS", "CODE_BITS", "MAX_CODES", "CRC_BYTES", "MAX_PAYLOAD",
           "RRC_SPAN",
           "preamble_bits", "pilot_bits", "header_bits", "parse_header", "header_axis",
           "header_points", "payload_points", "bits_per_symbol", "check_modulation",
           "constellation", "num_codewords", "shortening", "body_symbols", "burst_format",
           "map_bits", "rrc_taps", "rx_latency_symbols", "check_params"]

MODULATIONS = registry.keys(registry.MODULATIONS)
PREAMBLE_SYMBOLS = 256
PILOT_SYMBOLS = 32
PILOT_SPACING = 512                                        # body symbols between pilots
HEADER_BITS = 32
HEADER_REPEAT = 16                                         # copies of the header word
HEADER_SYMBOLS = HEADER_BITS * HEADER_REPEAT               # = PILOT_SPACING: one chunk
CODE_BITS = 2            # header bits naming the payload's code (unequal error protection)
MAX_CODES = 1 << CODE_BITS
CRC_BYTES = 4
MAX_PAYLOAD = 4095 - CRC_BYTES                             # 12-bit length field
RRC_SPAN = 12                                              # RRC length in symbols
_R = math.sqrt(0.5)


def preamble_bits() -> np.ndarray:
    """The preamble: fixed pseudo-random bits (1 -> +a, 0 -> -a)."""
    return np.random.default_rng(0x5EC0).integers(0, 2, PREAMBLE_SYMBOLS).astype(np.uint8)


def pilot_bits() -> np.ndarray:
    """A pilot block: fixed pseudo-random bits, the same in every block."""
    return np.random.default_rng(0x91107).integers(0, 2, PILOT_SYMBOLS).astype(np.uint8)


def _crc8(bits: np.ndarray) -> int:
    """CRC-8 (polynomial 0x07, initial value 0, MSB first) of a bit vector."""
    reg = 0
    for b in bits:
        fb = ((reg >> 7) & 1) ^ int(b)
        reg = ((reg << 1) & 0xFF) ^ (0x07 if fb else 0)
    return reg


def header_bits(nbytes: int, seq: int, code: int = 0, code_bits: int = 0) -> np.ndarray:
    """The 32 header bits, MSB first: 12-bit ``nbytes`` (payload + CRC-32), 12-bit counter
    field, CRC-8 over the 24 bits before it.

    ``code_bits`` = 0 (a link with one code): the counter field is the packet counter
    ``seq`` modulo 4096, the format of every recording made before codes per packet.
    ``code_bits`` = :data:`CODE_BITS` (unequal error protection): the field's top two bits
    are ``code``, the index of the payload's LDPC code in the link's code table, and its
    other ten the counter modulo 1024."""
    if not 0 < int(nbytes) < 4096:
        raise ValueError(f"nbytes must be in 1..4095, not {nbytes!r}")
    if code_bits not in (0, CODE_BITS):
        raise ValueError(f"code_bits must be 0 or {CODE_BITS}, not {code_bits!r}")
    if not 0 <= int(code) < (1 << code_bits):
        raise ValueError(f"code index {code!r} does not fit in {code_bits} header bits")
    seq_bits = 12 - code_bits
    field = (int(code) << seq_bits) | (int(seq) & ((1 << seq_bits) - 1))
    word = (int(nbytes) << 12) | field
    bits = np.array([(word >> (23 - i)) & 1 for i in range(24)], dtype=np.uint8)
    crc = _crc8(bits)
    return np.concatenate([bits, [(crc >> (7 - i)) & 1 for i in range(8)]]).astype(np.uint8)


def parse_header(bits: np.ndarray, code_bits: int = 0):
    """``(nbytes, seq, code)`` from 32 header bits (:func:`header_bits` with the same
    ``code_bits``; ``code`` is 0 when ``code_bits`` is 0), or ``None`` when the CRC-8
    fails."""
    bits = np.asarray(bits, dtype=np.uint8)
    if len(bits) != HEADER_BITS:
        return None
    crc = int(np.dot(bits[24:], 1 << np.arange(7, -1, -1)))
    if _crc8(bits[:24]) != crc:
        return None
    word = int(np.dot(bits[:24].astype(np.int64), 1 << np.arange(23, -1, -1)))
    seq_bits = 12 - int(code_bits)
    field = word & 0xFFF
    return word >> 12, field & ((1 << seq_bits) - 1), field >> seq_bits


def header_axis(modulation: str) -> complex:
    """Unit vector of the BPSK axis used by training, sync word and header."""
    return complex(_R, _R) if modulation == "qpsk" else 1 + 0j


def header_points(modulation: str) -> list:
    a = header_axis(modulation)
    return [-a, a]                                         # bit 0 -> -a, bit 1 -> +a


def payload_points(modulation: str) -> list:
    """Symbol value -> point (:data:`gnuradio.semcom.core.registry.MODULATIONS`): bit 1 is
    the positive side of its axis; QPSK's bit 1 of the value (the MSB) is the imaginary axis."""
    return list(registry.modulation(modulation).points)


def bits_per_symbol(modulation: str) -> int:
    return registry.modulation(modulation).bits_per_symbol


def check_modulation(modulation: str) -> str:
    """The modulation key, lower case; ``ValueError`` naming the choices otherwise."""
    return registry.check(registry.MODULATIONS, str(modulation).lower(), "modulation")


def constellation(modulation: str):
    """The modulation's points as a GNU Radio constellation object (symbol value -> point),
    for ``digital.constellation_encoder_bc``."""
    mod = registry.modulation(check_modulation(modulation))
    return digital.constellation_calcdist(list(mod.points), [], 2 * mod.bits_per_symbol, 1,
                                          digital.constellation.NO_NORMALIZATION)


def num_codewords(nbytes: int, k: int) -> int:
    """Codewords for ``nbytes`` (payload + CRC) bytes."""
    return -(-8 * int(nbytes) // int(k))


def shortening(nbytes: int, n: int, k: int, bps: int) -> tuple:
    """``(ncw, sent_bits)``: codewords for ``nbytes`` (payload + CRC) bytes and the code
    bits sent; the zero padding's code bits (the frame's last) are left out, as many as
    keep a whole number of symbols (``symbol_link``'s shortening)."""
    ncw = num_codewords(nbytes, k)
    pad = ncw * k - 8 * int(nbytes)
    return ncw, ncw * n - (pad - pad % bps)


def body_symbols(nbytes: int, n: int, k: int, bps: int) -> int:
    """Body symbols (header + payload) of a burst carrying ``nbytes`` payload + CRC bytes."""
    return HEADER_SYMBOLS + shortening(nbytes, n, k, bps)[1] // bps


def map_bits(bits: np.ndarray, modulation: str) -> np.ndarray:
    """Bits -> unit-energy symbols of the payload constellation (first bit of a QPSK pair
    the MSB of the symbol value)."""
    pts = np.asarray(payload_points(modulation), dtype=np.complex64)
    bits = np.asarray(bits, dtype=np.uint8)
    if bits_per_symbol(modulation) == 2:
        return pts[2 * bits[0::2] + bits[1::2]]
    return pts[bits]


def burst_format(modulation: str, sps: int, rolloff: float):
    """The :class:`gnuradio.semcom.core.burstsync.BurstFormat` of this waveform."""
    from ..core.burstsync import BurstFormat
    a = header_axis(modulation)
    pre = np.where(preamble_bits() > 0, a, -a).astype(np.complex128)
    pil = np.where(pilot_bits() > 0, a, -a).astype(np.complex128)
    return BurstFormat(sps=int(sps), rolloff=float(rolloff), span=RRC_SPAN, preamble=pre,
                       pilot=pil, pilot_spacing=PILOT_SPACING, header_symbols=HEADER_SYMBOLS,
                       header_axis=a, modulation=modulation)


def rrc_taps(sps: int, rolloff: float) -> np.ndarray:
    """RRC pulse, ``RRC_SPAN`` symbols long, normalised to energy ``sps`` (so that unit-energy
    symbols give a unit-power waveform and the matched filter output has unit amplitude)."""
    ntaps = RRC_SPAN * sps + 1
    taps = np.asarray(firdes.root_raised_cosine(1.0, sps, 1.0, rolloff, ntaps))
    return taps * np.sqrt(sps / np.sum(taps ** 2))


def rx_latency_symbols(sps: int = 2) -> int:
    """Zero symbols packet_modem_rx needs after a burst to finish it without further input.

    Its matched filter reaches RRC_SPAN / 2 symbols past the last pilot, its equaliser and
    timing search a few more; 128 leaves a margin for a sample-clock offset too."""
    return 128


def check_params(sps, rolloff, amplitude=1.0):
    if int(sps) != sps or not 2 <= int(sps) <= 16:
        raise ValueError(f"sps must be an integer in 2..16, not {sps!r}")
    if not 0.05 <= float(rolloff) <= 1.0:
        raise ValueError(f"rolloff must be in 0.05..1, not {rolloff!r}")
    if not 0 < float(amplitude) <= 100:
        raise ValueError(f"amplitude must be in (0, 100], not {amplitude!r}")
