# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The trained models that ship inside the package, and loading of user-trained ones.

Files (in ``semcom/core/assets/``)::

    <dataset>_classifier.pt          classifier M
    aesc_<dataset>_z<zdim>.pt        AESC-I encoder + decoder
    <dataset>_sample64.npz           the first 64 test images with labels, for the demos

Each ``.pt`` file is ``{"meta": {...}, "state_dict": {...}}`` written by the trainers and
read with ``torch.load(weights_only=True)``, which never unpickles arbitrary objects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .models import AESC, ASSETS, Classifier

__all__ = [
    "ModelFileError",
    "classifier_path",
    "aesc_path",
    "load_classifier",
    "load_aesc",
    "shipped_aesc",
    "default_zdim",
    "load_sample",
    "SAMPLE_FILE",
    "sample_path",
    "identify_source",
    "export_model",
]

SAMPLE_FILE = ASSETS / "mnist_sample64.npz"


class ModelFileError(RuntimeError):
    """A model file is missing or does not hold what it should."""


def classifier_path(dataset: str) -> Path:
    return ASSETS / f"{dataset}_classifier.pt"


def aesc_path(dataset: str, zdim: int) -> Path:
    return ASSETS / f"aesc_{dataset}_z{zdim}.pt"


def shipped_aesc(dataset: str) -> list[int]:
    """The zdims for which a trained AESC-I model ships for ``dataset``."""
    zdims = []
    for p in ASSETS.glob(f"aesc_{dataset}_z*.pt"):
        try:
            zdims.append(int(p.stem.rsplit("_z", 1)[1]))
        except ValueError:
            continue
    return sorted(zdims, reverse=True)


def default_zdim(dataset: str) -> int:
    """The zdim a source uses when none is asked for: its smallest shipped zdim (the highest
    compression; MNIST: 40, the paper's Cr 20). ``ModelFileError`` when none ships."""
    zdims = shipped_aesc(dataset)
    if not zdims:
        raise ModelFileError(f"no trained AESC-I model ships for {dataset}; train one with "
                             f"`semcom train --dataset {dataset} --zdim Z --out FILE` and pass "
                             "it as a model file")
    return min(zdims)


def _read(path: Path, kind: str, hint: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{kind} file {path} does not exist. {hint}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelFileError(f"cannot read {kind} file {path}: {exc}. {hint}") from exc
    if not isinstance(obj, dict) or "state_dict" not in obj or "meta" not in obj:
        raise ModelFileError(f"{path} is not a gr-semcom {kind} file (no meta/state_dict). {hint}")
    return obj


def _load_state(model, obj, path, kind, hint):
    try:
        model.load_state_dict(obj["state_dict"])
    except RuntimeError as exc:
        raise ModelFileError(f"{kind} file {path} does not fit the model: {exc}. {hint}") from exc
    return model.eval()


def load_classifier(dataset: str = "mnist", path=None) -> Classifier:
    """Load classifier M (the shipped one unless ``path`` is given)."""
    path = Path(path) if path else classifier_path(dataset)
    hint = f"Train one with `semcom train-classifier --dataset {dataset} --out {path}`."
    obj = _read(path, "classifier", hint)
    return _load_state(Classifier(obj["meta"].get("dataset", dataset)), obj, path, "classifier",
                       hint)


def load_aesc(dataset: str = "mnist", zdim: int = 40, path=None) -> AESC:
    """Load an AESC-I model (the shipped one for ``dataset``/``zdim`` unless ``path`` is given)."""
    path = Path(path) if path else aesc_path(dataset, zdim)
    hint = (f"Shipped zdims for {dataset}: {shipped_aesc(dataset) or 'none'}; train another with "
            f"`semcom train --dataset {dataset} --zdim {zdim} --out {path}`.")
    obj = _read(path, "AESC-I model", hint)
    meta = obj["meta"]
    model = AESC(meta.get("dataset", dataset), int(meta.get("zdim", zdim)))
    return _load_state(model, obj, path, "AESC-I model", hint)


def sample_path(dataset: str = "mnist") -> Path:
    return ASSETS / f"{dataset}_sample64.npz"


def load_sample(path=None, dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """A shipped sample: the first 64 test images of ``dataset``, ``uint8 [64, C, H, W]``,
    and their labels (``path`` reads another file of the same layout)."""
    path = Path(path) if path else sample_path(dataset)
    if not path.is_file():
        raise ModelFileError(f"sample file {path} does not exist; reinstall the module.")
    with np.load(path, allow_pickle=False) as data:
        return data["images"], data["labels"]


def identify_source(shape) -> str:
    """The paper's "identify the category of the information source": the dataset whose
    images have this ``(C, H, W)`` shape; raises ``ValueError`` when none matches."""
    from .models import DATASET_SHAPES

    shape = tuple(int(s) for s in shape)
    for dataset, known in DATASET_SHAPES.items():
        if known == shape:
            return dataset
    raise ValueError(f"no AESC-I model for images of shape {list(shape)}; known: "
                     + ", ".join(f"{d} {list(s)}" for d, s in DATASET_SHAPES.items()))


def export_model(src, dst, half: bool = True) -> dict:
    """Copy a trained classifier or AESC-I file to ``dst`` for shipping.

    ``half``: store floating-point tensors as float16 (half the bytes; the loaders cast
    them back to float32). Returns the new file's meta. Only the meta and the state dict are
    kept (no optimiser state, no history).
    """
    src, dst = Path(src), Path(dst)
    hint = "Give a .pt file written by `semcom train` or `semcom train-classifier`."
    obj = _read(src, "model", hint)
    state = {k: (v.half() if half and v.is_floating_point() else v).contiguous()
             for k, v in obj["state_dict"].items()}
    meta = dict(obj["meta"], storage="float16" if half else "float32")
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta": meta, "state_dict": state}, dst)
    return meta
