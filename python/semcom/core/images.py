# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Writing images: single PNG files and contact sheets (Pillow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["to_uint8", "save_png", "contact_sheet"]


def to_uint8(image) -> np.ndarray:
    """``[C, H, W]`` uint8 or ``[0, 1]`` float → uint8 ``[H, W]`` (gray) or ``[H, W, 3]``."""
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        raise ValueError(f"expected an image [C, H, W] with C in (1, 3), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.round(np.clip(arr.astype(np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)
    return arr[0] if arr.shape[0] == 1 else np.transpose(arr, (1, 2, 0))


def save_png(image, path) -> Path:
    """Save one ``[C, H, W]`` image as PNG; returns the path."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(image)).save(path)
    return path


def contact_sheet(rows, path, scale: int = 2, gap: int = 2) -> Path:
    """Save a grid: each row a sequence of ``[C, H, W]`` images (``None`` leaves a blank cell)."""
    from PIL import Image

    rows = [list(r) for r in rows]
    cells = [to_uint8(im) for r in rows for im in r if im is not None]
    if not cells:
        raise ValueError("contact sheet needs at least one image")
    h, w = cells[0].shape[:2]
    ncols = max(len(r) for r in rows)
    sheet = np.full(((h + gap) * len(rows) + gap, (w + gap) * ncols + gap, 3), 64, np.uint8)
    for i, row in enumerate(rows):
        for j, im in enumerate(row):
            if im is None:
                continue
            cell = to_uint8(im)
            if cell.ndim == 2:
                cell = np.repeat(cell[:, :, None], 3, axis=2)
            y, x = gap + i * (h + gap), gap + j * (w + gap)
            sheet[y:y + h, x:x + w] = cell
    img = Image.fromarray(sheet)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
