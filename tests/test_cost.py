# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the decoder costs (core.cost): closed forms against counting bits image by image."""

import numpy as np
import pytest

from gnuradio.semcom.core import cost


def _count(code, blob, jpeg, every, horizon):
    """AESC-I ahead of JPEG after n images, n = 1 .. horizon, by summing bits."""
    n = np.arange(1, horizon + 1)
    return n, n * code + cost.copies(n, every) * blob <= n * jpeg


def test_break_even_and_ahead_for_good_match_counting():
    rng = np.random.default_rng(0)
    horizon = 20000
    for _ in range(150):
        code, blob = rng.uniform(10, 500), rng.uniform(100, 50000)
        jpeg, every = code + rng.uniform(-5, 200), int(rng.integers(1, 300))
        n, ahead = _count(code, blob, jpeg, every, horizon)
        first = cost.break_even(code, blob, jpeg, every)
        good = cost.ahead_for_good(code, blob, jpeg, every)
        if ahead.any():
            assert first == n[ahead][0]
        else:
            assert first is None or first > horizon
        if ahead[-2000:].all():         # ahead at the end: the last deficit tells
            behind = np.flatnonzero(~ahead)
            expect = n[behind[-1]] + 1 if len(behind) else 1
            if expect < horizon - 2000:
                assert good == expect
        elif not ahead[-2000:].any():
            assert good is None or good > horizon


def test_decoder_sent_once_and_simple_numbers():
    # 1000 blob bits, 50 bits saved per image: even after 20 images.
    assert cost.break_even(100, 1000, 150, cost.ONCE) == 20
    assert cost.ahead_for_good(100, 1000, 150, cost.ONCE) == 20
    # A carousel every 10 codes: a round saves 500 bits but pays 1000: never.
    assert cost.break_even(100, 1000, 150, 10) is None
    assert cost.ahead_for_good(100, 1000, 150, 10) is None
    # JPEG no bigger than the code: never.
    assert cost.break_even(100, 1000, 100, cost.ONCE) is None
    assert cost.copies([0, 1, 500, 501], 500).tolist() == [0, 1, 1, 2]
    cr = cost.effective_cr([1, 1000], 6272, 320, 61000, cost.ONCE)
    assert cr == pytest.approx([6272 / 61320, 6272 * 1000 / (320 * 1000 + 61000)])


def test_jpeg_bits_interpolate_and_never_extrapolate():
    bits, ratio = [1000, 2000, 4000], [0.5, 0.9, 0.99]
    assert cost.jpeg_bits_at(0.7, bits, ratio) == pytest.approx(1500)
    assert cost.jpeg_bits_at(0.99, bits, ratio) == pytest.approx(4000)
    assert cost.jpeg_bits_at(0.995, bits, ratio) is None
    assert cost.jpeg_bits_at(0.4, bits, ratio) is None
    # not monotonic: the fewest bits that reach the ratio
    assert cost.jpeg_bits_at(0.9, [1000, 2000, 3000], [0.5, 0.95, 0.92]) == pytest.approx(
        1000 + (0.4 / 0.45) * 1000)


def test_bad_carousel_interval_is_rejected():
    with pytest.raises(ValueError, match="carousel interval"):
        cost.copies(10, 0)


def _point(scheme, cr, source_bits, ratio, model_bits=0, copies=0, images=100):
    return {"channel": "awgn", "snr_db": 6.0, "cr": cr, "cr_paper": cr, "scheme": scheme,
            "failure_rate": 0.0, "images": images, "source_bits": source_bits,
            "model_bits": model_bits, "model_copies": copies,
            "recognition_rate_ratio": {"value": ratio, "ci": [ratio, ratio]}}


def test_cost_table_from_sweep_points():
    from gnuradio.semcom.app.plots import cost_table

    pts = [_point("aesc-verified", 20, 100 * 320, 0.95, model_bits=60000, copies=1),
           _point("jpeg-header-known", 8, 100 * 800, 0.90),
           _point("jpeg-header-known", 4, 100 * 1600, 1.00)]
    info = {"shape": (1, 28, 28), "carousel_every": {500}}
    (row,) = cost_table(pts, info)
    assert row["code_bits"] == 320 and row["blob_bits"] == 60000
    assert row["jpeg_bits"] == pytest.approx(1200)            # halfway from 0.90 to 1.00
    assert row["break_even_once"] == np.ceil(60000 / 880)
    assert row["break_even_carousel"] == np.ceil(60000 / 880)  # 500 * 880 > 60000
    assert row["cr_eff_limit"] == pytest.approx(6272 / (320 + 60000 / 500))
    # the ratio it would need at 10 000 images: JPEG's with as many bits per image
    once = 320 + 60000 / 10000          # 326 bits per image: below JPEG's measured range
    assert row["needed_once"][0] is None and row["needed_once"][1] == pytest.approx(once)
    carousel = 320 + 20 * 60000 / 10000  # 440
    assert row["needed_carousel"][1] == pytest.approx(carousel)


def test_jpeg_ratio_at_is_the_inverse_on_the_best_envelope():
    bits, ratio = [1000, 2000, 4000], [0.5, 0.9, 0.99]
    for r in (0.5, 0.7, 0.9, 0.95, 0.99):
        assert cost.jpeg_ratio_at(cost.jpeg_bits_at(r, bits, ratio), bits, ratio) == \
            pytest.approx(r)
    assert cost.jpeg_ratio_at(999, bits, ratio) is None
    assert cost.jpeg_ratio_at(4001, bits, ratio) is None
    # a dip in the curve: the best ratio within the budget counts
    assert cost.jpeg_ratio_at(2500, [1000, 2000, 3000], [0.5, 0.95, 0.92]) == pytest.approx(0.95)
    assert cost.bits_per_image(1000, 320, 60000, 500) == pytest.approx(320 + 2 * 60000 / 1000)
    assert cost.bits_per_image(1000, 320, 60000, cost.ONCE) == pytest.approx(380)


def test_cost_table_ratio_needed_inside_and_above_jpegs_range():
    from gnuradio.semcom.app.plots import _needed, cost_table

    pts = [_point("aesc-verified", 20, 100 * 320, 0.5, model_bits=6_000_000, copies=1),
           _point("jpeg-header-known", 8, 100 * 800, 0.90),
           _point("jpeg-header-known", 4, 100 * 1600, 1.00)]
    (row,) = cost_table(pts, {"shape": (1, 28, 28), "carousel_every": {500}})
    # decoder once: 320 + 600 = 920 bits per image, JPEG reaches 0.915 with as many
    assert row["needed_once"][0] == pytest.approx(0.915)
    assert _needed(row["needed_once"]) == "0.915"
    # carousel: 320 + 20 * 600 bits per image, more than JPEG's best point
    assert row["needed_carousel"][0] is None
    assert _needed(row["needed_carousel"]).startswith("> 1.000")
    assert row["jpeg_bits"] is None and row["break_even_once"] is None   # 0.5: below JPEG
