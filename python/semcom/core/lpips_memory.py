# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""LPIPS of received images, remembered across the points of a sweep.

Most received images recur from point to point: the clean reconstruction of every image
that arrived intact and the all-black image of every one that did not.  With LPIPS filled
in, AlexNet on those repeats was most of a fast-engine sweep's time outside the link
(``docs/results.md``, "Speed"); :class:`LpipsMemory` computes each ``(reference, received,
size)`` triple once, with the scorer it wraps, and answers repeats from memory.  The
values are the scorer's own for the same pixels (computed in other batches, so equal to
about 1e-6, the order of LPIPS's batch-dependent summation).
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["LpipsMemory"]


def _digest(image: np.ndarray) -> bytes:
    a = np.ascontiguousarray(image)
    return hashlib.blake2b(a.tobytes() + str((a.dtype, a.shape)).encode(),
                           digest_size=16).digest()


class LpipsMemory:
    """An LPIPS scorer (``score(reference, test, size)`` -> per-image values) with a memory.

    Args:
        scorer: the scorer to remember the answers of (``core.perceptual.LPIPS``).
    """

    def __init__(self, scorer):
        self.scorer = scorer
        self._known: dict = {}
        self.computed = 0          # pairs the scorer was asked for

    def score(self, reference, test, size: int = 64) -> np.ndarray:
        """Per-image LPIPS of ``reference[i]`` against ``test[i]``, float32 ``(N,)``."""
        reference, test = np.asarray(reference), np.asarray(test)
        if reference.shape != test.shape:
            raise ValueError(f"LPIPS needs images of one shape: reference {reference.shape}, "
                             f"test {test.shape}")
        keys = [(_digest(r), _digest(t), int(size)) for r, t in zip(reference, test)]
        first: dict = {}
        for i, k in enumerate(keys):
            if k not in self._known and k not in first:
                first[k] = i
        if first:
            new = sorted(first.values())
            values = np.asarray(self.scorer.score(reference[new], test[new], size=size))
            for i, v in zip(new, values):
                self._known[keys[i]] = float(v)
            self.computed += len(new)
        return np.array([self._known[k] for k in keys], dtype=np.float32)
