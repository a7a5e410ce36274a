# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
import torch

from gnuradio.semcom.core import train
from gnuradio.semcom.core.models import Classifier


def _cfg(root, **kw):
    base = dict(dataset="mnist", epochs=1, batch_size=64, val_size=200, data_root=str(root),
                progress=False, seed=0)
    base.update(kw)
    return train.TrainConfig(**base)


def test_classifier_training_lowers_the_loss(mnist_root):
    torch.manual_seed(0)
    model, history = train.train_classifier(_cfg(mnist_root, epochs=3))
    assert len(history) == 3
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert history[-1]["val_accuracy"] > 0.5


def test_aesc_training_lowers_the_loss_and_resumes(mnist_root, tmp_path):
    torch.manual_seed(0)
    classifier = Classifier("mnist").eval()
    ckpt = tmp_path / "aesc.ckpt"
    out = tmp_path / "aesc.pt"
    model, history = train.train_aesc(_cfg(mnist_root, epochs=2), 40, classifier, out=out,
                                      checkpoint=ckpt)
    assert len(history) == 2 and history[1]["val_loss"] < history[0]["val_loss"]
    assert out.is_file() and ckpt.is_file()
    # Same checkpoint, more epochs: training continues from epoch 2 instead of starting over.
    _, resumed = train.train_aesc(_cfg(mnist_root, epochs=3), 40, classifier, checkpoint=ckpt)
    assert [r["epoch"] for r in resumed] == [1, 2, 3]
    assert resumed[:2] == history


def test_semantic_loss_is_zero_for_identical_images():
    clf = Classifier("mnist").eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        feats = clf(x)["features"]
    assert float(train.semantic_loss(clf, x, feats).detach()) == 0.0
    total, se, pix = train.aesc_loss("mnist", clf, x, x, feats, 0.5)
    assert float(se.detach()) == 0.0 and float(total.detach()) == 0.5 * float(pix.detach())


def test_bad_options_are_rejected(mnist_root):
    import pytest

    with pytest.raises(ValueError, match="gamma"):
        train.train_aesc(_cfg(mnist_root), 40, Classifier("mnist"), gamma=1.5)
    with pytest.raises(ValueError, match="val_size"):
        train.train_classifier(_cfg(mnist_root, val_size=10**6))
    with pytest.raises(ValueError, match="device"):
        train.train_classifier(_cfg(mnist_root, device="tpu"))


def test_warm_start_copies_matching_layers_only():
    from gnuradio.semcom.core.models import AESC

    torch.manual_seed(0)
    source, target = AESC("mnist", 40), AESC("mnist", 196)
    copied = train.warm_start(target, source.state_dict())
    assert "encoder.1.weight" in copied and "decoder.3.weight" in copied
    # The linears around the code change shape with zdim and start fresh (the decoder's
    # first bias has 64 entries whatever zdim is, so it is copied).
    assert not {"encoder.8.weight", "encoder.8.bias", "decoder.0.weight"} & set(copied)
    assert torch.equal(target.encoder[1].weight, source.encoder[1].weight)


def test_checkpoint_in_the_middle_of_an_epoch_resumes_where_it_stopped(mnist_root, tmp_path):
    """A run stopped after a few steps and resumed from its step checkpoint ends with the
    same weights as a run that was never stopped: same batches, augmentation and optimiser."""
    clf_cfg = dict(epochs=1, checkpoint_every=2)
    torch.manual_seed(0)
    whole, history = train.train_classifier(_cfg(mnist_root, **clf_cfg))
    ckpt = tmp_path / "clf.ckpt"
    torch.manual_seed(0)
    _, partial = train.train_classifier(_cfg(mnist_root, max_steps=5, **clf_cfg), checkpoint=ckpt)
    assert partial == [] and torch.load(ckpt, weights_only=True)["done_in_epoch"] == 5
    torch.manual_seed(0)
    resumed, resumed_history = train.train_classifier(_cfg(mnist_root, **clf_cfg), checkpoint=ckpt)
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), name
    assert resumed_history[0]["train_loss"] == pytest.approx(history[0]["train_loss"], rel=1e-5)


def test_cifar10_classifier_whitening_stem_gives_unit_variance_channels():
    from gnuradio.semcom.core.zoo import load_sample

    images, _ = load_sample(dataset="cifar10")
    x = torch.from_numpy(images).float() / 255
    clf = Classifier("cifar10")
    clf.init_whitening(x)
    assert not clf.whiten.weight.requires_grad
    with torch.no_grad():
        out = clf.whiten((x - clf.mean) / clf.std)
    # The 12 patch directions come out decorrelated with variance lambda / (lambda + eps):
    # at most 1, close to 1 for every direction the images really use.
    half = out[:, :12].permute(1, 0, 2, 3).reshape(12, -1).double()
    cov = torch.cov(half)
    off_diagonal = cov - torch.diag(torch.diag(cov))
    assert out.shape[1] == 24
    assert torch.equal(out[:, 12:], -out[:, :12] + 2 * clf.whiten.bias[12:, None, None])
    assert off_diagonal.abs().max() < 0.02
    assert (torch.diag(cov) < 1.01).all() and (torch.diag(cov) > 0.5).all()


def test_cifar10_trainers_run_on_the_cifar_layout(cifar_root, tmp_path):
    """One-cycle classifier recipe and the AESC-I trainer on CIFAR-10-shaped data: the
    per-step schedule advances, the checkpoint and model files are written, the epoch
    record carries the recognition ratio."""
    cfg = dict(dataset="cifar10", val_size=20, batch_size=16, epochs=2)
    clf, history = train.train_classifier(_cfg(cifar_root, **cfg))
    assert len(history) == 2 and history[-1]["lr"] < history[0]["lr"]
    out = tmp_path / "aesc.pt"
    _, history = train.train_aesc(_cfg(cifar_root, **cfg), 8, clf, out=out)
    assert out.is_file() and 0.0 <= history[-1]["val_recognition_ratio"]


def test_a_few_steps_lower_the_cifar10_aesc_loss():
    """Paper eq. (10) with MSE and gamma 0.1 on the 64 shipped CIFAR-10 test images."""
    from gnuradio.semcom.core.models import AESC
    from gnuradio.semcom.core.zoo import load_sample

    torch.manual_seed(0)
    images, _ = load_sample(dataset="cifar10")
    x = torch.from_numpy(images).float() / 255
    clf = Classifier("cifar10").eval()
    clf.init_whitening(x)
    with torch.no_grad():
        feats = clf(x)["features"]
    model = AESC("cifar10", 8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        loss, _, _ = train.aesc_loss("cifar10", clf, model(x)["recon"], x, feats, 0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    # First the mean colour (a plateau near 0.055), then the images' structure.
    assert min(losses[-5:]) < 0.9 * losses[0]
