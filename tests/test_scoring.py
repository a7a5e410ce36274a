# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""scoring.ImageScores: remembered per-image scores equal the ones computed afresh."""

import numpy as np
import pytest

from gnuradio.semcom.core import metrics
from gnuradio.semcom.core.scoring import ImageScores


def _classify_by_mean(images):
    """A deterministic stand-in classifier: the mean pixel value, in ten bins."""
    return (images.reshape(len(images), -1).mean(1) // 25.6).astype(np.int64)


def test_remembered_scores_equal_fresh_ones_and_only_new_images_are_computed():
    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, (12, 1, 28, 28), dtype=np.uint8)
    seen = []

    def classify(images):
        seen.append(len(images))
        return _classify_by_mean(images)

    scores = ImageScores(originals, classify)
    black = np.zeros_like(originals)
    noisy = originals.copy()
    noisy[::3] ^= rng.integers(0, 2, noisy[::3].shape, dtype=np.uint8)
    for received in (originals, black, noisy, originals, black, noisy):
        pred, psnr, ssim = scores(received)
        np.testing.assert_array_equal(pred, _classify_by_mean(received))
        np.testing.assert_allclose(psnr, metrics.psnr(originals, received, per_image=True))
        np.testing.assert_allclose(ssim, metrics.ssim(originals, received, per_image=True))
    # originals and black once each; of the noisy set only the 4 changed images are new
    assert seen == [12, 12, 4]


def test_images_of_another_shape_are_refused():
    scores = ImageScores(np.zeros((2, 1, 28, 28), np.uint8), _classify_by_mean)
    with pytest.raises(ValueError, match="do not match the originals"):
        scores(np.zeros((3, 1, 28, 28), np.uint8))
