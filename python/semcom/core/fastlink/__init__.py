# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Batched symbol-level link engine: the GNU Radio symbol link computed in arrays.

Pure NumPy / Numba / PyTorch (no GNU Radio): codes come from alist file paths.

* :func:`transmit` — packets in, ``(data, crc_ok)`` per packet out (:class:`LinkRun`), the
  contract of ``app.link.run_packets`` for the symbol-level waveform;
* :func:`transmit_mixed` — the same with a code per packet (unequal error protection);
* :class:`LdpcCode` / :func:`load_code` — LDPC codes with GNU Radio's systematic encoder;
* :func:`decode` — batched belief-propagation decoding (Numba on the CPU, PyTorch on any
  device);
* :mod:`.crc` — CRC-32 as ``digital.crc32_async_bb``.
"""

from .bp import BACKENDS, DEFAULT_MAX_ITER, DecodeResult, decode
from .crc import CRC_BYTES, append_crc, check_crc, crc32, crc32_bytes
from .engine import (CHANNELS, LinkRun, frame_geometry, modulate, soft_components,
                     symbols_per_packet, transmit, transmit_mixed)
from .ldpc import AlistError, LdpcCode, load_code, read_alist

__all__ = ["BACKENDS", "DEFAULT_MAX_ITER", "DecodeResult", "decode", "CRC_BYTES", "append_crc",
           "check_crc", "crc32", "crc32_bytes", "CHANNELS", "LinkRun", "frame_geometry",
           "modulate", "soft_components", "symbols_per_packet", "transmit", "transmit_mixed",
           "AlistError",
           "LdpcCode", "load_code", "read_alist"]
