# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Model updates by difference: a new decoder sent against a base the receiver holds.

When the transmitter's decoder changes (fine-tuned, re-trained) with the same layers, it
need not send the whole new blob: the receiver already has the old one. An *update*
(``docs/model-blob.md`` §4) names the base by its model id and the result by its own, and
carries the difference of the two blobs, compressed with LZMA2 (the standard library's
:mod:`lzma`)::

    "SCMU" | u8 version=1 | u8 codec=1 (LZMA2, raw) | u16 flags=0 | u32 length L
    | 32-byte base model id | 32-byte result model id | u32 diff length D
    | compressed diff | 32-byte SHA-256 of everything before it

The diff (``D`` bytes before compression) is: ``u32 H``, the result's first ``H`` bytes
(header, shapes, meta, layer records) XOR the base's (zero-padded), every tensor scale of
the result (``f32``), then the *quantized difference* ``q_result − q_base`` of every
weight, modulo 2^b so it keeps the width ``b`` of the weights (8-bit blobs: one byte per
weight; 16-bit blobs: the high bytes of all weights, then the low bytes, which compresses
better).

:func:`apply_update` accepts an update only for a base whose SHA-256 is the base id it
names, and returns the rebuilt blob only when its SHA-256 is the result id.
:func:`open_object` is the receiver's entry point for anything that arrives on the model
path: a blob, an update, either of them in a signed envelope (:mod:`.signing`).
Pure Python and NumPy (the blob parser needs PyTorch); never imports GNU Radio.
"""

from __future__ import annotations

import hashlib
import lzma
import struct
from dataclasses import dataclass

import numpy as np

from . import blob as blobfmt
from . import signing

__all__ = ["MAGIC", "VERSION", "CODEC_LZMA2", "HEADER_BYTES", "OVERHEAD_BYTES", "UpdateError",
           "Update", "is_update", "make_update", "parse_update", "apply_update", "Opened",
           "open_object", "object_id", "rebase"]

MAGIC = b"SCMU"
VERSION = 1
CODEC_LZMA2 = 1
_HEAD = struct.Struct(">4sBBHI32s32sI")
HEADER_BYTES = _HEAD.size                 # 80
HASH_BYTES = 32
OVERHEAD_BYTES = HEADER_BYTES + HASH_BYTES
# Raw LZMA2 (no container: the update's own header and SHA-256 do that job). The
# dictionary covers a CIFAR-10 decoder's diff (≈ 1.2 MB) whole; the decoder needs the
# same filter chain, so it is part of the format.
_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 23}]
_DECODE_FILTERS = [{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 23}]


class UpdateError(ValueError):
    """An update cannot be applied. ``reason``: ``no_base`` (the receiver does not hold the
    base it names: wait for the full blob) or ``update`` (malformed, or the result does not
    match its id)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Update:
    """A parsed update: ``base_id``, ``result_id`` (64 hex digits each), the ``diff``
    still compressed, its uncompressed length ``diff_length``, and the update's ``size``."""

    base_id: str
    result_id: str
    diff: bytes
    diff_length: int
    size: int


def is_update(data: bytes) -> bool:
    return bytes(data[:4]) == MAGIC


def object_id(data: bytes) -> str:
    """SHA-256 (hex) of everything before the 32-byte suffix: the id of a blob, an update
    or an envelope alike (the first 16 hex digits are its on-air tag)."""
    return hashlib.sha256(bytes(data[:-HASH_BYTES])).hexdigest()


# --------------------------------------------------------------------------- transmitter

def _planes(deltas: list[np.ndarray], bits: int) -> bytes:
    flat = np.concatenate([d.reshape(-1) for d in deltas]) if deltas else np.zeros(0)
    if bits == 8:
        return flat.astype(np.uint8).tobytes()
    flat = flat.astype(np.uint16)
    return (flat >> 8).astype(np.uint8).tobytes() + (flat & 0xFF).astype(np.uint8).tobytes()


def _unplanes(data: bytes, count: int, bits: int) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8)
    if bits == 8:
        return raw.astype(np.int64)
    return (raw[:count].astype(np.int64) << 8) | raw[count:].astype(np.int64)


def _check_same_layout(base: blobfmt.ModelBlob, result: blobfmt.ModelBlob) -> None:
    plan_b = [(t.name, t.shape) for t in base.tensors]
    plan_r = [(t.name, t.shape) for t in result.tensors]
    if base.bits != result.bits or plan_b != plan_r:
        raise ValueError(
            f"an update needs the same layers and weight bits in both models; base has "
            f"{len(plan_b)} tensors at {base.bits} bits, the new model {len(plan_r)} at "
            f"{result.bits} bits; send the full blob instead")


def make_update(base_blob: bytes, result_blob: bytes) -> bytes:
    """The update that turns ``base_blob`` into ``result_blob`` (both intact blobs of the
    same layers and weight bits; ``ValueError`` otherwise)."""
    base = blobfmt.parse_blob(base_blob)
    result = blobfmt.parse_blob(result_blob)
    _check_same_layout(base, result)
    result_blob, base_blob = bytes(result_blob), bytes(base_blob)
    head_len = result.tensor_offset
    base_head = base_blob[:base.tensor_offset].ljust(head_len, b"\0")[:head_len]
    head = bytes(a ^ b for a, b in zip(result_blob[:head_len], base_head))
    modulus = 1 << result.bits
    deltas = [(r.q.astype(np.int64) - b.q.astype(np.int64)) % modulus
              for b, r in zip(base.tensors, result.tensors)]
    diff = (struct.pack(">I", head_len) + head
            + b"".join(struct.pack(">f", t.scale) for t in result.tensors)
            + _planes(deltas, result.bits))
    packed = lzma.compress(diff, format=lzma.FORMAT_RAW, filters=_FILTERS)
    total = OVERHEAD_BYTES + len(packed)
    content = _HEAD.pack(MAGIC, VERSION, CODEC_LZMA2, 0, total, bytes.fromhex(base.model_id),
                         bytes.fromhex(result.model_id), len(diff)) + packed
    update = content + hashlib.sha256(content).digest()
    if apply_update(update, base_blob) != result_blob:   # never emit what a receiver rejects
        raise AssertionError("the update does not rebuild the new blob")
    return update


def rebase(base_blob: bytes, new_blob: bytes, step_bits: int | None = None,
           max_growth: float = 0.0) -> bytes:
    """``new_blob``'s weights re-expressed on ``base_blob``'s quantization grid: a blob
    whose update against the base is much smaller (a transmitter-side choice; the update
    format and the receiver are unchanged).

    Per tensor, when the new weights fit the base's range (``max|ŵ| ≤ qmax·s_base``), the
    base's scale is kept and ``q = q_base + m·round((ŵ_new − ŵ_base) / (m·s_base))`` with
    ``m = 2^(b − step_bits)`` (``step_bits=None``: ``m = 1``), so every weight is within
    ``m·s_base/2`` of the new blob's; otherwise the tensor is taken from the new blob
    unchanged. With ``max_growth`` (a fraction, e.g. 0.05) a tensor whose largest weight
    grew by at most that much keeps the base's scale too, and its weights beyond the base's
    range are clipped to it (an error of at most ``max_growth·max|ŵ|`` on those few).
    The transmitter must then use the returned blob as its decoder (its id is the one the
    codes carry). Quality against the new blob: ``docs/models.md``, *Model updates*."""
    base, new = blobfmt.parse_blob(base_blob), blobfmt.parse_blob(new_blob)
    _check_same_layout(base, new)
    bits = base.bits
    qmax = blobfmt._QMAX[bits]
    if step_bits is not None and not 2 <= int(step_bits) <= bits:
        raise ValueError(f"step_bits must be in 2..{bits} for {bits}-bit weights, got "
                         f"{step_bits}")
    m = 1 << (bits - int(step_bits)) if step_bits is not None else 1
    tensors = []
    for b, n in zip(base.tensors, new.tensors):
        w_new = n.q.astype(np.float64) * n.scale
        if np.abs(w_new).max() > qmax * b.scale * (1.0 + float(max_growth)):
            tensors.append(n)
            continue
        delta = np.round((w_new - b.q.astype(np.float64) * b.scale) / (m * b.scale)) * m
        q = np.clip(b.q.astype(np.int64) + delta.astype(np.int64), -qmax, qmax)
        tensors.append(blobfmt.BlobTensor(b.name, b.shape, q.astype(b.q.dtype), b.scale))
    return blobfmt.encode_blob(new.specs, new.in_shape, new.out_shape, bits, tensors, new.meta)


# --------------------------------------------------------------------------- receiver

def parse_update(data: bytes) -> Update:
    """Parse and check an update's frame (magic, version, codec, length, SHA-256)."""
    data = bytes(data)
    if len(data) < OVERHEAD_BYTES or not is_update(data):
        raise UpdateError("update", f"not a model update ({len(data)} bytes, magic "
                                    f"{data[:4]!r}, expected {MAGIC!r})")
    _, version, codec, flags, total, base_id, result_id, diff_len = _HEAD.unpack_from(data)
    if version != VERSION or codec != CODEC_LZMA2 or flags != 0:
        raise UpdateError("update", f"update version {version}, codec {codec}, flags {flags}: "
                                    f"this receiver reads version {VERSION}, codec "
                                    f"{CODEC_LZMA2} (LZMA2), flags 0; update gr-semcom")
    if total != len(data):
        raise UpdateError("update", f"update declares {total} bytes, got {len(data)}")
    if hashlib.sha256(data[:-HASH_BYTES]).digest() != data[-HASH_BYTES:]:
        raise UpdateError("update", "update SHA-256 mismatch: the copy is corrupted; wait "
                                    "for the next carousel round")
    if diff_len > blobfmt.CAPS["blob_bytes"]:
        raise UpdateError("update", f"diff of {diff_len} bytes exceeds the blob cap")
    return Update(base_id.hex(), result_id.hex(), data[HEADER_BYTES:-HASH_BYTES], diff_len,
                  total)


def apply_update(update: bytes | Update, base_blob: bytes) -> bytes:
    """Rebuild the result blob from ``base_blob``; raises :class:`UpdateError` when the
    base is not the one the update names, or the result's SHA-256 is not its id."""
    upd = update if isinstance(update, Update) else parse_update(update)
    base_blob = bytes(base_blob)
    if object_id(base_blob) != upd.base_id or base_blob[-HASH_BYTES:].hex() != upd.base_id:
        raise UpdateError("no_base", f"update {upd.result_id[:16]} applies to base "
                                     f"{upd.base_id[:16]}, not to {object_id(base_blob)[:16]}")
    base = blobfmt.parse_blob(base_blob)
    try:
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=_DECODE_FILTERS)
        diff = dec.decompress(upd.diff, max_length=upd.diff_length + 1)
    except lzma.LZMAError as exc:
        raise UpdateError("update", f"update diff does not decompress: {exc}") from None
    width = base.bits // 8
    counts = [t.q.size for t in base.tensors]
    if len(diff) < 4:
        raise UpdateError("update", "update diff is truncated")
    head_len = struct.unpack_from(">I", diff)[0]
    need = 4 + head_len + 4 * len(counts) + width * sum(counts)
    if len(diff) != upd.diff_length or len(diff) != need:
        raise UpdateError("update", f"update diff has {len(diff)} bytes, its header says "
                                    f"{upd.diff_length} and the base's layers imply {need}")
    at = 4
    base_head = base_blob[:base.tensor_offset].ljust(head_len, b"\0")[:head_len]
    head = bytes(a ^ b for a, b in zip(diff[at:at + head_len], base_head))
    at += head_len
    scales = diff[at:at + 4 * len(counts)]
    at += 4 * len(counts)
    delta = _unplanes(diff[at:], sum(counts), base.bits)
    modulus, half = 1 << base.bits, 1 << (base.bits - 1)
    parts, offset = [head], 0
    dtype = blobfmt._QDTYPE[base.bits]
    for i, (t, n) in enumerate(zip(base.tensors, counts)):
        q = (t.q.reshape(-1).astype(np.int64) + delta[offset:offset + n]) % modulus
        q = np.where(q >= half, q - modulus, q)
        parts += [scales[4 * i:4 * i + 4], q.astype(dtype).tobytes()]
        offset += n
    content = b"".join(parts)
    digest = hashlib.sha256(content).digest()
    if digest.hex() != upd.result_id:
        raise UpdateError("update", f"the rebuilt blob hashes to {digest.hex()[:16]}, not to "
                                    f"the update's result id {upd.result_id[:16]}; rejected")
    return content + digest


@dataclass
class Opened:
    """What :func:`open_object` found: the ``blob`` to build a decoder from, the ``kind``
    that arrived (``blob``, ``update``), the signer's key id (``None`` when unsigned) and
    whether the blob came wrapped (``wrapped``: an update or an envelope, whose tag is not
    the blob's)."""

    blob: bytes
    kind: str
    signer: str | None
    wrapped: bool


def open_object(data: bytes, policy: signing.TrustPolicy, find_base) -> Opened:
    """Anything from the model path → the blob to build a decoder from.

    ``policy`` decides on signatures (:class:`.signing.SignatureError`); an update is
    applied to ``find_base(base_id)`` (the base blob's bytes, or ``None`` when the receiver
    does not hold it: :class:`UpdateError` ``no_base``). A plain blob is returned as is,
    unparsed."""
    data = bytes(data)
    payload, signer = policy.open(data)
    if not is_update(payload):
        return Opened(payload, "blob", signer, signer is not None)
    upd = parse_update(payload)
    base = find_base(upd.base_id)
    if base is None:
        raise UpdateError("no_base", f"update to model {upd.result_id[:16]} names base "
                                     f"{upd.base_id[:16]}, which this receiver does not hold; "
                                     f"waiting for the full blob from the carousel")
    return Opened(apply_update(upd, base), "update", signer, True)
