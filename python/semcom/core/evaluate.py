# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Noiseless-link evaluation of an AESC-I model, exactly as the receiver would see it.

The transmitter encodes each image, quantizes its code to 8 bits and serialises the
decoder into a model blob (8-bit weights for MNIST, 16-bit for CIFAR-10). The receiver
parses the blob, rebuilds the decoder from it alone and decodes the dequantized codes.
The classifier M then scores the originals and the reconstructions.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from . import datasets as ds
from . import metrics
from .blob import blob_from_aesc, decoder_from_blob
from .models import AESC, Classifier, compression_ratio
from .quant import dequantize_latent, quantize_latent

__all__ = ["Transmission", "transmit_noiseless", "classify", "evaluate_model"]


class Transmission:
    """What one noiseless pass produced: codes, blob, the receiver's decoder and images."""

    def __init__(self, codes, scales, blob, recon, model_id):
        self.codes = codes          # uint8 [N, code_length]
        self.scales = scales        # float32 [N]
        self.blob = blob            # bytes
        self.recon = recon          # float32 [N, C, H, W] in [0, 1]
        self.model_id = model_id    # hex SHA-256 of the blob


@torch.no_grad()
def transmit_noiseless(model: AESC, images_u8: np.ndarray, batch: int = 1000) -> Transmission:
    """Encode, quantize, serialise the decoder, rebuild it from the blob and decode."""
    model.eval()
    blob = blob_from_aesc(model)
    decoder, parsed = decoder_from_blob(blob)
    codes, scales, recon = [], [], []
    for start in range(0, len(images_u8), batch):
        x = ds.to_tensor(images_u8[start:start + batch])
        q, s = quantize_latent(model.encode(x), model.latent_bits)
        codes.append(q.numpy())
        scales.append(s.numpy())
        recon.append(decoder(dequantize_latent(q, s)).numpy())
    return Transmission(np.concatenate(codes), np.concatenate(scales), blob,
                        np.concatenate(recon), parsed.model_id)


@torch.no_grad()
def classify(classifier: Classifier, images, batch: int = 1000) -> np.ndarray:
    """Predicted labels for ``uint8`` or ``[0, 1]`` float images ``[N, C, H, W]``."""
    classifier.eval()
    out = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        x = ds.to_tensor(chunk) if chunk.dtype == np.uint8 else torch.as_tensor(chunk).float()
        out.append(classifier(x)["logits"].argmax(1).numpy())
    return np.concatenate(out)


def evaluate_model(model: AESC, classifier: Classifier, images_u8: np.ndarray,
                   labels: np.ndarray, lpips=None, lpips_reason: str | None = None,
                   lpips_size: int = 64) -> dict:
    """All figures of one model on one image set (see ``semcom evaluate``).

    ``lpips``: an LPIPS scorer (:func:`.perceptual.load_lpips`), or ``None`` with
    ``lpips_reason`` saying why it is unavailable (then ``lpips`` is ``None`` in the result).
    """
    t0 = time.time()
    tx = transmit_noiseless(model, images_u8)
    pred_orig = classify(classifier, images_u8)
    pred_recon = classify(classifier, tx.recon)
    n = len(labels)
    ok_orig = int((pred_orig == labels).sum())
    ok_recon = int((pred_recon == labels).sum())
    acc_orig, acc_recon = ok_orig / n, ok_recon / n
    ratio = metrics.recognition_rate_ratio(acc_recon, acc_orig)
    ci_orig = metrics.wilson_interval(ok_orig, n)
    ci_recon = metrics.wilson_interval(ok_recon, n)
    code_bits = model.code_length * model.latent_bits
    pixels = math.prod(model.image_shape)
    return {
        "dataset": model.dataset,
        "zdim": model.zdim,
        "images": n,
        "model_id": tx.model_id,
        "compression_ratio": compression_ratio(model.dataset, model.zdim),
        "code_bits_per_image": code_bits,
        "scale_bits_per_image": 32,
        "blob_bits": len(tx.blob) * 8,
        "decoder_weight_bits": model.weight_bits,
        "latent_bits": model.latent_bits,
        "decoder_parameters": sum(p.numel() for p in model.decoder.parameters()),
        "bits_per_pixel": code_bits / pixels,
        "accuracy_original": acc_orig,
        "accuracy_original_ci95": list(ci_orig),
        "accuracy_received": acc_recon,
        "accuracy_received_ci95": list(ci_recon),
        "recognition_rate_ratio": ratio,
        "recognition_rate_ratio_ci95": [ci_recon[0] / acc_orig, ci_recon[1] / acc_orig],
        "psnr_db": metrics.psnr(images_u8, tx.recon),
        "ssim": metrics.ssim(images_u8, tx.recon),
        "lpips": (metrics.mean_interval(lpips.score(images_u8, tx.recon, size=lpips_size))[0]
                  if lpips is not None else None),
        "lpips_unavailable": None if lpips is not None else lpips_reason,
        "seconds": round(time.time() - t0, 1),
    }
