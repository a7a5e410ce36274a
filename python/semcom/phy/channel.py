# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Channel helpers shared by the channel blocks (``channel_model``, ``symbol_link``).

* :func:`noise_voltage`: the stock channel's noise standard deviation for an Es/N0.
* :func:`check_channel`, :func:`check_taps`, :func:`new_seed`: parameter checks.
* :class:`block_fading_cc`: slow flat Rayleigh *block* fading, one gain ``h ~ CN(0, 1)`` per
  block (a number of samples, or from one stream tag to the next), independent between
  blocks, each gain published as a ``fading_gain`` stream tag.
* :class:`coherent_derotate_cc`: the ideal coherent receiver that reads those tags.

Why not the stock ``channels.fading_model``: its Jakes sum-of-sinusoids process with a tiny
Doppler ``fD`` is slowly varying but strongly *correlated* from one packet to the next (and
not constant inside one), whereas the paper's slow-fading model (one gain per packet,
independent between packets) needs a memoryless redraw; a Python block that multiplies by a
gain held per block is exactly that model and costs one numpy multiply.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pmt
from gnuradio import gr

from ..core import registry

__all__ = ["CHANNELS", "FADING_TAG", "noise_voltage", "check_channel", "check_taps", "new_seed",
           "block_fading_cc", "coherent_derotate_cc"]

CHANNELS = registry.keys(registry.CHANNELS)
FADING_TAG = "fading_gain"


def noise_voltage(snr_db: float, signal_power: float = 1.0, sps: float = 1.0) -> float:
    """Standard deviation of the complex noise for Es/N0 ``snr_db``:
    ``sqrt(signal_power * sps / 10**(snr_db/10))``."""
    if signal_power < 0 or sps <= 0:
        raise ValueError("signal_power must be >= 0 and sps > 0")
    return float(np.sqrt(signal_power * sps / 10.0 ** (float(snr_db) / 10.0)))


def check_channel(kind: str) -> str:
    return registry.check(registry.CHANNELS, kind, "channel")


def check_taps(taps) -> list:
    taps = [complex(t) for t in (np.atleast_1d(np.asarray(taps, dtype=complex)))]
    if not taps or not any(abs(t) > 0 for t in taps):
        raise ValueError("taps must be a non-empty list with a non-zero tap")
    return taps


def new_seed(seed) -> int:
    """``seed`` as a non-negative int; ``None`` draws one from the OS."""
    if seed is None or (isinstance(seed, (int, np.integer)) and seed < 0):
        return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    return int(seed) & 0x7FFFFFFF


class block_fading_cc(gr.sync_block):
    """Multiplies the stream by a complex gain h ~ CN(0,1) held per block.

    The gain is redrawn at every stream tag whose key is ``tag_key`` (if given), else
    every ``block_len`` samples, independently (numpy ``default_rng(seed)``).  Each
    redraw is marked by a ``fading_gain`` tag (complex value).  With ``enabled`` False
    the block passes samples through (gain 1) and tags nothing — or, with ``always_tag``,
    still tags every block with the gain 1 (so that a receiver reading the tags resets).
    """

    def __init__(self, block_len: int = 1000, tag_key: str = "", seed=None, enabled: bool = True,
                 always_tag: bool = False):
        gr.sync_block.__init__(self, name="semcom_block_fading", in_sig=[np.complex64],
                               out_sig=[np.complex64])
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(new_seed(seed))
        self._block_len = 1
        self._tag_key = None
        self._enabled = bool(enabled)
        self._always_tag = bool(always_tag)
        self._gain = 1 + 0j
        self._left = 0            # samples left in the current block (count mode)
        self._tag_pmt = pmt.intern(FADING_TAG)
        self.set_block_len(block_len)
        self.set_tag_key(tag_key)

    # --- settings (thread safe, take effect at the next block boundary) ---
    def set_block_len(self, block_len: int) -> None:
        block_len = int(block_len)
        if block_len < 1:
            raise ValueError("fading block length must be >= 1 sample")
        with self._lock:
            self._block_len = block_len

    def set_tag_key(self, tag_key: str) -> None:
        with self._lock:
            self._tag_key = pmt.intern(tag_key) if tag_key else None

    def set_enabled(self, enabled: bool) -> None:
        with self._lock:
            self._enabled = bool(enabled)
            if not self._enabled:
                self._gain = 1 + 0j

    def enabled(self) -> bool:
        return self._enabled

    def gain(self) -> complex:
        return self._gain

    def _draw(self, offset: int) -> None:
        if self._enabled:
            g = (self._rng.standard_normal() + 1j * self._rng.standard_normal()) / np.sqrt(2.0)
            self._gain = complex(g)
        else:
            self._gain = 1 + 0j
        self.add_item_tag(0, offset, self._tag_pmt, pmt.from_complex(self._gain))

    def work(self, input_items, output_items):
        x = input_items[0]
        y = output_items[0]
        n = len(y)
        with self._lock:
            if not (self._enabled or self._always_tag):
                y[:] = x[:n]
                return n
            start = self.nitems_written(0)
            if self._tag_key is not None:
                tags = self.get_tags_in_window(0, 0, n, self._tag_key)
                bounds = sorted({int(t.offset - start) for t in tags})
            else:
                bounds, pos = [], self._left
                while pos < n:
                    bounds.append(pos)
                    pos += self._block_len
                self._left = pos - n
            pos = 0
            for b in bounds + [n]:
                if b > pos:
                    y[pos:b] = x[pos:b] * self._gain
                if b < n:
                    self._draw(start + b)
                pos = b
        return n


class coherent_derotate_cc(gr.sync_block):
    """Ideal coherent receiver front end: multiplies by ``conj(g * h_ref)``.

    ``g`` is the value of the latest ``fading_gain`` tag (1 before the first one), i.e.
    the receiver knows each block's gain exactly; ``h_ref`` is a fixed known gain (e.g.
    the direct-path tap of a multipath channel).  Multiplying by the conjugate (rather
    than dividing) de-rotates the symbols *and* weights them by |g h_ref|^2, which is what
    a soft demapper needs: ``y conj(h) = |h|^2 x + conj(h) w`` gives LLRs with the same
    scale as plain AWGN.  The hard decision equals that of dividing by ``h``.
    """

    def __init__(self, h_ref: complex = 1.0):
        gr.sync_block.__init__(self, name="semcom_coherent_derotate", in_sig=[np.complex64],
                               out_sig=[np.complex64])
        self._g = 1 + 0j
        self._h_ref = complex(h_ref)
        self._key = pmt.intern(FADING_TAG)

    def set_h_ref(self, h_ref: complex) -> None:
        self._h_ref = complex(h_ref)

    def reset_gain(self) -> None:
        self._g = 1 + 0j

    def work(self, input_items, output_items):
        x = input_items[0]
        y = output_items[0]
        n = len(y)
        start = self.nitems_read(0)
        pos = 0
        tags = sorted(self.get_tags_in_window(0, 0, n, self._key), key=lambda t: t.offset)
        for t in tags:
            b = int(t.offset - start)
            if b > pos:
                y[pos:b] = x[pos:b] * np.conj(self._g * self._h_ref)
                pos = b
            self._g = complex(pmt.to_complex(t.value))
        y[pos:n] = x[pos:n] * np.conj(self._g * self._h_ref)
        return n
