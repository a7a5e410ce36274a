# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""LDPC codes from alist files, encoded exactly as GNU Radio's ``fec.ldpc_encoder_make``.

An :class:`LdpcCode` holds a binary parity-check matrix ``H`` (``m x n``) and the
systematic generator that GNU Radio's encoder derives from it, so that
:meth:`LdpcCode.encode` gives **bit-identical codewords** to the stock encoder (tested
against it in ``qa_fastlink``).  How the stock encoder builds its generator (GNU Radio
3.10 ``cldpc`` / ``GF2Mat::get_G``), and therefore how this module does:

1. Gauss-Jordan elimination over GF(2) on a copy of ``H``, pivot ``d = 0, 1, ...``: in row
   ``d`` take the *first* column ``c >= d`` holding a 1, **swap** columns ``d`` and ``c``
   (recording the swap in a column permutation) and clear column ``d`` in every other
   row.  A row with no 1 left (a dependent row) is moved to the bottom of the rows still
   to be processed, the rows below it moving up by one.
2. The result is ``[I_r | P]`` (``r`` = rank of ``H``) up to the column permutation
   ``perm``; the code has ``k = n - r`` information bits.
3. Encoding: ``x[r + j] = info[j]`` and ``x[i] = P[i] . info`` (mod 2) for ``i < r``;
   the codeword is ``y[perm[i]] = x[i]``.  The information bit ``j`` therefore sits at
   code position ``perm[r + j]``; the decoder's output (``get_systematic_bits``) reads
   the same positions.  For the alist files that ship with GNU Radio these are the last
   ``k`` positions, which the link's shortening relies on.

The greedy pivot choice matters: another elimination order gives another (equally valid)
generator and other codewords.

alist files are read the way GNU Radio reads them: line by line, the first line ``n m``,
the second the largest column and row weights, then the column weights, the row weights,
``n`` lines of row indices per column and ``m`` lines of column indices per row (1-based);
the matrix is built from the row lists, and zero entries that pad a line beyond its
weight are ignored.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["AlistError", "LdpcCode", "read_alist", "load_code"]


class AlistError(ValueError):
    """An alist file that cannot be read; the message names the file, the line and the fix."""


def read_alist(path) -> np.ndarray:
    """Parity-check matrix of an alist file.

    Args:
        path: alist file (e.g. one of GNU Radio's ``share/gnuradio/fec/ldpc``).

    Returns:
        ``H``: uint8 array of shape ``(m, n)`` with entries 0/1.

    Raises:
        AlistError: missing file, truncated file or an index out of range.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise AlistError(f"alist file {path}: cannot read it ({exc.strerror}); give the path "
                         "of an existing alist file") from exc

    def ints(i: int, count: int | None = None) -> list:
        if i >= len(lines):
            raise AlistError(f"alist file {path}: ends at line {len(lines)}, expected line "
                             f"{i + 1}; the file is truncated or not an alist file")
        try:
            vals = [int(t) for t in lines[i].split()]
        except ValueError as exc:
            raise AlistError(f"alist file {path}, line {i + 1}: not a list of integers "
                             f"({lines[i][:60]!r})") from exc
        if count is not None and len(vals) < count:
            raise AlistError(f"alist file {path}, line {i + 1}: {len(vals)} values, expected "
                             f"at least {count}")
        return vals

    n, m = ints(0, 2)[:2]
    if n <= 0 or m <= 0:
        raise AlistError(f"alist file {path}, line 1: n = {n}, m = {m} must be positive")
    row_w = ints(3, m)[:m]
    h = np.zeros((m, n), dtype=np.uint8)
    first_row_line = 4 + n
    for r in range(m):
        cols = [c for c in ints(first_row_line + r, row_w[r])[:row_w[r]] if c != 0]
        if any(not 1 <= c <= n for c in cols):
            raise AlistError(f"alist file {path}, line {first_row_line + r + 1}: column "
                             f"index outside 1..{n}")
        h[r, np.asarray(cols, dtype=np.int64) - 1] = 1
    return h


def _gnuradio_generator(h: np.ndarray) -> tuple:
    """GNU Radio's ``GF2Mat::get_G`` (see the module docstring): returns ``(perm, rank, P)``
    with ``perm`` int64 ``(n,)``, ``P`` uint8 ``(rank, n - rank)``."""
    g = np.array(h, dtype=np.uint8, copy=True)
    m, n = g.shape
    perm = np.arange(n)
    diag, limit = 0, m
    while diag < limit:
        nz = np.flatnonzero(g[diag, diag:])
        if nz.size:
            col = diag + int(nz[0])
            if col != diag:
                g[:, [diag, col]] = g[:, [col, diag]]
                perm[[diag, col]] = perm[[col, diag]]
            rows = np.flatnonzero(g[:, diag])
            rows = rows[rows != diag]
            # Columns left of the pivot are already zero in the pivot row.
            g[rows, diag:] ^= g[diag, diag:]
            diag += 1
        else:
            g[diag:limit] = np.roll(g[diag:limit], -1, axis=0)
            limit -= 1
    rank = diag
    return perm, rank, np.ascontiguousarray(g[:rank, rank:])


@dataclass(frozen=True, eq=False)
class LdpcCode:
    """A binary LDPC code with GNU Radio's systematic encoder.

    Attributes:
        h: parity-check matrix, uint8 ``(m, n)``.
        perm: column permutation of the stock encoder, int64 ``(n,)``.
        rank: rank of ``h`` over GF(2); ``k = n - rank``.
        parity: ``P`` of ``[I | P]``, uint8 ``(rank, k)``.
        name: label for messages (the alist file name).
    Derived (graph of the decoders; edges numbered row by row):
        row_ptr: int64 ``(m + 1,)``, the edges of check ``c`` are ``row_ptr[c]:row_ptr[c+1]``;
        edge_var: int64 ``(E,)``, the variable of each edge;
        var_ptr / var_edge: int64 ``(n + 1,)`` / ``(E,)``, the edges of variable ``v`` are
        ``var_edge[var_ptr[v]:var_ptr[v+1]]``.
    """

    h: np.ndarray
    perm: np.ndarray
    rank: int
    parity: np.ndarray
    name: str = "H"
    row_ptr: np.ndarray = field(init=False, repr=False)
    edge_var: np.ndarray = field(init=False, repr=False)
    var_ptr: np.ndarray = field(init=False, repr=False)
    var_edge: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        rows, cols = np.nonzero(self.h)          # row-major: edges grouped by check
        row_ptr = np.zeros(self.m + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.m), out=row_ptr[1:])
        order = np.argsort(cols, kind="stable")
        var_ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=self.n), out=var_ptr[1:])
        object.__setattr__(self, "row_ptr", row_ptr)
        object.__setattr__(self, "edge_var", cols.astype(np.int64))
        object.__setattr__(self, "var_ptr", var_ptr)
        object.__setattr__(self, "var_edge", order.astype(np.int64))
        # float32 copy of P for exact parity sums by matrix product (sums <= k < 2**24).
        object.__setattr__(self, "_parity_t", np.ascontiguousarray(self.parity.T,
                                                                   dtype=np.float32))

    @classmethod
    def from_parity_check(cls, h, name: str = "H") -> "LdpcCode":
        """Code of a 0/1 parity-check matrix ``h`` (array-like ``(m, n)``)."""
        h = np.asarray(h)
        if h.ndim != 2 or h.size == 0 or not np.isin(h, (0, 1)).all():
            raise ValueError(f"parity-check matrix {name}: need a non-empty 2-D array of 0/1, "
                             f"got shape {h.shape}")
        h = h.astype(np.uint8)
        if (h.sum(axis=1) == 0).any() or (h.sum(axis=0) == 0).any():
            raise ValueError(f"parity-check matrix {name}: every row and column needs a 1")
        perm, rank, parity = _gnuradio_generator(h)
        if rank >= h.shape[1]:
            raise ValueError(f"parity-check matrix {name}: rank {rank} leaves no information bits")
        return cls(h=h, perm=perm, rank=rank, parity=parity, name=name)

    @classmethod
    def from_alist(cls, path) -> "LdpcCode":
        """Code of an alist file (cached per path and file version, see :func:`load_code`)."""
        return load_code(path)

    # ------------------------------------------------------------------ sizes
    @property
    def m(self) -> int:
        return int(self.h.shape[0])

    @property
    def n(self) -> int:
        return int(self.h.shape[1])

    @property
    def k(self) -> int:
        return self.n - self.rank

    @property
    def rate(self) -> float:
        return self.k / self.n

    @property
    def edges(self) -> int:
        return int(self.edge_var.size)

    @property
    def info_positions(self) -> np.ndarray:
        """Code positions of the information bits, int64 ``(k,)`` (``perm[rank:]``)."""
        return self.perm[self.rank:]

    # ------------------------------------------------------------------ coding
    def encode(self, info) -> np.ndarray:
        """Codewords of information words, as GNU Radio's encoder makes them.

        Args:
            info: 0/1 array ``(..., k)`` (any integer or bool dtype).

        Returns:
            uint8 array ``(..., n)``.
        """
        info = np.asarray(info)
        if info.shape[-1:] != (self.k,):
            raise ValueError(f"{self.name}: information words need {self.k} bits in the last "
                             f"axis, got shape {info.shape}")
        flat = info.reshape(-1, self.k)
        par = (flat.astype(np.float32) @ self._parity_t).astype(np.int64) & 1
        cw = np.empty((flat.shape[0], self.n), dtype=np.uint8)
        cw[:, self.perm[:self.rank]] = par
        cw[:, self.perm[self.rank:]] = flat & 1
        return cw.reshape(info.shape[:-1] + (self.n,))

    def systematic_bits(self, codewords) -> np.ndarray:
        """Information bits of codewords (or decisions): uint8 ``(..., k)`` from ``(..., n)``."""
        return np.asarray(codewords)[..., self.info_positions].astype(np.uint8)

    def syndrome(self, words) -> np.ndarray:
        """``H x`` mod 2 for 0/1 words ``(..., n)``: uint8 ``(..., m)``."""
        w = np.asarray(words, dtype=np.float32)
        return ((w @ self.h.T.astype(np.float32)).astype(np.int64) & 1).astype(np.uint8)


def _file_key(path) -> tuple:
    p = Path(os.fspath(path)).resolve()
    try:
        st = p.stat()
    except OSError as exc:
        raise AlistError(f"alist file {path}: not found; give the path of an alist file "
                         "(GNU Radio ships them in share/gnuradio/fec/ldpc)") from exc
    return str(p), st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=32)
def _load(key: tuple) -> LdpcCode:
    path = key[0]
    return LdpcCode.from_parity_check(read_alist(path), name=Path(path).name)


def load_code(path) -> LdpcCode:
    """:class:`LdpcCode` of an alist file; the generator (a GF(2) elimination, about a second
    for n = 1800) is computed once per file version."""
    return _load(_file_key(path))
