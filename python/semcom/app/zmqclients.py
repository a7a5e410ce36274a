# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom listen`` and ``semcom send``: image PDUs to and from a running flowgraph over
ZMQ, without GNU Radio.

The receiver flowgraphs (``zmq_rx``, ``sigmf_rx``) publish every decoded image as an image
PDU (``docs/pdu.md``) on a stock ``zeromq.pub_msg_sink`` bound to ``--image-address``;
:func:`listen` subscribes to it. The transmitter flowgraph ``zmq_tx`` takes images on a stock
``zeromq.pull_msg_source`` bound to its ``--image-address``; :func:`send` pushes image PDUs
to it. PUSH/PULL rather than PUB/SUB on that side because a PUB socket drops what it sends
before the subscriber's subscription has arrived, and a PUSH socket queues it instead, so no
image is lost at start-up. Each ZMQ message is one frame holding ``pmt::serialize_str`` of the
PDU, read and written by :mod:`gnuradio.semcom.core.pmtwire`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import numpy as np

from ..core import pmtwire

__all__ = ["listen", "send", "load_image", "image_pdu_bytes", "parse_image_message",
           "DEFAULT_RX_ADDRESS", "DEFAULT_TX_ADDRESS", "FIRST_ID"]

log = logging.getLogger(__name__)

DEFAULT_RX_ADDRESS = "tcp://127.0.0.1:5557"   # zmq_rx / sigmf_rx --image-address
DEFAULT_TX_ADDRESS = "tcp://127.0.0.1:5556"   # zmq_tx --image-address
# The transmitter's own image source numbers its images from 0; images sent from outside
# start here so that both can run side by side without two images sharing an id.
FIRST_ID = 1_000_000
MAX_IMAGE_ID = 2**32 - 1   # ids travel as uint32 in the code packet header

_LABEL = re.compile(r"_label(\d+)$")


def _zmq():
    try:
        import zmq
    except ImportError as exc:   # pragma: no cover - pinned in requirements.txt
        raise OSError("pyzmq is not installed; install the pinned version of "
                      "requirements.txt (pip install -r requirements.txt)") from exc
    return zmq


def _check_address(address: str) -> str:
    if not re.match(r"^(tcp|ipc|inproc)://.+", str(address)):
        raise ValueError(f"ZMQ address must look like tcp://HOST:PORT (or ipc://PATH), "
                         f"got {address!r}")
    return str(address)


# --------------------------------------------------------------------------- images

def load_image(path, shape=None) -> tuple[np.ndarray, int | None]:
    """Read an image file (any format Pillow reads) as ``uint8 [C, H, W]`` and its label.

    Gray images give C = 1, colour ones C = 3 (alpha dropped). With ``shape`` = ``(C, H, W)``
    the image is converted to that many channels and resized to H × W. A file name ending in
    ``_label<d>`` (before the suffix) gives the label, as the image source's folder mode reads.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            gray = (img.mode in ("1", "L", "LA", "I", "I;16", "F") if shape is None
                    else shape[0] == 1)
            img = img.convert("L" if gray else "RGB")
            if shape is not None and img.size != (shape[2], shape[1]):
                img = img.resize((shape[2], shape[1]), Image.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path}: not an image file Pillow can read ({exc})") from None
    image = arr[None] if arr.ndim == 2 else np.transpose(arr, (2, 0, 1))
    match = _LABEL.search(path.stem)
    return np.ascontiguousarray(image), (int(match.group(1)) if match else None)


def image_pdu_bytes(image, image_id: int, label=None, dataset=None) -> bytes:
    """The serialized image PDU (``docs/pdu.md``) of one ``uint8 [C, H, W]`` image."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3:
        raise ValueError(f"image must be [C, H, W], got shape {image.shape}")
    if not 0 <= int(image_id) <= MAX_IMAGE_ID:
        raise ValueError(f"image_id must be in 0 … {MAX_IMAGE_ID}, got {image_id}")
    meta = {"image_id": int(image_id), "shape": tuple(int(s) for s in image.shape)}
    if label is not None:
        meta["label"] = int(label)
    if dataset:
        meta["dataset"] = str(dataset)
    return pmtwire.pdu_to_bytes(meta, image.reshape(-1))


def parse_image_message(data: bytes) -> tuple[dict, np.ndarray]:
    """(metadata, ``uint8 [C, H, W]`` image) of one serialized image PDU; raises
    ``ValueError`` naming what is wrong."""
    meta, payload = pmtwire.pdu_from_bytes(data)
    if "image_id" not in meta or not isinstance(meta["image_id"], int):
        raise ValueError("image PDU lacks an integer 'image_id'")
    shape = meta.get("shape")
    if isinstance(shape, np.ndarray):
        shape = tuple(shape.tolist())
    if (not isinstance(shape, (tuple, list)) or len(shape) != 3
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape)):
        raise ValueError(f"image PDU's 'shape' must be 3 positive integers, got {shape!r}")
    shape = tuple(int(s) for s in shape)
    if payload.size != int(np.prod(shape)):
        raise ValueError(f"image PDU payload has {payload.size} bytes, shape {shape} needs "
                         f"{int(np.prod(shape))}")
    return meta, payload.reshape(shape)


# --------------------------------------------------------------------------- listen

def _jsonable(meta: dict) -> dict:
    out = {}
    for key, value in meta.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, complex):
            value = [value.real, value.imag]
        elif isinstance(value, pmtwire.Pair):
            continue
        out[key] = value
    return out


class _Viewer:
    """A matplotlib window showing the latest received image."""

    def __init__(self):
        import matplotlib.pyplot as plt

        self.plt = plt
        hint = "run where a display is available, or save the images with --out-dir"
        try:
            backend = plt.get_backend()
            # without a display matplotlib falls back to a file backend: no window at all
            if backend.lower() in ("agg", "pdf", "ps", "svg", "pgf", "cairo", "template"):
                raise RuntimeError(f"matplotlib has no window backend here ({backend})")
            plt.ion()
            self.fig, self.ax = plt.subplots(figsize=(4, 4))
        except (RuntimeError, ImportError) as exc:   # no display, no GUI toolkit
            raise OSError(f"cannot open a window to show the images: {exc}; {hint}") from None
        self.ax.set_axis_off()
        self.artist = None

    def show(self, meta, image):
        from ..core.images import to_uint8

        pixels = to_uint8(image)
        if self.artist is None or self.artist.get_array().shape != pixels.shape:
            self.ax.clear()
            self.ax.set_axis_off()
            self.artist = self.ax.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None,
                                         vmin=0, vmax=255)
        else:
            self.artist.set_data(pixels)
        label = f", label {meta['label']}" if "label" in meta else ""
        self.ax.set_title(f"image {meta['image_id']}{label}")
        self.plt.pause(0.001)

    def idle(self):
        self.plt.pause(0.05)


def listen(address: str = DEFAULT_RX_ADDRESS, out_dir=None, count: int = 0,
           timeout_s: float = 0.0, show: bool = False, json_lines: bool = False,
           print_fn=print) -> dict:
    """Receive the image PDUs a running receiver flowgraph publishes.

    Args:
        address: the flowgraph's ``--image-address`` (its ``pub_msg_sink`` binds there).
        out_dir: folder for ``image_<id>.png`` (``image_<id>_label<d>.png``); None = no files.
        count: stop after this many images (0 = no limit).
        timeout_s: stop after this many seconds without a message (0 = never; Ctrl-C ends).
        show: show each image in a window as it arrives (needs a display).
        json_lines: print each image's metadata as one JSON line instead of a sentence.

    Returns a summary dict: ``images``, ``malformed``, ``files`` (paths written).
    Messages that are not image PDUs are logged, counted and skipped.
    """
    zmq = _zmq()
    _check_address(address)
    if int(count) < 0 or not float(timeout_s) >= 0:
        raise ValueError(f"count and timeout_s must be >= 0, got {count} and {timeout_s}")
    out = Path(out_dir) if out_dir else None
    viewer = _Viewer() if show else None
    from ..core.images import save_png

    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(address)
    summary = {"address": address, "images": 0, "malformed": 0, "files": []}
    last = time.monotonic()
    try:
        while not count or summary["images"] < count:
            if sock.poll(100):
                data = sock.recv()
                last = time.monotonic()
                try:
                    meta, image = parse_image_message(data)
                except ValueError as exc:
                    summary["malformed"] += 1
                    log.warning("skipping a message that is not an image PDU: %s", exc)
                    continue
                summary["images"] += 1
                if out is not None:
                    label = meta.get("label")
                    suffix = f"_label{label}" if isinstance(label, int) else ""
                    path = save_png(image, out / f"image_{meta['image_id']:06d}{suffix}.png")
                    summary["files"].append(str(path))
                if json_lines:
                    print_fn(json.dumps(_jsonable(meta), sort_keys=True))
                else:
                    extras = "".join(f", {k} {meta[k]}" for k in ("label", "snr_db", "crc_ok")
                                     if k in meta)
                    print_fn(f"image {meta['image_id']} {list(image.shape)}{extras}")
                if viewer is not None:
                    viewer.show(meta, image)
            else:
                if viewer is not None:
                    viewer.idle()
                if timeout_s and time.monotonic() - last > timeout_s:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return summary


# --------------------------------------------------------------------------- send

def _wait_connected(zmq, monitor, address: str, timeout_s: float) -> None:
    """Block until the monitored socket has a peer (ZMQ handshake done), else raise OSError.
    The monitor must exist before the socket connects, or it may miss the event."""
    from zmq.utils.monitor import recv_monitor_message

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if monitor.poll(100):
            if recv_monitor_message(monitor)["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                return
    raise OSError(f"no flowgraph accepted a connection at {address} within {timeout_s:g} s; "
                  "start the transmitter (zmq_tx, which binds --image-address) first, "
                  "or check the address")


def send(address: str, files, dataset=None, first_id: int = FIRST_ID, interval_s: float = 0.0,
         connect_timeout_s: float = 10.0, print_fn=print) -> dict:
    """Push images to a running transmitter flowgraph as image PDUs.

    Args:
        address: the transmitter's ``--image-address`` (its ``pull_msg_source`` binds there).
        files: image files (PNG or any format Pillow reads).
        dataset: ``mnist`` / ``cifar10`` to convert every image to that dataset's shape and tag
            it, so the semantic encoder uses that model; None sends the images as they are.
        first_id: ``image_id`` of the first image; the next ones count up.
        interval_s: seconds between images.
        connect_timeout_s: how long to wait for the flowgraph before giving up.

    Returns a summary dict: ``images`` sent, ``first_id``, ``last_id``. Raises ``ValueError``
    for an unreadable file or bad argument (before anything is sent) and ``OSError`` when no
    flowgraph listens at ``address``.
    """
    zmq = _zmq()
    _check_address(address)
    files = [Path(f) for f in files]
    if not files:
        raise ValueError("give at least one image file to send")
    if not float(interval_s) >= 0:
        raise ValueError(f"interval_s must be >= 0 s, got {interval_s}")
    shape = None
    if dataset:
        from ..core import registry
        from ..core.models import DATASET_SHAPES

        registry.check(registry.DATASETS, dataset, "dataset")
        shape = DATASET_SHAPES[dataset]
    first_id = int(first_id)
    if not 0 <= first_id <= MAX_IMAGE_ID - len(files) + 1:
        raise ValueError(f"first_id must be in 0 … {MAX_IMAGE_ID - len(files) + 1} for "
                         f"{len(files)} images, got {first_id}")
    messages = []
    for k, path in enumerate(files):
        image, label = load_image(path, shape)
        messages.append((path, image_pdu_bytes(image, first_id + k, label, dataset)))

    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, int(connect_timeout_s * 1000))
    monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    try:
        sock.connect(address)
        _wait_connected(zmq, monitor, address, connect_timeout_s)
        sock.disable_monitor()
        for k, (path, data) in enumerate(messages):
            if k and interval_s:
                time.sleep(interval_s)
            sock.send(data)
            print_fn(f"sent {path} as image {first_id + k}")
    finally:
        monitor.close()
        sock.close()   # waits up to LINGER for the queue to drain
    return {"address": address, "images": len(messages), "first_id": first_id,
            "last_id": first_id + len(messages) - 1}
