# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""AESC-I semantic encoders/decoders (paper Tables I and II) and the classifiers M.

Every network here is a ``torch.nn.Sequential`` built from a *layer spec*: a list of
plain dicts, each naming one allow-listed layer type and its shape parameters. The same
spec describes the decoder inside a model blob (:mod:`.blob`), so the receiver rebuilds
exactly the network the transmitter trained, without executing anything it received.

Design choices where the paper's tables are ambiguous (see ``docs/models.md``):

* MNIST (Table I): three unpadded stride-2 3×3 convolutions give a 16×2×2 feature map
  (the paper's "length and width of 2"), so the flattened feature is 64 values (the
  table's "input features=16" is read as 64 = 16 channels × 2×2). Such a stack sees a
  23×23 window (23→11→5→2), whatever the padding; the window is centred on the 28×28 image
  (pixels 3..25), where MNIST puts the digit, by a parameter-free ``pad2d`` crop in front
  of the encoder. The ``Linear(zdim→64)`` listed last under *Encoder* is the first layer
  of the decoder (it consumes the code). The transposed convolutions take 16 channels (the
  table's "64" is the 64 features reshaped to [16, 2, 2]) and mirror the encoder exactly,
  2→5→11→23; a final ``pad2d`` puts the 23×23 window back into a black 28×28 image.
* CIFAR-10 (Table II): stride-2 4×4 convolutions without padding and 3×3 convolutions with
  padding 1 give 32→15→6, hence the latent ``[zdim, 6, 6]`` the paper states; the decoder
  mirrors it with ``output_padding`` 1 on its first transposed convolution: 6→15→32.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from .quant import fake_quantize_latent

__all__ = [
    "LAYER_TYPES",
    "build_layer",
    "build_sequential",
    "infer_shape",
    "encoder_spec",
    "decoder_spec",
    "AESC",
    "Classifier",
    "create_aesc",
    "create_classifier",
    "DATASET_SHAPES",
    "PAPER_ZDIMS",
    "compression_ratio",
    "ASSETS",
]

ASSETS = Path(__file__).resolve().parent / "assets"

DATASET_SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
PAPER_ZDIMS = {"mnist": (196, 98, 40), "cifar10": (32, 12, 8)}
LATENT_GRID = {"mnist": (), "cifar10": (6, 6)}

# Allow-list: layer type -> the integer fields its spec must carry.
LAYER_TYPES = {
    "linear": ("in_features", "out_features"),
    "conv2d": ("in_channels", "out_channels", "kernel", "stride", "padding"),
    "conv_transpose2d": (
        "in_channels", "out_channels", "kernel", "stride", "padding", "output_padding",
    ),
    "unflatten": ("shape",),
    "flatten": (),
    "pad2d": ("left", "right", "top", "bottom"),
    "relu": (),
    "sigmoid": (),
}


def build_layer(spec: dict) -> nn.Module:
    """Build one allow-listed layer from its spec dict."""
    kind = spec["type"]
    if kind == "linear":
        return nn.Linear(spec["in_features"], spec["out_features"])
    if kind == "conv2d":
        return nn.Conv2d(
            spec["in_channels"], spec["out_channels"], spec["kernel"],
            stride=spec["stride"], padding=spec["padding"],
        )
    if kind == "conv_transpose2d":
        return nn.ConvTranspose2d(
            spec["in_channels"], spec["out_channels"], spec["kernel"],
            stride=spec["stride"], padding=spec["padding"],
            output_padding=spec["output_padding"],
        )
    if kind == "unflatten":
        return nn.Unflatten(1, tuple(spec["shape"]))
    if kind == "flatten":
        return nn.Flatten(1)
    if kind == "pad2d":
        # Zero padding on the four sides; a negative value crops that side.
        return nn.ZeroPad2d((spec["left"], spec["right"], spec["top"], spec["bottom"]))
    if kind == "relu":
        return nn.ReLU()
    if kind == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"layer type {kind!r} is not allowed; allowed: {sorted(LAYER_TYPES)}")


def build_sequential(specs: list[dict]) -> nn.Sequential:
    """Build a ``Sequential`` from a list of layer specs."""
    return nn.Sequential(*(build_layer(s) for s in specs))


def _conv_out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _convt_out(n: int, k: int, s: int, p: int, op: int) -> int:
    return (n - 1) * s - 2 * p + k + op


def infer_shape(specs: list[dict], in_shape: tuple) -> tuple:
    """Output shape (without batch) of ``specs`` applied to ``in_shape``.

    Pure arithmetic: raises ``ValueError`` naming the layer when shapes disagree.
    """
    shape = tuple(in_shape)
    for i, spec in enumerate(specs):
        kind = spec["type"]
        where = f"layer {i} ({kind}) with input shape {list(shape)}"
        if kind == "linear":
            if len(shape) != 1 or shape[0] != spec["in_features"]:
                raise ValueError(f"{where} expects [{spec['in_features']}]")
            shape = (spec["out_features"],)
        elif kind in ("conv2d", "conv_transpose2d"):
            if len(shape) != 3 or shape[0] != spec["in_channels"]:
                raise ValueError(f"{where} expects [{spec['in_channels']}, H, W]")
            k, s, p = spec["kernel"], spec["stride"], spec["padding"]
            if kind == "conv2d":
                h, w = (_conv_out(n, k, s, p) for n in shape[1:])
            else:
                op = spec["output_padding"]
                if op >= s:
                    raise ValueError(f"{where}: output_padding {op} must be < stride {s}")
                h, w = (_convt_out(n, k, s, p, op) for n in shape[1:])
            if h < 1 or w < 1:
                raise ValueError(f"{where} gives an empty output {h}x{w}")
            shape = (spec["out_channels"], h, w)
        elif kind == "unflatten":
            target = tuple(spec["shape"])
            if len(shape) != 1 or math.prod(target) != shape[0]:
                raise ValueError(f"{where} cannot be reshaped to {list(target)}")
            shape = target
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "pad2d":
            if len(shape) != 3:
                raise ValueError(f"{where} expects [C, H, W]")
            h = shape[1] + spec["top"] + spec["bottom"]
            w = shape[2] + spec["left"] + spec["right"]
            if h < 1 or w < 1:
                raise ValueError(f"{where} gives an empty output {h}x{w}")
            shape = (shape[0], h, w)
        elif kind not in ("relu", "sigmoid"):
            raise ValueError(f"layer {i}: type {kind!r} is not allowed")
    return shape


def _conv(cin, cout, k, s, p):
    return {"type": "conv2d", "in_channels": cin, "out_channels": cout,
            "kernel": k, "stride": s, "padding": p}


def _convt(cin, cout, k, s, p, op):
    return {"type": "conv_transpose2d", "in_channels": cin, "out_channels": cout,
            "kernel": k, "stride": s, "padding": p, "output_padding": op}


def _pad(left, right, top, bottom):
    return {"type": "pad2d", "left": left, "right": right, "top": top, "bottom": bottom}


# MNIST: three unpadded 3x3/2 convolutions see a 23x23 window (11 -> 5 -> 2); it is
# centred on the 28x28 image (pixels 3..25), where MNIST puts the digit.
MNIST_WINDOW = (3, 2)  # pixels cropped before / after the window, on both axes

RELU = {"type": "relu"}
SIGMOID = {"type": "sigmoid"}


def _check_zdim(dataset: str, zdim: int) -> None:
    if dataset not in DATASET_SHAPES:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASET_SHAPES)}")
    if not isinstance(zdim, int) or not 1 <= zdim <= 4096:
        raise ValueError(f"zdim must be an integer in [1, 4096], got {zdim!r}")


def encoder_spec(dataset: str, zdim: int) -> list[dict]:
    """Layer spec of the semantic encoder (Table I for MNIST, Table II for CIFAR-10)."""
    _check_zdim(dataset, zdim)
    if dataset == "mnist":
        a, b = MNIST_WINDOW
        return [
            _pad(-a, -b, -a, -b),            # 28 -> the 23x23 window
            _conv(1, 16, 3, 2, 0), RELU,     # 23 -> 11
            _conv(16, 16, 3, 2, 0), RELU,    # 11 -> 5
            _conv(16, 16, 3, 2, 0), RELU,    # 5 -> 2
            {"type": "flatten"},
            {"type": "linear", "in_features": 64, "out_features": zdim}, RELU,
        ]
    return [
        _conv(3, 32, 4, 2, 0), RELU,         # 32 -> 15
        _conv(32, 64, 3, 1, 1), RELU,
        _conv(64, 128, 3, 1, 1), RELU,
        _conv(128, 256, 3, 1, 1), RELU,
        _conv(256, 128, 4, 2, 0), RELU,      # 15 -> 6
        _conv(128, 64, 3, 1, 1), RELU,
        _conv(64, 32, 3, 1, 1), RELU,
        _conv(32, zdim, 3, 1, 1), RELU,
    ]


def decoder_spec(dataset: str, zdim: int) -> list[dict]:
    """Layer spec of the semantic decoder; its input is the flat code ``[code_length]``."""
    _check_zdim(dataset, zdim)
    if dataset == "mnist":
        a, b = MNIST_WINDOW
        return [
            {"type": "linear", "in_features": zdim, "out_features": 64}, RELU,
            {"type": "unflatten", "shape": [16, 2, 2]},
            _convt(16, 16, 3, 2, 0, 0), RELU,  # 2 -> 5
            _convt(16, 16, 3, 2, 0, 0), RELU,  # 5 -> 11
            _convt(16, 1, 3, 2, 0, 0), SIGMOID,  # 11 -> 23
            _pad(a, b, a, b),                  # the window back into 28x28 (zeros around)
        ]
    return [
        {"type": "unflatten", "shape": [zdim, 6, 6]},
        _convt(zdim, 64, 4, 2, 0, 1), RELU,   # 6 -> 15
        _conv(64, 128, 3, 1, 1), RELU,
        _conv(128, 128, 3, 1, 1), RELU,
        _convt(128, 128, 4, 2, 0, 0), RELU,   # 15 -> 32
        _conv(128, 64, 3, 1, 1), RELU,
        _conv(64, 32, 3, 1, 1), RELU,
        _conv(32, 3, 3, 1, 1), SIGMOID,
    ]


def compression_ratio(dataset: str, zdim: int) -> float:
    """Paper's Cr (eq. 13 / 16): input values per code value."""
    _check_zdim(dataset, zdim)
    return math.prod(DATASET_SHAPES[dataset]) / (zdim * math.prod(LATENT_GRID[dataset] or (1,)))


class AESC(nn.Module):
    """AESC-I semantic encoder/decoder pair.

    ``forward(x)`` takes images ``float32 [N, C, H, W]`` in ``[0, 1]`` and returns a dict:

    * ``latent``: encoder output ``[N, code_length]`` (non-negative);
    * ``code``: the latent after ``latent_bits`` quantization (straight-through in training);
    * ``recon``: decoder output ``[N, C, H, W]`` in ``[0, 1]``.
    """

    def __init__(self, dataset: str, zdim: int, latent_bits: int = 8):
        super().__init__()
        _check_zdim(dataset, zdim)
        self.dataset = dataset
        self.zdim = zdim
        self.latent_bits = latent_bits
        self.image_shape = DATASET_SHAPES[dataset]
        self.encoder = build_sequential(encoder_spec(dataset, zdim))
        self.encoder.append(nn.Flatten(1))
        self.decoder_layers = decoder_spec(dataset, zdim)
        self.decoder = build_sequential(self.decoder_layers)
        self.code_length = zdim * math.prod(LATENT_GRID[dataset] or (1,))

    @property
    def weight_bits(self) -> int:
        """Decoder weight width on the air: 8 bits for MNIST, 16 for CIFAR-10 (paper IV)."""
        return 8 if self.dataset == "mnist" else 16

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(code)

    def forward(self, x: torch.Tensor) -> dict:
        latent = self.encode(x)
        code = fake_quantize_latent(latent, self.latent_bits) if self.latent_bits else latent
        return {"latent": latent, "code": code, "recon": self.decode(code)}


class _Scale(nn.Module):
    """Multiply by a fixed factor (the CIFAR-10 classifier's logit temperature)."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        return x * self.factor


# CIFAR-10 per-channel mean and standard deviation of the training images (0..1 scale).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_WIDTHS = (64, 128, 256)
CIFAR10_STEM = 24  # whitening channels: 12 patch directions, each with both signs


def _cifar_group(cin: int, cout: int) -> nn.Sequential:
    """Conv, 2x2 max-pool, BN, GELU, then conv, BN, GELU (a compact VGG-style group)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2),
        nn.BatchNorm2d(cout), nn.GELU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.GELU(),
    )


class Classifier(nn.Module):
    """The paper's "perfect model" M for one dataset.

    ``forward(x)`` takes ``float32 [N, C, H, W]`` in ``[0, 1]`` and returns
    ``{"features": [N, F], "logits": [N, 10]}``; ``features`` is the penultimate layer that
    the semantic loss compares.

    CIFAR-10: a compact fast-training network (about 1.2 M parameters) chosen because it
    runs inside every AESC-I training step: per-channel normalisation, a frozen 2×2
    patch-whitening convolution (24 channels, set from the training images by
    :meth:`init_whitening`), three conv groups of 64, 128 and 256 channels with max-pooling,
    a global max-pool to 256 features, and a linear head with a fixed logit scale.
    """

    def __init__(self, dataset: str):
        super().__init__()
        if dataset not in DATASET_SHAPES:
            raise ValueError(f"unknown dataset {dataset!r}")
        self.dataset = dataset
        if dataset == "mnist":
            self.body = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 14
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 7
                nn.Flatten(1), nn.Dropout(0.25),
                nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
            )
            self.head = nn.Sequential(nn.Dropout(0.4), nn.Linear(128, 10))
        else:
            a, b, c = CIFAR10_WIDTHS
            self.register_buffer("mean", torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(CIFAR10_STD).view(1, 3, 1, 1))
            self.whiten = nn.Conv2d(3, CIFAR10_STEM, 2, padding=0)           # 32 -> 31
            self.whiten.weight.requires_grad_(False)
            self.body = nn.Sequential(
                nn.GELU(),
                _cifar_group(CIFAR10_STEM, a),                                 # 31 -> 15
                _cifar_group(a, b),                                            # 15 -> 7
                _cifar_group(b, c),                                            # 7 -> 3
                nn.AdaptiveMaxPool2d(1), nn.Flatten(1),
            )
            self.head = nn.Sequential(nn.Linear(c, 10, bias=False), _Scale(1 / 9))

    @torch.no_grad()
    def init_whitening(self, images: torch.Tensor, eps: float = 5e-4) -> None:
        """Set the CIFAR-10 stem to whiten 2×2 patches of ``images`` (float, ``[0, 1]``).

        The 12 eigenvectors of the patch covariance, scaled by ``1/sqrt(λ + eps)``, with
        both signs: each output channel has unit variance over the training patches.
        """
        if self.dataset != "cifar10":
            raise ValueError("only the CIFAR-10 classifier has a whitening stem")
        x = (images - self.mean) / self.std
        patches = x.unfold(2, 2, 1).unfold(3, 2, 1)                # N, 3, 31, 31, 2, 2
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 12).double()
        patches = patches - patches.mean(0)
        cov = patches.T @ patches / len(patches)
        eigval, eigvec = torch.linalg.eigh(cov)
        w = (eigvec.T / torch.sqrt(eigval + eps)[:, None]).reshape(12, 3, 2, 2).float()
        self.whiten.weight.copy_(torch.cat([w, -w]))
        self.whiten.bias.zero_()

    def forward(self, x: torch.Tensor) -> dict:
        if self.dataset == "cifar10":
            x = self.whiten((x - self.mean) / self.std)
        features = self.body(x)
        return {"features": features, "logits": self.head(features)}


def create_aesc(dataset: str, zdim: int) -> AESC:
    return AESC(dataset, zdim)


def create_classifier(dataset: str) -> Classifier:
    return Classifier(dataset)
