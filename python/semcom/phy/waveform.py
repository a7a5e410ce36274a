# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The burst waveform of packet_modem_tx / packet_modem_rx, and the payload constellations.

The burst::

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
  :mod:`gnuradio.semcom.phy.fec`), BPSK or Gray QPSK
  (:data:`gnuradio.semcom.core.registry.MODULATIONS`);
* pulse shaping: root raised cosine, ``RRC_SPAN`` symbols long, ``sps`` samples/symbol.
"""

from __future__ import annotations

import math

import numpy as np
from gnuradio import digital
from gnuradio.filter import firdes

from ..core import registry

__all__ = ["MODULATIONS", "SYNC_WORD", "TRAINING_SYMBOLS", "HEADER_BITS", "HEADER_REPEAT",
           "HEADER_SYMBOLS", "HEADER_LEN_KEY", "HEADER_SEQ_KEY", "CRC_BYTES", "MAX_PAYLOAD",
           "RRC_SPAN", "sync_bits", "training_bits", "preamble_bits", "header_axis",
           "header_points", "payload_points", "bits_per_symbol", "check_modulation",
           "constellation", "num_codewords", "rrc_taps", "rx_latency_symbols", "check_params"]

MODULATIONS = registry.keys(registry.MODULATIONS)
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
_R = math.sqrt(0.5)


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
