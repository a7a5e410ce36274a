# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Image source: emits one image PDU per image, then ends the flowgraph."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr

from .core import registry
from .phy.pdu import DONE, MAX_IMAGE_ID, SYSTEM_PORT, make_image_pdu

__all__ = ["image_source", "SOURCES"]

SOURCES = ("sample", "dataset", "folder", "array", "mixed")
SPLITS = registry.keys(registry.SPLITS)

_LABEL_IN_NAME = re.compile(r"(?:^|_)label(\d+)$")


# --------------------------------------------------------------------------- loading

def _load_folder(path: str):
    from PIL import Image

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ValueError(f"path: folder {folder} does not exist; give a folder of PNG files")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png" and p.is_file())
    if not files:
        raise ValueError(f"path: folder {folder} holds no .png files")
    images, labels = [], []
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
                if im.mode in ("1", "L", "LA", "La"):
                    arr = np.asarray(im.convert("L"))[None]
                elif im.mode in ("RGB", "RGBA", "RGBa", "P", "PA", "CMYK", "YCbCr"):
                    arr = np.transpose(np.asarray(im.convert("RGB")), (2, 0, 1))
                else:
                    raise ValueError(f"pixel mode {im.mode} (only 8-bit gray or colour)")
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"path: cannot read image {f}: {exc}; remove or convert the file") from exc
        images.append(np.ascontiguousarray(arr, dtype=np.uint8))
        match = _LABEL_IN_NAME.search(f.stem)
        labels.append(int(match.group(1)) if match else None)
    return images, labels, [None] * len(images)


def _load_array(path: str):
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"path: array file {file} does not exist; give a .npz or .npy file")
    try:
        if file.suffix.lower() == ".npz":
            with np.load(file, allow_pickle=False) as data:
                if "images" not in data.files:
                    raise ValueError(f"it holds {data.files}, not an 'images' array")
                images = data["images"]
                labels = data["labels"] if "labels" in data.files else None
        else:
            images, labels = np.load(file, allow_pickle=False), None
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"path: cannot read array file {file}: {exc}") from exc
    if not isinstance(images, np.ndarray):
        raise ValueError(f"path: {file} does not hold an array of images")
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] not in (1, 3) or len(images) == 0:
        raise ValueError(
            f"path: {file}: images must be [N, C, H, W] (or [N, H, W]) with C = 1 or 3 and N > 0, "
            f"got shape {images.shape}"
        )
    if images.dtype != np.uint8:
        raise ValueError(f"path: {file}: images must be uint8, got {images.dtype}; "
                         "scale to 0..255 and cast with .astype(np.uint8)")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"path: {file}: 'labels' must be {len(images)} integers, "
                             f"got {labels.dtype} array of {len(labels)}")
        labels = [int(v) for v in labels]
    return list(images), labels or [None] * len(images), [None] * len(images)


def _load_dataset(dataset: str, split: str, data_root: str):
    from .core import datasets

    registry.check(registry.DATASETS, dataset, "dataset")
    registry.check(registry.SPLITS, split, "split")
    imageset = datasets.load(dataset, split, root=data_root or None)  # DatasetError says the fix
    return (list(imageset.images), [int(v) for v in imageset.labels],
            [imageset.name] * len(imageset.images))


def _load_sample(dataset: str):
    from .core import zoo

    registry.check(registry.DATASETS, dataset, "dataset")
    images, labels = zoo.load_sample(dataset=dataset)
    return list(images), [int(v) for v in labels], [dataset] * len(images)


def _load_mixed():
    """The shipped samples of every dataset, interleaved one image of each in turn (MNIST 0,
    CIFAR-10 0, MNIST 1, ...): a stream of two kinds of source for source identification."""
    sets = [_load_sample(d) for d in registry.keys(registry.DATASETS)]
    images, labels, tags = [], [], []
    for k in range(max(len(s[0]) for s in sets)):
        for set_images, set_labels, set_tags in sets:
            if k < len(set_images):
                images.append(set_images[k])
                labels.append(set_labels[k])
                tags.append(set_tags[k])
    return images, labels, tags


# --------------------------------------------------------------------------- the block

class image_source(gr.basic_block):
    """Emit one image PDU per image from a dataset, a PNG folder, an array file or the sample.

    Input: none. Output: message port ``out``, one PDU per image: ``pmt.cons(meta, u8vector)``,
    payload the pixels ``uint8`` row-major ``[C, H, W]``; metadata ``image_id`` (int, counts
    emitted images from 0, unique within a run even when repeating), ``shape`` (tuple
    ``(C, H, W)``), ``source_index`` (int, position of the image in its set), ``label`` (int,
    when known) and ``dataset`` (``'mnist'``/``'cifar10'``, for the dataset, sample and mixed
    sources: each image's own).

    When every selected image is out and ``repeat`` is off, the block posts ``("done" . 1)`` to
    its own ``system`` port when ``end_flowgraph`` is set: GNU Radio then ends this block and
    passes ``done`` to the blocks it feeds, so ``tb.run()`` returns once they drain.

    Args:
        source: ``'sample'`` (the 64 shipped test images of ``dataset``), ``'dataset'``,
            ``'folder'`` (PNG files in file-name order; gray → C = 1, colour → C = 3; a name
            ending in ``_label<d>`` gives the label), ``'array'`` (``.npz`` with ``images``
            uint8 ``[N, C, H, W]`` and optional ``labels``, or a ``.npy`` of images) or
            ``'mixed'`` (the shipped MNIST and CIFAR-10 samples interleaved, one image of
            each in turn: 128 images, even positions MNIST, odd CIFAR-10).
        dataset: ``'mnist'`` or ``'cifar10'`` (sources ``'dataset'`` and ``'sample'``).
        split: ``'train'`` or ``'test'`` (source ``'dataset'``).
        path: the folder or array file (sources ``'folder'``, ``'array'``).
        data_root: dataset folder; ``''`` = ``$SEMCOM_DATA``, else ``~/.cache/semcom``.
        num_images: how many images from ``start`` on; 0 = all the rest.
        start: index of the first image in the set.
        interval_s: seconds between two images; 0 = as fast as the flowgraph takes them.
        repeat: start over after the last image (never ends).
        initial_delay_s: seconds to wait after the flowgraph starts before the first image.
        end_flowgraph: post ``done`` after the last image (ignored when repeating).

    Raises ``ValueError`` (or ``DatasetError``/``ModelFileError`` from the core, whose text
    names the missing file and the fix) at construction for bad parameters or unreadable data.
    """

    def __init__(self, source="sample", dataset="mnist", split="test", path="", data_root="",
                 num_images=0, start=0, interval_s=0.0, repeat=False, initial_delay_s=0.0,
                 end_flowgraph=True):
        gr.basic_block.__init__(self, name="image_source", in_sig=None, out_sig=None)
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        if int(num_images) < 0:
            raise ValueError(f"num_images must be >= 0 (0 = all), got {num_images}")
        if int(start) < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        if float(initial_delay_s) < 0:
            raise ValueError(f"initial_delay_s must be >= 0 s, got {initial_delay_s}")
        self._check_interval(interval_s)
        if source in ("folder", "array") and not str(path).strip():
            raise ValueError(f"path must name the {source} to read when source is {source!r}")

        if source == "sample":
            images, labels, tags = _load_sample(dataset)
        elif source == "mixed":
            images, labels, tags = _load_mixed()
        elif source == "dataset":
            images, labels, tags = _load_dataset(dataset, split, data_root)
        elif source == "folder":
            images, labels, tags = _load_folder(path)
        else:
            images, labels, tags = _load_array(path)

        total = len(images)
        start, num_images = int(start), int(num_images)
        if start >= total:
            raise ValueError(f"start must be < {total} (the set holds {total} images), got {start}")
        stop = total if num_images == 0 else start + num_images
        if stop > total:
            raise ValueError(f"num_images: start {start} + num_images {num_images} exceeds the "
                             f"{total} images of the set; use at most {total - start} or 0 (all)")
        self._images = images[start:stop]
        self._labels = labels[start:stop]
        self._first_index = start
        self._dataset_tags = tags[start:stop]
        self._interval_s = float(interval_s)
        self._repeat = bool(repeat)
        self._initial_delay_s = float(initial_delay_s)
        self._end_flowgraph = bool(end_flowgraph)

        self._port = pmt.intern("out")
        self.message_port_register_out(self._port)
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = None
        self._position = 0          # next image within the selection
        self._sent = 0              # also the next image_id

    # ----------------------------------------------------------------- public API
    @staticmethod
    def _check_interval(interval_s):
        if not float(interval_s) >= 0:   # also rejects NaN
            raise ValueError(f"interval_s must be >= 0 s, got {interval_s}")

    def set_interval_s(self, interval_s):
        """Change the time between images (s); takes effect at once, also mid-wait."""
        self._check_interval(interval_s)
        with self._cond:
            self._interval_s = float(interval_s)
            self._cond.notify_all()

    def interval_s(self) -> float:
        return self._interval_s

    def images_sent(self) -> int:
        """Images emitted since construction (all runs)."""
        return self._sent

    def num_selected(self) -> int:
        """Images in the selection (one pass)."""
        return len(self._images)

    # ----------------------------------------------------------------- scheduler hooks
    def start(self):
        with self._cond:
            self._stopping = False
            if self._position >= len(self._images):
                self._position = 0      # a finished pass starts over when restarted
        self._thread = threading.Thread(target=self._emit_all, name="image_source", daemon=True)
        self._thread.start()
        return True

    def stop(self):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        return True

    # ----------------------------------------------------------------- emission thread
    def _wait(self, seconds_from, delay_of) -> bool:
        """Sleep until ``seconds_from + delay_of()``; False when stopping. Re-reads the delay."""
        with self._cond:
            while not self._stopping:
                remaining = seconds_from + delay_of() - time.monotonic()
                if remaining <= 0:
                    return True
                self._cond.wait(remaining)
            return False

    def _emit_all(self):
        t0 = time.monotonic()
        if not self._wait(t0, lambda: self._initial_delay_s):
            return
        last = None
        while True:
            if self._position >= len(self._images):
                if not self._repeat:
                    break
                self._position = 0
            if last is not None and not self._wait(last, lambda: self._interval_s):
                return
            k = self._position
            last = time.monotonic()
            try:
                pdu = make_image_pdu(
                    self._images[k], self._sent % (MAX_IMAGE_ID + 1), self._labels[k],
                    self._dataset_tags[k], {"source_index": self._first_index + k},
                )
                self.message_port_pub(self._port, pdu)
            except Exception as exc:  # keep the thread alive for the next image
                self.logger.error(f"image {self._first_index + k} not sent: {exc}")
            self._position += 1
            self._sent += 1
        if self._end_flowgraph:
            self.logger.debug(f"all {len(self._images)} images sent; ending the flowgraph")
            self._post(SYSTEM_PORT, pmt.cons(DONE, pmt.from_long(1)))
