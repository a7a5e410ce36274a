# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""LPIPS (Zhang et al. 2018, v0.1) on the AlexNet backbone, without torchvision.

LPIPS compares the channel-normalised activations of five AlexNet ReLU layers of two
images, weights the squared differences with the published v0.1 linear layers (1×1
convolutions, "lin" weights) and averages over space, summing over layers::

    d(x, y) = Σ_l  mean_hw( w_l · (φ̂_l(x) − φ̂_l(y))² )

Two sets of weights are needed and neither is trained here:

* the **linear layers**: the published v0.1 file ``weights/v0.1/alex.pth`` that ships
  inside the ``lpips`` package (installed by ``make`` without its torchvision
  dependency; only the file is read, the package is not imported);
* the **backbone**: torchvision's ImageNet AlexNet (``alexnet-owt-7be5be79.pth``).
  It is read from a torchvision-format checkpoint: ``--lpips-backbone FILE``, else
  ``$SEMCOM_LPIPS_BACKBONE``, else torch hub's cache
  (``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth``, by default under
  ``~/.cache/torch``). When no checkpoint is found, :func:`load_lpips` raises
  :class:`LPIPSUnavailable` saying so; callers report LPIPS as unavailable. No other
  network is ever used under the LPIPS name.

The AlexNet feature stack below has torchvision's exact layer indices, so a torchvision
state dict (``features.0.weight`` …) loads into it unchanged.

Images: MNIST/CIFAR images are ``[0, 1]``; LPIPS takes ``[-1, 1]`` RGB, so grayscale is
repeated to three channels. AlexNet's three max-pools need inputs larger than 28×28
(a 28×28 image shrinks to nothing before the third pool), so images are resized
bilinearly to ``size`` × ``size`` (default 64) before the network, the same resize for
both images of a pair.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LPIPSUnavailable", "alexnet_features", "LPIPS", "load_lpips", "default_backbone_path",
    "linear_weights_path", "BACKBONE_FILE", "BACKBONE_URL", "CHANNELS",
]

BACKBONE_FILE = "alexnet-owt-7be5be79.pth"
BACKBONE_URL = f"https://download.pytorch.org/models/{BACKBONE_FILE}"
CHANNELS = (64, 192, 384, 256, 256)
_SLICES = ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12))   # lpips' split of alexnet().features
# v0.1 input scaling (lpips.ScalingLayer): (x - shift) / scale per RGB channel
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


class LPIPSUnavailable(RuntimeError):
    """LPIPS cannot be computed here; the message says which file is missing and how to add it."""


def alexnet_features() -> nn.Sequential:
    """torchvision's ``alexnet().features`` layer for layer (indices 0–12)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2),
    )


def default_backbone_path() -> Path:
    """Where torch hub keeps torchvision's AlexNet checkpoint."""
    return Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_FILE


def linear_weights_path() -> Path:
    """The v0.1 AlexNet linear weights shipped inside the ``lpips`` package."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        raise LPIPSUnavailable(
            "the lpips package (which ships the published v0.1 linear weights) is not "
            "installed: `pip install --no-deps lpips==0.1.4` (make does this)")
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / "v0.1" / "alex.pth"
    if not path.is_file():
        raise LPIPSUnavailable(f"the lpips package has no {path}: reinstall lpips==0.1.4")
    return path


def _shown(path: Path) -> str:
    """The path as a user writes it (``~`` for the home folder): results files travel."""
    text, home = str(path), str(Path.home())
    return ("~" + text[len(home):] if home not in ("", "/") and text.startswith(home + os.sep)
            else text)


def _backbone_state(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise LPIPSUnavailable(f"cannot read the AlexNet checkpoint {path}: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise LPIPSUnavailable(f"{path} is not a torchvision state dict")
    feats = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    return feats or state


class LPIPS(nn.Module):
    """LPIPS v0.1 distance given an AlexNet feature stack and the five linear layers.

    Args:
        features: ``alexnet_features()``-shaped module with the backbone weights.
        lin_state: the v0.1 state dict (``lin0.model.1.weight`` … ``lin4.model.1.weight``).
    """

    def __init__(self, features: nn.Sequential, lin_state: dict):
        super().__init__()
        self.features = features
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
        for i, lin in enumerate(self.lins):
            key = f"lin{i}.model.1.weight"
            if key not in lin_state:
                raise LPIPSUnavailable(f"linear-layer weights lack {key!r}: not an LPIPS v0.1 file")
            lin.weight.data.copy_(lin_state[key])
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def _layers(self, x):
        out, h = [], (x - self.shift) / self.scale
        for start, stop in _SLICES:
            for i in range(start, stop):
                h = self.features[i](h)
            out.append(h)
        return out

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """Distances ``[N]`` between RGB batches in ``[-1, 1]``."""
        total = 0.0
        for lin, f0, f1 in zip(self.lins, self._layers(x0), self._layers(x1)):
            f0 = f0 / (f0.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            f1 = f1 / (f1.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + lin((f0 - f1) ** 2).mean((2, 3), keepdim=True)
        return total.view(-1)

    @torch.no_grad()
    def score(self, reference, test, size: int = 64, batch: int = 500) -> np.ndarray:
        """Per-image LPIPS of ``uint8``/``[0, 1]`` images ``[N, C, H, W]`` (C = 1 or 3)."""
        out = []
        for start in range(0, len(reference), batch):
            pair = [self.prepare(a[start:start + batch], size) for a in (reference, test)]
            out.append(self(*pair).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    @staticmethod
    def prepare(images, size: int = 64) -> torch.Tensor:
        """``[N, C, H, W]`` → RGB ``[-1, 1]`` at ``size`` × ``size`` (bilinear)."""
        arr = np.asarray(images)
        x = torch.from_numpy(arr.astype(np.float32) / (255.0 if arr.dtype == np.uint8 else 1.0))
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        if x.shape[-1] != size or x.shape[-2] != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        return x.clamp(0, 1) * 2 - 1


def load_lpips(backbone: str | os.PathLike | None = None) -> LPIPS:
    """LPIPS with the published linear weights and the ImageNet AlexNet backbone.

    ``backbone``: a torchvision-format AlexNet checkpoint; default
    ``$SEMCOM_LPIPS_BACKBONE``, else :func:`default_backbone_path`. Raises
    :class:`LPIPSUnavailable` naming what is missing.
    """
    path = Path(backbone or os.environ.get("SEMCOM_LPIPS_BACKBONE") or default_backbone_path())
    if not path.is_file():
        raise LPIPSUnavailable(
            f"the ImageNet AlexNet backbone checkpoint {_shown(path)} is not present (LPIPS needs "
            f"torchvision's {BACKBONE_FILE}, from {BACKBONE_URL}; pass --lpips-backbone FILE "
            "or set SEMCOM_LPIPS_BACKBONE)")
    lin_state = torch.load(linear_weights_path(), map_location="cpu", weights_only=True)
    features = alexnet_features()
    try:
        features.load_state_dict(_backbone_state(path))
    except RuntimeError as exc:
        raise LPIPSUnavailable(f"{path} is not a torchvision AlexNet checkpoint: {exc}") from exc
    return LPIPS(features, lin_state)
