# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The transmission schemes of the paper's evaluation: what each puts on the air, and how
its receiver turns the packets that come back into images.

Every scheme uses the link packet of ``docs/model-blob.md`` §2 (header, payload, CRC-32),
so all of them cross the same LDPC code, modulation and channel:

* ``aesc`` — AESC-I: the decoder's model blob (segments, repeated by a carousel every
  ``carousel_every`` codes) and one code packet per image, received by the core
  receiver (:mod:`.receiver`) that the deframer and semantic-decoder blocks wrap.
  ``verified`` model protection drops packets whose CRC fails and builds the decoder
  only from a blob whose SHA-256 checks; ``paper`` keeps corrupted packets (if their
  header still routes) and builds the decoder from the first blob that parses, weight
  bit errors included.
* ``jpeg`` — Pillow JPEG at a quality, ``header-known`` or ``full-file``
  (:mod:`.jpeg`), one image-data packet per image.
* ``direct`` — the raw 8-bit pixels, one image-data packet per image (the upper bound).

The baselines follow the paper's convention of decoding whatever bits arrive: their
packets are used even when the CRC fails, as long as the header routes them.

What an image that does not come back counts as (``docs/results.md``): an image whose
packet never arrived or could not be routed is **lost**; one whose data arrived but could
not be decoded (JPEG decode failure, or no decoder for its code) is **failed**. Both are
scored as the all-black image, so end-to-end metrics include them; their counts are
reported beside the metrics.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import torch

from . import blob as blobfmt
from . import jpeg
from . import packet as pk
from .quant import quantize_latent
from .receiver import AescReceiver, Image, check_protection

__all__ = ["OK", "LOST", "FAILED", "Reception", "Scheme", "AescScheme", "JpegScheme",
           "DirectScheme", "make_scheme", "SCHEMES"]

OK, LOST, FAILED = 0, 1, 2
SCHEMES = ("aesc", "jpeg", "direct")


@dataclass
class Reception:
    """Receiver output: ``images`` u8 ``[N, C, H, W]`` (lost/failed → black), ``status``
    per image (:data:`OK`, :data:`LOST`, :data:`FAILED`) and scheme counters."""

    images: np.ndarray
    status: np.ndarray
    counters: dict = field(default_factory=dict)


def _tag(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()[:8]


class Scheme:
    """Base class. ``transmit`` fills :attr:`accounting` (bits per kind of data sent)."""

    name = "scheme"

    def __init__(self):
        self.accounting = {"source_bits": 0, "model_bits": 0, "packet_bits": 0, "packets": 0}

    def label(self) -> str:
        return self.name

    def transmit(self, images: np.ndarray) -> list[bytes]:
        raise NotImplementedError

    def receive(self, received, n_images: int, shape) -> Reception:
        raise NotImplementedError

    def _account(self, packets):
        self.accounting["packets"] = len(packets)
        self.accounting["packet_bits"] = 8 * sum(len(p) for p in packets)


class _ImageDataScheme(Scheme):
    """One image-data packet per image; the receiver decodes what arrives."""

    def _encode(self, image) -> bytes:
        raise NotImplementedError

    def _decode(self, data: bytes, shape):
        raise NotImplementedError

    def encode_packet(self, image_id: int, image) -> tuple[bytes, int]:
        """One image-data packet for ``image``, and the scheme's data bits in it."""
        data = self._encode(image)
        return pk.pack(pk.IMAGE_DATA, _tag(self.label()), image_id, 1,
                       pk.pack_image_data(image_id, data)), 8 * len(data)

    def decode_packet(self, data: bytes, shape):
        """``(image_id, image or None, crc_ok)`` from one received packet, corrupted or not.

        Raises :class:`~.packet.PacketError` when the header does not route it to this
        scheme; the image is ``None`` when its data cannot be decoded; ``crc_ok`` is the
        packet's own CRC-32 check."""
        packet = pk.unpack(data, check_crc=False)
        if packet.type != pk.IMAGE_DATA or packet.model_tag != _tag(self.label()):
            raise pk.PacketError("type", f"not a {self.label()} packet")
        image_id, payload = pk.unpack_image_data(packet.payload)
        return image_id, self._decode(payload, tuple(shape)), packet.crc_ok

    def transmit(self, images):
        packets, source = [], 0
        for i, image in enumerate(images):
            packet, bits = self.encode_packet(i, image)
            packets.append(packet)
            source += bits
        self.accounting["source_bits"] = source
        self._account(packets)
        return packets

    def receive(self, received, n_images, shape):
        images = np.zeros((n_images, *shape), dtype=np.uint8)
        status = np.full(n_images, LOST, dtype=np.int8)
        counters = {"unroutable": 0, "crc_failed_used": 0, "duplicates": 0, "decode_failed": 0}
        for data, crc_ok in received:
            try:
                image_id, image, packet_ok = self.decode_packet(data, shape)
            except pk.PacketError:
                counters["unroutable"] += 1
                continue
            if image_id >= n_images:
                counters["unroutable"] += 1
                continue
            if status[image_id] != LOST:
                counters["duplicates"] += 1
                continue
            counters["crc_failed_used"] += not (crc_ok and packet_ok)
            if image is None:
                status[image_id] = FAILED
                counters["decode_failed"] += 1
            else:
                images[image_id] = image
                status[image_id] = OK
        return Reception(images, status, counters)


class JpegScheme(_ImageDataScheme):
    name = "jpeg"

    def __init__(self, quality: int, variant: str = "header-known"):
        super().__init__()
        if variant not in jpeg.VARIANTS:
            raise ValueError(f"JPEG variant must be one of {jpeg.VARIANTS}, got {variant!r}")
        if not 0 <= int(quality) <= 100:
            raise ValueError(f"JPEG quality must be in 0..100, got {quality!r}")
        self.quality = int(quality)
        self.variant = variant

    def label(self):
        return f"jpeg-{self.variant}-q{self.quality}"

    def _encode(self, image):
        return jpeg.encode(image, self.quality, self.variant)

    def _decode(self, data, shape):
        return jpeg.decode(data, shape, self.quality, self.variant)


class DirectScheme(_ImageDataScheme):
    name = "direct"

    def label(self):
        return "direct"

    def _encode(self, image):
        return np.ascontiguousarray(image, dtype=np.uint8).tobytes()

    def _decode(self, data, shape):
        if len(data) != int(np.prod(shape)):
            return None
        return np.frombuffer(data, dtype=np.uint8).reshape(shape).copy()


class AescScheme(Scheme):
    """AESC-I with its decoder sent through the link (see the module docstring)."""

    name = "aesc"

    def __init__(self, model, protection: str = "verified", carousel_every: int = 500,
                 segment_size: int = 1024):
        super().__init__()
        check_protection(protection)
        if int(carousel_every) < 1:
            raise ValueError(f"carousel_every must be >= 1 code, got {carousel_every!r}")
        self.model = model.eval()
        self.protection = protection
        self.carousel_every = int(carousel_every)
        self.segment_size = int(segment_size)
        self.blob = blobfmt.blob_from_aesc(self.model)
        self.model_id = blobfmt.model_id(self.blob)
        self.tag = bytes.fromhex(self.model_id[:16])

    def label(self):
        return f"aesc-{self.protection}"

    @torch.no_grad()
    def transmit(self, images):
        x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0)
        codes, scales = [], []
        for start in range(0, len(x), 1000):
            q, s = quantize_latent(self.model.encode(x[start:start + 1000]), self.model.latent_bits)
            codes.append(q.numpy().astype(np.uint8))
            scales.append(s.numpy())
        codes, scales = np.concatenate(codes), np.concatenate(scales)
        segments = pk.segment_blob(self.blob, self.tag, self.segment_size)
        packets, copies = [], 0
        for i in range(len(codes)):
            if i % self.carousel_every == 0:
                packets.extend(segments)
                copies += 1
            body = pk.pack_code(i, float(scales[i]), codes[i].reshape(-1))
            packets.append(pk.pack(pk.CODE, self.tag, i, 1, body))
        self.accounting["source_bits"] = int(codes.size * 8)
        self.accounting["model_bits"] = 8 * len(self.blob) * copies
        self.accounting["model_copies"] = copies
        self._account(packets)
        return packets

    def receive(self, received, n_images, shape):
        """The packets that came out of the link, ``(bytes, phy crc_ok)`` in arrival order,
        through the core receiver (:class:`.receiver.AescReceiver`, the deframer's and the
        semantic decoder's rules). The first image decoded for an id is kept; a code that
        arrived but never got a decoder makes its image FAILED.

        ``counters``: ``deframer`` and ``decoder`` (the receiver's stats, the blocks' own
        counters), ``duplicates`` (images decoded again for an id), ``out_of_range``
        (image ids >= ``n_images``), ``shape_mismatch``, ``codes_without_model`` (codes
        still held at the end) and ``model_received``."""
        # Codes are held for as long as the run lasts (no bound): a sweep point's stream
        # is finite, and a code that never got its decoder must be counted as FAILED.
        receiver = AescReceiver(self.protection, max_models=4, cache_size=4, max_pending=None)
        images = np.zeros((n_images, *shape), dtype=np.uint8)
        status = np.full(n_images, LOST, dtype=np.int8)
        extra = {"duplicates": 0, "out_of_range": 0, "shape_mismatch": 0}
        for data, crc_ok in received:
            for event in receiver.receive(data, crc_ok):
                if not isinstance(event, Image):
                    continue
                image_id = event.code.image_id
                if image_id >= n_images:
                    extra["out_of_range"] += 1
                elif status[image_id] != LOST:
                    extra["duplicates"] += 1
                elif event.pixels.shape != tuple(shape):
                    extra["shape_mismatch"] += 1
                    status[image_id] = FAILED
                else:
                    images[image_id] = event.pixels
                    status[image_id] = OK
        held = receiver.decoder.held_codes()
        for code in held:                               # codes arrived, never a decoder
            if code.image_id < n_images and status[code.image_id] == LOST:
                status[code.image_id] = FAILED
        counters = {**receiver.stats, **extra, "codes_without_model": len(held),
                    "model_received": receiver.decoder.stats["models"] > 0}
        return Reception(images, status, counters)


def make_scheme(kind: str, *, model=None, protection="verified", quality=None,
                variant="header-known", carousel_every=500, segment_size=1024) -> Scheme:
    """Build a scheme by name (``aesc``, ``jpeg``, ``direct``)."""
    if kind == "aesc":
        if model is None:
            raise ValueError("the aesc scheme needs a model")
        return AescScheme(model, protection, carousel_every, segment_size)
    if kind == "jpeg":
        if quality is None:
            raise ValueError("the jpeg scheme needs a quality")
        return JpegScheme(quality, variant)
    if kind == "direct":
        return DirectScheme()
    raise ValueError(f"scheme must be one of {SCHEMES}, got {kind!r}")
