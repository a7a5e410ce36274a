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
    assert sizes == [13, 6, 2]
    assert models.infer_shape(models.decoder_spec("cifar10", 8), (288,)) == (3, 32, 32)


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


@pytest.mark.parametrize("dataset,shape,features", [("mnist", (1, 28, 28), 128), ("cifar10", (3, 32, 32), 256)])
def test_classifier_gives_features_and_logits(dataset, shape, features):
    clf = models.Classifier(dataset).eval()
    out = clf(torch.rand(4, *shape))
    assert out["features"].shape == (4, features) and out["logits"].shape == (4, 10)
