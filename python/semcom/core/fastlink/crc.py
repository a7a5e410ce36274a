# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""CRC-32 of the link, byte for byte as GNU Radio's ``digital.crc32_async_bb``.

The stock block (packed mode, ``check=False``) computes the reflected CRC-32 of
polynomial 0x04C11DB7 with initial value and final XOR 0xFFFFFFFF (the CRC of zlib,
Ethernet and PNG) over the payload bytes and appends it **least significant byte first**.
The receiver recomputes it over the decoded payload and compares it with the decoded
four bytes.  zlib's C implementation does the arithmetic.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["CRC_BYTES", "crc32", "crc32_bytes", "append_crc", "check_crc"]

CRC_BYTES = 4


def _as_u8(data) -> np.ndarray:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(data, dtype=np.uint8)
    return np.ascontiguousarray(data, dtype=np.uint8)


def crc32(data) -> int:
    """CRC-32 of ``data`` (bytes-like or uint8 array) as an unsigned int."""
    return zlib.crc32(_as_u8(data)) & 0xFFFFFFFF


def crc32_bytes(data) -> bytes:
    """The four bytes ``crc32_async_bb`` appends to ``data``: the CRC, LSB first."""
    return crc32(data).to_bytes(CRC_BYTES, "little")


def append_crc(payload: bytes) -> bytes:
    """``payload`` followed by its CRC bytes (what the stock block outputs)."""
    return bytes(payload) + crc32_bytes(payload)


def check_crc(frame) -> bool:
    """True if the last four bytes of ``frame`` (bytes or uint8 array, payload + CRC) are
    the CRC of the bytes before them."""
    frame = _as_u8(frame)
    if frame.size < CRC_BYTES:
        return False
    return crc32_bytes(frame[:-CRC_BYTES]) == frame[-CRC_BYTES:].tobytes()
