# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

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
  for genie receivers and for measurements (:class:`gnuradio.semcom.phy.channel.block_fading_cc`,
  which says why the stock ``channels.fading_model`` is not that model).

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

from gnuradio import channels, gr

from .phy.channel import block_fading_cc, check_channel, check_taps, new_seed, noise_voltage

__all__ = ["channel_model"]


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
