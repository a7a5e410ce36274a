# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The JPEG baseline: header-known splitting, decoding corrupted data, quality calibration."""

import numpy as np
import pytest

from gnuradio.semcom.core import jpeg

from conftest import synthetic_digits


@pytest.fixture(scope="module")
def digits():
    images, _ = synthetic_digits(40, seed=3)
    return images[:, None]


def test_headers_are_the_same_for_every_image_so_the_receiver_can_hold_them(digits):
    for quality in (0, 18, 60):
        full = [jpeg.encode(im, quality, "full-file") for im in digits[:10]]
        heads = {jpeg.split_headers(f)[0] for f in full}
        assert heads == {jpeg.header_template((1, 28, 28), quality)}


def test_header_known_decodes_exactly_like_the_full_file(digits):
    for im in digits[:10]:
        scan = jpeg.encode(im, 18, "header-known")
        full = jpeg.encode(im, 18, "full-file")
        assert len(scan) < len(full) - 300          # ~330 bytes of headers stay home
        a = jpeg.decode(scan, (1, 28, 28), 18, "header-known")
        b = jpeg.decode(full, (1, 28, 28), 18, "full-file")
        assert a.dtype == np.uint8 and a.shape == (1, 28, 28)
        np.testing.assert_array_equal(a, b)
        # lossy but close: JPEG at quality 18 keeps the digit
        assert np.abs(a.astype(int) - im.astype(int)).mean() < 40


def test_corrupted_data_never_raises(digits):
    rng = np.random.default_rng(0)
    outcomes = {"image": 0, "failed": 0}
    for variant in jpeg.VARIANTS:
        for im in digits[:20]:
            data = bytearray(jpeg.encode(im, 30, variant))
            for _ in range(4):
                pos = rng.integers(0, len(data))
                data[pos] ^= 1 << int(rng.integers(0, 8))
            out = jpeg.decode(bytes(data), (1, 28, 28), 30, variant)
            outcomes["failed" if out is None else "image"] += 1
            assert out is None or (out.shape == (1, 28, 28) and out.dtype == np.uint8)
    assert jpeg.decode(b"", (1, 28, 28), 30, "full-file") is None
    # An empty scan behind known headers: libjpeg pads the missing data (gray blocks);
    # whatever it returns has the right shape, and nothing raises.
    empty = jpeg.decode(b"", (1, 28, 28), 30, "header-known")
    assert empty is None or empty.shape == (1, 28, 28)
    assert jpeg.decode(b"\xff\xd8garbage", (1, 28, 28), 30, "full-file") is None
    assert outcomes["image"] > 0


def test_quality_for_ratio_finds_the_nearest_average_ratio(digits):
    q, cr = jpeg.quality_for_ratio(digits, 8.0)
    assert cr == pytest.approx(jpeg.compression_ratio(digits, q))
    for other in range(0, 101, 5):
        assert abs(cr - 8.0) <= abs(jpeg.compression_ratio(digits, other) - 8.0) + 1e-9
    # Cr falls as quality rises
    assert jpeg.compression_ratio(digits, 10) > jpeg.compression_ratio(digits, 60) > \
        jpeg.compression_ratio(digits, 95)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="quality"):
        jpeg.encode(np.zeros((1, 8, 8), np.uint8), 101)
    with pytest.raises(ValueError, match="variant"):
        jpeg.encode(np.zeros((1, 8, 8), np.uint8), 50, "raw")
    with pytest.raises(ValueError, match=r"\[C, H, W\]"):
        jpeg.encode(np.zeros((8, 8), np.uint8), 50)
