# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""JPEG baseline (Pillow / libjpeg): encode, split off the headers, decode what arrives.

Two variants of what goes on the air:

* ``header-known`` (the paper's convention, §IV-A): only the entropy-coded scan data is
  sent. For one image shape and quality, Pillow with its standard Huffman tables
  (``optimize=False``) writes the same headers (SOI, JFIF APP0, DQT, SOF0, DHT, SOS) for
  every image, so the receiver holds that header block (:func:`header_template`) and
  rebuilds a file as ``header + scan + EOI``.
* ``full-file``: the whole JFIF file is sent.

Failure policy (``docs/results.md``): a received file that Pillow cannot decode, or that
decodes to another size or mode, counts as a **failed** image and is scored as the
all-black image (what an empty frame shows); its count is reported beside the metrics.
Decoding never raises out of :func:`decode`. Truncated-but-parseable data is accepted
as libjpeg reconstructs it (``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off, so a file cut
short fails).
"""

from __future__ import annotations

import functools
import io
import warnings

import numpy as np
from PIL import Image

from . import registry

__all__ = ["VARIANTS", "encode", "decode", "split_headers", "header_template",
           "compression_ratio", "quality_for_ratio", "PAPER_QUALITY"]

VARIANTS = registry.keys(registry.JPEG_VARIANTS)
PAPER_QUALITY = {4: 60, 8: 18, 20: 0}   # MNIST, paper §IV-A
_SOS, _EOI = b"\xff\xda", b"\xff\xd9"


def _check_quality(quality) -> int:
    q = int(quality)
    if not 0 <= q <= 100:
        raise ValueError(f"JPEG quality must be in 0..100, got {quality!r}")
    return q


def _to_pil(image: np.ndarray) -> Image.Image:
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"image must be uint8 [C, H, W] with C = 1 or 3, got {image.shape}")
    return (Image.fromarray(image[0]) if image.shape[0] == 1
            else Image.fromarray(image.transpose(1, 2, 0)))


def split_headers(data: bytes) -> tuple[bytes, bytes]:
    """``(headers up to and including the SOS segment, scan data without EOI)``."""
    i = data.find(_SOS)
    if i < 0 or len(data) < i + 4:
        raise ValueError("not a baseline JPEG file: no SOS marker")
    end = i + 2 + int.from_bytes(data[i + 2:i + 4], "big")
    scan = data[end:]
    if scan.endswith(_EOI):
        scan = scan[:-2]
    return data[:end], scan


def encode(image: np.ndarray, quality: int, variant: str = "header-known") -> bytes:
    """Bytes sent for one ``uint8 [C, H, W]`` image."""
    if variant not in VARIANTS:
        raise ValueError(f"JPEG variant must be one of {VARIANTS}, got {variant!r}")
    buf = io.BytesIO()
    _to_pil(image).save(buf, "JPEG", quality=_check_quality(quality), optimize=False)
    data = buf.getvalue()
    return split_headers(data)[1] if variant == "header-known" else data


@functools.lru_cache(maxsize=64)
def header_template(shape: tuple, quality: int) -> bytes:
    """The header block the receiver holds for ``header-known`` data of this shape/quality."""
    buf = io.BytesIO()
    _to_pil(np.zeros(shape, dtype=np.uint8)).save(buf, "JPEG", quality=_check_quality(quality),
                                                  optimize=False)
    return split_headers(buf.getvalue())[0]


def decode(data: bytes, shape: tuple, quality: int, variant: str = "header-known"):
    """Decode received bytes to ``uint8 [C, H, W]``, or ``None`` when decoding fails."""
    shape = tuple(int(s) for s in shape)
    if variant == "header-known":
        data = header_template(shape, quality) + bytes(data) + _EOI
    mode = "L" if shape[0] == 1 else "RGB"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(bytes(data))) as img:
                img.load()
                if img.size != (shape[2], shape[1]) or img.mode != mode:
                    return None
                arr = np.asarray(img, dtype=np.uint8)
    except Exception:  # any corruption libjpeg or Pillow reports: a failed image
        return None
    return arr[None].copy() if shape[0] == 1 else arr.transpose(2, 0, 1).copy()


def compression_ratio(images: np.ndarray, quality: int, variant: str = "header-known") -> float:
    """Average Cr = (8 · pixels per image) / (mean bits sent per image) over ``images``."""
    sizes = [len(encode(im, quality, variant)) for im in images]
    return float(images[0].size / np.mean(sizes))


def quality_for_ratio(images: np.ndarray, target: float,
                      variant: str = "header-known") -> tuple[int, float]:
    """The quality whose average Cr on ``images`` is closest to ``target``: ``(quality, Cr)``.

    Cr falls monotonically with quality (ties at the low end, where libjpeg clamps 0 to
    1, resolve to the lowest quality); a bisection finds the crossing.
    """
    lo, hi = 0, 100
    cr = functools.lru_cache(maxsize=None)(lambda q: compression_ratio(images, q, variant))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if cr(mid) >= target else (lo, mid)
    best = min((lo, hi), key=lambda q: (abs(cr(q) - target), q))
    return best, cr(best)
