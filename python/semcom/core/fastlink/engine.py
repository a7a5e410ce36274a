# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The symbol-level link for all packets of an operating point at once, in arrays.

:func:`transmit` is the array twin of the GNU Radio symbol link (``symbol_link`` driven by
``app.link.run_packets``) with the same contract: packets (bytes) in, ``(data, crc_ok)``
per packet out, in order.  Every step is the flowgraph's, computed for many packets at
once:

1. CRC-32 appended as ``digital.crc32_async_bb`` does (:mod:`.crc`), bits MSB first.
2. Frame geometry: ``m = ceil(nbits / k)`` codewords, zero padding to ``m k`` bits; the
   code is GNU Radio's (:class:`.LdpcCode`, bit-identical codewords), so the pad bits are
   the last code bits of the frame and all of them but ``pad % bits_per_symbol`` are left
   out of the transmission (shortening).
3. BPSK (bit 0 -> -1, bit 1 -> +1) or Gray QPSK (the first bit of a pair on the real axis,
   the second on the imaginary axis, ``(2 b - 1) / sqrt 2`` each) with unit energy.
4. Channel, on the stream of all packets back to back: ``'awgn'``; ``'rayleigh'`` one gain
   ``h ~ CN(0, 1)`` per packet; ``'multipath'`` the FIR ``taps`` over the continuous
   stream (the tail of one packet runs into the next, as in the flowgraph).  Then complex
   noise of variance ``N0 = 10**(-snr_db/10)`` per symbol: ``snr_db`` is Es/N0.
5. Coherent reception with the known gain (``y conj(h)``; for multipath the direct path
   ``taps[0]``), LLRs by :func:`core.softvalues.llr_scale` (the later taps' power counted
   as noise) clipped to +-``LLR_CLIP``; the shortened bits re-inserted as known zeros
   (LLR ``-LLR_CLIP``).
6. Batched belief propagation (:mod:`.bp`, 50 iterations at most, early stop per frame),
   the information bits cut to the packet and its CRC, the CRC recomputed and compared.

The random draws (noise, fading) come from NumPy's generator seeded with ``seed``: a run
is reproducible, but it is not the flowgraph's noise sample for sample (GNU Radio's noise
source has its own generator); the two engines agree statistically, which
``qa_fastlink`` tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import registry
from .. import softvalues as sv
from .bp import DEFAULT_MAX_ITER, decode
from .crc import CRC_BYTES, crc32_bytes
from .ldpc import LdpcCode, load_code

__all__ = ["LinkRun", "transmit", "transmit_mixed", "CHANNELS", "modulate", "soft_components",
           "frame_geometry", "symbols_per_packet"]

CHANNELS = registry.keys(registry.CHANNELS)

# Packets are processed in chunks of about this many code bits, so that a sweep point of
# any size runs in bounded memory (float32 LLRs: 4 bytes per bit).
_CHUNK_BITS = 1 << 21


@dataclass
class LinkRun:
    """What came out of one run of the link, through either engine (``transmit`` here,
    ``app.link.run_packets`` through GNU Radio; ``codewords``/``iterations`` are 0 there).

    Attributes:
        received: ``(data, crc_ok)`` per packet, in order: ``data`` the decoded payload
            (bytes, the length sent), ``crc_ok`` whether its CRC-32 matched.
        sent: packets sent.
        symbols: channel symbols sent.
        wall_s: seconds the run took.
        bit_errors / bits_compared: payload bit errors of the packets that came out.
        crc_failures: packets whose CRC failed.
        codewords: LDPC codewords decoded.
        iterations: decoder iterations summed over the codewords.
    """

    received: list = field(default_factory=list)
    sent: int = 0
    symbols: int = 0
    wall_s: float = 0.0
    bit_errors: int | None = None
    bits_compared: int | None = None
    crc_failures: int = 0
    codewords: int = 0
    iterations: int = 0

    @property
    def lost(self) -> int:
        return self.sent - len(self.received)


def frame_geometry(nbits: int, k: int) -> tuple:
    """``(codewords, pad_bits)`` for ``nbits`` information bits and ``k`` per codeword."""
    if nbits <= 0:
        raise ValueError(f"nbits must be positive, got {nbits}")
    m = -(-int(nbits) // int(k))
    return m, m * int(k) - int(nbits)


def symbols_per_packet(nbytes: int, code: LdpcCode, modulation: str) -> int:
    """Channel symbols used by a payload of ``nbytes`` bytes (CRC included, shortened)."""
    bps = sv.bits_per_symbol(modulation)
    m, pad = frame_geometry(8 * (int(nbytes) + CRC_BYTES), code.k)
    return (m * code.n - (pad - pad % bps)) // bps


def modulate(bits: np.ndarray, modulation: str) -> np.ndarray:
    """Unit-energy symbols of code bits.

    Args:
        bits: 0/1 array ``(nbits,)``; for QPSK ``nbits`` is even.
        modulation: ``'bpsk'`` (0 -> -1, 1 -> +1) or ``'qpsk'`` (Gray: bit pairs ``(b0,
            b1)`` -> ``((2 b0 - 1) + 1j (2 b1 - 1)) / sqrt 2``, i.e. GNU Radio's
            ``[(-1-1j), (1-1j), (-1+1j), (1+1j)] / sqrt 2`` at index ``b0 + 2 b1``).

    Returns:
        complex64 ``(nbits / bits_per_symbol,)``.
    """
    x = 2.0 * np.asarray(bits, dtype=np.float32) - 1.0
    if sv.check_modulation(modulation) == "bpsk":
        return x.astype(np.complex64)
    if x.size % 2:
        raise ValueError(f"QPSK needs an even number of bits, got {x.size}")
    a = sv.component_amplitude("qpsk")
    return (a * (x[0::2] + 1j * x[1::2])).astype(np.complex64)


def soft_components(z: np.ndarray, modulation: str) -> np.ndarray:
    """Soft components of de-rotated symbols ``z = y conj(h)``: ``Re z`` (BPSK) or the
    interleaved ``(Re z, Im z)`` pairs (QPSK); float32 ``(nbits,)``."""
    if sv.check_modulation(modulation) == "bpsk":
        return np.ascontiguousarray(z.real, dtype=np.float32)
    out = np.empty(2 * z.size, dtype=np.float32)
    out[0::2] = z.real
    out[1::2] = z.imag
    return out


def _check_taps(taps) -> np.ndarray:
    t = np.atleast_1d(np.asarray(taps, dtype=np.complex128))
    if t.ndim != 1 or t.size == 0 or t[0] == 0:
        raise ValueError("taps must be a non-empty list whose first tap (the direct path the "
                         f"receiver locks to) is non-zero, got {taps!r}")
    return t


def _seed_sequence(seed) -> np.random.SeedSequence:
    if seed is None or (isinstance(seed, (int, np.integer)) and seed < 0):
        return np.random.SeedSequence()
    return np.random.SeedSequence(int(seed) & 0x7FFFFFFF)


def transmit(packets, *, snr_db: float, channel: str = "awgn", modulation: str = "bpsk",
             code_alist=None, code: LdpcCode | None = None, taps=(1.0,), seed: int | None = 0,
             mtu: int | None = None, max_iter: int = DEFAULT_MAX_ITER,
             decoder: str = "numba", device: str = "cpu", progress=None) -> LinkRun:
    """Send ``packets`` through the symbol-level link; see the module docstring.

    Args:
        packets: list of non-empty ``bytes`` payloads.
        snr_db: Es/N0 in dB per channel symbol (average for ``'rayleigh'``).
        channel: ``'awgn'``, ``'rayleigh'`` or ``'multipath'``.
        modulation: ``'bpsk'`` or ``'qpsk'``.
        code_alist: path of the LDPC code's alist file (``phy.fec.alist_path(key)``), or
            give ``code`` (an :class:`LdpcCode`) instead.
        taps: multipath taps (complex), used when ``channel == 'multipath'``; used as
            given (normalise them for ``snr_db`` to be the received Es/N0).
        seed: seed of noise and fading (``None``: fresh entropy).
        mtu: largest payload in bytes (``None``: no limit).
        max_iter: decoder iterations at most per codeword.
        decoder: ``'numba'`` (CPU) or ``'torch'``; ``device``: torch device (``'cuda'``).
        progress: optional callable ``progress(packets_done)``.

    Returns:
        :class:`LinkRun`.
    """
    t0 = time.perf_counter()
    if code is None:
        if code_alist is None:
            raise ValueError("give the LDPC code: code_alist (path of an alist file, e.g. "
                             "phy.fec.alist_path('n1800_r05')) or code (an LdpcCode)")
        code = load_code(code_alist)
    registry.check(registry.CHANNELS, channel, "channel")
    bps = sv.bits_per_symbol(modulation)
    taps_arr = _check_taps(taps) if channel == "multipath" else np.ones(1, np.complex128)
    packets = [bytes(p) for p in packets]
    if not packets:
        raise ValueError("no packets to send")
    for i, p in enumerate(packets):
        if not p:
            raise ValueError(f"packet {i} is empty; every payload needs at least one byte")
        if mtu is not None and len(p) > int(mtu):
            raise ValueError(f"packet {i} has {len(p)} bytes, over the mtu of {mtu}; raise "
                             "mtu or split the packet")
    rng_noise, rng_fading = (np.random.default_rng(s) for s in _seed_sequence(seed).spawn(2))
    isi = float(np.sum(np.abs(taps_arr[1:]) ** 2))
    scale = sv.llr_scale(snr_db, modulation, isi)
    noise_std = np.sqrt(10.0 ** (-float(snr_db) / 10.0) / 2.0)     # per real dimension
    h_ref = complex(taps_arr[0])

    run = LinkRun(sent=len(packets))
    fir_tail = np.zeros(taps_arr.size - 1, dtype=np.complex128)    # FIR state across chunks
    errors = compared = 0
    start = 0
    while start < len(packets):
        # one chunk of packets, about _CHUNK_BITS code bits
        stop, bits_in_chunk = start, 0
        while stop < len(packets) and (stop == start or bits_in_chunk < _CHUNK_BITS):
            m, _ = frame_geometry(8 * (len(packets[stop]) + CRC_BYTES), code.k)
            bits_in_chunk += m * code.n
            stop += 1
        chunk = packets[start:stop]

        # --- TX: CRC, padding, encoding, shortening
        geo = [frame_geometry(8 * (len(p) + CRC_BYTES), code.k) for p in chunk]
        info = np.zeros((sum(m for m, _ in geo), code.k), dtype=np.uint8)
        row = 0
        for p, (m, _) in zip(chunk, geo):
            framed = np.frombuffer(p + crc32_bytes(p), dtype=np.uint8)
            info[row:row + m].reshape(-1)[:8 * framed.size] = np.unpackbits(framed)
            row += m
        cw = code.encode(info)
        sent_bits = []
        row = 0
        for m, pad in geo:
            drop = pad - pad % bps
            sent_bits.append(cw[row:row + m].reshape(-1)[:m * code.n - drop])
            row += m
        lengths = np.array([b.size // bps for b in sent_bits])
        x = modulate(np.concatenate(sent_bits), modulation).astype(np.complex128)
        run.symbols += int(lengths.sum())

        # --- channel
        gains = np.ones(len(chunk), dtype=np.complex128)
        if channel == "rayleigh":
            gains = (rng_fading.standard_normal(len(chunk))
                     + 1j * rng_fading.standard_normal(len(chunk))) / np.sqrt(2.0)
        per_symbol_gain = np.repeat(gains, lengths)
        x = x * per_symbol_gain
        if taps_arr.size > 1:
            ext = np.concatenate([fir_tail, x])
            fir_tail = ext[ext.size - (taps_arr.size - 1):].copy()
            x = np.convolve(ext, taps_arr, mode="valid")
        elif channel == "multipath":
            x = x * taps_arr[0]
        y = x + noise_std * (rng_noise.standard_normal(x.size)
                             + 1j * rng_noise.standard_normal(x.size))

        # --- RX: de-rotation, LLRs, un-shortening, decoding, CRC
        z = y * np.conj(per_symbol_gain * h_ref)
        llr_stream = sv.llrs(soft_components(z, modulation), scale)
        frames = np.empty((info.shape[0], code.n), dtype=np.float32)
        pos = row = 0
        for (m, pad), nsym in zip(geo, lengths):
            nbits = int(nsym) * bps
            flat = frames[row:row + m].reshape(-1)
            flat[:nbits] = llr_stream[pos:pos + nbits]
            flat[nbits:] = -sv.LLR_CLIP                           # known zeros
            pos += nbits
            row += m
        res = decode(code, frames, max_iter=max_iter, backend=decoder, device=device)
        run.codewords += frames.shape[0]
        run.iterations += int(res.iterations.sum())
        dec_info = res.info_bits(code)
        row = 0
        for p, (m, _) in zip(chunk, geo):
            nb = 8 * (len(p) + CRC_BYTES)
            raw = np.packbits(dec_info[row:row + m].reshape(-1)[:nb])
            row += m
            payload = raw[:-CRC_BYTES].tobytes()
            ok = crc32_bytes(payload) == raw[-CRC_BYTES:].tobytes()
            run.received.append((payload, ok))
            run.crc_failures += not ok
            errors += int(np.unpackbits(np.frombuffer(p, np.uint8)
                                        ^ raw[:-CRC_BYTES]).sum())
            compared += 8 * len(p)
        start = stop
        if progress is not None:
            progress(start)
    run.bit_errors, run.bits_compared = errors, compared
    run.wall_s = time.perf_counter() - t0
    return run


def transmit_mixed(packets, codes, **kwargs) -> LinkRun:
    """:func:`transmit` with a code per packet (unequal error protection, ``core.uep``).

    Args:
        packets: list of non-empty ``bytes`` payloads.
        codes: one :class:`LdpcCode` per packet.
        kwargs: the other arguments of :func:`transmit` (``snr_db``, ``channel``,
            ``seed``, ...; not ``code``/``code_alist``).

    The packets of each code go through :func:`transmit` together, each group with its own
    seed spawned from ``seed``; the received packets come back in the original order and
    the counters are summed. Noise and fading are independent per packet either way; only
    the multipath channel's tail, which runs from one packet into the next, runs within a
    group instead of across the whole stream. With a single code this is :func:`transmit`.
    """
    packets = list(packets)
    codes = list(codes)
    if len(codes) != len(packets):
        raise ValueError(f"give one code per packet: {len(packets)} packets, {len(codes)} codes")
    if not packets:
        raise ValueError("no packets to send")
    for bad in ("code", "code_alist"):
        if bad in kwargs:
            raise ValueError(f"transmit_mixed takes one code per packet in codes, not {bad}")
    groups: dict = {}
    for i, c in enumerate(codes):
        groups.setdefault(id(c), (c, []))[1].append(i)
    if len(groups) == 1:
        return transmit(packets, code=codes[0], **kwargs)
    t0 = time.perf_counter()
    seed = kwargs.pop("seed", 0)
    progress = kwargs.pop("progress", None)
    base = _seed_sequence(seed)
    out = LinkRun(sent=len(packets))
    received = [None] * len(packets)
    done = 0
    errors = compared = 0
    for (code, idx), child in zip(groups.values(), base.spawn(len(groups))):
        sub_seed = int(child.generate_state(1)[0] & 0x7FFFFFFF)
        run = transmit([packets[i] for i in idx], code=code, seed=sub_seed, **kwargs)
        for i, item in zip(idx, run.received):
            received[i] = item
        out.symbols += run.symbols
        out.crc_failures += run.crc_failures
        out.codewords += run.codewords
        out.iterations += run.iterations
        errors += run.bit_errors or 0
        compared += run.bits_compared or 0
        done += len(idx)
        if progress is not None:
            progress(done)
    out.received = received
    out.bit_errors, out.bits_compared = errors, compared
    out.wall_s = time.perf_counter() - t0
    return out
