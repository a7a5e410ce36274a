# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Quantization of the latent code and of decoder weights.

Latent code (what the link carries per image): the encoder ends in a ReLU, so the code
is non-negative; each image's code is quantized to unsigned ``bits``-bit integers with
its own scale ``s = max(l) / (2**bits - 1)`` and ``l ≈ q · s``. The rounding error of
every element is at most ``s / 2``.

Decoder weights (what the model blob carries): each tensor is quantized symmetrically to
signed ``bits``-bit integers with ``s = max|w| / (2**(bits-1) - 1)``; the error of each
element is at most ``s / 2``.
"""

from __future__ import annotations

import torch

__all__ = [
    "quantize_latent",
    "dequantize_latent",
    "fake_quantize_latent",
    "quantize_tensor",
    "dequantize_tensor",
]


def _check_bits(bits: int, allowed=(8, 16)) -> None:
    if bits not in allowed:
        raise ValueError(f"bits must be one of {allowed}, got {bits!r}")


def quantize_latent(latent: torch.Tensor, bits: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantize non-negative codes per sample.

    Args:
        latent: float tensor ``[N, ...]`` with values ``>= 0``.
        bits: code width (8 or 16).

    Returns:
        ``(q, scale)``: integer tensor ``[N, ...]`` (``uint8`` for 8 bits, ``int32`` for
        16) and float32 ``scale`` of shape ``[N]``.
    """
    _check_bits(bits)
    levels = (1 << bits) - 1
    flat = latent.detach().reshape(latent.shape[0], -1).clamp_min(0)
    peak = flat.amax(dim=1)
    scale = torch.where(peak > 0, peak / levels, torch.ones_like(peak)).float()
    q = torch.round(flat / scale[:, None]).clamp_(0, levels)
    q = q.to(torch.uint8 if bits == 8 else torch.int32).reshape(latent.shape)
    return q, scale


def dequantize_latent(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`quantize_latent`: ``q · scale`` as float32."""
    shape = (-1,) + (1,) * (q.dim() - 1)
    return q.float() * scale.reshape(shape).float()


def fake_quantize_latent(latent: torch.Tensor, bits: int = 8) -> torch.Tensor:
    """Quantize-dequantize in the forward pass, identity gradient (straight-through)."""
    q, scale = quantize_latent(latent, bits)
    return latent + (dequantize_latent(q, scale).to(latent.dtype) - latent).detach()


def quantize_tensor(w: torch.Tensor, bits: int) -> tuple[torch.Tensor, float]:
    """Symmetric per-tensor quantization of a weight tensor.

    Returns ``(q, scale)`` with ``q`` an ``int64`` tensor in ``[-(2**(bits-1)-1), 2**(bits-1)-1]``.
    """
    _check_bits(bits)
    qmax = (1 << (bits - 1)) - 1
    peak = float(w.detach().abs().max()) if w.numel() else 0.0
    # Round the scale to float32 first: the blob stores it as float32, so the sender and the
    # receiver must quantize with the same number.
    scale = float(torch.tensor(peak / qmax if peak > 0 else 1.0, dtype=torch.float32))
    q = torch.round(w.detach().double() / scale).clamp_(-qmax, qmax).to(torch.int64)
    return q, scale


def dequantize_tensor(q: torch.Tensor, scale: float) -> torch.Tensor:
    """Inverse of :func:`quantize_tensor` as float32."""
    return (q.double() * scale).float()
