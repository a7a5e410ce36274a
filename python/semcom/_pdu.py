"""PDU helpers shared by the blocks: (metadata dict, u8 payload) <-> pmt.

Metadata keys are listed in ``docs/pdu.md``.
"""

from __future__ import annotations

import numpy as np
import pmt


def _native(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_native(v) for v in value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def make_pdu(meta: dict, payload) -> pmt.pmt_t:
    """Build a PDU from a dict of plain values and a ``bytes``/uint8 payload."""
    data = np.frombuffer(bytes(payload), dtype=np.uint8) if isinstance(payload, (bytes, bytearray)) \
        else np.ascontiguousarray(payload, dtype=np.uint8).ravel()
    meta_pmt = pmt.make_dict()
    for key, value in meta.items():
        if value is None:
            continue
        meta_pmt = pmt.dict_add(meta_pmt, pmt.intern(key), pmt.to_pmt(_native(value)))
    return pmt.cons(meta_pmt, pmt.init_u8vector(len(data), data))


def parse_pdu(msg) -> tuple[dict, np.ndarray]:
    """Split a PDU into (metadata dict, uint8 array); raises ValueError if it is not one."""
    if not pmt.is_pair(msg):
        raise ValueError("message is not a PDU (metadata, u8vector) pair")
    meta, data = pmt.car(msg), pmt.cdr(msg)
    if not pmt.is_u8vector(data):
        raise ValueError("PDU payload is not a u8vector")
    meta_dict = pmt.to_python(meta) if pmt.is_dict(meta) else {}
    if not isinstance(meta_dict, dict):
        meta_dict = {}
    return meta_dict, np.asarray(pmt.to_python(data), dtype=np.uint8)
