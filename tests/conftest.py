# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fixtures. The tests import the installed package ``gnuradio.semcom`` (``make test``
builds and installs it into .venv first); nothing here downloads anything."""

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    """Write ``array`` (uint8) in the MNIST idx format."""
    header = (struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
              + struct.pack(f">{array.ndim}I", *array.shape))
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def synthetic_digits(n: int, seed: int = 0):
    """Images a small net tells apart: classes 0-4 a horizontal bar, 5-9 a vertical one,
    5 pixels apart, so the classifier's ±2-pixel shift augmentation keeps them distinct."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
    for i, k in enumerate(labels):
        pos = 3 + 5 * (k % 5)
        if k < 5:
            images[i, pos:pos + 2, 4:24] = 255
        else:
            images[i, 4:24, pos:pos + 2] = 255
    return images, labels


@pytest.fixture
def mnist_root(tmp_path):
    """A data root holding a small synthetic MNIST in the official idx layout."""
    folder = tmp_path / "mnist"
    for split, stem, n in (("train", "train", 1200), ("test", "t10k", 300)):
        images, labels = synthetic_digits(n, seed=1 if split == "train" else 2)
        write_idx(folder / f"{stem}-images-idx3-ubyte", images)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", labels)
    return tmp_path


@pytest.fixture
def cifar_root(tmp_path):
    """A data root holding a small CIFAR-10 in the python-batch layout (no b'filenames')."""
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (20, 3072), dtype=np.uint8),
                 b"labels": list(rng.integers(0, 10, 20)), b"batch_label": name.encode()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return tmp_path


@pytest.fixture
def shared_data():
    """The real datasets, when SEMCOM_DATA points at them (CI sets it)."""
    root = os.environ.get("SEMCOM_DATA")
    if not root or not (Path(root) / "mnist").is_dir():
        pytest.skip("SEMCOM_DATA does not point at the real datasets")
    return Path(root)
