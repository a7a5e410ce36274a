# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Image-quality and semantic metrics.

All functions take images as ``uint8`` or float arrays ``[N, C, H, W]``; float images are
taken to lie in ``[0, 1]``. PSNR and SSIM come from scikit-image (``data_range`` = 1 on
the ``[0, 1]`` scale), computed per image and averaged.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "as_float",
    "psnr",
    "ssim",
    "accuracy",
    "recognition_rate_ratio",
    "wilson_interval",
    "mean_interval",
    "ratio_interval",
]


def as_float(images) -> np.ndarray:
    """``[N, C, H, W]`` uint8 or float → float64 in ``[0, 1]``."""
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    return np.clip(arr.astype(np.float64), 0.0, 1.0)


def _pairs(reference, test):
    ref, tst = as_float(reference), as_float(test)
    if ref.shape != tst.shape or ref.ndim != 4:
        raise ValueError(
            "reference and test must both be [N, C, H, W] of one shape, "
            f"got {ref.shape} and {tst.shape}"
        )
    return ref, tst


def psnr(reference, test, per_image: bool = False, cap_db: float = 100.0):
    """Peak signal-to-noise ratio in dB (identical images count as ``cap_db``)."""
    from skimage.metrics import peak_signal_noise_ratio

    ref, tst = _pairs(reference, test)
    vals = []
    for r, t in zip(ref, tst):
        if np.array_equal(r, t):
            vals.append(cap_db)
        else:
            vals.append(min(cap_db, float(peak_signal_noise_ratio(r, t, data_range=1.0))))
    vals = np.asarray(vals)
    return vals if per_image else float(vals.mean())


def ssim(reference, test, per_image: bool = False):
    """Structural similarity (Wang et al. 2004, scikit-image defaults, 7×7 window)."""
    from skimage.metrics import structural_similarity

    ref, tst = _pairs(reference, test)
    vals = np.asarray([
        structural_similarity(r, t, data_range=1.0, channel_axis=0) for r, t in zip(ref, tst)
    ])
    return vals if per_image else float(vals.mean())


def accuracy(predictions, labels) -> float:
    """Fraction of ``predictions`` equal to ``labels``."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape or predictions.size == 0:
        raise ValueError(f"need equal non-empty shapes, got {predictions.shape} and {labels.shape}")
    return float((predictions == labels).mean())


def recognition_rate_ratio(acc_received: float, acc_original: float) -> float:
    """Paper eq. (1): SS = ST(Ŝ) / ST(S) with ST = classifier accuracy."""
    if acc_original <= 0:
        raise ValueError("accuracy on the originals is 0: the ratio is undefined")
    return acc_received / acc_original


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default)."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values, z: float = 1.96) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its normal-approximation interval
    ``mean ± z · s / √n`` (95 % by default; ``s`` the sample standard deviation)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0:
        raise ValueError("no values")
    m = float(v.mean())
    if v.size == 1:
        return m, m, m
    half = z * float(v.std(ddof=1)) / math.sqrt(v.size)
    return m, m - half, m + half


def ratio_interval(correct_received: int, n: int, acc_original: float,
                   z: float = 1.96) -> tuple[float, float, float]:
    """Recognition-rate ratio with its interval: ``(ratio, low, high)``.

    The originals' accuracy is a fixed property of the same ``n`` images, so the
    uncertainty is that of the accuracy on the received images: the Wilson interval of
    ``correct_received / n``, divided by ``acc_original``.
    """
    lo, hi = wilson_interval(correct_received, n, z)
    return (recognition_rate_ratio(correct_received / n, acc_original),
            lo / acc_original, hi / acc_original)
