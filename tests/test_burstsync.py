# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The data-aided burst receiver (core.burstsync) on bursts made in NumPy: no GNU Radio."""

import numpy as np
import pytest

from gnuradio.semcom.core.burstsync import BurstFormat, BurstReceiver, rrc_pulse

SPS, SPAN, HDR_BITS, REPEAT = 2, 12, 8, 4


def _format(modulation="bpsk"):
    rng = np.random.default_rng(0)
    a = np.exp(0.25j * np.pi) if modulation == "qpsk" else 1.0 + 0j
    pre = np.where(rng.integers(0, 2, 256) > 0, a, -a)
    pil = np.where(rng.integers(0, 2, 32) > 0, a, -a)
    return BurstFormat(sps=SPS, rolloff=0.35, span=SPAN, preamble=pre, pilot=pil,
                       pilot_spacing=HDR_BITS * REPEAT, header_symbols=HDR_BITS * REPEAT,
                       header_axis=a, modulation=modulation)


def _shape(symbols, clock=1.0):
    """RRC pulses evaluated at the receiver's sample times ``n * clock`` (an exact
    sample-clock offset), unit power per sample for unit-energy symbols."""
    t = np.arange(0, (len(symbols) + SPAN) * SPS, clock) / SPS - SPAN / 2
    k = np.floor(t)[:, None] + np.arange(-SPAN // 2, SPAN // 2 + 2)[None, :]
    valid = (k >= 0) & (k < len(symbols))
    g = rrc_pulse(t[:, None] - k, 0.35) * valid
    taps = rrc_pulse(np.arange(-SPAN * SPS // 2, SPAN * SPS // 2 + 1) / SPS, 0.35)
    return (g * symbols[np.clip(k, 0, len(symbols) - 1).astype(int)]).sum(axis=1) / \
        np.sqrt(np.sum(taps ** 2) / SPS)


def _burst(fmt, header_value, payload_bits):
    hdr = np.array([(header_value >> (HDR_BITS - 1 - i)) & 1 for i in range(HDR_BITS)])
    hdr_syms = np.where(np.tile(hdr, REPEAT) > 0, fmt.header_axis, -fmt.header_axis)
    body = np.concatenate([hdr_syms, np.where(payload_bits > 0, 1.0, -1.0)])
    return fmt.assemble(body)


def _parse(bits):
    value = int(np.dot(bits, 1 << np.arange(HDR_BITS - 1, -1, -1)))
    return (value, HDR_BITS * REPEAT + 4 * value) if value > 0 else None


def test_assemble_puts_a_pilot_after_every_chunk():
    fmt = _format()
    body = np.arange(1, 100) * (1 + 0j)
    out = fmt.assemble(body)
    idx, pilots = fmt.body_positions(len(body))
    assert np.array_equal(out[idx], body)
    assert len(pilots) == 4 and pilots[-1] + len(fmt.pilot) == len(out)
    for p in pilots:
        assert np.array_equal(out[p:p + len(fmt.pilot)], fmt.pilot)


@pytest.mark.parametrize("freq, clock, level", [(0.0, 1.0, 1.0), (0.009, 1.0001, 1e-3),
                                                (-0.0095, 0.9999, 30.0)])
def test_bursts_after_noise_come_out_with_the_right_bits(freq, clock, level):
    """Three bursts (carrier offset, sample-clock offset, any level) in noise at Es/N0
    10 dB: each is found once, its header parsed, every payload LLR has the sign of its bit."""
    fmt, rng = _format(), np.random.default_rng(1)
    sent, x = [], [np.zeros(3000, complex)]
    for value in (50, 61, 72):
        bits = rng.integers(0, 2, 4 * value)
        sent.append((value, bits))
        x += [_shape(_burst(fmt, value, bits), clock), np.zeros(2000, complex)]
    x = np.concatenate(x)
    x = x * np.exp(2j * np.pi * freq * np.arange(len(x)))
    n0 = SPS * 10 ** (-10 / 10)
    x = level * (x + np.sqrt(n0 / 2) * (rng.standard_normal(len(x))
                                        + 1j * rng.standard_normal(len(x))))
    rx = BurstReceiver(fmt, _parse, HDR_BITS, equalizer="auto")
    got = []
    for i in range(0, len(x), 4096):
        got += rx.feed(x[i:i + 4096].astype(np.complex64))
    assert [b.header for b in got] == [v for v, _ in sent]
    for b, (_, bits) in zip(got, sent):
        assert np.array_equal(b.llrs > 0, bits > 0)
        assert abs(b.freq_offset - freq) < 2e-4
        assert abs(b.snr_db - 10.0) < 1.5


def test_noise_alone_gives_nothing():
    rx = BurstReceiver(_format(), _parse, HDR_BITS)
    rng = np.random.default_rng(2)
    for _ in range(20):
        out = rx.feed((rng.standard_normal(8192) + 1j * rng.standard_normal(8192))
                      .astype(np.complex64))
        assert out == []
    assert rx.stats["headers"] == 0


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="equalizer"):
        BurstReceiver(_format(), _parse, HDR_BITS, equalizer="maybe")
    with pytest.raises(ValueError, match="threshold"):
        BurstReceiver(_format(), _parse, HDR_BITS, threshold=0)


def test_header_code_field():
    """One code: the 12-bit counter of every earlier recording, unchanged. With codes per
    packet kind: two bits name the code, ten count; a code index that does not fit is
    refused."""
    from gnuradio.semcom.phy.waveform import CODE_BITS, header_bits, parse_header
    bits = header_bits(123, 4000)
    word = int("".join(map(str, bits[:24])), 2)
    assert word == (123 << 12) | 4000
    assert parse_header(bits) == (123, 4000, 0)
    for code in range(4):
        bits = header_bits(77, 1500, code, CODE_BITS)
        assert parse_header(bits, CODE_BITS) == (77, 1500 % 1024, code)
    assert parse_header(header_bits(77, 5, 3, CODE_BITS)) == (77, 3 * 1024 + 5, 0)
    with pytest.raises(ValueError, match="code index"):
        header_bits(77, 5, 4, CODE_BITS)
