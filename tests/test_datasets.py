# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

import gzip
import pickle

import numpy as np
import pytest

from gnuradio.semcom.core import datasets as ds
from conftest import write_idx


def test_mnist_gz_layout_loads(mnist_root):
    train = ds.load("mnist", "train", root=mnist_root)
    test = ds.load("mnist", "test", root=mnist_root)
    assert train.images.shape == (1200, 1, 28, 28) and train.images.dtype == np.uint8
    assert test.labels.shape == (300,) and test.labels.dtype == np.int64
    assert train.shape == (1, 28, 28) and len(test) == 300


def test_mnist_uncompressed_files_load(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte", images, compress=False)
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte", np.array([3, 7], np.uint8),
              compress=False)
    test = ds.load_mnist("test", root=tmp_path)
    assert np.array_equal(test.images[:, 0], images)
    assert test.labels.tolist() == [3, 7]


def test_root_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMCOM_DATA", str(tmp_path / "env"))
    assert ds.data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert ds.data_root() == tmp_path / "env"
    monkeypatch.delenv("SEMCOM_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ds.data_root() == tmp_path / "cache" / "semcom"


def test_missing_folder_names_place_and_fix(tmp_path):
    with pytest.raises(ds.DatasetError) as err:
        ds.load_mnist("train", root=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "mnist") in msg and "SEMCOM_DATA" in msg and "semcom download" in msg


def test_missing_file_is_named(mnist_root):
    (mnist_root / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ds.DatasetError, match="t10k-labels-idx1-ubyte"):
        ds.load_mnist("test", root=mnist_root)


def test_truncated_file_is_reported(mnist_root):
    path = mnist_root / "mnist" / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path) as f:
        raw = f.read()
    with gzip.open(path, "wb") as f:
        f.write(raw[:-100])
    with pytest.raises(ds.DatasetError, match="truncated or corrupt"):
        ds.load_mnist("test", root=mnist_root)


def test_corrupt_gzip_is_reported(mnist_root):
    path = mnist_root / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"not a gzip file at all")
    with pytest.raises(ds.DatasetError, match="corrupt"):
        ds.load_mnist("test", root=mnist_root)


def test_bad_idx_magic_is_reported(mnist_root):
    path = mnist_root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ds.DatasetError, match="bad idx header"):
        ds.load_mnist("test", root=mnist_root)


def test_image_label_count_mismatch(mnist_root):
    write_idx(mnist_root / "mnist" / "t10k-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ds.DatasetError, match="300 images but 5 labels"):
        ds.load_mnist("test", root=mnist_root)


def test_cifar_without_filenames_key(cifar_root):
    train = ds.load("cifar10", "train", root=cifar_root)
    test = ds.load("cifar10", "test", root=cifar_root)
    assert train.images.shape == (100, 3, 32, 32) and test.images.shape == (20, 3, 32, 32)
    assert train.classes[0] == "airplane" and len(train.classes) == 10


def test_cifar_missing_batch_and_bad_batch(cifar_root):
    folder = cifar_root / "cifar10" / "cifar-10-batches-py"
    (folder / "data_batch_3").unlink()
    with pytest.raises(ds.DatasetError, match="data_batch_3"):
        ds.load_cifar10("train", root=cifar_root)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(ds.DatasetError, match="expected \\[N, 3072\\]"):
        ds.load_cifar10("test", root=cifar_root)


def test_bad_arguments_are_value_errors(mnist_root):
    with pytest.raises(ValueError, match="split"):
        ds.load_mnist("validation", root=mnist_root)
    with pytest.raises(ValueError, match="unknown dataset"):
        ds.load("imagenet", root=mnist_root)


def test_loading_never_downloads(mnist_root, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to download")

    monkeypatch.setattr(ds.urllib.request, "urlopen", refuse)
    assert len(ds.load("mnist", "test", root=mnist_root)) == 300
    with pytest.raises(ds.DatasetError):
        ds.load("cifar10", "test", root=mnist_root)


def test_download_checks_checksums(tmp_path, monkeypatch):
    """The download path rejects a file whose MD5 does not match (served from memory)."""
    import io

    class FakeResponse(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(ds.urllib.request, "urlopen", lambda url, timeout: FakeResponse(b"bogus"))
    with pytest.raises(ds.DatasetError, match="checksum"):
        ds.download("mnist", root=tmp_path)
    assert not (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").exists()


def test_real_datasets_when_present(shared_data):
    test = ds.load("mnist", "test", root=shared_data)
    assert test.images.shape == (10000, 1, 28, 28)
    assert np.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]
    cifar = ds.load("cifar10", "test", root=shared_data)
    assert cifar.images.shape == (10000, 3, 32, 32)
    assert np.bincount(cifar.labels).tolist() == [1000] * 10
