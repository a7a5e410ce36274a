# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""LpipsMemory: the scorer's own values, each (reference, received, size) computed once."""

import numpy as np
import pytest
import torch

from gnuradio.semcom.core import perceptual
from gnuradio.semcom.core.lpips_memory import LpipsMemory


@pytest.fixture(scope="module")
def scorer(tmp_path_factory):
    """LPIPS on an AlexNet with random weights (no download needed)."""
    torch.manual_seed(0)
    features = perceptual.alexnet_features()
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    path = tmp_path_factory.mktemp("lpips") / "alexnet-random.pth"
    torch.save(state, path)
    return perceptual.load_lpips(path)


class Counting:
    """The real scorer, counting the pairs it is asked for."""

    def __init__(self, scorer):
        self.scorer, self.pairs = scorer, 0

    def score(self, reference, test, size=64):
        self.pairs += len(reference)
        return self.scorer.score(reference, test, size=size)


def test_repeats_come_from_memory_with_the_scorer_values(scorer):
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (6, 1, 28, 28), dtype=np.uint8)
    noisy = np.clip(ref + rng.integers(-40, 40, ref.shape), 0, 255).astype(np.uint8)
    black = np.zeros_like(ref)
    counting = Counting(scorer)
    mem = LpipsMemory(counting)
    point1 = np.concatenate([noisy[:3], black[3:]])          # 3 intact, 3 lost
    point2 = np.concatenate([noisy[:1], black[1:]])          # 1 intact, 5 lost
    a = mem.score(ref, point1)
    assert counting.pairs == 6
    b = mem.score(ref, point2)
    assert counting.pairs == 8                               # only images 1 and 2 went black
    np.testing.assert_allclose(a, scorer.score(ref, point1), rtol=0, atol=1e-5)
    np.testing.assert_allclose(b, scorer.score(ref, point2), rtol=0, atol=1e-5)
    assert a.dtype == np.float32 and b[0] == a[0] and (b[3:] == a[3:]).all()
    mem.score(ref, point2, size=32)                          # another size is another pair
    assert counting.pairs == 14 and mem.computed == 14


def test_shapes_must_match(scorer):
    with pytest.raises(ValueError, match="one shape"):
        LpipsMemory(scorer).score(np.zeros((2, 1, 28, 28), np.uint8),
                                  np.zeros((3, 1, 28, 28), np.uint8))
