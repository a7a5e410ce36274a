# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
import torch

from gnuradio.semcom.core import models


@pytest.mark.parametrize("zdim,cr", [(196, 4.0), (98, 8.0), (40, 19.6)])
def test_mnist_shapes_and_compression_ratio(zdim, cr):
    model = models.AESC("mnist", zdim)
    out = model(torch.rand(3, 1, 28, 28))
    assert out["latent"].shape == (3, zdim) and out["code"].shape == (3, zdim)
    assert out["recon"].shape == (3, 1, 28, 28)
    assert (out["latent"] >= 0).all() and (out["recon"] >= 0).all() and (out["recon"] <= 1).all()
    assert models.compression_ratio("mnist", zdim) == pytest.approx(cr)
    assert model.code_length == zdim and model.weight_bits == 8


@pytest.mark.parametrize("zdim", [32, 12, 8])
def test_cifar_latent_is_zdim_by_6_by_6(zdim):
    model = models.AESC("cifar10", zdim)
    out = model(torch.rand(2, 3, 32, 32))
    assert out["latent"].shape == (2, zdim * 36) and out["recon"].shape == (2, 3, 32, 32)
    assert models.compression_ratio("cifar10", zdim) == pytest.approx(3072 / (zdim * 36))
    assert model.weight_bits == 16


def test_decoder_spec_shapes_follow_the_documented_design():
    spec = models.decoder_spec("mnist", 40)
    assert models.infer_shape(spec, (40,)) == (1, 28, 28)
    sizes, shape = [], (1, 28, 28)
    for layer in models.encoder_spec("mnist", 40):
        shape = models.infer_shape([layer], shape)
        if layer["type"] == "conv2d":
            sizes.append(shape[1])
    assert sizes == [11, 5, 2]
    assert models.infer_shape(models.decoder_spec("cifar10", 8), (288,)) == (3, 32, 32)


def test_mnist_window_is_centred_and_fully_used_at_both_ends():
    """The encoder sees every pixel of the centred 23x23 window and nothing outside it;
    the decoder can paint every pixel of that window and leaves the border black."""
    torch.manual_seed(0)
    model = models.AESC("mnist", 40).eval()
    for p in model.parameters():
        torch.nn.init.uniform_(p, 0.01, 0.05)  # small positive weights: every path is live
    x = torch.rand(1, 1, 28, 28, requires_grad=True)
    model.encode(x).sum().backward()
    seen = x.grad[0, 0] != 0
    inside = torch.zeros(28, 28, dtype=torch.bool)
    inside[3:26, 3:26] = True
    assert torch.equal(seen, inside)

    code = torch.rand(1, 40, requires_grad=True)
    recon = model.decode(code)
    border = recon[0, 0][~inside]
    assert torch.equal(border, torch.zeros_like(border))
    for i, j in [(3, 3), (25, 25), (3, 25), (25, 3), (14, 14)]:
        code.grad = None
        recon[0, 0, i, j].backward(retain_graph=True)
        assert code.grad.abs().sum() > 0, f"pixel ({i}, {j}) does not depend on the code"


def test_infer_shape_names_the_failing_layer():
    spec = models.decoder_spec("mnist", 40)
    spec[2] = {"type": "unflatten", "shape": [16, 3, 3]}
    with pytest.raises(ValueError, match="layer 2 \\(unflatten\\)"):
        models.infer_shape(spec, (40,))
    with pytest.raises(ValueError, match="layer 0 \\(linear\\)"):
        models.infer_shape(models.decoder_spec("mnist", 40), (41,))


def test_unknown_layer_and_bad_zdim_rejected():
    with pytest.raises(ValueError, match="not allowed"):
        models.build_layer({"type": "lambda"})
    with pytest.raises(ValueError, match="zdim"):
        models.AESC("mnist", 0)
    with pytest.raises(ValueError, match="unknown dataset"):
        models.AESC("svhn", 10)


@pytest.mark.parametrize("dataset,shape,features",
                         [("mnist", (1, 28, 28), 128), ("cifar10", (3, 32, 32), 256)])
def test_classifier_gives_features_and_logits(dataset, shape, features):
    clf = models.Classifier(dataset).eval()
    out = clf(torch.rand(4, *shape))
    assert out["features"].shape == (4, features) and out["logits"].shape == (4, 10)
