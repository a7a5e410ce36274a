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
    model, history = train.train_aesc(_cfg(mnist_root, epochs=2), 40, classifier, out=out, checkpoint=ckpt)
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
