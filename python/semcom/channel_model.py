"""Channel for the full-waveform flowgraphs: AWGN, slow Rayleigh block fading, multipath.

``channel_model`` (complex stream in -> complex stream out) wraps the stock
``channels.channel_model`` (AWGN, normalised frequency offset, sample-clock offset, FIR
multipath taps) and puts a block-fading gain in front of it.

Noise level
-----------
``snr_db`` is Es/N0 in dB, referenced to the *transmitted* signal.  With an average
signal power ``P`` per sample (``signal_power``) and ``sps`` samples per symbol, the
energy per symbol is ``Es = P * sps`` (unit sample period) and complex white noise of
variance ``N0`` per sample has density ``N0``, so::

    noise_voltage = sqrt(P * sps / 10**(snr_db / 10))

which is what the stock block takes (``noise_voltage`` is the standard deviation of the
complex noise: variance ``noise_voltage**2``, half per real dimension).  Es/N0 relates to
Eb/N0 by ``Es/N0 = Eb/N0 + 10 log10(bits per symbol * code rate)``
(:func:`gnuradio.semcom.phy.fec.esn0_from_ebn0`).  For a pulse-shaped signal measure
``P`` on the transmitted samples (an RRC with unit-energy taps and ``sps`` samples per
symbol gives ``P = Es / sps``, i.e. ``P * sps = 1`` for unit-energy symbols).

Channel kinds
-------------
* ``'awgn'``: taps ``[1]``, no fading.
* ``'multipath'``: the FIR ``taps`` (tapped delay line ``y[n] = sum_l h_l x[n-l] + w[n]``),
  used as given: normalise them (sum |h_l|^2 = 1) for the received Es/N0 to equal
  ``snr_db``.
* ``'rayleigh'``: slow flat Rayleigh *block* fading: one complex gain ``h ~ CN(0, 1)``
  (E|h|^2 = 1, so ``snr_db`` is the average received Es/N0), constant for
  ``fading_block`` samples — or, when ``fading_tag`` is set, from one stream tag with that
  key (e.g. the packet tag of a burst transmitter) to the next — and independent between
  blocks.  The gain is published as a ``fading_gain`` stream tag (complex) at each redraw,
  for genie receivers and for measurements.

  Why not the stock ``channels.fading_model``: its Jakes sum-of-sinusoids process with a
  tiny Doppler ``fD`` is slowly varying but strongly *correlated* from one packet to the
  next (and not constant inside one), whereas the paper's slow-fading model (one gain per
  packet, independent between packets) needs a memoryless redraw; a Python block that
  multiplies by a gain held per block is exactly that model and costs one numpy multiply.

Caveat of the stock block: its sample-clock resampler (``mmse_resampler_cc``) is in the
path even at ``timing_offset=1.0``: the output is delayed by a few samples and the last
few input samples are held until more arrive.  That is harmless for a continuous
waveform with a synchronising receiver (the purpose of this block); the symbol-level
:class:`symbol_link` therefore builds its AWGN/multipath channel from the same stock
primitives without the resampler.

Runtime setters: :meth:`set_snr_db`, :meth:`set_freq_offset`, :meth:`set_timing_offset`,
:meth:`set_taps`, :meth:`set_fading`, :meth:`set_channel`, :meth:`set_signal_power`.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pmt
from gnuradio import channels, gr

__all__ = ["channel_model", "block_fading_cc", "coherent_derotate_cc", "CHANNELS",
           "noise_voltage", "FADING_TAG"]

CHANNELS = ("awgn", "rayleigh", "multipath")
FADING_TAG = "fading_gain"


def noise_voltage(snr_db: float, signal_power: float = 1.0, sps: float = 1.0) -> float:
    """Standard deviation of the complex noise for Es/N0 ``snr_db``:
    ``sqrt(signal_power * sps / 10**(snr_db/10))``."""
    if signal_power < 0 or sps <= 0:
        raise ValueError("signal_power must be >= 0 and sps > 0")
    return float(np.sqrt(signal_power * sps / 10.0 ** (float(snr_db) / 10.0)))


def check_channel(kind: str) -> str:
    if kind not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {kind!r}")
    return kind


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


class channel_model(gr.hier_block2):
    """AWGN / slow Rayleigh block fading / multipath channel for complex baseband.

    Args:
        channel: ``'awgn'``, ``'rayleigh'`` or ``'multipath'``.
        snr_db: Es/N0 in dB (see the module docstring for the noise formula).
        signal_power: average power per sample of the input signal.
        sps: samples per symbol of the input signal.
        freq_offset: normalised frequency offset (cycles per sample), stock semantics.
        timing_offset: sample-clock ratio epsilon of the stock block, 1.0 = none (the
            output has 1/epsilon samples per input sample).
        taps: multipath FIR taps (used when ``channel == 'multipath'``).
        fading_block: samples per fading block (``'rayleigh'``, when no ``fading_tag``).
        fading_tag: if not empty, redraw the gain at each stream tag with this key.
        seed: seed of the noise and of the fading gains; ``None`` for a random one.
    """

    def __init__(self, channel: str = "awgn", snr_db: float = 20.0, signal_power: float = 1.0,
                 sps: float = 1.0, freq_offset: float = 0.0, timing_offset: float = 1.0,
                 taps=(1.0,), fading_block: int = 1000, fading_tag: str = "", seed=None):
        gr.hier_block2.__init__(self, "semcom_channel_model",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self._channel = check_channel(channel)
        self._snr_db = float(snr_db)
        self._signal_power = float(signal_power)
        self._sps = float(sps)
        self._taps = check_taps(taps)
        self._fading_block = int(fading_block)
        self._fading_tag = str(fading_tag or "")
        seed = new_seed(seed)
        self.fading = block_fading_cc(self._fading_block, self._fading_tag, seed + 1,
                                      enabled=(self._channel == "rayleigh"))
        self.channel = channels.channel_model(
            self._noise_voltage(), float(freq_offset), float(timing_offset),
            self._active_taps(), float(seed), False)
        self.connect(self, self.fading, self.channel, self)

    # --- helpers ---
    def _noise_voltage(self) -> float:
        return noise_voltage(self._snr_db, self._signal_power, self._sps)

    def _active_taps(self) -> list:
        return self._taps if self._channel == "multipath" else [1 + 0j]

    # --- getters ---
    def snr_db(self) -> float:
        return self._snr_db

    def noise_voltage(self) -> float:
        return self._noise_voltage()

    def freq_offset(self) -> float:
        return self.channel.frequency_offset()

    def timing_offset(self) -> float:
        return self.channel.timing_offset()

    def taps(self) -> list:
        return list(self._taps)

    def channel_kind(self) -> str:
        return self._channel

    def fading_block(self) -> int:
        return self._fading_block

    # --- runtime setters ---
    def set_snr_db(self, snr_db: float) -> None:
        self._snr_db = float(snr_db)
        self.channel.set_noise_voltage(self._noise_voltage())

    def set_signal_power(self, signal_power: float, sps: float | None = None) -> None:
        self._signal_power = float(signal_power)
        if sps is not None:
            self._sps = float(sps)
        self.channel.set_noise_voltage(self._noise_voltage())

    def set_freq_offset(self, freq_offset: float) -> None:
        self.channel.set_frequency_offset(float(freq_offset))

    def set_timing_offset(self, timing_offset: float) -> None:
        self.channel.set_timing_offset(float(timing_offset))

    def set_taps(self, taps) -> None:
        self._taps = check_taps(taps)
        self.channel.set_taps(self._active_taps())

    def set_fading(self, fading_block: int, fading_tag: str | None = None) -> None:
        """New fading block length (samples) and, if given, tag key ('' for counting)."""
        self._fading_block = int(fading_block)
        self.fading.set_block_len(self._fading_block)
        if fading_tag is not None:
            self._fading_tag = str(fading_tag)
            self.fading.set_tag_key(self._fading_tag)

    def set_channel(self, channel: str) -> None:
        self._channel = check_channel(channel)
        self.fading.set_enabled(self._channel == "rayleigh")
        self.channel.set_taps(self._active_taps())
