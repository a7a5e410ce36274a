# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scoring an operating point: what came back against what was sent.

:func:`score_point` turns the received images of one point (a :class:`.schemes.Reception`),
the scheme's bit accounting and the link's counters into the point's entry of the results
file: every metric with its 95 % interval, failure counts, compression figures and example
images (``docs/results.md`` documents every field). :func:`jpeg_calibration` measures the
JPEG quality per compression ratio on the sweep's own images.
"""

from __future__ import annotations

import hashlib

import numpy as np

from . import jpeg, metrics
from .results import encode_example
from .schemes import FAILED, LOST, OK

__all__ = ["score_point", "example_indices", "jpeg_calibration", "load_scorer",
           "ImageScores"]


def _ci(triple) -> dict:
    return {"value": triple[0], "ci": [triple[1], triple[2]]}


def example_indices(labels: np.ndarray, per_class: int) -> list[int]:
    """The first ``per_class`` images of each class (Fig. 7/8 pick theirs from these)."""
    out = []
    for c in np.unique(labels):
        out.extend(int(i) for i in np.flatnonzero(labels == c)[:per_class])
    return sorted(out)


def load_scorer(backbone):
    """``(LPIPS scorer, None)``, or ``(None, reason)`` when LPIPS is unavailable."""
    from .perceptual import LPIPSUnavailable, load_lpips

    try:
        return load_lpips(backbone), None
    except LPIPSUnavailable as exc:
        return None, str(exc)


def jpeg_calibration(images: np.ndarray, crs) -> dict:
    """JPEG quality per compression ratio, measured on ``images`` (header-known)."""
    out = {}
    for cr in crs:
        q, cr_hk = jpeg.quality_for_ratio(images, float(cr), "header-known")
        out[str(cr)] = {"cr": cr, "quality": q, "cr_header_known": cr_hk,
                        "cr_full_file": jpeg.compression_ratio(images, q, "full-file")}
    return out


class ImageScores:
    """Per-image classifier prediction, PSNR and SSIM of received images, remembered across
    the points of a sweep.

    Most received images recur from point to point: the clean reconstruction of every image
    that arrived intact, the all-black image of every one that did not. Profiling the fast
    engine's sweep put the classifier and SSIM of those repeats at a third of the time
    outside the decoder; this computes each ``(image index, received pixels)`` pair once.
    The numbers are the same functions of the same pixels (``metrics.psnr``,
    ``metrics.ssim``, ``classify``), so a point scores alike with or without the memory.

    Args:
        originals: the images sent, uint8 ``[N, C, H, W]``.
        classify: callable, uint8 images ``[M, C, H, W]`` -> predicted labels ``(M,)``.
    """

    def __init__(self, originals: np.ndarray, classify):
        self.originals = originals
        self.classify = classify
        self._known: dict = {}

    def __call__(self, images: np.ndarray) -> tuple:
        """``(pred, psnr, ssim)`` per image of ``images`` (uint8, the shape of the originals)."""
        if images.shape != self.originals.shape:
            raise ValueError(f"received images {images.shape} do not match the originals "
                             f"{self.originals.shape}")
        keys = [(i, hashlib.blake2b(np.ascontiguousarray(im).tobytes(), digest_size=16).digest())
                for i, im in enumerate(images)]
        new = sorted({i for i, k in enumerate(keys) if k not in self._known})
        if new:
            sub = images[new]
            pred = self.classify(sub)
            psnr = metrics.psnr(self.originals[new], sub, per_image=True)
            ssim = metrics.ssim(self.originals[new], sub, per_image=True)
            for j, i in enumerate(new):
                self._known[keys[i]] = (int(pred[j]), float(psnr[j]), float(ssim[j]))
        values = [self._known[k] for k in keys]
        return (np.array([v[0] for v in values], dtype=np.int64),
                np.array([v[1] for v in values]), np.array([v[2] for v in values]))


def score_point(point: dict, extra: dict, x: np.ndarray, y: np.ndarray, pred_orig: np.ndarray,
                pred: np.ndarray, rx, accounting: dict, link, scorer, lpips_reason,
                lpips_size: int, examples_per_class: int, per_image=None) -> dict:
    """The results-file entry of one point.

    ``x``/``y``: the images sent and their labels; ``pred_orig``/``pred``: the classifier's
    predictions on the originals and on ``rx.images``; ``rx``: the scheme's
    :class:`.schemes.Reception`; ``per_image``: ``(psnr, ssim)`` per image when already known
    (:class:`ImageScores`), else computed here; ``accounting``: the scheme's bit accounting;
    ``link``: the link's counters, an object with ``sent``, ``received`` (list), ``lost``,
    ``crc_failures``, ``bit_errors`` and ``bits_compared`` (``None`` when unknown),
    ``symbols`` and ``wall_s``; ``scorer``: LPIPS scorer or ``None`` (then ``lpips_reason``
    says why). The caller adds ``wall_s``.
    """
    n, shape = len(x), tuple(x.shape[1:])
    pixels = int(np.prod(shape))
    ok_orig = int((pred_orig == y).sum())
    acc_orig = ok_orig / n
    ok_recv = int((pred == y).sum())
    delivered = rx.status == OK
    ratio = metrics.ratio_interval(ok_recv, n, acc_orig)
    if per_image is None:
        psnr = metrics.psnr(x, rx.images, per_image=True)
        ssim = metrics.ssim(x, rx.images, per_image=True)
    else:
        psnr, ssim = per_image
    acct = accounting
    examples = example_indices(y, examples_per_class)
    result = dict(point)
    result.update(extra)
    result.update({
        "images": n,
        "images_ok": int(delivered.sum()),
        "images_lost": int((rx.status == LOST).sum()),
        "images_failed": int((rx.status == FAILED).sum()),
        "failure_rate": float(1 - delivered.mean()),
        "accuracy_original": acc_orig,
        "accuracy_received": ok_recv / n,
        "recognition_rate_ratio": _ci(ratio),
        "recognition_rate_ratio_delivered": (
            float((pred[delivered] == y[delivered]).mean()
                  / max((pred_orig[delivered] == y[delivered]).mean(), 1e-12))
            if delivered.any() else None),
        "psnr_db": _ci(metrics.mean_interval(psnr)),
        "ssim": _ci(metrics.mean_interval(ssim)),
        "lpips": (_ci(metrics.mean_interval(scorer.score(x, rx.images, size=lpips_size)))
                  if scorer is not None else None),
        "lpips_unavailable": lpips_reason,
        "cr_paper": pixels * 8 * n / acct["source_bits"],
        "cr_effective": pixels * 8 * n / (acct["source_bits"] + acct["model_bits"]),
        "source_bits": acct["source_bits"],
        "model_bits": acct["model_bits"],
        "model_copies": acct.get("model_copies", 0),
        "packet_bits": acct["packet_bits"],
        "bits_per_pixel": acct["packet_bits"] / (n * pixels),
        "source_bits_per_pixel": (acct["source_bits"] + acct["model_bits"]) / (n * pixels),
        "channel_uses_per_pixel": link.symbols / (n * pixels),
        "link": {
            "packets_sent": link.sent, "packets_received": len(link.received),
            "packets_lost": link.lost, "crc_failures": link.crc_failures,
            "fer": link.crc_failures / max(1, len(link.received)),
            "bit_errors": link.bit_errors, "bits_compared": link.bits_compared,
            "ber": (link.bit_errors / link.bits_compared) if link.bits_compared else None,
            "symbols": link.symbols, "wall_s": link.wall_s,
            "info_bits_per_s": acct["packet_bits"] / link.wall_s if link.wall_s > 0 else None,
        },
        "receiver": rx.counters,
        "examples": {str(i): encode_example(rx.images[i]) for i in examples},
        "example_labels": {str(i): int(y[i]) for i in examples},
    })
    return result
