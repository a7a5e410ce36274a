# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
import torch

from gnuradio.semcom.core import quant


def test_latent_roundtrip_within_half_step():
    torch.manual_seed(0)
    latent = torch.relu(torch.randn(16, 40)) * 5
    q, scale = quant.quantize_latent(latent, 8)
    assert q.dtype == torch.uint8 and scale.shape == (16,)
    err = (quant.dequantize_latent(q, scale) - latent).abs()
    assert (err <= scale[:, None] / 2 + 1e-6).all()
    assert (q.amax(dim=1) == 255).all()


def test_all_zero_latent_is_safe():
    q, scale = quant.quantize_latent(torch.zeros(2, 5))
    assert (q == 0).all() and torch.isfinite(scale).all()
    assert (quant.dequantize_latent(q, scale) == 0).all()


def test_straight_through_gradient_is_identity():
    latent = torch.rand(3, 7, requires_grad=True)
    out = quant.fake_quantize_latent(latent)
    out.sum().backward()
    assert torch.equal(latent.grad, torch.ones_like(latent))
    q, s = quant.quantize_latent(latent)
    assert torch.allclose(out.detach(), quant.dequantize_latent(q, s))


@pytest.mark.parametrize("bits", [8, 16])
def test_weight_quantization_bound(bits):
    torch.manual_seed(1)
    w = torch.randn(64, 16, 3, 3) * 0.2
    q, scale = quant.quantize_tensor(w, bits)
    qmax = 2 ** (bits - 1) - 1
    assert int(q.abs().max()) == qmax
    err = (quant.dequantize_tensor(q, scale) - w).abs().max()
    assert float(err) <= scale / 2 + 1e-7


def test_bits_are_validated():
    with pytest.raises(ValueError, match="bits"):
        quant.quantize_tensor(torch.ones(3), 4)
    with pytest.raises(ValueError, match="bits"):
        quant.quantize_latent(torch.ones(1, 3), 12)
