# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Stock GNU Radio LDPC codes, across GNU Radio 3.10 releases.

What this module gives
======================
* :data:`CODES` — the keys of the stock alist files (``share/gnuradio/fec/ldpc``), defined
  with their n, k and label in :data:`gnuradio.semcom.core.registry.LDPC_CODES`;
  :func:`alist_path` resolves a key or a path.
* :func:`make_ldpc_encoder` / :func:`make_ldpc_decoder` — the stock FECAPI objects
  (``fec.ldpc_encoder_make`` and ``fec.ldpc_decoder.make``) for ``fec.async_encoder`` /
  ``fec.async_decoder`` and the tagged-stream deployments.
* :func:`code_dims` / :func:`code_rate` — (n, k) and k / n of a code; :func:`frame_geometry` — how a
  packet of bits is cut into codewords; :func:`async_decoder_frame_len` — the soft-frame
  length that ``fec.async_decoder`` needs (see the bug below).
* :func:`llr_scale`, :func:`esn0_from_ebn0`, :func:`ebn0_from_esn0` — SNR bookkeeping.

Soft-value convention (all versions): LLRs, positive means bit 1
================================================================
The decoders made by :func:`make_ldpc_decoder` (default ``sigma=None``) take
**log-likelihood ratios** ``L = ln P(b=1)/P(b=0)``: *positive means 1*.  That is the sign
that GNU Radio's BPSK mapping (bit 0 -> -1, bit 1 -> +1, ``digital.constellation_bpsk``)
produces after a matched filter, so ``L = 4 a Re(y) / N0`` for a component of amplitude
``+-a`` in complex AWGN of variance ``N0`` per sample (:func:`llr_scale`).

* GNU Radio >= 3.10.8: ``fec.ldpc_decoder.make(alist, max_iter)`` works in the LLR domain;
  its input is the LLR as is.
* GNU Radio 3.10.5 - 3.10.7: ``fec.ldpc_decoder.make(alist, sigma, max_iter)`` works in the
  likelihood-ratio domain and turns its input ``v`` into ``LR = exp(v / (2 sigma^2))``
  (``awgn_bp::rx_lr_calc`` after the decoder's sign flip).  The *correct* LR for a +-1
  soft value in noise of standard deviation s per real dimension is ``exp(2 v / s^2)``:
  the formula is off by a factor 4 in the exponent.  Passing the true noise sigma
  therefore makes the decoder four times under-confident; passing
  ``sigma = 1/sqrt(2)`` makes ``LR = exp(v)``, i.e. the input *is* the LLR, the same
  contract as >= 3.10.8.  That is what :func:`make_ldpc_decoder` does by default.

What we ship, and why (measured on GNU Radio 3.10.5)
----------------------------------------------------
``benchmarks/ldpc_waterfall.py``: code n1800_r05, BPSK, AWGN, one codeword per frame
through ``symbol_link``, 50 iterations, up to 1000 frames or 50 frame errors per point.
Frame error rate::

    Eb/N0 dB            1.00   1.25   1.50   1.75   2.00   2.25   2.50   3.00   4.00   5.00
    shipped 0.8 x LLR   0.80   0.46   0.16   0.024  0.001  0      0      0      0      0
    exact LLR           0.63   0.39   0.14   0.021  0.005  0.004  0.001  0      0      0
    sigma=0.5 (+-1 in)  0.81   0.55   0.27   0.069  0.007  0      0      0      0      0
    true sigma (+-1 in) 1      1      1      1      1      1      1      1      0.95   0
    1.5 x exact LLR     0.73   0.56   0.28   0.11   0.044  0.028  0.019  0.011  0.004  0

* Feeding +-1 soft values with the *true* noise sigma fails up to Eb/N0 4 dB: that is
  the factor-4 error above (the decoder is four times under-confident), not a bad code.
* ``sigma = 0.5`` with +-1 soft values (= LLR ``2 v``; SNR independent) works, but it is
  under-confident in the waterfall: about 0.2 dB behind the exact LLR at FER 0.1.
* Exact or over-confident LLRs show an error floor: the likelihood-ratio arithmetic of
  the < 3.10.8 decoder saturates (``2/(1+Q) - 1`` hits +-1 exactly, then 0 * inf = NaN)
  after 10-20 iterations on hard frames, which then come out with ~450 wrong bits
  although 10 iterations had left only a few.  The floor grows with the LLR scale
  (1.5 x exact: 1e-2 at 3 dB; exact: ~3e-3 at 2.25 dB over 3000 frames).
* Under-confidence costs a lot in the waterfall (0.7 x exact: FER 0.33 at 1.5 dB,
  0.6 x: 0.86) but removes little of the floor (0.6-0.8 x: ~1e-3 at 2.25 dB).

So we ship :data:`LLR_TRUST` = 0.8 times the exact LLR (:func:`llr_scale`), clipped to
+-:data:`LLR_CLIP`: within about 0.1 dB of the exact LLR in the waterfall and with a lower
floor.  Larger runs (3000 frames, decoder alone): at 2.0 dB FER 5.7e-3 (exact: 9.3e-3),
at 2.25 dB 1e-3 (exact: 3e-3), at 2.5 dB 0 (exact: 1.7e-3); Gray QPSK (the same channel
per bit) through ``symbol_link``: 1 in 1000 at 2.5 and at 3 dB.
The residual floor is the decoder's arithmetic; the >= 3.10.8 LLR-domain decoder does
not have it (not measurable here).  A receiver that does not know its SNR can feed
``2 v`` (+-1-normalised soft values times 2), the old ``sigma=0.5`` behaviour.

``fec.async_decoder`` frame-length bug (3.10.x)
===============================================
``async_decoder`` (unpacked mode) sets the decoder's frame size to
``int(nbits_in * rate)``.  With ``rate = k/n`` in floating point, ``1800 * (902/1800)`` is
``901.999...`` and truncates to 901, which the LDPC decoder rejects ("Frame size (901
bits) must be a multiple of ... 902") and the message is lost.  It hits n1800_r05 for
most numbers of codewords.  The LDPC decoder only reads ``round(frame/rate)`` soft
values, so one extra trailing soft value makes the truncation land on the right frame
size; :func:`async_decoder_frame_len` says how long the soft PDU must be.

Encoder layout
==============
``fec.ldpc_encoder_make`` codewords are systematic with the k information bits as the
*last* k of the n code bits (checked by ``qa_fec``).  Zero padding at the end of the last
codeword therefore sits at the very end of the coded frame, so it can be left out of the
transmission (shortening) and re-inserted at the receiver as known zeros.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

from gnuradio import fec, gr

from ..core import registry, softvalues
from ..core.softvalues import LLR_CLIP, LLR_TRUST, llr_scale  # one soft-value contract

__all__ = ["ALIST_DIR", "CODES", "DEFAULT_CODE", "LLR_CLIP", "LLR_TRUST", "LLR_INPUT_SIGMA",
           "alist_path", "gr_version_tuple", "decoder_takes_sigma",
           "make_ldpc_encoder", "make_ldpc_decoder", "code_dims", "code_rate",
           "frame_geometry", "async_decoder_frame_len", "llr_scale", "esn0_from_ebn0",
           "ebn0_from_esn0"]

#: Keys of the stock codes, in the registry's order.
CODES = registry.keys(registry.LDPC_CODES)
DEFAULT_CODE = registry.DEFAULT_CODE

#: ``sigma`` that makes the < 3.10.8 decoder read its input as an LLR (exp(v/(2 s^2)) = exp(v)).
LLR_INPUT_SIGMA = 1.0 / math.sqrt(2.0)


def _alist_dir() -> Path:
    prefix = Path(gr.prefix())
    for candidate in (prefix / "share/gnuradio/fec/ldpc", Path("/usr/share/gnuradio/fec/ldpc"),
                      Path("/usr/local/share/gnuradio/fec/ldpc")):
        if candidate.is_dir():
            return candidate
    return prefix / "share/gnuradio/fec/ldpc"


ALIST_DIR = _alist_dir()


def alist_path(code: str) -> str:
    """Path of a code's alist file: a key of :data:`CODES` or a path to an alist file."""
    if code in CODES:
        path = ALIST_DIR / registry.ldpc_code(code).file
    else:
        path = Path(code)
    if not path.is_file():
        raise ValueError(
            f"LDPC code {code!r}: alist file {path} not found; choose one of {', '.join(CODES)} "
            "or give the path of an alist file")
    return os.fspath(path)


def gr_version_tuple() -> tuple:
    parts = []
    for p in gr.version().split(".")[:3]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def decoder_takes_sigma() -> bool:
    """True on GNU Radio < 3.10.8, whose LDPC decoder factory takes a noise sigma."""
    return gr_version_tuple() < (3, 10, 8)


def make_ldpc_encoder(code: str = DEFAULT_CODE):
    """Stock LDPC encoder object for ``fec.extended_encoder`` / ``fec.async_encoder``.

    Systematic: information bits are the last k of each n-bit codeword.
    """
    return fec.ldpc_encoder_make(alist_path(code))


def make_ldpc_decoder(code: str = DEFAULT_CODE, max_iter: int = 50, sigma: float | None = None):
    """Stock soft-decision LDPC decoder whose input is an LLR, positive meaning bit 1.

    ``sigma=None`` (default): on GNU Radio < 3.10.8 the decoder is built with
    :data:`LLR_INPUT_SIGMA`, so its input is read as an LLR exactly like the >= 3.10.8
    decoder (see the module docstring).  A float ``sigma`` is passed through verbatim to
    the < 3.10.8 factory (legacy behaviour, e.g. ``0.5`` for +-1 soft values) and ignored
    from 3.10.8 on, where the input is always an LLR.
    """
    path = alist_path(code)
    if not decoder_takes_sigma():
        return fec.ldpc_decoder.make(path, int(max_iter))
    s = LLR_INPUT_SIGMA if sigma is None else float(sigma)
    if not s > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    return fec.ldpc_decoder.make(path, s, int(max_iter))


@functools.lru_cache(maxsize=None)
def code_dims(code: str = DEFAULT_CODE) -> tuple:
    """``(n, k)``: code bits and information bits per codeword (a key or an alist path)."""
    enc = make_ldpc_encoder(code)
    n, k = int(enc.get_output_size()), int(enc.get_input_size())
    if not 0 < k < n:
        raise ValueError(f"LDPC code {code!r}: unexpected dimensions n={n}, k={k}")
    return n, k


def code_rate(code: str = DEFAULT_CODE) -> float:
    """k / n."""
    n, k = code_dims(code)
    return k / n


def frame_geometry(nbits: int, code: str = DEFAULT_CODE) -> tuple:
    """``(n_codewords, pad_bits)`` for ``nbits`` information bits.

    The information bits are zero-padded to ``n_codewords * k``; with the systematic
    encoder the pad bits are the last ``pad_bits`` code bits of the frame.
    """
    if nbits <= 0:
        raise ValueError("nbits must be positive")
    _, k = code_dims(code)
    m = -(-int(nbits) // k)
    return m, m * k - int(nbits)


@functools.lru_cache(maxsize=None)
def _decoder_rate(code: str) -> tuple:
    dec = make_ldpc_decoder(code)
    return dec.rate(), int(dec.rate() * dec.get_input_size() - dec.get_output_size())


@functools.lru_cache(maxsize=4096)
def async_decoder_frame_len(code: str, n_codewords: int) -> int:
    """Length of the soft PDU to give ``fec.async_decoder`` for ``n_codewords`` codewords.

    ``n * n_codewords`` where GNU Radio's ``int(nbits * rate)`` already gives the right
    frame size, else one more (a trailing dummy soft value, never read by the decoder).
    """
    n, k = code_dims(code)
    rate, diff = _decoder_rate(code)
    for extra in (0, 1):
        if int((n * n_codewords + extra) * rate - diff) == k * n_codewords:
            return n * n_codewords + extra
    raise RuntimeError(f"no async_decoder frame length for {n_codewords} codewords of {code}")


def esn0_from_ebn0(ebn0_db: float, modulation: str = "bpsk",
                   code: str | None = DEFAULT_CODE) -> float:
    """Es/N0 (dB) = Eb/N0 (dB) + 10 log10(bits per symbol * code rate).

    ``code=None`` for uncoded bits.  Eb is the energy per *information* bit.
    """
    return softvalues.esn0_from_ebn0(ebn0_db, modulation, 1.0 if code is None else code_rate(code))


def ebn0_from_esn0(esn0_db: float, modulation: str = "bpsk",
                   code: str | None = DEFAULT_CODE) -> float:
    """Inverse of :func:`esn0_from_ebn0`."""
    return softvalues.ebn0_from_esn0(esn0_db, modulation, 1.0 if code is None else code_rate(code))
