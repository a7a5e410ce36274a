# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Metric functions against values worked out by hand, and LPIPS against the reference."""

import os
import sys
from pathlib import Path
import types

import numpy as np
import pytest
import torch

from gnuradio.semcom.core import metrics, perceptual


def test_mean_interval_known_values():
    m, lo, hi = metrics.mean_interval([1.0, 2.0, 3.0, 4.0])
    # s = sqrt(5/3) = 1.29099; half width = 1.96 * s / 2
    assert m == 2.5
    assert hi - m == pytest.approx(1.96 * np.sqrt(5 / 3) / 2)
    assert m - lo == pytest.approx(hi - m)
    assert metrics.mean_interval([7.0]) == (7.0, 7.0, 7.0)
    with pytest.raises(ValueError):
        metrics.mean_interval([])


def test_ratio_interval_is_the_wilson_interval_over_the_original_accuracy():
    ratio, lo, hi = metrics.ratio_interval(95, 100, 0.5)
    w_lo, w_hi = metrics.wilson_interval(95, 100)
    assert ratio == pytest.approx(1.9)
    assert (lo, hi) == pytest.approx((w_lo / 0.5, w_hi / 0.5))
    with pytest.raises(ValueError):
        metrics.ratio_interval(5, 10, 0.0)


def test_ssim_of_a_constant_shift_is_below_one_and_psnr_matches_mse():
    a = np.full((2, 1, 16, 16), 100, np.uint8)
    b = a + np.uint8(10)
    # MSE = (10/255)^2, PSNR = 20 log10(25.5)
    assert metrics.psnr(a, b) == pytest.approx(20 * np.log10(25.5))
    assert metrics.ssim(a, b) < 1.0
    assert metrics.psnr(a, b, per_image=True).shape == (2,)


# ----------------------------------------------------------------------------- LPIPS

@pytest.fixture
def random_backbone(tmp_path):
    """A torchvision-format AlexNet checkpoint with random weights."""
    torch.manual_seed(0)
    features = perceptual.alexnet_features()
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.1.weight"] = torch.zeros(4, 4)     # torchvision files carry these too
    path = tmp_path / "alexnet-random.pth"
    torch.save(state, path)
    return path, features


@pytest.fixture
def reference_lpips(monkeypatch):
    """The reference ``lpips`` package, handed our AlexNet module in place of torchvision's."""
    import importlib

    holder = {}
    tv = types.ModuleType("torchvision")
    tv.models = types.SimpleNamespace(
        alexnet=lambda pretrained=False, **kw: types.SimpleNamespace(features=holder["features"]))
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    for name in [m for m in sys.modules if m == "lpips" or m.startswith("lpips.")]:
        monkeypatch.delitem(sys.modules, name)
    lpips = importlib.import_module("lpips")
    return lpips, holder


def test_lpips_equals_the_reference_implementation(random_backbone, reference_lpips):
    path, _ = random_backbone
    ours = perceptual.load_lpips(path)
    lpips, holder = reference_lpips
    holder["features"] = perceptual.alexnet_features()
    holder["features"].load_state_dict(ours.features.state_dict())
    # v0.1 linear weights from the package
    ref = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (6, 1, 28, 28), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-60, 60, a.shape), 0, 255).astype(np.uint8)
    with torch.no_grad():
        want = ref(ours.prepare(a), ours.prepare(b)).view(-1).numpy()
    got = ours.score(a, b)
    assert got.shape == (6,)
    assert np.all(want > 0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert np.allclose(ours.score(a, a), 0.0, atol=1e-7)


def test_lpips_without_backbone_says_unavailable_and_why(tmp_path, monkeypatch):
    monkeypatch.delenv("SEMCOM_LPIPS_BACKBONE", raising=False)
    missing = tmp_path / "nope.pth"
    with pytest.raises(perceptual.LPIPSUnavailable, match="not present.*alexnet-owt"):
        perceptual.load_lpips(missing)
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(3)}, bad)
    with pytest.raises(perceptual.LPIPSUnavailable, match="not a torchvision AlexNet"):
        perceptual.load_lpips(bad)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(perceptual.LPIPSUnavailable, match="cannot read"):
        perceptual.load_lpips(junk)


def test_the_reason_names_the_home_folder_as_a_user_writes_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(perceptual.LPIPSUnavailable) as info:
        perceptual.load_lpips(tmp_path / ".cache" / "x.pth")
    assert "~/.cache/x.pth" in str(info.value) and str(tmp_path) not in str(info.value)


def test_lpips_backbone_from_the_environment(random_backbone, monkeypatch):
    path, _ = random_backbone
    monkeypatch.setenv("SEMCOM_LPIPS_BACKBONE", str(path))
    assert isinstance(perceptual.load_lpips(), perceptual.LPIPS)


@pytest.fixture
def lpips_backbone():
    """The ImageNet AlexNet backbone that the Makefile and CI point SEMCOM_LPIPS_BACKBONE at."""
    path = os.environ.get("SEMCOM_LPIPS_BACKBONE")
    if not path:
        pytest.skip(
            "SEMCOM_LPIPS_BACKBONE is not set (make test sets it when the backbone is there)")
    assert Path(path).is_file(), f"SEMCOM_LPIPS_BACKBONE names {path}, which does not exist"
    return Path(path)


def test_lpips_gives_the_reference_distances_on_the_reference_images(lpips_backbone):
    """The reference implementation prints 0.722 (ex_ref vs ex_p0) and 0.138 (ex_ref vs
    ex_p1): backbone, scaling layer and linear weights are all right only if both match."""
    from PIL import Image

    folder = lpips_backbone.parent
    if not (folder / "ex_ref.png").is_file():
        pytest.skip(f"the reference images are not beside the backbone in {folder}")

    def rgb(name):
        return np.asarray(Image.open(folder / name).convert("RGB")).transpose(2, 0, 1)[None]

    model = perceptual.load_lpips(lpips_backbone)
    ref = rgb("ex_ref.png")
    assert round(float(model.score(ref, rgb("ex_p0.png"))[0]), 3) == 0.722
    assert round(float(model.score(ref, rgb("ex_p1.png"))[0]), 3) == 0.138
