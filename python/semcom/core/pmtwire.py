# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""GNU Radio's PMT serialization (``pmt::serialize_str`` / ``deserialize_str``) without GNU
Radio, for the types that PDUs use.

GNU Radio's ZMQ message blocks (``zeromq.pub_msg_sink``, ``sub_msg_source``,
``push_msg_sink``, ``pull_msg_source``) send each message as one ZMQ frame holding
``pmt::serialize_str(msg)``. This module reads and writes those bytes so that a program
outside GNU Radio (``semcom listen`` / ``semcom send``) can exchange PDUs with a running
flowgraph. The byte layout is that of GNU Radio 3.10's ``pmt_serialize.cc``: a one-byte type
tag, then big-endian fields.

Python values and the PMT types they map to:

=========================  ==========================================================
Python                     PMT
=========================  ==========================================================
``None``                   ``PMT_NIL`` (also the empty dict)
``bool``                   ``PMT_T`` / ``PMT_F``
``int``                    integer (``from_long``: int32 on the wire, int64 when larger);
                           read back also from uint64
``float`` / ``complex``    double / complex double
``str``                    symbol
``tuple`` / ``list``       tuple / vector
``dict`` (``str`` keys)    dict with symbol keys
``bytes``, ``bytearray``,  u8vector; other NumPy dtypes (int8 … int64, uint16 … uint64,
NumPy arrays               float32/64, complex64/128) as the matching uniform vector
:class:`Pair`              pair (``pmt.cons``)
=========================  ==========================================================

Uniform vectors read back as 1-D NumPy arrays; a u8vector as ``uint8``.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

__all__ = ["Pair", "PmtWireError", "dumps", "loads", "pdu_to_bytes", "pdu_from_bytes"]

# Type tags of pmt_serial_tags.h.
_TRUE, _FALSE, _SYMBOL, _INT32, _DOUBLE, _COMPLEX, _NULL = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
_PAIR, _VECTOR, _DICT, _UVECTOR, _UINT64, _TUPLE, _INT64 = 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D

# Uniform-vector item types (UVI_*), as NumPy big-endian dtypes.
_UV_DTYPES = {
    0x00: np.dtype("u1"), 0x01: np.dtype("i1"), 0x02: np.dtype(">u2"), 0x03: np.dtype(">i2"),
    0x04: np.dtype(">u4"), 0x05: np.dtype(">i4"), 0x06: np.dtype(">u8"), 0x07: np.dtype(">i8"),
    0x08: np.dtype(">f4"), 0x09: np.dtype(">f8"), 0x0A: np.dtype(">c8"), 0x0B: np.dtype(">c16"),
}
_UV_TAGS = {dt.newbyteorder("=").str: tag for tag, dt in _UV_DTYPES.items()}
_UV_TAGS.update({dt.str: tag for tag, dt in _UV_DTYPES.items()})


class PmtWireError(ValueError):
    """Bytes that are not a serialized PMT of the supported types, or a value that cannot be
    serialized; the text says what and where."""


class Pair(NamedTuple):
    """A PMT pair (``pmt.cons(car, cdr)``); a PDU is ``Pair(metadata dict, u8 payload)``."""

    car: object
    cdr: object


# --------------------------------------------------------------------------- writing

def _dump(value, out: list) -> None:
    if value is None:
        out.append(bytes([_NULL]))
    elif isinstance(value, (bool, np.bool_)):
        out.append(bytes([_TRUE if value else _FALSE]))
    elif isinstance(value, (int, np.integer)):
        value = int(value)
        if -2**31 <= value < 2**31:
            out.append(struct.pack(">Bi", _INT32, value))
        elif -2**63 <= value < 2**63:
            out.append(struct.pack(">Bq", _INT64, value))
        else:
            raise PmtWireError(f"integer {value} does not fit a PMT integer (64 bits signed)")
    elif isinstance(value, (float, np.floating)):
        out.append(struct.pack(">Bd", _DOUBLE, float(value)))
    elif isinstance(value, (complex, np.complexfloating)):
        out.append(struct.pack(">Bdd", _COMPLEX, value.real, value.imag))
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        if len(raw) > 0xFFFF:
            raise PmtWireError(f"symbol of {len(raw)} bytes is longer than 65535")
        out.append(struct.pack(">BH", _SYMBOL, len(raw)) + raw)
    elif isinstance(value, Pair):
        out.append(bytes([_PAIR]))
        _dump(value.car, out)
        _dump(value.cdr, out)
    elif isinstance(value, dict):
        # A dict is a chain of (key . value) pairs ending in NIL; pmt::dict_add puts the
        # newest entry first, so the first Python item goes last to read back in order.
        for key, item in reversed(list(value.items())):
            if not isinstance(key, str):
                raise PmtWireError(f"dict keys must be str (PMT symbols), got {key!r}")
            out.append(bytes([_DICT, _PAIR]))
            _dump(key, out)
            _dump(item, out)
        out.append(bytes([_NULL]))
    elif isinstance(value, (tuple, list)):
        out.append(struct.pack(">BI", _TUPLE if isinstance(value, tuple) else _VECTOR,
                               len(value)))
        for item in value:
            _dump(item, out)
    elif isinstance(value, (bytes, bytearray, memoryview, np.ndarray)):
        array = (np.frombuffer(bytes(value), dtype=np.uint8)
                 if not isinstance(value, np.ndarray) else value.reshape(-1))
        tag = _UV_TAGS.get(array.dtype.str)
        if tag is None:
            raise PmtWireError(f"no PMT uniform vector holds dtype {array.dtype}")
        out.append(struct.pack(">BBIBB", _UVECTOR, tag, array.size, 1, 0))
        out.append(array.astype(_UV_DTYPES[tag], copy=False).tobytes())
    else:
        raise PmtWireError(f"cannot serialize a {type(value).__name__} as a PMT")


def dumps(value) -> bytes:
    """``pmt.serialize_str(pmt.to_pmt(value))`` for the types in the module's table."""
    out: list[bytes] = []
    _dump(value, out)
    return b"".join(out)


# --------------------------------------------------------------------------- reading

class _Reader:
    def __init__(self, data: bytes):
        self.data = memoryview(bytes(data))
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise PmtWireError(f"serialized PMT ends early: {n} bytes wanted at offset "
                               f"{self.pos} of {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def value(self, depth: int = 0):
        if depth > 64:
            raise PmtWireError("serialized PMT nests deeper than 64 levels")
        at = self.pos
        (tag,) = self.unpack(">B")
        if tag == _TRUE:
            return True
        if tag == _FALSE:
            return False
        if tag == _NULL:
            return None
        if tag == _INT32:
            return self.unpack(">i")[0]
        if tag == _INT64:
            return self.unpack(">q")[0]
        if tag == _UINT64:
            return self.unpack(">Q")[0]
        if tag == _DOUBLE:
            return self.unpack(">d")[0]
        if tag == _COMPLEX:
            re, im = self.unpack(">dd")
            return complex(re, im)
        if tag == _SYMBOL:
            (n,) = self.unpack(">H")
            return bytes(self.take(n)).decode("utf-8", errors="replace")
        if tag == _PAIR:
            return Pair(self.value(depth + 1), self.value(depth + 1))
        if tag in (_TUPLE, _VECTOR):
            (n,) = self.unpack(">I")
            if n > len(self.data) - self.pos:
                raise PmtWireError(f"{n} items announced at offset {at}, more than bytes left")
            items = [self.value(depth + 1) for _ in range(n)]
            return tuple(items) if tag == _TUPLE else items
        if tag == _DICT:
            return self._dict(at, depth)
        if tag == _UVECTOR:
            kind, n, npad = self.unpack(">BIB")
            dtype = _UV_DTYPES.get(kind)
            if dtype is None:
                raise PmtWireError(f"unknown uniform-vector type {kind} at offset {at}")
            self.take(npad)
            raw = self.take(n * dtype.itemsize)
            return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="))
        raise PmtWireError(f"unsupported PMT type tag 0x{tag:02x} at offset {at}")

    def _dict(self, at: int, depth: int) -> dict:
        # PST_DICT (key . value) [PST_DICT (key . value) ...] NIL, newest entry first.
        entries = []
        tag = _DICT
        while tag == _DICT:
            entry = self.value(depth + 1)
            if not isinstance(entry, Pair):
                raise PmtWireError(f"dict entry at offset {at} is not a (key . value) pair")
            entries.append(entry)
            (tag,) = self.unpack(">B")
        if tag != _NULL:
            raise PmtWireError(f"dict at offset {at} does not end in NIL (tag 0x{tag:02x})")
        result = {}
        for key, item in reversed(entries):
            if not isinstance(key, str):
                raise PmtWireError(f"dict key {key!r} at offset {at} is not a symbol")
            result[key] = item
        return result


def loads(data: bytes):
    """``pmt.to_python(pmt.deserialize_str(data))`` for the supported types (pairs as
    :class:`Pair`, uniform vectors as NumPy arrays); raises :class:`PmtWireError`."""
    reader = _Reader(data)
    value = reader.value()
    if reader.pos != len(reader.data):
        raise PmtWireError(f"{len(reader.data) - reader.pos} bytes left after the PMT")
    return value


# --------------------------------------------------------------------------- PDUs

def pdu_to_bytes(meta: dict, payload) -> bytes:
    """The bytes GNU Radio's ZMQ message blocks carry for the PDU ``(meta . u8vector)``."""
    if not isinstance(meta, dict):
        raise PmtWireError(f"PDU metadata must be a dict, got {type(meta).__name__}")
    data = payload if isinstance(payload, np.ndarray) else np.frombuffer(bytes(payload), np.uint8)
    if data.dtype != np.uint8:
        raise PmtWireError(f"PDU payload must be uint8 bytes, got dtype {data.dtype}")
    return dumps(Pair(meta, data))


def pdu_from_bytes(data: bytes) -> tuple[dict, np.ndarray]:
    """Split a serialized PDU into (metadata dict, uint8 payload); raises
    :class:`PmtWireError` when the bytes are not a PDU."""
    value = loads(data)
    if not isinstance(value, Pair):
        raise PmtWireError("message is not a PDU: not a (metadata . payload) pair")
    meta, payload = value
    if meta is None:   # an empty pmt dict serializes as NIL
        meta = {}
    if not isinstance(meta, dict):
        raise PmtWireError(f"PDU metadata is not a dict but a {type(meta).__name__}")
    if not isinstance(payload, np.ndarray) or payload.dtype != np.uint8:
        raise PmtWireError("PDU payload is not a u8vector")
    return meta, payload
