# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The model blob: a versioned, self-describing binary form of a semantic decoder.

The transmitter sends the decoder parameters β over the air (splicing rule SR(l, β), paper
eqs. 2 and 6; see docs/model-blob.md for the packets that carry it); the receiver
rebuilds a working ``nn.Sequential`` from the blob alone. The byte layout is specified in
``docs/model-blob.md``; in short (all integers big-endian)::

    header   "SCMB" | u8 version=1 | u8 weight bits (8|16) | u16 flags=0
             | u32 blob length (incl. hash) | u16 n_layers
    shapes   input shape, output shape: u8 ndim + ndim × u16
    meta     u16 length + UTF-8 JSON object of small scalars (≤ 1024 bytes)
    layers   n_layers × (u8 type code + fixed-width integer fields)
    tensors  per linear/conv layer: weight, then bias; each = f32 scale + int8/int16 values
    hash     32-byte SHA-256 of everything before it (= the model id)

Safety: parsing only reads integers and floats with :mod:`struct`/NumPy, one small JSON
object of scalars, and builds allow-listed layers (:data:`.models.LAYER_TYPES`). Nothing
from the blob is unpickled, evaluated, executed or passed to ``torch.load``. Every size is
checked against fixed caps before anything is allocated.

Errors are typed (:class:`BlobError` and subclasses, all ``ValueError``) and each message
says which field is wrong, where, what was expected, and what to do about it.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .models import LAYER_TYPES, build_sequential, infer_shape
from .quant import dequantize_tensor, quantize_tensor

__all__ = [
    "MAGIC",
    "VERSION",
    "HASH_BYTES",
    "MODEL_TAG_BYTES",
    "LAYER_CODES",
    "CAPS",
    "BlobError",
    "BlobTruncatedError",
    "BlobMagicError",
    "BlobVersionError",
    "BlobHeaderError",
    "BlobLayerError",
    "BlobShapeError",
    "BlobSizeError",
    "BlobIntegrityError",
    "BlobScaleError",
    "BlobTensor",
    "ModelBlob",
    "encode_decoder",
    "encode_blob",
    "blob_from_aesc",
    "parse_blob",
    "decoder_from_blob",
    "model_id",
    "model_tag",
    "blob_size_bits",
    "describe",
]

MAGIC = b"SCMB"
VERSION = 1
HASH_BYTES = 32
MODEL_TAG_BYTES = 8  # the on-air model tag: first 8 bytes of the model id

# Fixed header: magic, version, weight bits, flags, blob length, n_layers.
_HEADER = struct.Struct(">4sBBHIH")
HEADER_BYTES = _HEADER.size  # 14

# Layer type codes (u8). 0 is reserved (never valid).
LAYER_CODES = {
    "linear": 1,
    "conv2d": 2,
    "conv_transpose2d": 3,
    "unflatten": 4,
    "flatten": 5,
    "relu": 6,
    "sigmoid": 7,
    "pad2d": 8,
}
_CODE_TO_TYPE = {code: name for name, code in LAYER_CODES.items()}
assert set(LAYER_CODES) == set(LAYER_TYPES), "LAYER_CODES must cover models.LAYER_TYPES"

# Fixed-width integer fields per layer type (unflatten is variable: u8 ndim + ndim × u16).
_FIELDS = {
    "linear": struct.Struct(">HH"),                 # in_features, out_features
    "conv2d": struct.Struct(">HHBBB"),              # in, out, kernel, stride, padding
    "conv_transpose2d": struct.Struct(">HHBBBB"),   # ... + output_padding
    "flatten": struct.Struct(">"),
    "relu": struct.Struct(">"),
    "sigmoid": struct.Struct(">"),
    "pad2d": struct.Struct(">bbbb"),                # left, right, top, bottom (signed)
}
_PARAM_TYPES = ("linear", "conv2d", "conv_transpose2d")

CAPS = {
    "blob_bytes": 256 * 1024 * 1024,   # whole blob, hash included
    "layers": 256,
    "params": 50_000_000,              # total weights + biases
    "activation": 1 << 24,             # elements per sample after any layer
    "dim": 65535,                      # any feature / channel / shape dimension
    "ndim": 4,                         # dimensions of a shape (batch excluded)
    "kernel": 15,
    "stride": 8,
    "pad": 127,                        # |pad2d side|; negative values crop
    "meta_bytes": 1024,
    "meta_key": 64,                    # characters in a meta key
    "meta_str": 256,                   # characters in a meta string value
    "meta_list": 16,                   # elements in a meta list value
}
_QMAX = {8: 127, 16: 32767}
_QDTYPE = {8: ">i1", 16: ">i2"}

_RESEND = "wait for another copy from the model carousel"


# --------------------------------------------------------------------------- errors


class BlobError(ValueError):
    """Base class of every model-blob error."""


class BlobTruncatedError(BlobError):
    """The blob ends before its declared length."""


class BlobMagicError(BlobError):
    """The data does not start with ``b"SCMB"``."""


class BlobVersionError(BlobError):
    """Unsupported format version, or flags this version does not define."""


class BlobHeaderError(BlobError):
    """A header field has a bad value (weight bits, meta section)."""


class BlobLayerError(BlobError):
    """Unknown layer type code, or a layer field out of range."""


class BlobShapeError(BlobError):
    """Shapes disagree (layer chain, declared input/output shape, tensors vs layers)."""


class BlobSizeError(BlobError):
    """A size is absurd or inconsistent (caps, declared length, trailing bytes)."""


class BlobIntegrityError(BlobError):
    """The SHA-256 suffix does not match the content."""


class BlobScaleError(BlobError):
    """A tensor scale is not finite or not positive."""


# --------------------------------------------------------------------------- data


class BlobTensor(NamedTuple):
    """One quantized tensor: ``name`` is the ``state_dict`` key (``"0.weight"``)."""

    name: str
    shape: tuple
    q: np.ndarray      # int8 or int16, native byte order, shaped ``shape``
    scale: float       # float32-representable, > 0


@dataclass
class ModelBlob:
    """A parsed model blob.

    ``model_id`` is the id the blob declares (its 32-byte suffix, hex); ``computed_id`` is
    the SHA-256 of the content as received. They are equal (``intact``) unless the blob was
    parsed with ``verify=False`` and bits were corrupted.
    """

    version: int
    bits: int
    specs: list
    in_shape: tuple
    out_shape: tuple
    meta: dict
    tensors: list
    model_id: str
    computed_id: str
    size: int
    flags: int = 0
    layer_offsets: list = field(default_factory=list)
    tensor_offset: int = 0

    @property
    def intact(self) -> bool:
        return self.model_id == self.computed_id

    @property
    def n_params(self) -> int:
        return sum(t.q.size for t in self.tensors)

    @property
    def size_bits(self) -> int:
        return 8 * self.size

    def build(self) -> nn.Sequential:
        """Rebuild the decoder: allow-listed layers, dequantized float32 weights, eval mode."""
        module = build_sequential(self.specs)
        state = {
            t.name: dequantize_tensor(torch.from_numpy(t.q.astype(np.int64)), t.scale)
            for t in self.tensors
        }
        module.load_state_dict(state, strict=True)
        return module.eval()

    def to_bytes(self) -> bytes:
        """Serialize exactly these contents again (bit-exact inverse of :func:`parse_blob`)."""
        return encode_blob(self.specs, self.in_shape, self.out_shape, self.bits,
                           self.tensors, self.meta)


# --------------------------------------------------------------------------- helpers


def _hexshort(h: str) -> str:
    return h[:16] + "…"


def _param_shapes(spec: dict) -> list[tuple]:
    """PyTorch shapes of a layer's weight and bias (empty for layers without params)."""
    kind = spec["type"]
    if kind == "linear":
        return [(spec["out_features"], spec["in_features"]), (spec["out_features"],)]
    if kind == "conv2d":
        k = spec["kernel"]
        return [(spec["out_channels"], spec["in_channels"], k, k), (spec["out_channels"],)]
    if kind == "conv_transpose2d":
        k = spec["kernel"]
        return [(spec["in_channels"], spec["out_channels"], k, k), (spec["out_channels"],)]
    return []


def _check_layer(i: int, spec: dict, offset: int | None) -> None:
    """Range checks of one layer's fields (BlobLayerError)."""
    kind = spec["type"]
    at = f"layer {i} ({kind})" + (f" at byte {offset}" if offset is not None else "")
    fix = "the layer list is corrupt; " + _RESEND if offset is not None else \
        "fix the decoder spec"

    def bad(fieldname, value, expected):
        raise BlobLayerError(f"{at}: field {fieldname} = {value}, expected {expected}; {fix}")

    dim = CAPS["dim"]
    if kind == "linear":
        for f in ("in_features", "out_features"):
            if not 1 <= spec[f] <= dim:
                bad(f, spec[f], f"1..{dim}")
    elif kind in ("conv2d", "conv_transpose2d"):
        for f in ("in_channels", "out_channels"):
            if not 1 <= spec[f] <= dim:
                bad(f, spec[f], f"1..{dim}")
        k, s, p = spec["kernel"], spec["stride"], spec["padding"]
        if not 1 <= k <= CAPS["kernel"]:
            bad("kernel", k, f"1..{CAPS['kernel']}")
        if not 1 <= s <= CAPS["stride"]:
            bad("stride", s, f"1..{CAPS['stride']}")
        if not 0 <= p < k:
            bad("padding", p, f"0..{k - 1} (less than kernel {k})")
        if kind == "conv_transpose2d":
            op = spec["output_padding"]
            if not 0 <= op < s:
                bad("output_padding", op, f"0..{s - 1} (less than stride {s})")
    elif kind == "pad2d":
        for f in LAYER_TYPES["pad2d"]:
            if not -CAPS["pad"] <= spec[f] <= CAPS["pad"]:
                bad(f, spec[f], f"-{CAPS['pad']}..{CAPS['pad']}")
    elif kind == "unflatten":
        shape = spec["shape"]
        if not 1 <= len(shape) <= CAPS["ndim"]:
            bad("ndim", len(shape), f"1..{CAPS['ndim']}")
        for j, d in enumerate(shape):
            if not 1 <= d <= dim:
                bad(f"shape[{j}]", d, f"1..{dim}")


def _normalize_spec(i: int, spec: dict) -> dict:
    """Encoder side: check a spec dict against the allow-list; return a clean copy."""
    if not isinstance(spec, dict) or spec.get("type") not in LAYER_TYPES:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise BlobLayerError(
            f"layer {i}: type {kind!r} is not allowed; use one of {sorted(LAYER_TYPES)}")
    kind = spec["type"]
    names = LAYER_TYPES[kind]
    extra = sorted(set(spec) - set(names) - {"type"})
    missing = [n for n in names if n not in spec]
    if extra or missing:
        raise BlobLayerError(
            f"layer {i} ({kind}): fields must be exactly {list(names)}; "
            f"missing {missing}, unexpected {extra}; fix the decoder spec")
    out = {"type": kind}
    for n in names:
        v = spec[n]
        if n == "shape":
            if not isinstance(v, (list, tuple)) or not all(isinstance(d, int) for d in v):
                raise BlobLayerError(f"layer {i} (unflatten): shape must be a list of ints, "
                                     f"got {v!r}; fix the decoder spec")
            out[n] = [int(d) for d in v]
        else:
            if isinstance(v, bool) or not isinstance(v, int):
                raise BlobLayerError(f"layer {i} ({kind}): field {n} must be an int, got {v!r}; "
                                     f"fix the decoder spec")
            out[n] = int(v)
    _check_layer(i, out, None)
    return out


def _encode_layer(spec: dict) -> bytes:
    kind = spec["type"]
    code = bytes([LAYER_CODES[kind]])
    if kind == "unflatten":
        shape = spec["shape"]
        return code + struct.pack(f">B{len(shape)}H", len(shape), *shape)
    return code + _FIELDS[kind].pack(*(spec[n] for n in LAYER_TYPES[kind]))


def _encode_shape(shape: tuple, what: str) -> bytes:
    shape = tuple(int(d) for d in shape)
    if not 1 <= len(shape) <= CAPS["ndim"] or not all(1 <= d <= CAPS["dim"] for d in shape):
        raise BlobShapeError(f"{what} {list(shape)} must have 1..{CAPS['ndim']} dimensions, "
                             f"each in 1..{CAPS['dim']}")
    return struct.pack(f">B{len(shape)}H", len(shape), *shape)


def _check_meta(meta, where: str, fix: str) -> dict:
    if not isinstance(meta, dict):
        raise BlobHeaderError(f"{where}: meta must be a JSON object, got {type(meta).__name__}; "
                              f"{fix}")

    def scalar(v):
        if v is None or isinstance(v, bool):
            return True
        if isinstance(v, int):
            return abs(v) < 2**53
        if isinstance(v, float):
            return math.isfinite(v)
        if isinstance(v, str):
            return len(v) <= CAPS["meta_str"]
        return False

    for k, v in meta.items():
        if not isinstance(k, str) or not 1 <= len(k) <= CAPS["meta_key"]:
            raise BlobHeaderError(f"{where}: meta key {k!r} must be a string of "
                                  f"1..{CAPS['meta_key']} characters; {fix}")
        ok = scalar(v) or (isinstance(v, (list, tuple)) and len(v) <= CAPS["meta_list"]
                           and all(scalar(x) for x in v))
        if not ok:
            raise BlobHeaderError(
                f"{where}: meta[{k!r}] = {v!r:.80} is not a small scalar (null, bool, int, "
                f"finite float, string ≤ {CAPS['meta_str']} chars) or a list of ≤ "
                f"{CAPS['meta_list']} such scalars; {fix}")
    return meta


def _encode_meta(meta: dict | None) -> bytes:
    meta = _check_meta({} if meta is None else meta, "meta", "pass only small scalars")
    text = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("utf-8")
    if len(text) > CAPS["meta_bytes"]:
        raise BlobSizeError(f"meta JSON is {len(text)} bytes; at most {CAPS['meta_bytes']} "
                            f"are allowed; drop some entries")
    return struct.pack(">H", len(text)) + text


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed")


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


# --------------------------------------------------------------------------- encoding


def encode_blob(specs: list[dict], in_shape: tuple, out_shape: tuple, bits: int,
                tensors: list, meta: dict | None = None) -> bytes:
    """Serialize already-quantized tensors (``BlobTensor`` or ``(name, shape, q, scale)``).

    Low-level: :func:`encode_decoder` quantizes a module and calls this. The result is
    parsed once before it is returned, so an accepted blob is always one the receiver
    accepts too.
    """
    if bits not in _QMAX:
        raise BlobHeaderError(f"weight bits must be 8 or 16, got {bits!r}")
    specs = [_normalize_spec(i, s) for i, s in enumerate(specs)]
    if not 1 <= len(specs) <= CAPS["layers"]:
        raise BlobSizeError(f"a decoder needs 1..{CAPS['layers']} layers, got {len(specs)}")
    body = [_encode_shape(in_shape, "input shape"), _encode_shape(out_shape, "output shape"),
            _encode_meta(meta)]
    body += [_encode_layer(s) for s in specs]

    expected = [(f"{i}.{part}", shape)
                for i, s in enumerate(specs)
                for part, shape in zip(("weight", "bias"), _param_shapes(s))]
    if len(tensors) != len(expected):
        raise BlobShapeError(f"the layers need {len(expected)} tensors "
                             f"({[n for n, _ in expected]}), got {len(tensors)}")
    qmax = _QMAX[bits]
    for (name, shape), t in zip(expected, tensors):
        t_name, t_shape, q, scale = t
        q = np.asarray(q)
        if t_name != name or tuple(t_shape) != shape or q.shape != shape:
            raise BlobShapeError(f"tensor {t_name!r} {list(t_shape)} (values {list(q.shape)}) "
                                 f"does not match the layers, which need {name!r} {list(shape)}")
        scale32 = struct.unpack(">f", struct.pack(">f", scale))[0]
        if not (math.isfinite(scale) and scale > 0 and scale32 == scale):
            raise BlobScaleError(f"tensor {name}: scale {scale!r} must be a finite, positive "
                                 f"float32 value")
        if q.size and (q.min() < -qmax - 1 or q.max() > qmax):
            raise BlobShapeError(f"tensor {name}: values span [{q.min()}, {q.max()}], outside "
                                 f"the {bits}-bit range [-{qmax}, {qmax}]")
        body.append(struct.pack(">f", scale))
        body.append(np.ascontiguousarray(q, dtype=np.int64).astype(_QDTYPE[bits]).tobytes())

    content_len = HEADER_BYTES + sum(len(b) for b in body)
    total = content_len + HASH_BYTES
    if total > CAPS["blob_bytes"]:
        raise BlobSizeError(f"the blob would be {total} bytes; at most {CAPS['blob_bytes']} "
                            f"are allowed")
    header = _HEADER.pack(MAGIC, VERSION, bits, 0, total, len(specs))
    content = header + b"".join(body)
    data = content + hashlib.sha256(content).digest()
    parse_blob(data)  # the receiver must accept what we send (caps, shapes, meta)
    return data


def encode_decoder(specs: list[dict], module: nn.Sequential, in_shape: tuple, bits: int,
                   meta: dict | None = None) -> bytes:
    """Quantize ``module`` (built from ``specs``) to ``bits``-bit weights and serialize it.

    Args:
        specs: the decoder's layer specs (allow-listed types of :data:`.models.LAYER_TYPES`).
        module: the trained ``nn.Sequential`` with one child per spec, in order.
        in_shape: the decoder input shape without batch, e.g. ``(code_length,)``.
        bits: weight width, 8 or 16.
        meta: small JSON scalars to carry along (dataset, zdim, ...).
    """
    if bits not in _QMAX:
        raise BlobHeaderError(f"weight bits must be 8 or 16, got {bits!r}")
    specs = [_normalize_spec(i, s) for i, s in enumerate(specs)]
    try:
        out_shape = infer_shape(specs, tuple(in_shape))
    except ValueError as e:
        raise BlobShapeError(f"decoder spec does not chain from input {list(in_shape)}: {e}") \
            from None
    children = list(module.children())
    if len(children) != len(specs):
        raise BlobShapeError(f"module has {len(children)} layers but the spec lists "
                             f"{len(specs)}")
    classes = {"linear": nn.Linear, "conv2d": nn.Conv2d,
               "conv_transpose2d": nn.ConvTranspose2d}
    tensors = []
    for i, (spec, layer) in enumerate(zip(specs, children)):
        kind = spec["type"]
        if kind not in _PARAM_TYPES:
            if any(True for _ in layer.parameters()):
                raise BlobShapeError(f"layer {i} ({kind}) must not have parameters")
            continue
        if type(layer) is not classes[kind]:
            raise BlobShapeError(f"layer {i}: spec says {kind} but the module has "
                                 f"{type(layer).__name__}")
        if layer.bias is None:
            raise BlobShapeError(f"layer {i} ({kind}) has no bias; blob layers always have one")
        if kind != "linear" and (layer.dilation != (1, 1) or layer.groups != 1
                                 or layer.padding_mode != "zeros"):
            raise BlobShapeError(f"layer {i} ({kind}): dilation, groups and padding_mode "
                                 f"other than the defaults cannot be represented")
        for part, shape in zip(("weight", "bias"), _param_shapes(spec)):
            w = getattr(layer, part)
            if tuple(w.shape) != shape:
                raise BlobShapeError(f"layer {i} ({kind}) {part} has shape {list(w.shape)}, "
                                     f"the spec implies {list(shape)}")
            q, scale = quantize_tensor(w.detach().float().cpu(), bits)
            tensors.append(BlobTensor(f"{i}.{part}", shape, q.numpy(), scale))
    return encode_blob(specs, in_shape, out_shape, bits, tensors, meta)


def blob_from_aesc(aesc) -> bytes:
    """Blob of an :class:`.models.AESC` decoder, with its dataset, zdim and image shape."""
    meta = {"dataset": aesc.dataset, "zdim": int(aesc.zdim),
            "image_shape": [int(d) for d in aesc.image_shape],
            "latent_bits": int(getattr(aesc, "latent_bits", 8))}
    return encode_decoder(aesc.decoder_layers, aesc.decoder, (aesc.code_length,),
                          aesc.weight_bits, meta)


# --------------------------------------------------------------------------- parsing


class _Reader:
    """Bounded big-endian reader over the blob content (hash excluded)."""

    def __init__(self, data: bytes, end: int, total: int):
        self.data, self.pos, self.end, self.total = data, HEADER_BYTES, end, total

    def take(self, n: int, what: str) -> int:
        """Reserve ``n`` bytes for ``what``; return their offset."""
        if self.pos + n > self.end:
            raise BlobSizeError(
                f"{what} needs {n} bytes at byte {self.pos}, but the content ends at byte "
                f"{self.end} (declared blob length {self.total}); the length field or the "
                f"layer list is corrupt; {_RESEND}")
        at = self.pos
        self.pos += n
        return at

    def unpack(self, fmt: struct.Struct, what: str) -> tuple:
        return fmt.unpack_from(self.data, self.take(fmt.size, what))

    def u8(self, what):
        return self.data[self.take(1, what)]

    def u16(self, what):
        return struct.unpack_from(">H", self.data, self.take(2, what))[0]

    def shape(self, what: str, err=None) -> tuple:
        at = self.pos
        ndim = self.u8(f"{what} ndim")
        if not 1 <= ndim <= CAPS["ndim"]:
            raise (err or BlobShapeError)(
                f"{what} at byte {at}: ndim = {ndim}, expected 1..{CAPS['ndim']}; "
                f"the blob is corrupt; {_RESEND}")
        dims = struct.unpack_from(f">{ndim}H", self.data, self.take(2 * ndim, f"{what} dims"))
        if 0 in dims:
            raise (err or BlobShapeError)(
                f"{what} at byte {at}: dims {list(dims)} contain 0, expected 1..{CAPS['dim']}; "
                f"the blob is corrupt; {_RESEND}")
        return tuple(dims)


class _Header(NamedTuple):
    """The fixed header's fields, as read by :func:`_parse_header`."""

    version: int
    bits: int
    flags: int
    total: int
    n_layers: int


def _parse_magic_and_version(data: bytes) -> _Header:
    """Section 1: magic and version come first, since a future version may lay out the rest
    differently."""
    n = len(data)
    if data[:4] != MAGIC[:min(n, 4)]:
        raise BlobMagicError(
            f"not a model blob: bytes 0..3 are {data[:4]!r}, expected {MAGIC!r}; check that "
            f"this payload is a reassembled model blob (not a code packet or another file)")
    if n < HEADER_BYTES:
        raise BlobTruncatedError(
            f"the blob is truncated at byte {n}: the fixed header alone needs {HEADER_BYTES} "
            f"bytes; wait for a complete copy from the model carousel")
    _, version, bits, flags, total, n_layers = _HEADER.unpack_from(data, 0)
    if version != VERSION:
        raise BlobVersionError(
            f"byte 4: blob format version {version} is not supported (this receiver reads "
            f"version {VERSION}); update gr-semcom on the receiver or have the transmitter "
            f"emit version {VERSION}")
    return _Header(version, bits, flags, total, n_layers)


def _check_length(n: int, total: int) -> int:
    """Section 2: the declared length against truncation, trailing bytes and the caps.
    Returns the offset of the hash (the end of the content)."""
    min_total = HEADER_BYTES + 3 + 3 + 2 + 1 + HASH_BYTES
    if total > CAPS["blob_bytes"] or total < min_total:
        raise BlobSizeError(
            f"bytes 8..11: declared blob length {total} is outside {min_total}.."
            f"{CAPS['blob_bytes']}; the header is corrupt; {_RESEND}")
    if n < total:
        raise BlobTruncatedError(
            f"the blob is truncated at byte {n} of {total}; wait for a complete copy from the "
            f"model carousel")
    if n > total:
        raise BlobSizeError(
            f"{n - total} trailing bytes after the declared blob length {total} (got {n} "
            f"bytes); pass exactly one reassembled blob, without padding or other data")
    return total - HASH_BYTES


def _check_integrity(data: bytes, end: int, verify: bool) -> tuple[str, str]:
    """Section 3: ``(declared id, computed id)``; a mismatch raises only when ``verify``."""
    declared_id = data[end:].hex()
    computed_id = hashlib.sha256(data[:end]).hexdigest()
    if verify and declared_id != computed_id:
        raise BlobIntegrityError(
            f"SHA-256 mismatch: the content (bytes 0..{end - 1}) hashes to "
            f"{_hexshort(computed_id)} but the blob declares {_hexshort(declared_id)} "
            f"(bytes {end}..{len(data) - 1}); the copy is corrupted; {_RESEND} (or parse with "
            f"verify=False to use the bits as they arrived)")
    return declared_id, computed_id


def _check_header_fields(header: _Header) -> None:
    """Section 4: flags, weight bits and layer count."""
    if header.flags != 0:
        raise BlobVersionError(
            f"bytes 6..7: flags 0x{header.flags:04x} are not defined in version {VERSION} "
            f"(expected 0); update gr-semcom on the receiver, or the header is corrupt; "
            f"{_RESEND}")
    if header.bits not in _QMAX:
        raise BlobHeaderError(
            f"byte 5: weight bits = {header.bits}, expected 8 or 16; the header is corrupt; "
            f"{_RESEND}")
    if not 1 <= header.n_layers <= CAPS["layers"]:
        raise BlobSizeError(
            f"bytes 12..13: n_layers = {header.n_layers}, expected 1..{CAPS['layers']}; the "
            f"header is corrupt; {_RESEND}")


def _parse_meta(r: _Reader) -> dict:
    """Section 5: the meta JSON object of small scalars."""
    meta_at = r.pos
    meta_len = r.u16("meta length")
    if meta_len > CAPS["meta_bytes"]:
        raise BlobSizeError(
            f"byte {meta_at}: meta length {meta_len} exceeds {CAPS['meta_bytes']} bytes; the "
            f"blob is corrupt; {_RESEND}")
    text = r.data[r.take(meta_len, "meta JSON"):r.pos]
    try:
        meta = json.loads(text.decode("utf-8"), parse_constant=_reject_constant,
                          object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BlobHeaderError(
            f"meta at byte {meta_at + 2} ({meta_len} bytes) is not a valid UTF-8 JSON object "
            f"({e}); the blob is corrupt; {_RESEND}") from None
    return _check_meta(meta, f"meta at byte {meta_at + 2}", f"the blob is corrupt; {_RESEND}")


def _parse_layers(r: _Reader, n_layers: int) -> tuple[list, list]:
    """Section 6: ``(specs, byte offsets)`` of the layers; fields, ranges and the parameter
    count are checked before anything is allocated."""
    specs, offsets, n_params = [], [], 0
    for i in range(n_layers):
        at = r.pos
        code = r.u8(f"layer {i} type code")
        kind = _CODE_TO_TYPE.get(code)
        if kind is None:
            raise BlobLayerError(
                f"layer {i} at byte {at}: unknown layer type code {code}, expected one of "
                f"{sorted(_CODE_TO_TYPE)} "
                f"({', '.join(f'{c}={t}' for c, t in sorted(_CODE_TO_TYPE.items()))}); "
                f"the layer list is corrupt or comes from a newer gr-semcom; {_RESEND}")
        if kind == "unflatten":
            spec = {"type": kind, "shape": list(r.shape(f"layer {i} (unflatten) shape",
                                                        BlobLayerError))}
        else:
            values = r.unpack(_FIELDS[kind], f"layer {i} ({kind}) fields")
            spec = {"type": kind, **dict(zip(LAYER_TYPES[kind], values))}
        _check_layer(i, spec, at)
        count = sum(math.prod(s) for s in _param_shapes(spec))
        n_params += count
        if n_params > CAPS["params"]:
            raise BlobSizeError(
                f"layer {i} ({kind}) at byte {at} has {count} parameters, bringing the total "
                f"to {n_params} > cap {CAPS['params']}; the layer list is corrupt or the model "
                f"is too large for this receiver; {_RESEND}")
        specs.append(spec)
        offsets.append(at)
    return specs, offsets


def _check_shapes(specs: list, offsets: list, in_shape: tuple, out_shape: tuple) -> None:
    """Section 7: chain each layer's shape (pure arithmetic), cap the activations and
    compare the result with the declared output shape."""
    shape = in_shape
    for i in range(len(specs)):
        try:
            shape = infer_shape(specs[: i + 1], in_shape)
        except ValueError as e:
            raise BlobShapeError(
                f"layer shapes disagree (layer {i} at byte {offsets[i]}): {e}; the blob is "
                f"inconsistent; {_RESEND}") from None
        if math.prod(shape) > CAPS["activation"] or max(shape) > CAPS["dim"]:
            raise BlobSizeError(
                f"layer {i} at byte {offsets[i]} outputs {list(shape)} per sample (cap "
                f"{CAPS['activation']} elements, {CAPS['dim']} per dimension); the layer list "
                f"is corrupt; {_RESEND}")
    if shape != out_shape:
        raise BlobShapeError(
            f"the layers map input {list(in_shape)} to {list(shape)}, but the header declares "
            f"output shape {list(out_shape)}; the blob is inconsistent; {_RESEND}")


def _parse_tensors(r: _Reader, specs: list, bits: int, end: int) -> tuple[list, int]:
    """Section 8: ``(tensors, byte offset of the first)``. The layers imply every count, so
    the declared length must agree with them exactly."""
    width = bits // 8
    plan = [(f"{i}.{part}", shp)
            for i, s in enumerate(specs)
            for part, shp in zip(("weight", "bias"), _param_shapes(s))]
    need = sum(4 + width * math.prod(shp) for _, shp in plan)
    tensor_at = r.pos
    if need != end - tensor_at:
        raise BlobSizeError(
            f"the layers imply {len(plan)} tensors of {need} bytes from byte {tensor_at}, but "
            f"the declared length leaves {end - tensor_at} bytes before the hash; the blob is "
            f"inconsistent; {_RESEND}")
    tensors = []
    for name, shp in plan:
        at = r.take(4, f"{name} scale")
        scale = struct.unpack_from(">f", r.data, at)[0]
        if not (math.isfinite(scale) and scale > 0):
            raise BlobScaleError(
                f"tensor {name} at byte {at}: scale {scale!r} must be finite and > 0; the "
                f"tensor section is corrupt; {_RESEND}")
        count = math.prod(shp)
        q = np.frombuffer(r.data, dtype=_QDTYPE[bits], count=count,
                          offset=r.take(count * width, f"{name} values"))
        q = q.astype(np.int8 if bits == 8 else np.int16).reshape(shp)
        tensors.append(BlobTensor(name, tuple(shp), q, scale))
    return tensors, tensor_at


def parse_blob(data: bytes, verify: bool = True) -> ModelBlob:
    """Parse and validate a model blob, section by section in the order of
    ``docs/model-blob.md``: each section is checked before the next is read, so a corrupt
    field is reported where it is, not where it makes something else fail.

    Args:
        data: the blob bytes (``bytes``, ``bytearray`` or ``memoryview``).
        verify: check the SHA-256 suffix (``BlobIntegrityError`` on mismatch). With
            ``verify=False`` ("paper" mode: build from whatever bits arrived) the structure
            is still fully validated; corrupted weight bits simply give other weights.

    Raises:
        BlobError: a subclass naming the problem (see ``docs/model-blob.md``).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a model blob is bytes, got {type(data).__name__}")
    data = bytes(data)
    header = _parse_magic_and_version(data)
    end = _check_length(len(data), header.total)
    declared_id, computed_id = _check_integrity(data, end, verify)
    _check_header_fields(header)
    r = _Reader(data, end, header.total)
    in_shape = r.shape("input shape")
    out_shape = r.shape("output shape")
    meta = _parse_meta(r)
    specs, offsets = _parse_layers(r, header.n_layers)
    _check_shapes(specs, offsets, in_shape, out_shape)
    tensors, tensor_at = _parse_tensors(r, specs, header.bits, end)
    return ModelBlob(version=header.version, bits=header.bits, specs=specs,
                     in_shape=in_shape, out_shape=out_shape, meta=meta, tensors=tensors,
                     model_id=declared_id, computed_id=computed_id, size=header.total,
                     flags=header.flags, layer_offsets=offsets, tensor_offset=tensor_at)


def decoder_from_blob(data: bytes, verify: bool = True) -> tuple[nn.Sequential, ModelBlob]:
    """Parse ``data`` and rebuild its decoder (eval mode, float32 dequantized weights)."""
    blob = parse_blob(data, verify=verify)
    return blob.build(), blob


# --------------------------------------------------------------------------- ids, sizes


def model_id(data: bytes) -> str:
    """Model id: SHA-256 (hex) of the blob content, i.e. of all bytes before the 32-byte
    suffix. For an intact blob it equals the suffix itself."""
    if len(data) <= HASH_BYTES:
        raise BlobTruncatedError(f"a model blob is longer than {HASH_BYTES} bytes, got "
                                 f"{len(data)}; wait for a complete copy from the model carousel")
    return hashlib.sha256(bytes(data[:-HASH_BYTES])).hexdigest()


def model_tag(model_id_hex: str) -> bytes:
    """The on-air model tag: the first 8 bytes of the model id."""
    return bytes.fromhex(model_id_hex)[:MODEL_TAG_BYTES]


def blob_size_bits(data) -> int:
    """Size of the blob on the air, in bits."""
    if isinstance(data, ModelBlob):
        return data.size_bits
    return 8 * len(data)


def describe(blob) -> str:
    """Human-readable summary of a blob (``ModelBlob`` or bytes)."""
    if not isinstance(blob, ModelBlob):
        blob = parse_blob(blob)
    lines = [
        f"model blob v{blob.version}: {blob.size} bytes ({blob.size_bits} bits), "
        f"{blob.n_params} parameters at {blob.bits} bits",
        f"  id {blob.model_id}" + ("" if blob.intact else
                                   f" (CORRUPT: content hashes to {blob.computed_id})"),
        f"  input {list(blob.in_shape)} -> output {list(blob.out_shape)}",
        f"  meta {json.dumps(blob.meta, sort_keys=True)}",
    ]
    by_layer = {}
    for t in blob.tensors:
        by_layer.setdefault(int(t.name.split(".")[0]), []).append(t)
    for i, spec in enumerate(blob.specs):
        fields = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "type")
        ts = by_layer.get(i, [])
        params = sum(t.q.size for t in ts)
        extra = (f"  [{params} params, scales "
                 + ", ".join(f"{t.scale:.3g}" for t in ts) + "]") if ts else ""
        lines.append(f"  {i:3d} {spec['type']}({fields}){extra}")
    return "\n".join(lines)
