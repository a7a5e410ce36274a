# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""core/pmtwire.py writes the same bytes as GNU Radio's ``pmt.serialize_str`` and reads what
it writes; the comparison tests need GNU Radio's ``pmt`` module, the others do not."""

import numpy as np
import pytest

from gnuradio.semcom.core import pmtwire
from gnuradio.semcom.core.pmtwire import Pair, PmtWireError

VALUES = [
    None, True, False, 0, -1, 7, 2**31 - 1, -2**31, 2**31, -2**40, 2**62, 1.5, -0.0, 1e300,
    complex(1, -2), "", "image_id", "ünïcode", (1, 2, 3), (), ("a", 1.0, (2, None)), [1, "a"],
    {"image_id": 7, "shape": (1, 28, 28), "label": 3, "dataset": "mnist", "crc_ok": True,
     "snr_db": 4.25},
    {"nested": {"a": 1}},
    np.arange(5, dtype=np.uint8), np.array([], dtype=np.uint8), np.array([-1, 2], dtype=np.int8),
    np.array([1, 65535], dtype=np.uint16), np.array([-3, 4], dtype=np.int16),
    np.array([1, 2**32 - 1], dtype=np.uint32), np.array([-5], dtype=np.int32),
    np.array([2**64 - 1], dtype=np.uint64), np.array([-2**63], dtype=np.int64),
    np.array([1.5, -2.0], dtype=np.float32), np.array([1e-300], dtype=np.float64),
    np.array([1 + 2j], dtype=np.complex64), np.array([3 - 4j], dtype=np.complex128),
    Pair({"image_id": 1}, np.arange(10, dtype=np.uint8)), Pair(None, np.zeros(0, np.uint8)),
]


def _to_pmt(pmt, value):
    """The PMT GNU Radio builds for ``value`` (dicts in insertion order via dict_add)."""
    if isinstance(value, Pair):
        return pmt.cons(_to_pmt(pmt, value.car), _to_pmt(pmt, value.cdr))
    if isinstance(value, dict):
        d = pmt.make_dict()
        for key, item in value.items():
            d = pmt.dict_add(d, pmt.intern(key), _to_pmt(pmt, item))
        return d
    if isinstance(value, tuple):
        return pmt.make_tuple(*[_to_pmt(pmt, v) for v in value])
    if isinstance(value, list):
        vec = pmt.make_vector(len(value), pmt.PMT_NIL)
        for i, item in enumerate(value):
            pmt.vector_set(vec, i, _to_pmt(pmt, item))
        return vec
    if isinstance(value, np.ndarray):
        kind = {"u1": "u8", "i1": "s8", "u2": "u16", "i2": "s16", "u4": "u32", "i4": "s32",
                "u8": "u64", "i8": "s64", "f4": "f32", "f8": "f64", "c8": "c32",
                "c16": "c64"}[value.dtype.str[1:]]
        return getattr(pmt, f"init_{kind}vector")(value.size, value.tolist())
    return pmt.to_pmt(value)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(_same(a[k], b[k]) for k in a))
    return type(a) is type(b) and (a == b or (a != a and b != b))


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_bytes_equal_gnuradio(value):
    pmt = pytest.importorskip("pmt")
    reference = pmt.serialize_str(_to_pmt(pmt, value))
    assert pmtwire.dumps(value) == reference
    # GNU Radio 3.10 serializes the empty tuple but cannot read it back.
    if isinstance(value, tuple) and not value:
        return
    assert pmt.equal(pmt.deserialize_str(pmtwire.dumps(value)), _to_pmt(pmt, value))


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_round_trip(value):
    back = pmtwire.loads(pmtwire.dumps(value))
    if isinstance(value, dict) and not value:
        assert back is None
    else:
        assert _same(value, back), (value, back)


def test_reads_uint64_and_the_image_pdu_of_gnuradio():
    pmt = pytest.importorskip("pmt")
    assert pmtwire.loads(pmt.serialize_str(pmt.from_uint64(2**64 - 1))) == 2**64 - 1
    image = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    meta = pmt.dict_add(pmt.make_dict(), pmt.intern("image_id"), pmt.from_long(9))
    meta = pmt.dict_add(meta, pmt.intern("shape"), pmt.to_pmt((2, 3, 4)))
    msg = pmt.cons(meta, pmt.init_u8vector(image.size, image.reshape(-1)))
    got_meta, payload = pmtwire.pdu_from_bytes(pmt.serialize_str(msg))
    assert got_meta == {"image_id": 9, "shape": (2, 3, 4)}
    assert np.array_equal(payload.reshape(2, 3, 4), image)


def test_pdu_helpers_and_errors():
    raw = pmtwire.pdu_to_bytes({"image_id": 3}, b"\x01\x02")
    meta, payload = pmtwire.pdu_from_bytes(raw)
    assert meta == {"image_id": 3} and payload.tolist() == [1, 2]
    assert pmtwire.pdu_from_bytes(pmtwire.pdu_to_bytes({}, b""))[0] == {}
    with pytest.raises(PmtWireError, match="ends early"):
        pmtwire.loads(raw[:-1])
    with pytest.raises(PmtWireError, match="bytes left"):
        pmtwire.loads(raw + b"\x00")
    with pytest.raises(PmtWireError, match="type tag 0x3b"):
        pmtwire.loads(b"\x3b")
    with pytest.raises(PmtWireError, match="not a PDU"):
        pmtwire.pdu_from_bytes(pmtwire.dumps({"a": 1}))
    with pytest.raises(PmtWireError, match="not a u8vector"):
        pmtwire.pdu_from_bytes(pmtwire.dumps(Pair({}, np.zeros(2, np.float32))))
    with pytest.raises(PmtWireError, match="dict keys must be str"):
        pmtwire.dumps({1: 2})
    with pytest.raises(PmtWireError, match="cannot serialize a set"):
        pmtwire.dumps({1, 2})
    with pytest.raises(PmtWireError, match="items announced"):
        pmtwire.loads(b"\x0c\xff\xff\xff\xff")
