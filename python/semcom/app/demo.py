# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom demo``: the shipped MNIST sample through AESC-I over a noiseless link."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.evaluate import evaluate_model, transmit_noiseless
from ..core.images import contact_sheet, save_png
from ..core.zoo import load_aesc, load_classifier, load_sample

__all__ = ["run_demo"]


def run_demo(zdim: int = 40, out="demo-output") -> dict:
    """Write ``recon/*.png``, ``contact_sheet.png`` and ``metrics.json`` into ``out``."""
    out = Path(out)
    images, labels = load_sample()
    model = load_aesc("mnist", zdim)
    classifier = load_classifier("mnist")
    figures = evaluate_model(model, classifier, images, labels)
    recon = transmit_noiseless(model, images).recon
    for i, im in enumerate(recon):
        save_png(im, out / "recon" / f"image_{i:03d}_label{labels[i]}.png")
    rows = []
    for start in range(0, len(images), 16):
        rows.append(list(images[start:start + 16]))
        rows.append(list(recon[start:start + 16]))
    contact_sheet(rows, out / "contact_sheet.png")
    figures["link"] = "noiseless"
    (out / "metrics.json").write_text(json.dumps(figures, indent=2) + "\n")
    return {"out": str(out), "images": len(images), "metrics": figures}
