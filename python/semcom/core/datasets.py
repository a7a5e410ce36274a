# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Image datasets: MNIST (original idx files) and CIFAR-10 (official python batches).

Images are returned as ``uint8`` arrays of shape ``[N, C, H, W]`` with integer labels
``[N]``; :func:`to_tensor` turns them into float tensors in ``[0, 1]``.

Where the files live (first match wins):

1. the ``root`` argument (``--data`` on the command line);
2. the environment variable ``SEMCOM_DATA``;
3. a per-user cache directory (``$XDG_CACHE_HOME/semcom`` or ``~/.cache/semcom``).

Inside the root the layout is the one the official downloads unpack to::

    mnist/train-images-idx3-ubyte.gz   (or without .gz)
    mnist/train-labels-idx1-ubyte.gz
    mnist/t10k-images-idx3-ubyte.gz
    mnist/t10k-labels-idx1-ubyte.gz
    cifar10/cifar-10-batches-py/data_batch_1 ... data_batch_5, test_batch

Nothing is downloaded unless ``download=True`` is passed explicitly; downloads are
checked against the published MD5 sums.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import struct
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import registry

__all__ = [
    "DatasetError",
    "ImageSet",
    "DATASETS",
    "CLASSES",
    "data_root",
    "load",
    "load_mnist",
    "load_cifar10",
    "download",
    "to_tensor",
]

ENV_VAR = "SEMCOM_DATA"

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_FILES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}

MNIST_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
#: class names per dataset, by label
CLASSES = {"mnist": MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}


class DatasetError(RuntimeError):
    """A dataset file is missing, unreadable or malformed. The message says how to fix it."""


@dataclass(frozen=True)
class ImageSet:
    """A split of a dataset held in memory.

    Attributes:
        images: ``uint8`` array ``[N, C, H, W]``.
        labels: ``int64`` array ``[N]``.
        classes: class names, indexed by label.
        name: dataset name (``"mnist"`` or ``"cifar10"``).
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple
    name: str

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def shape(self) -> tuple:
        """Shape ``(C, H, W)`` of one image."""
        return tuple(self.images.shape[1:])


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root: explicit argument, else ``$SEMCOM_DATA``, else the user cache."""
    if root:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "semcom"


def _fix_hint(name: str) -> str:
    return (
        f"Put the official {name} files there, point {ENV_VAR} (or --data) at the folder "
        f"that holds them, or run `semcom download {name}` on a machine that is online."
    )


def _check_split(split: str) -> None:
    registry.check(registry.SPLITS, split, "split")


# ----------------------------------------------------------------------------- MNIST

def _find_idx(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise DatasetError(
        f"MNIST file {stem}(.gz) not found in {folder}. " + _fix_hint("mnist")
    )


def _read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(
            f"cannot read MNIST file {path}: {exc}. The file is corrupt or truncated; "
            "replace it with the official file."
        ) from exc
    if len(raw) < 4:
        raise DatasetError(f"MNIST file {path} is truncated ({len(raw)} bytes).")
    zero, dtype_code, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or ndim != expected_ndim:
        raise DatasetError(
            f"MNIST file {path} has a bad idx header (magic {raw[:4].hex()}, expected "
            f"unsigned-byte data with {expected_ndim} dimensions). "
            "Replace it with the official file."
        )
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise DatasetError(f"MNIST file {path} is truncated inside its header.")
    dims = struct.unpack(f">{ndim}I", raw[4:header_end])
    count = int(np.prod(dims))
    if len(raw) - header_end != count:
        raise DatasetError(
            f"MNIST file {path} holds {len(raw) - header_end} data bytes but its header "
            f"announces {dims} = {count}; the file is truncated or corrupt."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_end).reshape(dims)


def load_mnist(split: str = "train", root=None, download: bool = False) -> ImageSet:
    """Load an MNIST split as ``uint8 [N, 1, 28, 28]`` images and labels."""
    _check_split(split)
    folder = data_root(root) / "mnist"
    if download:
        _download_mnist(folder)
    img_stem, lbl_stem = MNIST_FILES[split]
    if not folder.is_dir():
        raise DatasetError(f"MNIST folder {folder} does not exist. " + _fix_hint("mnist"))
    images = _read_idx(_find_idx(folder, img_stem), 3)
    labels = _read_idx(_find_idx(folder, lbl_stem), 1)
    if len(images) != len(labels):
        raise DatasetError(
            f"MNIST {split} split in {folder}: {len(images)} images but {len(labels)} labels."
        )
    return ImageSet(images[:, None].copy(), labels.astype(np.int64), MNIST_CLASSES, "mnist")


# ----------------------------------------------------------------------------- CIFAR-10

def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DatasetError(
            f"CIFAR-10 batch {path.name} not found in {path.parent}. " + _fix_hint("cifar10")
        )
    try:
        with open(path, "rb") as f:
            # The official batches are pickles; only load files the user put in their data root.
            batch = pickle.load(f, encoding="bytes")
    except Exception as exc:  # pickle raises many types on corrupt input
        raise DatasetError(
            f"cannot read CIFAR-10 batch {path}: {exc!r}. Replace it with the official file."
        ) from exc
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetError(
            f"CIFAR-10 batch {path} lacks b'data' or b'labels'; it is not an official batch file."
        )
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DatasetError(
            f"CIFAR-10 batch {path} has data of shape {data.shape} and {len(labels)} labels; "
            "expected [N, 3072] and N labels."
        )
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(split: str = "train", root=None, download: bool = False) -> ImageSet:
    """Load a CIFAR-10 split as ``uint8 [N, 3, 32, 32]`` images and labels."""
    _check_split(split)
    base = data_root(root) / "cifar10"
    if download:
        _download_cifar10(base)
    folder = base / CIFAR10_DIR
    if not folder.is_dir():
        raise DatasetError(f"CIFAR-10 folder {folder} does not exist. " + _fix_hint("cifar10"))
    parts = [_read_cifar_batch(folder / name) for name in CIFAR10_FILES[split]]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return ImageSet(images, labels, CIFAR10_CLASSES, "cifar10")


# The loader of each dataset of the registry (tests/test_registry.py checks the keys).
DATASETS = {"mnist": load_mnist, "cifar10": load_cifar10}


def load(name: str, split: str = "train", root=None, download: bool = False) -> ImageSet:
    """Load dataset ``name`` (``mnist`` or ``cifar10``)."""
    registry.check(registry.DATASETS, name, "dataset")
    return DATASETS[name](split, root=root, download=download)


# ----------------------------------------------------------------------------- downloads

def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(urls, dest: Path, md5: str) -> None:
    """Download the first URL that answers into ``dest`` and verify its MD5."""
    if dest.is_file() and _md5(dest) == md5:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, tempfile.NamedTemporaryFile(
                dir=dest.parent, delete=False
            ) as tmp:
                shutil.copyfileobj(resp, tmp)
            got = _md5(Path(tmp.name))
            if got != md5:
                os.unlink(tmp.name)
                errors.append(f"{url}: checksum {got} != {md5}")
                continue
            os.replace(tmp.name, dest)
            return
        except OSError as exc:
            errors.append(f"{url}: {exc}")
    raise DatasetError(f"could not download {dest.name}: " + "; ".join(errors))


def _download_mnist(folder: Path) -> None:
    for name, md5 in MNIST_MD5.items():
        _fetch([m + name for m in MNIST_MIRRORS], folder / name, md5)


def _download_cifar10(base: Path) -> None:
    if all((base / CIFAR10_DIR / n).is_file() for f in CIFAR10_FILES.values() for n in f):
        return
    archive = base / "cifar-10-python.tar.gz"
    _fetch([CIFAR10_URL], archive, CIFAR10_MD5)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(base, filter="data")


def download(name: str, root=None) -> Path:
    """Download dataset ``name`` into the data root (checksums verified); returns the root."""
    registry.check(registry.DATASETS, name, "dataset")
    base = data_root(root)
    if name == "mnist":
        _download_mnist(base / "mnist")
    else:
        _download_cifar10(base / "cifar10")
    return base


def to_tensor(images: np.ndarray):
    """``uint8 [N, C, H, W]`` → ``float32`` torch tensor in ``[0, 1]``."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
