# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every name the module knows, each defined once, in the order the user sees it.

Datasets, dataset splits, sweep schemes, baseline schemes, JPEG variants, model-protection
modes, channels, link waveforms, modulations and LDPC codes. CLI choices, constructor checks
and the GRC YAML options all come from here (``qa_grc_yaml`` checks that the YAML options
and labels equal these, in this order). Pure data: the GNU Radio objects built from it
(constellations, LDPC encoders, alist paths) live in ``gnuradio.semcom.phy``.

Each registry is a tuple of entries with a ``key`` and a ``label``; :func:`keys`,
:func:`labels` and :func:`check` work on any of them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["Choice", "Modulation", "LdpcCode", "DATASETS", "SPLITS", "SCHEMES", "BASELINES",
           "JPEG_VARIANTS", "PROTECTIONS", "CHANNELS", "WAVEFORMS", "ENGINES", "DECODERS",
           "MODULATIONS", "LDPC_CODES", "PACKET_KINDS",
           "DEFAULT_CODE", "keys", "labels", "check", "entry", "modulation", "ldpc_code"]


class Choice(NamedTuple):
    key: str
    label: str


class Modulation(NamedTuple):
    """A payload modulation.

    ``points[v]`` is the unit-energy point of symbol value ``v``; bit 0 of ``v`` is the sign of
    the real part, bit 1 the sign of the imaginary part (bit 1 = positive side), so each bit
    rides on one real component of amplitude ``component_amplitude`` and its exact LLR is
    linear in that component. Which code bit lands on which bit of ``v`` is the block's
    business (packet_modem_tx: first bit = MSB; symbol_link: first bit = LSB).
    """

    key: str
    label: str
    bits_per_symbol: int
    points: tuple
    component_amplitude: float


class LdpcCode(NamedTuple):
    """A stock GNU Radio LDPC code: ``file`` in ``share/gnuradio/fec/ldpc``, ``n`` code bits
    and ``k`` information bits per codeword (``qa_fec`` checks them against the encoder)."""

    key: str
    label: str
    file: str
    n: int
    k: int


_R = math.sqrt(0.5)

DATASETS = (Choice("mnist", "MNIST"), Choice("cifar10", "CIFAR-10"))
SPLITS = (Choice("test", "Test"), Choice("train", "Train"))

# The schemes of the paper's evaluation (``semcom sweep --schemes``): kind-variant.
SCHEMES = (
    Choice("aesc-verified", "AESC-I (verified model)"),
    Choice("aesc-paper", "AESC-I (paper model protection)"),
    Choice("jpeg-header-known", "JPEG (header known)"),
    Choice("jpeg-full-file", "JPEG (full file)"),
    Choice("direct", "Direct transmission"),
)
BASELINES = (Choice("jpeg", "JPEG (Pillow)"), Choice("direct", "Direct (raw pixels)"))
JPEG_VARIANTS = (Choice("header-known", "Header known (scan data only)"),
                 Choice("full-file", "Full file"))
PROTECTIONS = (Choice("verified", "Verified (errors dropped)"),
               Choice("paper", "Paper (errors pass through)"))

CHANNELS = (Choice("awgn", "AWGN"),
            Choice("rayleigh", "Slow Rayleigh fading"),
            Choice("multipath", "Multipath (taps)"))
WAVEFORMS = (Choice("symbol", "Symbol-level link"), Choice("full", "Full burst waveform"))
# How a sweep computes the link (``semcom sweep --engine``): the batched array engine
# (core.fastlink, symbol level only) or the GNU Radio flowgraph, the reference.
ENGINES = (Choice("fast", "Batched array engine"), Choice("gnuradio", "GNU Radio flowgraph"))
# The fast engine's LDPC decoder back ends (core.fastlink.decode).
DECODERS = (Choice("numba", "Numba (CPU)"), Choice("torch", "PyTorch (CPU or GPU)"))

MODULATIONS = (
    Modulation("bpsk", "BPSK", 1, (-1 + 0j, 1 + 0j), 1.0),
    Modulation("qpsk", "QPSK (Gray)", 2,
               (complex(-_R, -_R), complex(_R, -_R), complex(-_R, _R), complex(_R, _R)),
               1.0 / math.sqrt(2.0)),
)

LDPC_CODES = (
    LdpcCode("n1800_r05", "n=1800 k=902 (rate 0.50)", "n_1800_k_0902_gap_28.alist", 1800, 902),
    LdpcCode("n1100_r04", "n=1100 k=442 (rate 0.40)", "n_1100_k_0442_gap_24.alist", 1100, 442),
    LdpcCode("n0700_r04", "n=700 k=282 (rate 0.40)", "n_0700_k_0282_gap_16.alist", 700, 282),
    LdpcCode("n0500_r04", "n=500 k=202 (rate 0.40)", "n_0500_k_0202_gap_11.alist", 500, 202),
    LdpcCode("n0300_r05", "n=300 k=152 (rate 0.51)", "n_0300_k_0152_gap_03.alist", 300, 152),
    # the strong code of unequal error protection (core.uep): rate 1/4, 5 dB lower Es/N0
    LdpcCode("n0500_r025", "n=500 k=127 (rate 0.25)", "n_0500_k_0127_gap_21.alist", 500, 127),
)
DEFAULT_CODE = "n1800_r05"

# The kinds of link packet (core.packet's type byte) a code can be chosen for (core.uep).
PACKET_KINDS = (Choice("model_segment", "Model segment"), Choice("code", "Code"),
                Choice("image_data", "Image data (baselines)"))


def keys(registry) -> tuple:
    """The keys of a registry, in order."""
    return tuple(e.key for e in registry)


def labels(registry) -> tuple:
    """The labels of a registry, in order."""
    return tuple(e.label for e in registry)


def check(registry, value, what: str) -> str:
    """``value`` if it is a key of ``registry``, else ``ValueError`` naming ``what`` and the
    keys."""
    if value not in keys(registry):
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(keys(registry))}")
    return value


def entry(registry, key: str, what: str):
    """The entry of ``registry`` with this key (``ValueError`` as :func:`check`)."""
    check(registry, key, what)
    return next(e for e in registry if e.key == key)


def modulation(key: str) -> Modulation:
    return entry(MODULATIONS, key, "modulation")


def ldpc_code(key: str) -> LdpcCode:
    return entry(LDPC_CODES, key, "LDPC code")
