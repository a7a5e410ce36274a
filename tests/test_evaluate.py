# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shipped models through the noiseless link, as the receiver rebuilds them."""

import numpy as np
import pytest
import torch

from gnuradio.semcom.core import evaluate, metrics, zoo


@pytest.mark.parametrize("zdim", [196, 98, 40])
def test_receiver_decoder_matches_trained_one(zdim):
    model = zoo.load_aesc("mnist", zdim)
    images, _ = zoo.load_sample()
    tx = evaluate.transmit_noiseless(model, images)
    assert tx.codes.dtype == np.uint8 and tx.codes.shape == (64, zdim)
    # The trained float decoder on the same dequantized codes: the blob's 8-bit weights
    # (each within half a quantization step, test_blob.py) move pixels a little — a few
    # near the sigmoid's steep middle by up to ~0.3 — but not the picture.
    with torch.no_grad():
        codes = torch.from_numpy(tx.codes).float() * torch.from_numpy(tx.scales)[:, None]
        reference = model.decode(codes).numpy()
    assert np.abs(tx.recon - reference).mean() < 0.01
    assert metrics.psnr(reference, tx.recon) > 30


def test_shipped_sample_keeps_its_meaning():
    model, clf = zoo.load_aesc("mnist", 40), zoo.load_classifier("mnist")
    images, labels = zoo.load_sample()
    result = evaluate.evaluate_model(model, clf, images, labels)
    assert result["accuracy_original"] >= 0.98
    assert result["recognition_rate_ratio"] >= 0.95
    assert result["code_bits_per_image"] == 320 and result["decoder_weight_bits"] == 8
    assert result["psnr_db"] > 12 and 0 < result["ssim"] <= 1


def test_metrics_known_values():
    a = np.zeros((1, 1, 8, 8), np.uint8)
    b = a.copy()
    b[0, 0, 0, 0] = 255
    # One pixel off by the full range in 64: MSE = 1/64, PSNR = 10·log10(64) dB.
    assert metrics.psnr(a, b) == pytest.approx(10 * np.log10(64))
    assert metrics.psnr(a, a) == 100.0
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    assert metrics.recognition_rate_ratio(0.97, 0.99) == pytest.approx(0.97 / 0.99)
    lo, hi = metrics.wilson_interval(95, 100)
    assert lo == pytest.approx(0.8882, abs=1e-3) and hi == pytest.approx(0.9785, abs=1e-3)
    with pytest.raises(ValueError):
        metrics.psnr(a, np.zeros((1, 1, 4, 4)))
