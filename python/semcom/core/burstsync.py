# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Data-aided burst receiver in NumPy: detection, synchronisation, equalisation, soft values.

The waveform (defined for GNU Radio in ``phy/waveform.py``; here only its numbers)::

    | preamble P | body chunk 0 | pilot | body chunk 1 | pilot | ... | last chunk | pilot |

at ``sps`` samples per symbol with a root-raised-cosine pulse.  The body is the header
followed by the payload symbols, cut into chunks of ``pilot_spacing`` symbols; a block of
``pilot`` known symbols follows every chunk, the last one included, so every data symbol
lies between two known blocks.

What :class:`BurstReceiver` does with a stream of complex samples (``feed``), burst by
burst, everything data-aided (no loop has to pull in, so the first burst after silence
is received like any other):

1. **Detection** without a level threshold and insensitive to the carrier offset: the
   matched-filter output ``y`` gives one-symbol differential products
   ``d[n] = y[n] conj(y[n - sps])``; their correlation ``D`` with the preamble's
   differential sequence peaks at the first preamble symbol whatever the frequency offset
   (it only turns D's phase, by 2 pi f sps).  The statistic ``|D|^2 / E`` (``E``: the
   energy of the products under the correlator) is Exp(1)-distributed in noise, so the
   threshold sets the rate of candidates per noise sample: ``exp(-threshold)``. Each
   candidate is confirmed by the coherent search of step 2 (its normalised peak is
   Exp(1) in noise and about ``P * SNR / (1 + SNR)`` on a preamble, 90 at Es/N0 -2.5 dB).
2. **Acquisition** on the preamble: coarse frequency from ``angle(D)``; then, on the input
   de-rotated by it, the modulation-removed preamble ``y_k conj(p_k)`` through a
   zero-padded FFT at timing offsets a quarter sample apart: the peak over timing and
   frequency gives the symbol timing (parabolic interpolation) and the fine frequency (the
   maximum-likelihood estimator of a tone).
3. **Equaliser** (optional, ``equalizer='auto'`` decides per burst): a fractionally spaced
   (T/2) linear equaliser trained by regularised least squares on the preamble; 'auto'
   keeps it when it lowers the preamble's residual error clearly below the one-tap
   (gain only) fit, so on a flat channel no estimation noise is added.
4. **Tracking** through the burst on the known blocks: at each pilot block the complex
   gain (phase and amplitude, which follows residual frequency, drift and slow fading) and
   the timing error (parabola through the correlation at -T/4, 0, +T/4) are measured; the
   sampling clock is a weighted least-squares line through the timing measurements (the
   clock offset), the gain of each data symbol is interpolated between its two known
   blocks.
5. **Header** (after the first pilot block): repetitions soft-combined, CRC-checked by the
   caller's ``parse_header``; it gives the body length, and the burst is finished when its
   last sample has arrived.
6. **Soft values**: per-symbol ``y_k / g_k``, noise from the known symbols' residuals, LLRs
   by :func:`.softvalues.llr_scale` / :func:`.softvalues.llrs` (the module's one soft-value
   contract), scaled by each symbol's ``|g_k|^2`` relative to the mean.

Pure NumPy (+ ``scipy.signal`` for FFT convolution); no GNU Radio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import signal as sps_signal

from . import softvalues

__all__ = ["BurstFormat", "BurstReceiver", "Burst", "rrc_pulse", "EQUALIZER_MODES"]

EQUALIZER_MODES = ("auto", "on", "off")
_NPHASES = 32              # polyphase matched filter: timing resolution 1/32 sample
_NFFT = 4096               # preamble frequency search
_VERIFY = 30.0             # coherent preamble statistic that confirms a detection


def rrc_pulse(t: np.ndarray, rolloff: float) -> np.ndarray:
    """Root-raised-cosine pulse at times ``t`` in symbols (peak 1 - beta + 4 beta / pi)."""
    t = np.asarray(t, dtype=np.float64)
    b = float(rolloff)
    out = np.empty_like(t)
    small = np.abs(t) < 1e-9
    sing = np.abs(np.abs(4 * b * t) - 1) < 1e-9
    reg = ~(small | sing)
    tr = t[reg]
    out[reg] = ((np.sin(np.pi * tr * (1 - b)) + 4 * b * tr * np.cos(np.pi * tr * (1 + b)))
                / (np.pi * tr * (1 - (4 * b * tr) ** 2)))
    out[small] = 1 - b + 4 * b / np.pi
    out[sing] = (b / math.sqrt(2)) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * b))
                                      + (1 - 2 / np.pi) * np.cos(np.pi / (4 * b)))
    return out


@dataclass(frozen=True)
class BurstFormat:
    """The numbers of the burst waveform.

    Attributes:
        sps: samples per symbol (integer >= 2).
        rolloff: RRC excess bandwidth.
        span: RRC length in symbols.
        preamble: complex preamble symbols (unit energy).
        pilot: complex pilot block symbols (unit energy).
        pilot_spacing: body symbols between pilot blocks.
        header_symbols: body symbols of the header (at the start of the body).
        header_axis: unit vector of the header's BPSK axis.
        modulation: payload modulation key (``'bpsk'`` / ``'qpsk'``).
    """

    sps: int
    rolloff: float
    span: int
    preamble: np.ndarray
    pilot: np.ndarray
    pilot_spacing: int
    header_symbols: int
    header_axis: complex
    modulation: str

    def body_positions(self, body_len: int) -> tuple:
        """``(body_index, pilot_blocks)``: burst symbol index of each body symbol, and the
        first burst symbol index of each pilot block."""
        P, D, L = len(self.preamble), self.pilot_spacing, len(self.pilot)
        j = np.arange(body_len)
        body_index = P + j + (j // D) * L
        nchunks = max(-(-body_len // D), 1)
        pilots = [P + (c + 1) * D + c * L if c < nchunks - 1 else P + body_len + c * L
                  for c in range(nchunks)]
        return body_index, np.asarray(pilots, dtype=np.int64)

    def burst_symbols(self, body_len: int) -> int:
        """Symbols from the first preamble symbol to the end of the last pilot block."""
        nchunks = max(-(-body_len // self.pilot_spacing), 1)
        return len(self.preamble) + body_len + nchunks * len(self.pilot)

    def assemble(self, body: np.ndarray) -> np.ndarray:
        """Preamble, body chunks and pilot blocks as one symbol vector (transmitter)."""
        body = np.asarray(body, dtype=np.complex64)
        out = np.empty(self.burst_symbols(len(body)), dtype=np.complex64)
        idx, pilots = self.body_positions(len(body))
        out[:len(self.preamble)] = self.preamble
        out[idx] = body
        for p in pilots:
            out[p:p + len(self.pilot)] = self.pilot
        return out


@dataclass
class Burst:
    """One received burst (what :meth:`BurstReceiver.feed` returns).

    Attributes:
        header: what ``parse_header`` returned.
        llrs: float32 LLRs of the payload bits (positive means 1), body order.
        symbols: payload symbols after synchronisation and equalisation, normalised to the
            constellation (for a constellation display).
        snr_db: Es/N0 estimate from the known symbols (dB).
        freq_offset: carrier offset estimate (cycles per sample).
        clock_offset: sample-clock offset estimate (fraction, 1e-6 = 1 ppm).
        equalized: whether the burst went through the trained equaliser.
        start: absolute sample index of the first preamble symbol.
    """

    header: object
    llrs: np.ndarray
    symbols: np.ndarray
    snr_db: float
    freq_offset: float
    clock_offset: float
    equalized: bool
    start: float
    stats: dict = field(default_factory=dict)


def _wline(x: np.ndarray, y: np.ndarray, w: np.ndarray, prior=None) -> tuple:
    """Weighted least-squares line ``y = a + b x`` (closed form; a 2x2 system through
    LAPACK costs more than the whole fit). ``prior``: (weight, b0) adds weight * (b - b0)^2."""
    sw, sx, sy = w.sum(), (w * x).sum(), (w * y).sum()
    sxx, sxy = (w * x * x).sum(), (w * x * y).sum()
    if prior is not None:
        sxx += prior[0]
        sxy += prior[0] * prior[1]
    det = sw * sxx - sx * sx
    if abs(det) < 1e-12 * max(sw * sxx, 1e-30):
        return sy / sw, (prior[1] if prior is not None else 0.0)
    return (sxx * sy - sx * sxy) / det, (sw * sxy - sx * sy) / det


def _solve_hpd(R: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``R x = b`` for a small Hermitian positive definite ``R`` by Gaussian
    elimination in NumPy: LAPACK through a threaded BLAS took 13 ms for 13 x 13 on a loaded
    2-core machine (waking its threads), this about 0.1 ms."""
    A = np.array(R, dtype=np.complex128)
    x = np.array(b, dtype=np.complex128)
    n = len(x)
    for i in range(n):
        piv = A[i, i]
        f = A[i + 1:, i] / piv
        A[i + 1:, i:] -= f[:, None] * A[i, i:][None, :]
        x[i + 1:] -= f * x[i]
    for i in range(n - 1, -1, -1):
        x[i] = (x[i] - np.dot(A[i, i + 1:], x[i + 1:])) / A[i, i]
    return x


class _Pending:
    """A detected preamble waiting for its samples."""

    def __init__(self, peak: int, coarse_freq: float):
        self.peak = peak                # absolute sample index of preamble symbol 0
        self.coarse_freq = coarse_freq
        self.acq = None                 # acquisition state after the header
        self.header = None
        self.body_len = None
        self.end = None                 # absolute sample index needed to finish


class BurstReceiver:
    """Streaming data-aided burst receiver (see the module docstring).

    Args:
        fmt: :class:`BurstFormat`.
        parse_header: ``parse_header(bits uint8 array) -> (header, body_len) | None``
            (``None`` for a header that fails its check); ``body_len`` counts body symbols
            (header + payload), the payload being the last ``body_len - header_symbols``.
        header_bits: bits per header copy; the header symbols are ``header_symbols //
            header_bits`` copies of them, one after the other.
        threshold: first-stage detection threshold on ``|D|^2 / E`` (candidates per noise
            sample about ``exp(-threshold)``; each is confirmed or rejected by the coherent
            preamble search).
        max_freq: largest carrier offset, cycles per sample (the acquisition's search).
        equalizer: ``'auto'``, ``'on'`` or ``'off'``.
        eq_span: equaliser half-length in symbols (2 * 2 * eq_span + 1 taps at T/2).
        max_clock: largest sample-clock offset (fraction), for the buffer margins.
    """

    def __init__(self, fmt: BurstFormat, parse_header, header_bits: int, threshold: float = 11.0,
                 max_freq: float = 0.02, equalizer: str = "auto", eq_span: int = 3,
                 max_clock: float = 2e-4):
        if equalizer not in EQUALIZER_MODES:
            raise ValueError(f"equalizer must be one of {EQUALIZER_MODES}, not {equalizer!r}")
        if not threshold > 0:
            raise ValueError(f"threshold must be > 0, not {threshold!r}")
        self.fmt = fmt
        self.parse_header = parse_header
        self.header_bits = int(header_bits)
        self.threshold = float(threshold)
        self.max_freq = float(max_freq)
        self.equalizer = equalizer
        self.eq_half = 2 * int(eq_span)            # T/2 taps on each side
        self.max_clock = float(max_clock)
        sps = fmt.sps
        self.H = fmt.span * sps // 2               # matched filter half-length (samples)
        self.mf_taps = rrc_pulse((np.arange(-self.H, self.H + 1)) / sps, fmt.rolloff)
        self.mf_taps = (self.mf_taps / np.sqrt(np.sum(self.mf_taps ** 2))).astype(np.complex64)
        # polyphase bank: bank[p, j] = g(p / NPH + H - 1 - j), j = 0 .. 2H - 1
        mu = np.arange(_NPHASES + 1)[:, None] / _NPHASES
        j = np.arange(2 * self.H)[None, :]
        bank = rrc_pulse((mu + self.H - 1 - j) / sps, fmt.rolloff)
        norm = np.sqrt(np.sum(rrc_pulse(np.arange(-self.H, self.H + 1) / sps,
                                        fmt.rolloff) ** 2))
        self.bank = (bank / norm).astype(np.complex64)
        P = len(fmt.preamble)
        self.P = P
        q = (fmt.preamble[1:] * np.conj(fmt.preamble[:-1]))
        kern = np.zeros((P - 2) * sps + 1, dtype=np.complex64)
        kern[::sps] = np.conj(q)                     # D[n] = sum_k d[n + k sps] conj(q_k)
        self.det_kernel = kern[::-1].copy()
        self.energy_kernel = np.abs(kern[::-1]).astype(np.float32)
        self.det_len = len(kern)
        # stream state
        self.buf = np.zeros(0, dtype=np.complex64)
        self.base = 0                    # absolute index of buf[0]
        self.det_pos = 0                 # next absolute index to test for a preamble
        self.blocked_until = -1          # no new detection before this index
        self.pending = []
        self.stats = {"candidates": 0, "detections": 0, "bad_headers": 0, "headers": 0, "bursts": 0,
                      "equalized": 0}

    # ------------------------------------------------------------------ stream interface
    def reset(self):
        """Forget the buffered samples and the bursts in progress (after an error)."""
        self.base += len(self.buf)
        self.buf = np.zeros(0, dtype=np.complex64)
        self.det_pos = self.base
        self.pending = []

    def feed(self, samples: np.ndarray) -> list:
        """Add samples; returns the :class:`Burst` objects completed by them, in order."""
        x = np.asarray(samples, dtype=np.complex64)
        self.buf = np.concatenate([self.buf, x]) if len(self.buf) else x.copy()
        self._detect()
        out = []
        while self.pending:
            burst = self._advance(self.pending[0])
            if burst is False:          # waiting for samples
                break
            self.pending.pop(0)
            if burst is not None:
                out.append(burst)
        self._trim()
        return out

    def _end(self) -> int:
        return self.base + len(self.buf)

    def _trim(self):
        keep_from = self.det_pos - self.H - self.det_len - 4 * self.fmt.sps
        for p in self.pending:
            keep_from = min(keep_from, p.peak - self.H - (self.eq_half + 8) * self.fmt.sps)
        cut = keep_from - self.base
        if cut > 65536:
            self.buf = self.buf[cut:].copy()
            self.base += cut

    # ------------------------------------------------------------------ detection
    def _detect(self):
        sps, H = self.fmt.sps, self.H
        look = 4 * sps                                   # peak search after a crossing
        # D at absolute n needs samples up to n + (P - 1) sps + H (matched filter); the
        # preamble search in _search_preamble a few symbols more
        last = self._end() - (self.P - 1) * sps - H - look - 1 - (self.eq_half + 6) * sps
        if last <= self.det_pos:
            return
        lo = max(self.det_pos - H - sps, self.base)
        seg = self.buf[lo - self.base: last + look + self.det_len + sps + H - self.base]
        y = sps_signal.oaconvolve(seg, self.mf_taps, mode="valid")
        # y[i] is the matched filter centred on absolute sample lo + H + i
        d = y[sps:] * np.conj(y[:-sps])                # centred on lo + H + sps + i
        if len(d) < self.det_len:
            return
        D = sps_signal.oaconvolve(d, self.det_kernel, mode="valid")
        E = sps_signal.oaconvolve(np.abs(d) ** 2, self.energy_kernel, mode="valid")
        off = lo + H                                   # absolute index of D[0]
        lam = (np.abs(D) ** 2) / np.maximum(E, 1e-30)
        start = max(self.det_pos, self.blocked_until, off) - off
        stop = min(last - off, len(lam) - look)
        if stop > start:
            hits = np.flatnonzero(lam[start:stop] > self.threshold) + start
            i = 0
            while i < len(hits):
                h = hits[i]
                peak = h + int(np.argmax(lam[h:h + look]))
                pend = _Pending(peak + off, float(np.angle(D[peak])) / (2 * math.pi * sps))
                self.stats["candidates"] += 1
                # second stage: the coherent preamble correlation over timing and frequency
                # (Exp(1) in noise, ~ P * SNR / (1 + SNR) on a preamble) confirms it, so
                # the first stage's threshold can be low without blocking the search
                if self._search_preamble(pend) >= _VERIFY:
                    self.pending.append(pend)
                    self.stats["detections"] += 1
                    self.blocked_until = pend.peak + self.P * sps
                    i = int(np.searchsorted(hits, self.blocked_until - off))
                else:
                    i = int(np.searchsorted(hits, h + look))
        self.det_pos = max(self.det_pos, last)

    # ------------------------------------------------------------------ per burst
    def _samples(self, a: int, b: int) -> np.ndarray:
        """Absolute samples [a, b), zero where outside the buffer."""
        out = np.zeros(b - a, dtype=np.complex64)
        s, e = max(a, self.base), min(b, self._end())
        if e > s:
            out[s - a:e - a] = self.buf[s - self.base:e - self.base]
        return out

    def _mf_at(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Matched filter output of ``x`` at fractional sample positions ``t``."""
        t = np.asarray(t, dtype=np.float64)
        b = np.floor(t)
        p = np.rint((t - b) * _NPHASES).astype(np.int64)
        idx = (b.astype(np.int64) - self.H + 1)[:, None] + np.arange(2 * self.H)[None, :]
        np.clip(idx, 0, len(x) - 1, out=idx)
        return np.einsum("ij,ij->i", x[idx], self.bank[p])

    def _advance(self, pend: _Pending):
        """Work on the oldest pending burst: returns a Burst, None (dropped) or False
        (needs more samples)."""
        sps = self.fmt.sps
        margin = self.H + (self.eq_half + 4) * sps
        if pend.acq is None:
            hdr_syms = self.fmt.burst_symbols(self.fmt.header_symbols)
            need = pend.peak + int(hdr_syms * sps * (1 + self.max_clock)) + margin + sps
            if self._end() < need:
                return False
            if not self._acquire(pend):
                self.stats["bad_headers"] += 1
                return None
            self.stats["headers"] += 1
        if self._end() < pend.end:
            return False
        return self._finish(pend)

    def _window(self, pend, nsyms):
        """De-rotated samples from before the preamble to ``nsyms`` symbols on, and the
        origin (absolute index of element 0)."""
        sps = self.fmt.sps
        origin = pend.peak - self.H - (self.eq_half + 4) * sps
        end = pend.peak + int(nsyms * sps * (1 + self.max_clock)) + self.H + \
            (self.eq_half + 4) * sps
        x = self._samples(origin, end)
        n = np.arange(len(x)) + (origin - pend.peak)
        return x * np.exp(-2j * np.pi * pend.freq * n).astype(np.complex64), origin

    def _search_preamble(self, pend: _Pending) -> float:
        """Timing and frequency of a candidate from the preamble: the modulation-removed
        preamble through a zero-padded FFT at timing offsets a quarter sample apart.
        Sets ``pend.freq`` and ``pend.dt``; returns the normalised peak
        ``|Z|^2 / (P mean|y|^2)``."""
        fmt, sps, P = self.fmt, self.fmt.sps, self.P
        pend.freq = pend.coarse_freq
        x, origin = self._window(pend, P)
        rel = pend.peak - origin
        k = np.arange(P)
        pconj = np.conj(fmt.preamble)
        offsets = np.arange(-4, 5) * 0.25
        t = (rel + offsets[:, None] + k[None, :] * sps).ravel()
        y = self._mf_at(x, t).reshape(len(offsets), P)
        spec = np.abs(np.fft.fft(y * pconj[None, :], _NFFT, axis=1))
        bins = np.argmax(spec, axis=1)
        mags = spec[np.arange(len(offsets)), bins]
        j = int(np.argmax(mags))
        dt = offsets[j]
        if 0 < j < len(offsets) - 1:
            a, b, c = mags[j - 1], mags[j], mags[j + 1]
            den = a - 2 * b + c
            if den < 0:
                dt += 0.25 * 0.5 * (a - c) / den
        i, row = int(bins[j]), spec[j]
        a, b, c = row[(i - 1) % _NFFT], row[i], row[(i + 1) % _NFFT]
        den = a - 2 * b + c
        frac = 0.5 * (a - c) / den if den < 0 else 0.0
        fbin = (i + frac) / _NFFT
        if fbin > 0.5:
            fbin -= 1.0
        pend.freq = pend.coarse_freq + fbin / sps
        pend.dt = dt
        if abs(pend.freq) > self.max_freq + 0.5 / (P * sps):
            return 0.0
        return float(mags[j] ** 2 / (P * max(np.mean(np.abs(y[j]) ** 2), 1e-30)))

    def _acquire(self, pend: _Pending) -> bool:
        """Gain and equaliser from the preamble, tracking over the first pilot block, then
        the header. False if the header fails."""
        fmt, sps, P = self.fmt, self.fmt.sps, self.P
        k = np.arange(P)
        dt = pend.dt
        # samples de-rotated by the fine frequency; timing t(k) = a + b k (in x indices)
        x, origin = self._window(pend, fmt.burst_symbols(fmt.header_symbols) + 2)
        t0 = pend.peak - origin + dt
        acq = {"x": x, "origin": origin, "a": t0, "b": float(sps), "points": []}
        pend.acq = acq
        y = self._mf_at(x, t0 + k * sps)
        g = np.vdot(fmt.preamble, y) / P
        self._train_equalizer(acq, y, g)
        self._measure_block(acq, 0, fmt.preamble, first=True)
        # first pilot block: closes the header
        _, pilots = fmt.body_positions(fmt.header_symbols)
        self._measure_block(acq, int(pilots[0]), fmt.pilot)
        body_idx, _ = fmt.body_positions(fmt.header_symbols)
        s = self._demod(acq, body_idx)
        soft = np.real(s * np.conj(fmt.header_axis)).reshape(-1, self.header_bits).sum(axis=0)
        parsed = self.parse_header((soft > 0).astype(np.uint8))
        if parsed is None:
            return False
        pend.header, pend.body_len = parsed
        # the header's symbols are known now: the longest reference after the preamble
        hdr_syms = np.where(soft > 0, 1.0, -1.0)
        hdr_syms = np.tile(hdr_syms, fmt.header_symbols // self.header_bits) * fmt.header_axis
        self._measure_block(acq, int(body_idx[0]), hdr_syms)
        nsyms = fmt.burst_symbols(pend.body_len)
        pend.end = pend.peak + int(nsyms * sps * (1 + self.max_clock)) + self.H + \
            (self.eq_half + 4) * sps + sps
        return True

    # ---- equaliser
    def _grid(self, acq, k: np.ndarray, dt: float = 0.0, half: int | None = None) -> np.ndarray:
        """Equaliser input: T/2-spaced matched-filter samples around symbols ``k``, shape
        (len(k), 2 * half + 1). The T/2 grid is computed once over k's range and shared by
        neighbouring symbols."""
        if half is None:
            half = self.eq_half if acq["w"] is not None else 0
        k = np.asarray(k, dtype=np.int64)
        k0, k1 = int(k.min()), int(k.max())
        i = np.arange(2 * k0 - half, 2 * k1 + half + 1)
        u = self._mf_at(acq["x"], acq["a"] + dt + acq["b"] * 0.5 * i)
        rows = np.lib.stride_tricks.sliding_window_view(u, 2 * half + 1)[::2]
        return rows[k - k0]

    def _train_equalizer(self, acq, y, g):
        acq["w"] = None
        acq["eq"] = False
        if self.equalizer == "off":
            return
        fmt, P = self.fmt, self.P
        U = self._grid(acq, np.arange(P), half=self.eq_half)

        def ls(A):
            # einsum, not BLAS: on a loaded machine waking a BLAS thread pool for these
            # small products costs more than the products (measured: 2x for the receiver)
            R = np.einsum("ki,kj->ij", A.conj(), A)
            lam = 1e-3 * np.real(np.trace(R)) / A.shape[1]
            w = _solve_hpd(R + lam * np.eye(A.shape[1]),
                           np.einsum("ki,k->i", A.conj(), fmt.preamble))
            res = np.einsum("ki,i->k", A, w) - fmt.preamble
            mse = float(np.mean(np.abs(res) ** 2)) * P / max(P - A.shape[1], 1)
            return w, mse

        # both fits least squares (MMSE-like), so that their residuals compare fairly
        _, mse1 = ls(U[:, self.eq_half:self.eq_half + 1])
        w, mse_k = ls(U)
        if self.equalizer == "on" or mse1 > 1.25 * mse_k:
            acq["w"] = w
            acq["eq"] = True
            self.stats["equalized"] += 1

    def _outs(self, acq, k: np.ndarray, dts) -> np.ndarray:
        """Equaliser (or matched-filter) outputs at symbols ``k`` for each timing offset of
        ``dts`` (samples): shape (len(dts), len(k)); one matched-filter call for all."""
        w = acq["w"]
        half = self.eq_half if w is not None else 0
        k = np.asarray(k, dtype=np.int64)
        k0, k1 = int(k.min()), int(k.max())
        i = np.arange(2 * k0 - half, 2 * k1 + half + 1)
        base = acq["a"] + acq["b"] * 0.5 * i
        t = (base[None, :] + np.asarray(dts, dtype=float)[:, None]).ravel()
        u = self._mf_at(acq["x"], t).reshape(len(dts), len(i))
        if w is None:
            return u[:, 2 * (k - k0)]
        rows = np.lib.stride_tricks.sliding_window_view(u, 2 * half + 1, axis=1)[:, ::2]
        # einsum rather than BLAS: small products, no thread pool to wake
        return np.einsum("dkj,j->dk", rows[:, k - k0], w.astype(np.complex64))

    def _out(self, acq, k: np.ndarray, dt: float = 0.0) -> np.ndarray:
        return self._outs(acq, k, (dt,))[0]

    # ---- tracking
    def _measure_block(self, acq, start: int, symbols: np.ndarray, first: bool = False):
        """Gain and timing at a known block; updates the clock line and the gain list."""
        k = start + np.arange(len(symbols))
        q = self.fmt.sps / 4.0
        outs = self._outs(acq, k, (-q, 0.0, q))
        c = np.einsum("dk,k->d", outs, np.conj(symbols))
        m = np.abs(c)
        den = m[0] - 2 * m[1] + m[2]
        tau = float(np.clip(0.5 * q * (m[0] - m[2]) / den, -q, q)) if den < 0 else 0.0
        g = c[1] / len(symbols)
        kc = float(k.mean())
        # unwrap the gain's phase against the prediction from the earlier blocks
        pts = acq["points"]
        if pts:
            kp = np.array([p[0] for p in pts])
            ph = np.array([p[2] for p in pts])
            if len(pts) >= 2:
                wts = np.array([p[3] for p in pts], dtype=float)
                slope = _wline(kp, ph, wts)[1]
            else:
                slope = 0.0
            pred = ph[-1] + slope * (kc - kp[-1])
            phase = pred + float(np.angle(g * np.exp(-1j * pred)))
        else:
            phase = float(np.angle(g))
        resid = outs[1] - g * symbols
        n0 = float(np.mean(np.abs(resid) ** 2)) * len(k) / max(len(k) - 1, 1)
        pts.append((kc, abs(g), phase, len(k), n0, len(k)))
        # clock: weighted LS line through (k, t) with a weak prior on the nominal rate
        acq.setdefault("tpts", []).append((kc, acq["a"] + acq["b"] * kc + tau, len(k)))
        if not first:
            self._fit_clock(acq)

    def _fit_clock(self, acq):
        pts = sorted(acq["tpts"])
        kp = np.array([p[0] for p in pts])
        tp = np.array([p[1] for p in pts])
        wp = np.array([p[2] for p in pts], dtype=float)
        # a weak prior on the nominal rate (sps samples per symbol) keeps the line defined
        # while only the preamble and one block are in
        k0 = kp[0]
        span = max(kp[-1] - k0, 1.0)
        a, b = _wline(kp - k0, tp, wp, prior=(float(np.sum(wp)) * 1e-3 * span * span,
                                                float(self.fmt.sps)))
        acq["a"], acq["b"] = a - b * k0, b

    def _gains(self, acq, k: np.ndarray) -> np.ndarray:
        """Complex gain at symbols ``k``: each known block's phase smoothed by a weighted
        line through it and its neighbours (up to 1.5 pilot intervals either side), the
        magnitude by a quadratic over the burst; interpolated linearly between blocks."""
        pts = sorted(acq["points"])
        kp = np.array([p[0] for p in pts])
        mag = np.array([p[1] for p in pts])
        ph = np.array([p[2] for p in pts])
        w = np.array([p[3] for p in pts], dtype=float)
        reach = 1.5 * (self.fmt.pilot_spacing + len(self.fmt.pilot))
        smag, sph = mag.copy(), ph.copy()
        if len(kp) > 2:
            for i, kc in enumerate(kp):
                sel = np.abs(kp - kc) <= reach
                if sel.sum() < 3:
                    continue
                sph[i] = _wline(kp[sel] - kc, ph[sel], w[sel])[0]
        # The magnitude changes slowly (fading over tens of ms, nothing on a wired or AWGN
        # link) while a 32-symbol block measures it to +-17 % at Es/N0 -2.5 dB, noise that
        # would weight the LLRs unevenly: one weighted quadratic over the whole burst.
        if len(kp) >= 4:
            x = (kp - kp.mean()) / max(np.ptp(kp), 1.0)
            V = np.stack([np.ones_like(x), x, x * x], axis=1)
            coef = _solve_hpd(np.einsum("ki,k,kj->ij", V, w, V),
                              np.einsum("ki,k,k->i", V, w, mag)).real
            smag = np.maximum(V @ coef, 1e-3 * mag.max())
        return np.interp(k, kp, smag) * np.exp(1j * np.interp(k, kp, sph))

    def _demod(self, acq, k: np.ndarray) -> np.ndarray:
        return self._out(acq, k) / self._gains(acq, k)

    def _finish(self, pend: _Pending):
        fmt, sps = self.fmt, self.fmt.sps
        acq = pend.acq
        # the whole burst, de-rotated, in the same coordinates as the acquisition
        acq["x"], _ = self._window(pend, fmt.burst_symbols(pend.body_len) + 2)
        body_idx, pilots = fmt.body_positions(pend.body_len)
        for p in pilots[1:]:
            self._measure_block(acq, int(p), fmt.pilot)
        pay_idx = body_idx[fmt.header_symbols:]
        gains = self._gains(acq, pay_idx)
        s = self._out(acq, pay_idx) / gains
        g2 = np.abs(gains) ** 2
        pts = acq["points"]
        wts = np.array([p[5] for p in pts], dtype=float)
        n0_abs = float(np.sum(wts * np.array([p[4] for p in pts])) / np.sum(wts))
        g2_mean = float(np.mean(g2))
        esn0 = g2_mean / max(n0_abs, 1e-30)
        esn0_db = 10 * math.log10(max(esn0, 1e-12))
        if fmt.modulation == "bpsk":
            comp = np.real(s).astype(np.float32)
            rel = (g2 / g2_mean).astype(np.float32)
        else:   # Gray QPSK: the first bit of a pair on the imaginary axis
            comp = np.empty(2 * len(s), dtype=np.float32)
            comp[0::2] = s.imag
            comp[1::2] = s.real
            rel = np.repeat(g2 / g2_mean, 2).astype(np.float32)
        scale = softvalues.llr_scale(esn0_db, fmt.modulation)
        llrs = softvalues.llrs(comp * rel, scale)
        self.stats["bursts"] += 1
        clock = acq["b"] / sps - 1.0
        return Burst(header=pend.header, llrs=llrs, symbols=s.astype(np.complex64),
                     snr_db=esn0_db, freq_offset=pend.freq, clock_offset=clock,
                     equalized=acq["eq"], start=float(pend.peak),
                     stats={"blocks": [(p[0], p[1], p[2], p[4]) for p in pts],
                            "clock": [(p[0], p[1]) for p in acq["tpts"]]})
