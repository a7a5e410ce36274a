# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The splicing rule SR(l, β) and its inverse: link-layer packets as pure functions.

Layout (``docs/model-blob.md`` §2, big-endian)::

    u8  packet type      1 = model segment, 2 = code, 3 = image data (baselines)
    u8  format version   1
    8s  model tag        first 8 bytes of the model id (SHA-256 of the blob)
    u32 index            segment index (type 1) / code sequence number (type 2)
    u32 count            number of segments (type 1) / 1 (type 2)
    u16 payload length   P
    P   payload
    u32 CRC-32           zlib.crc32 of everything before it

A code payload is ``u32 image id, f32 scale, C × u8 code``. An image-data payload (the
JPEG and direct-transmission baselines of ``semcom sweep``) is ``u32 image id, data``.

:class:`Reassembler` is SR⁻¹ for model blobs: segments in any order, duplicates dropped,
missing indices reported, completed blobs checked against their tag. It is pure Python so
the blocks stay thin and the rules are tested without GNU Radio.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from . import registry

__all__ = [
    "MODEL_SEGMENT", "CODE", "VERSION", "HEADER_BYTES", "OVERHEAD_BYTES", "MAX_PAYLOAD",
    "PacketError", "Packet", "pack", "unpack", "segment_blob", "pack_code", "unpack_code",
    "CodePayload", "Reassembler", "TYPE_NAMES", "blob_matches_tag", "IMAGE_DATA",
    "pack_image_data", "unpack_image_data",
]

MODEL_SEGMENT = 1
CODE = 2
IMAGE_DATA = 3
TYPE_NAMES = {MODEL_SEGMENT: "model_segment", CODE: "code", IMAGE_DATA: "image_data"}
VERSION = 1
_HEADER = struct.Struct(">BB8sIIH")
_CODE_HEAD = struct.Struct(">If")
HEADER_BYTES = _HEADER.size            # 20
OVERHEAD_BYTES = HEADER_BYTES + 4      # header + CRC-32
MAX_PAYLOAD = 65535
MAX_SEGMENTS = 1 << 16


class PacketError(ValueError):
    """A packet cannot be parsed. ``reason`` is one word for counters:
    ``short``, ``type``, ``version``, ``length``, ``crc``, ``index``, ``code``, ``blob``."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Packet:
    """One parsed packet. ``crc_ok`` is False only when parsed with ``check_crc=False``."""

    type: int
    model_tag: bytes
    index: int
    count: int
    payload: bytes
    crc_ok: bool = True

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, str(self.type))


def pack(ptype: int, model_tag: bytes, index: int, count: int, payload: bytes) -> bytes:
    """Build one packet (header, payload, CRC-32)."""
    if ptype not in TYPE_NAMES:
        raise ValueError(f"packet type must be 1 (model segment), 2 (code) or 3 (image data), "
                         f"got {ptype}")
    if len(model_tag) != 8:
        raise ValueError(f"model tag must be 8 bytes, got {len(model_tag)}")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    head = _HEADER.pack(ptype, VERSION, bytes(model_tag), index & 0xFFFFFFFF, count, len(payload))
    body = head + bytes(payload)
    return body + struct.pack(">I", zlib.crc32(body))


def unpack(data: bytes, check_crc: bool = True) -> Packet:
    """Parse one packet; raises :class:`PacketError` naming what is wrong.

    With ``check_crc=False`` a packet whose CRC fails is returned with ``crc_ok=False``
    (the paper's unprotected mode), but its header must still be routable.
    """
    data = bytes(data)
    if len(data) < OVERHEAD_BYTES:
        raise PacketError("short", f"packet of {len(data)} bytes is shorter than the "
                                   f"{OVERHEAD_BYTES}-byte header and CRC")
    ptype, version, tag, index, count, length = _HEADER.unpack_from(data)
    crc_ok = zlib.crc32(data[:-4]) == struct.unpack(">I", data[-4:])[0]
    if check_crc and not crc_ok:
        raise PacketError("crc", f"CRC-32 mismatch on a {len(data)}-byte packet")
    if ptype not in TYPE_NAMES:
        raise PacketError("type", f"unknown packet type {ptype} (expected 1, 2 or 3)")
    if version != VERSION:
        raise PacketError("version",
                          f"packet format version {version}, this receiver reads {VERSION}")
    if length != len(data) - OVERHEAD_BYTES:
        raise PacketError("length", f"header announces a {length}-byte payload, packet carries "
                                    f"{len(data) - OVERHEAD_BYTES}")
    if ptype == MODEL_SEGMENT and not (0 < count <= MAX_SEGMENTS and index < count):
        raise PacketError("index", f"segment index {index} of count {count} is out of range")
    return Packet(ptype, tag, index, count, data[HEADER_BYTES:-4], crc_ok)


def segment_blob(blob: bytes, model_tag: bytes, segment_size: int = 1024) -> list[bytes]:
    """Cut a model blob into model-segment packets of at most ``segment_size`` payload bytes."""
    if not 16 <= segment_size <= MAX_PAYLOAD:
        raise ValueError(f"segment_size must be in [16, {MAX_PAYLOAD}] bytes, got {segment_size}")
    count = max(1, math.ceil(len(blob) / segment_size))
    if count > MAX_SEGMENTS:
        raise ValueError(f"blob of {len(blob)} bytes needs {count} segments (max {MAX_SEGMENTS}); "
                         "raise segment_size")
    return [pack(MODEL_SEGMENT, model_tag, i, count, blob[i * segment_size:(i + 1) * segment_size])
            for i in range(count)]


@dataclass
class CodePayload:
    image_id: int
    scale: float
    code: np.ndarray  # uint8 [C]


def pack_code(image_id: int, scale: float, code) -> bytes:
    """Payload of a code packet: image id, float32 scale, the 8-bit code."""
    code = np.asarray(code)
    if code.dtype != np.uint8 or code.ndim != 1:
        raise ValueError(f"code must be a 1-D uint8 array, got {code.dtype} {code.shape}")
    return _CODE_HEAD.pack(int(image_id) & 0xFFFFFFFF, float(scale)) + code.tobytes()


def unpack_code(payload: bytes, code_length: int | None = None) -> CodePayload:
    """Inverse of :func:`pack_code`; checks the length when ``code_length`` is given."""
    if len(payload) < _CODE_HEAD.size + 1:
        raise PacketError("code", f"code payload of {len(payload)} bytes is too short")
    image_id, scale = _CODE_HEAD.unpack_from(payload)
    code = np.frombuffer(payload, dtype=np.uint8, offset=_CODE_HEAD.size)
    if code_length is not None and len(code) != code_length:
        raise PacketError("code", f"code of {len(code)} values, the model expects {code_length}")
    return CodePayload(image_id, scale, code.copy())


def pack_image_data(image_id: int, data: bytes) -> bytes:
    """Payload of an image-data packet: image id, then the scheme's bytes for that image."""
    return struct.pack(">I", int(image_id) & 0xFFFFFFFF) + bytes(data)


def unpack_image_data(payload: bytes) -> tuple[int, bytes]:
    """Inverse of :func:`pack_image_data`: ``(image id, data)``."""
    if len(payload) < 4:
        raise PacketError("code", f"image-data payload of {len(payload)} bytes is too short")
    return struct.unpack_from(">I", payload)[0], bytes(payload[4:])


def blob_matches_tag(blob: bytes, tag: bytes) -> bool:
    """True when the blob's SHA-256 suffix matches its content and starts with ``tag``."""
    if len(blob) <= 32:
        return False
    digest = hashlib.sha256(blob[:-32]).digest()
    return digest == blob[-32:] and digest[:len(tag)] == tag


@dataclass
class _Partial:
    count: int
    segments: dict = field(default_factory=dict)
    corrupted: int = 0  # segments that arrived with a failed CRC (paper mode only)


class Reassembler:
    """Collects model segments per model tag and returns each blob once complete.

    ``verified`` (default): segments must pass their CRC, and a completed blob is
    returned only if its SHA-256 suffix matches its content and its tag; otherwise it is
    counted as rejected and collection starts over, so the next carousel round can
    deliver a clean copy.
    ``paper``: segments with failed CRCs are kept (first copy of each index wins), so the
    blob is assembled with whatever bits arrived.

    At most ``max_models`` tags are collected at once (the oldest is dropped).
    """

    def __init__(self, mode: str = "verified", max_models: int = 4):
        registry.check(registry.PROTECTIONS, mode, "model_protection")
        self.mode = mode
        self.max_models = max_models
        self._partial: OrderedDict[bytes, _Partial] = OrderedDict()
        self.stats = {"segments": 0, "duplicates": 0, "count_mismatch": 0, "crc_failed": 0,
                      "blobs": 0, "rejected": 0}

    def add(self, packet: Packet):
        """Add one model-segment packet; returns the blob bytes when it completes one."""
        self.stats["segments"] += 1
        if not packet.crc_ok:
            self.stats["crc_failed"] += 1
            if self.mode == "verified":
                return None
        tag = packet.model_tag
        partial = self._partial.get(tag)
        if partial is None:
            partial = self._partial[tag] = _Partial(packet.count)
            while len(self._partial) > self.max_models:
                self._partial.popitem(last=False)
        else:
            self._partial.move_to_end(tag)
        if packet.count != partial.count:
            self.stats["count_mismatch"] += 1
            return None
        if packet.index in partial.segments:
            self.stats["duplicates"] += 1
            return None
        partial.segments[packet.index] = packet.payload
        partial.corrupted += not packet.crc_ok
        if len(partial.segments) < partial.count:
            return None
        blob = b"".join(partial.segments[i] for i in range(partial.count))
        del self._partial[tag]
        if self.mode == "verified" and not blob_matches_tag(blob, tag):
            self.stats["rejected"] += 1
            raise PacketError("blob", f"model {tag.hex()}: the reassembled blob fails its "
                                      "SHA-256 check; waiting for the next carousel round")
        self.stats["blobs"] += 1
        return blob

    def missing(self) -> dict:
        """``{tag hex: [missing segment indices]}`` for every blob still being collected."""
        return {tag.hex(): [i for i in range(p.count) if i not in p.segments]
                for tag, p in self._partial.items()}
