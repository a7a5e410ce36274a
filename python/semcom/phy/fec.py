"""Stock GNU Radio LDPC codes, across GNU Radio 3.10 releases.

The soft-decision LDPC decoder's factory changed signature in GNU Radio 3.10.8:
``fec.ldpc_decoder.make(alist, sigma, max_iter)`` up to 3.10.7 and
``fec.ldpc_decoder.make(alist, max_iter)`` from 3.10.8. :func:`make_ldpc_decoder` calls
the right one.
"""

from __future__ import annotations

import os
from pathlib import Path

from gnuradio import fec, gr

__all__ = ["ALIST_DIR", "CODES", "alist_path", "make_ldpc_encoder", "make_ldpc_decoder",
           "gr_version_tuple"]

# The alist files that ship with GNU Radio (share/gnuradio/fec/ldpc).
CODES = {
    "n1800_r05": "n_1800_k_0902_gap_28.alist",
    "n1100_r04": "n_1100_k_0442_gap_24.alist",
    "n0700_r04": "n_0700_k_0282_gap_16.alist",
    "n0500_r04": "n_0500_k_0202_gap_11.alist",
    "n0300_r05": "n_0300_k_0152_gap_03.alist",
}
DEFAULT_CODE = "n1800_r05"


def _alist_dir() -> Path:
    prefix = Path(gr.prefix())
    for candidate in (prefix / "share/gnuradio/fec/ldpc", Path("/usr/share/gnuradio/fec/ldpc"),
                      Path("/usr/local/share/gnuradio/fec/ldpc")):
        if candidate.is_dir():
            return candidate
    return prefix / "share/gnuradio/fec/ldpc"


ALIST_DIR = _alist_dir()


def alist_path(code: str) -> str:
    """Path of a code's alist file: a key of :data:`CODES` or a path to an alist file."""
    if code in CODES:
        path = ALIST_DIR / CODES[code]
    else:
        path = Path(code)
    if not path.is_file():
        raise ValueError(
            f"LDPC code {code!r}: alist file {path} not found; choose one of {sorted(CODES)} "
            "or give the path of an alist file")
    return os.fspath(path)


def gr_version_tuple() -> tuple:
    parts = []
    for p in gr.version().split(".")[:3]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def make_ldpc_encoder(code: str = DEFAULT_CODE):
    """Stock LDPC encoder object for ``fec.extended_encoder`` / ``fec.async_encoder``."""
    return fec.ldpc_encoder_make(alist_path(code))


def make_ldpc_decoder(code: str = DEFAULT_CODE, max_iter: int = 50, sigma: float = 0.5):
    """Stock soft-decision LDPC decoder; ``sigma`` is used only by GNU Radio < 3.10.8."""
    path = alist_path(code)
    if gr_version_tuple() >= (3, 10, 8):
        return fec.ldpc_decoder.make(path, max_iter)
    return fec.ldpc_decoder.make(path, sigma, max_iter)
