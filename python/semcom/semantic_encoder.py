# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Semantic encoder block: images in, 8-bit AESC-I latent codes out."""

from __future__ import annotations

import numpy as np
import pmt
import torch
from gnuradio import gr

from .core import blob as blobfmt
from .core import registry, zoo
from .core.quant import quantize_latent
from .phy.pdu import make_pdu, parse_pdu

# "auto" picks the dataset by image shape; then the registry's datasets.
DATASET_CHOICES = ("auto",) + registry.keys(registry.DATASETS)


class semantic_encoder(gr.basic_block):
    """Encode image PDUs into AESC-I code PDUs, selecting the model for each source.

    Input port ``in``: image PDUs (u8 pixels, row-major ``[C, H, W]``; metadata ``image_id``,
    ``shape``, optionally ``label``).

    Output port ``out``: one code PDU per image. Payload: the 8-bit code (``code_length``
    bytes). Metadata: ``image_id``, ``label`` (if known), ``shape``, ``dataset``, ``zdim``,
    ``scale`` (float, code value = byte · scale), ``model_id``, ``model_tag``,
    ``packet_type`` = ``"code"``.

    Output port ``model``: the decoder's model blob, once for each model when it is first
    used. Payload: the blob bytes; metadata ``model_id``, ``model_tag``, ``dataset``,
    ``zdim``, ``packet_type`` = ``"model"``. Connect it to the model carousel.

    Source identification (paper §II): the image shape is matched against the registry of
    models (``[1, 28, 28]`` → MNIST, ``[3, 32, 32]`` → CIFAR-10) and that source's shipped
    model is used: MNIST with ``zdim``, CIFAR-10 with ``cifar10_zdim``. One stream may mix
    both sources; each code names its model, and each model's blob goes out on ``model``
    when the first image of that source comes. ``dataset`` forces one source's model for
    every image, ``model_path`` forces a trained ``.pt`` file (from ``semcom train``).

    Args:
        dataset: ``"auto"`` (identify by shape), ``"mnist"`` or ``"cifar10"``.
        zdim: latent size of the MNIST model (196, 98, 40 ship).
        model_path: optional AESC-I ``.pt`` file; overrides ``dataset`` and the zdims.
        cifar10_zdim: latent size of the CIFAR-10 model; 0 = the default of the shipped
            models (:func:`~.core.zoo.default_zdim`: the smallest zdim that ships).
    """

    def __init__(self, dataset: str = "auto", zdim: int = 40, model_path: str = "",
                 cifar10_zdim: int = 0):
        gr.basic_block.__init__(self, name="semcom_semantic_encoder", in_sig=None, out_sig=None)
        if dataset not in DATASET_CHOICES:
            raise ValueError(
                f"unknown dataset {dataset!r}; choose one of {', '.join(DATASET_CHOICES)}")
        if int(zdim) < 1:
            raise ValueError(f"zdim must be a positive integer, got {zdim!r}")
        if int(cifar10_zdim) < 0:
            raise ValueError(f"cifar10_zdim must be >= 0 (0 = the shipped default), "
                             f"got {cifar10_zdim!r}")
        self.dataset = dataset
        self.zdim = int(zdim)
        self.cifar10_zdim = int(cifar10_zdim)
        self.model_path = model_path or ""
        self._models = {}  # dataset -> (model, blob, model_id)
        self._zdims = {}   # dataset -> zdim of its model
        if self.model_path:
            model = zoo.load_aesc(path=self.model_path)
            self._install(model.dataset, model)
        else:
            self._zdims = {"mnist": self.zdim,
                           "cifar10": self.cifar10_zdim or self._default_zdim("cifar10")}
            for name, param in (("mnist", "zdim"), ("cifar10", "cifar10_zdim")):
                shipped = zoo.shipped_aesc(name)
                if dataset in ("auto", name) and self._zdims[name] not in shipped:
                    raise ValueError(
                        f"{param}: no {name} model with zdim {self._zdims[name]} ships; choose "
                        f"one of {', '.join(map(str, shipped)) or 'none'}, or give a model "
                        "file trained with `semcom train`")
            for name in ((dataset,) if dataset != "auto" else ()):
                self._install(name, zoo.load_aesc(name, self._zdims[name]))
        self.stats = {"images": 0, "codes": 0, "dropped": 0}
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.message_port_register_out(pmt.intern("model"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    @staticmethod
    def _default_zdim(dataset):
        try:
            return zoo.default_zdim(dataset)
        except zoo.ModelFileError:
            return 0   # no model ships: refused below, naming what ships

    def zdims(self) -> dict:
        """``{dataset: zdim}`` of the model each source uses (``{}`` with a model file)."""
        return dict(self._zdims)

    def _install(self, dataset, model):
        blob = blobfmt.blob_from_aesc(model)
        self._models[dataset] = {"model": model.eval(), "blob": blob,
                                 "model_id": blobfmt.model_id(blob), "announced": False}
        return self._models[dataset]

    def _select(self, shape):
        if self.model_path:
            entry = next(iter(self._models.values()))
            if tuple(entry["model"].image_shape) != tuple(shape):
                raise ValueError(f"image shape {list(shape)} does not fit model {self.model_path} "
                                 f"({list(entry['model'].image_shape)})")
            return entry
        dataset = self.dataset if self.dataset != "auto" else zoo.identify_source(shape)
        entry = self._models.get(dataset)
        if entry is None:
            entry = self._install(dataset, zoo.load_aesc(dataset, self._zdims[dataset]))
        if tuple(entry["model"].image_shape) != tuple(shape):
            raise ValueError(f"image shape {list(shape)} does not fit the {dataset} model")
        return entry

    def _announce(self, entry):
        model = entry["model"]
        meta = {"packet_type": "model", "model_id": entry["model_id"],
                "model_tag": entry["model_id"][:16], "dataset": model.dataset, "zdim": model.zdim}
        self.message_port_pub(pmt.intern("model"), make_pdu(meta, entry["blob"]))
        entry["announced"] = True

    def _handle(self, msg):
        self.stats["images"] += 1
        try:
            meta, pixels = parse_pdu(msg)
            shape = tuple(int(s) for s in meta.get("shape", ()))
            if len(shape) != 3 or int(np.prod(shape)) != pixels.size:
                raise ValueError(f"image PDU with shape {list(shape)} and {pixels.size} bytes")
            entry = self._select(shape)
        except Exception as exc:  # bad input from upstream: log, count, drop
            self.stats["dropped"] += 1
            self.logger.warn(f"image dropped: {exc}")
            return
        if not entry["announced"]:
            self._announce(entry)
        model = entry["model"]
        with torch.no_grad():
            x = torch.from_numpy(pixels.reshape(1, *shape).astype(np.float32) / 255.0)
            q, scale = quantize_latent(model.encode(x), model.latent_bits)
        out_meta = {
            "packet_type": "code", "image_id": int(meta.get("image_id", self.stats["images"] - 1)),
            "label": meta.get("label"), "shape": shape, "dataset": model.dataset,
            "zdim": model.zdim, "scale": float(scale[0]), "model_id": entry["model_id"],
            "model_tag": entry["model_id"][:16],
        }
        self.message_port_pub(pmt.intern("out"), make_pdu(out_meta, q.numpy().reshape(-1)))
        self.stats["codes"] += 1
