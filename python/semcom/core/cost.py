# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the decoder really costs: AESC-I's bits on the air with its decoder counted.

The paper's compression ratio counts the codes only. AESC-I also sends its decoder (the
model blob), once per carousel round of ``every`` codes, so the ratio a link really gets
after ``n`` images is

    Cr_eff(n) = n * P / (n * c + copies(n) * B),    copies(n) = ceil(n / every)

with ``P`` the source bits of one image (8 per pixel and channel), ``c`` the code bits per
image and ``B`` the blob bits. It tends to ``P / (c + B / every)`` as ``n`` grows, and to
the paper's ``P / c`` only when the decoder is sent once (``every`` infinite).

The fair comparison is JPEG *at the same recognition-rate ratio*: :func:`jpeg_bits_at`
reads JPEG's bits per image at AESC-I's ratio off JPEG's measured curve (linear
interpolation between measured points, never beyond them). AESC-I sends fewer bits than
that JPEG from the break-even number of images on (:func:`break_even`), if ever: with a
carousel the blob comes back every round, and when one round's blob costs more than the
round's saving, AESC-I never catches up.

All inputs come from sweep result points (:func:`from_points`): ``source_bits``,
``model_bits``, ``model_copies``, ``images`` and the recognition-rate ratio, on an
error-free link. NumPy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["copies", "effective_cr", "jpeg_bits_at", "jpeg_ratio_at", "bits_per_image",
           "break_even", "ahead_for_good", "AescCost", "JpegCurve", "from_points", "ONCE"]

#: ``every`` for a decoder sent a single time (no carousel).
ONCE = math.inf


def copies(n, every) -> np.ndarray:
    """Decoder copies sent with ``n`` images when the carousel repeats it every ``every``
    codes (the first copy goes before the first code, as ``AescScheme`` sends it)."""
    n = np.asarray(n, dtype=np.int64)
    if every == ONCE:
        return np.where(n > 0, 1, 0)
    every = int(every)
    if every < 1:
        raise ValueError(f"carousel interval must be >= 1 code, got {every}")
    return -(-n // every)


def effective_cr(n, pixel_bits: float, code_bits: float, blob_bits: float, every) -> np.ndarray:
    """Cr_eff(n): source bits of ``n`` images over the codes' and decoder copies' bits."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.asarray(n) > 0,
                        pixel_bits / bits_per_image(n, code_bits, blob_bits, every), np.nan)


def jpeg_bits_at(ratio: float, curve_bits, curve_ratio) -> float | None:
    """JPEG's bits per image at recognition-rate ratio ``ratio``, interpolated on its
    measured curve (points ``(bits per image, ratio)``); ``None`` outside the curve's
    range (no extrapolation). Where the curve is not monotonic, the fewest bits that
    reach ``ratio`` are taken."""
    b = np.asarray(curve_bits, dtype=np.float64)
    r = np.asarray(curve_ratio, dtype=np.float64)
    order = np.argsort(b)
    b, r = b[order], r[order]
    for i in range(len(b)):
        if r[i] >= ratio:
            if i == 0:
                return float(b[0]) if r[0] == ratio else None
            # the segment (i-1, i) crosses the ratio
            t = (ratio - r[i - 1]) / (r[i] - r[i - 1])
            return float(b[i - 1] + t * (b[i] - b[i - 1]))
    return None


def jpeg_ratio_at(bits: float, curve_bits, curve_ratio) -> float | None:
    """The best recognition-rate ratio JPEG reaches with at most ``bits`` per image on its
    measured curve (linear interpolation of the curve's running maximum); ``None`` outside
    the curve's range of bits. The inverse question of :func:`jpeg_bits_at`: the ratio an
    AESC-I model must reach for its bits per image to be worth it."""
    b = np.asarray(curve_bits, dtype=np.float64)
    r = np.asarray(curve_ratio, dtype=np.float64)
    order = np.argsort(b)
    b, r = b[order], np.maximum.accumulate(r[order])
    if not len(b) or bits < b[0] or bits > b[-1]:
        return None
    return float(np.interp(bits, b, r))


def bits_per_image(n, code_bits: float, blob_bits: float, every):
    """AESC-I's bits per image over ``n`` images (a number or an array), codes and decoder
    copies counted."""
    n_arr = np.asarray(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = (n_arr * code_bits + copies(n_arr.astype(np.int64), every) * blob_bits) / n_arr
    return float(per) if per.ndim == 0 else per


def break_even(code_bits: float, blob_bits: float, jpeg_bits: float, every) -> float | None:
    """The first number of images at which AESC-I's bits (codes + decoder copies) are at
    most JPEG's; ``None`` when that never happens.

    With a carousel the blob is paid again at the start of every round, so AESC-I can fall
    behind again there: :func:`ahead_for_good` says from where on it stays ahead."""
    saving = jpeg_bits - code_bits                    # per image
    if saving <= 0:
        return None
    first = math.ceil(blob_bits / saving)             # within the first round
    if every != ONCE and first > int(every):
        return None       # round k needs k B / s <= n <= k E: never when B / s > E
    return float(max(1, first))


def ahead_for_good(code_bits: float, blob_bits: float, jpeg_bits: float, every) -> float | None:
    """The number of images from which on AESC-I's bits stay at most JPEG's for every
    longer transmission; ``None`` when they never do (a round's saving, ``every`` times
    the per-image saving, must exceed one copy of the blob)."""
    saving = jpeg_bits - code_bits
    if saving <= 0:
        return None
    if every == ONCE:
        return float(max(1, math.ceil(blob_bits / saving)))
    every = int(every)
    if every < 1:
        raise ValueError(f"carousel interval must be >= 1 code, got {every}")
    if every * saving <= blob_bits:
        return None
    return _for_good(saving, blob_bits, every)


def _for_good(saving: float, blob_bits: float, every: int) -> float:
    # Round k (images (k-1)E+1 .. kE) carries k copies; its hardest point is its first
    # image, where AESC-I is ahead iff k B <= ((k-1)E + 1) s. That holds for every
    # k >= k*, k* = ceil((E s - s) / (E s - B)); before round k*, AESC-I is ahead from
    # image ceil((k*-1) B / s) of round k*-1 to its end.
    k = max(1, math.ceil((every * saving - saving) / (every * saving - blob_bits)))
    while k > 1 and k * blob_bits <= ((k - 2) * every + 1) * saving:
        k -= 1                                        # rounding guard: the exact k*
    while k * blob_bits > ((k - 1) * every + 1) * saving:
        k += 1
    if k == 1:
        return float(max(1, math.ceil(blob_bits / saving)))
    m = math.ceil((k - 1) * blob_bits / saving)
    return float(m if m <= (k - 1) * every else (k - 1) * every + 1)


@dataclass
class AescCost:
    """One AESC-I model's figures from an error-free sweep point."""

    cr: float                 # the paper's ratio (codes only)
    ratio: float              # recognition-rate ratio
    pixel_bits: float         # source bits of one image
    code_bits: float          # code bits per image
    blob_bits: float          # bits of one decoder copy
    every: int                # the sweep's carousel interval


@dataclass
class JpegCurve:
    """JPEG's (bits per image, recognition-rate ratio) points, sorted by bits."""

    bits: np.ndarray
    ratio: np.ndarray

    def bits_at(self, ratio: float) -> float | None:
        return jpeg_bits_at(ratio, self.bits, self.ratio)

    def ratio_at(self, bits: float) -> float | None:
        return jpeg_ratio_at(bits, self.bits, self.ratio)


def from_points(points, pixel_bits: float, every: int, aesc_scheme: str = "aesc-verified",
                jpeg_scheme: str = "jpeg-header-known") -> tuple[list[AescCost], JpegCurve]:
    """AESC-I models and JPEG's curve from sweep result points (one channel, one SNR,
    error-free: the caller picks them)."""
    aesc = []
    for p in sorted((p for p in points if p["scheme"] == aesc_scheme), key=lambda p: p["cr"]):
        n_copies = p.get("model_copies") or 0
        if not n_copies:
            continue
        aesc.append(AescCost(cr=float(p["cr_paper"]), ratio=p["recognition_rate_ratio"]["value"],
                             pixel_bits=pixel_bits, code_bits=p["source_bits"] / p["images"],
                             blob_bits=p["model_bits"] / n_copies, every=int(every)))
    jp = sorted((p for p in points if p["scheme"] == jpeg_scheme),
                key=lambda p: p["source_bits"] / p["images"])
    curve = JpegCurve(np.array([p["source_bits"] / p["images"] for p in jp], dtype=np.float64),
                      np.array([p["recognition_rate_ratio"]["value"] for p in jp],
                               dtype=np.float64))
    return aesc, curve
