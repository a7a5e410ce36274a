# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The batched link engine's parts (core.fastlink, core.softvalues), without GNU Radio.

Codes here are small parity-check matrices made by the tests; qa_fastlink.py checks the
same parts against GNU Radio's own blocks and alist files.
"""

import math

import numpy as np
import pytest

from gnuradio.semcom.core import softvalues as sv
from gnuradio.semcom.core.fastlink import (AlistError, LdpcCode, check_crc, crc32_bytes, decode,
                                           frame_geometry, load_code, modulate, read_alist,
                                           soft_components, symbols_per_packet, transmit)
from gnuradio.semcom.core.fastlink import bp


def gallager_h(n: int, dv: int = 3, dc: int = 6, seed: int = 0) -> np.ndarray:
    """A random regular (dv, dc) parity-check matrix, Gallager's construction."""
    rng = np.random.default_rng(seed)
    rows = n // dc
    band = np.zeros((rows, n), dtype=np.uint8)
    for r in range(rows):
        band[r, r * dc:(r + 1) * dc] = 1
    return np.vstack([band] + [band[:, rng.permutation(n)] for _ in range(dv - 1)])


def write_alist(path, h: np.ndarray, pad_rows_to: int | None = None) -> None:
    """Write ``h`` as an alist file; ``pad_rows_to`` pads the row lists with zeros (as some
    published files do)."""
    m, n = h.shape
    cols = [np.flatnonzero(h[:, j]) + 1 for j in range(n)]
    rows = [np.flatnonzero(h[i]) + 1 for i in range(m)]
    width = pad_rows_to or max(len(r) for r in rows)
    lines = [f"{n} {m}", f"{max(len(c) for c in cols)} {width}",
             " ".join(str(len(c)) for c in cols), " ".join(str(len(r)) for r in rows)]
    lines += [" ".join(map(str, c)) for c in cols]
    lines += [" ".join(map(str, list(r) + [0] * (width - len(r)))) for r in rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def code():
    return LdpcCode.from_parity_check(gallager_h(192, seed=3), name="gallager192")


# ------------------------------------------------------------------ LDPC code and encoder
def test_generator_follows_gnuradio_pivoting_by_hand():
    """H = [[0 1 1 0], [1 1 0 1]]: the first pivot needs a column swap (0 <-> 1), so
    perm = [1 0 2 3], P = [[1 0], [1 1]] and codeword(a, b) = [a+b, a, a, b]."""
    c = LdpcCode.from_parity_check([[0, 1, 1, 0], [1, 1, 0, 1]])
    assert (c.rank, c.k, c.n) == (2, 2, 4)
    np.testing.assert_array_equal(c.perm, [1, 0, 2, 3])
    np.testing.assert_array_equal(c.parity, [[1, 0], [1, 1]])
    np.testing.assert_array_equal(c.encode([[1, 0], [0, 1], [1, 1]]),
                                  [[1, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 1]])
    np.testing.assert_array_equal(c.info_positions, [2, 3])


def test_dependent_row_goes_to_the_bottom():
    """A dependent row (row 1 = row 0 + row 2) reduces the rank; k = n - rank."""
    h = np.array([[1, 1, 0, 1, 0, 0], [1, 0, 1, 1, 1, 0], [0, 1, 1, 0, 1, 0],
                  [0, 0, 0, 1, 1, 1]], dtype=np.uint8)
    c = LdpcCode.from_parity_check(h)
    assert c.rank == 3 and c.k == 3
    words = c.encode(np.array([[int(b) for b in f"{i:03b}"] for i in range(8)]))
    assert not c.syndrome(words).any()
    assert len({w.tobytes() for w in words}) == 8


def test_encoder_is_systematic_and_linear(code):
    rng = np.random.default_rng(0)
    info = rng.integers(0, 2, (20, code.k), dtype=np.uint8)
    cw = code.encode(info)
    assert cw.shape == (20, code.n) and cw.dtype == np.uint8
    assert not code.syndrome(cw).any()
    np.testing.assert_array_equal(code.systematic_bits(cw), info)
    np.testing.assert_array_equal(code.encode(info[0] ^ info[1]), cw[0] ^ cw[1])
    with pytest.raises(ValueError, match=f"{code.k} bits"):
        code.encode(info[:, :-1])


def test_alist_round_trip_with_zero_padding(tmp_path, code):
    path = tmp_path / "g.alist"
    write_alist(path, code.h, pad_rows_to=8)
    np.testing.assert_array_equal(read_alist(path), code.h)
    loaded = load_code(path)
    np.testing.assert_array_equal(loaded.perm, code.perm)
    assert load_code(path) is loaded                    # cached per file version


def test_alist_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "short.alist"
    path.write_text("8 4\n3 6\n")
    with pytest.raises(AlistError, match="short.alist.*truncated"):
        read_alist(path)
    with pytest.raises(AlistError, match="not found"):
        load_code(tmp_path / "missing.alist")
    with pytest.raises(ValueError, match="every row and column"):
        LdpcCode.from_parity_check([[1, 1, 0], [1, 1, 0]])


# ------------------------------------------------------------------ CRC, mapping, soft values
def test_crc32_is_the_reflected_crc_lsb_first():
    # The CRC-32 check value of "123456789" is 0xCBF43926.
    assert crc32_bytes(b"123456789") == bytes([0x26, 0x39, 0xF4, 0xCB])
    frame = b"hello" + crc32_bytes(b"hello")
    assert check_crc(frame)
    assert not check_crc(b"jello" + frame[5:])
    assert not check_crc(b"abc")


def test_constellations_match_gnuradio_tables():
    bits = np.array([0, 1])
    np.testing.assert_allclose(modulate(bits, "bpsk"), [-1, 1])
    # GNU Radio QPSK table, index b0 + 2 b1 (repack_bits_bb LSB first)
    table = np.array([-1 - 1j, 1 - 1j, -1 + 1j, 1 + 1j]) / math.sqrt(2)
    pairs = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    np.testing.assert_allclose(modulate(pairs.ravel(), "qpsk"),
                               table[pairs[:, 0] + 2 * pairs[:, 1]], atol=1e-7)
    np.testing.assert_allclose(soft_components(modulate(pairs.ravel(), "qpsk"), "qpsk"),
                               (2 * pairs.ravel() - 1) / math.sqrt(2), atol=1e-7)
    with pytest.raises(ValueError, match="unknown modulation .8psk.; choose one of bpsk, qpsk"):
        modulate(bits, "8psk")


def test_soft_values_and_snr_bookkeeping():
    assert sv.llr_scale(0.0, "bpsk", trust=1.0) == pytest.approx(4.0)
    assert sv.llr_scale(10.0, "qpsk", trust=1.0) == pytest.approx(40 / math.sqrt(2))
    assert sv.llr_scale(0.0, "bpsk") == pytest.approx(4.0 * sv.LLR_TRUST)
    assert sv.llr_scale(0.0, "bpsk", interference=1.0, trust=1.0) == pytest.approx(2.0)
    out = sv.llrs(np.array([-100.0, 0.5, 100.0]), 2.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [-sv.LLR_CLIP, 1.0, sv.LLR_CLIP])
    r = 902 / 1800
    assert sv.esn0_from_ebn0(3.0, "qpsk", r) == pytest.approx(3.0 + 10 * math.log10(2 * r))
    assert sv.ebn0_from_esn0(sv.esn0_from_ebn0(1.5, "bpsk", r), "bpsk", r) == pytest.approx(1.5)


# ------------------------------------------------------------------ decoder
def _noisy_llrs(code, ebn0_db, frames, seed):
    rng = np.random.default_rng(seed)
    info = rng.integers(0, 2, (frames, code.k), dtype=np.uint8)
    cw = code.encode(info)
    es = sv.esn0_from_ebn0(ebn0_db, "bpsk", code.rate)
    y = (2.0 * cw - 1.0) + math.sqrt(10 ** (-es / 10) / 2) * rng.standard_normal(cw.shape)
    return info, sv.llrs(y, sv.llr_scale(es, "bpsk"))


def test_phi_table_is_close_to_the_exact_function():
    x = np.linspace(0.01, 20, 4000)
    exact = -np.log(np.tanh(x / 2))
    err = np.abs(bp.phi(x) - exact)
    assert (err / exact)[x < 0.25].max() < 5e-3        # near 0, where phi is steep
    assert err[x >= 0.25].max() < 2e-4


def test_decoder_corrects_errors_and_stops_early(code):
    rng = np.random.default_rng(1)
    info = rng.integers(0, 2, (6, code.k), dtype=np.uint8)
    llr = np.where(code.encode(info) == 1, 4.0, -4.0).astype(np.float32)
    clean = decode(code, llr)
    assert (clean.iterations == 0).all() and clean.converged.all()
    llr[:, ::23] *= -0.3                     # a few wrong, weak values
    for backend in ("numba", "torch"):
        res = decode(code, llr, backend=backend)
        np.testing.assert_array_equal(res.info_bits(code), info, err_msg=backend)
        assert res.converged.all() and (res.iterations >= 1).all()
    assert decode(code, llr, max_iter=0).iterations.max() == 0


@pytest.mark.parametrize("degrees", ["odd", "mixed"])
def test_decoder_sign_rule_for_odd_check_degrees(degrees):
    """Checks of odd degree (the stock n1100_r04, n0700_r04 and n0500_r04 have row weight 5)
    need the sign (-1)^dc of the check rule for LLRs positive for bit 1: without it no
    schedule or back end corrected even one wrong bit. Every decoder here corrects a
    single strong error anywhere, and a few weak ones per frame."""
    h = gallager_h(150, dc=5, seed=4)
    if degrees == "mixed":                      # checks of degree 5 and 6
        h = np.vstack([h[:60], gallager_h(150, dc=6, seed=5)[:50]])
    code = LdpcCode.from_parity_check(h, name=f"{degrees}-degree checks")
    assert set(np.unique(h.sum(axis=1))) == ({5} if degrees == "odd" else {5, 6})
    rng = np.random.default_rng(6)
    info = rng.integers(0, 2, (code.n, code.k), dtype=np.uint8)
    cw = code.encode(info)
    strong = np.where(cw == 1, 6.0, -6.0).astype(np.float32)
    strong[np.arange(code.n), np.arange(code.n)] *= -1         # frame i: bit i wrong
    weak = np.where(cw == 1, 4.0, -4.0).astype(np.float32)
    weak[:, ::29] *= -0.3
    for kw in ({}, {"schedule": "flooding"}, {"backend": "torch"}):
        for what, llr in (("strong", strong), ("weak", weak)):
            res = decode(code, llr, **kw)
            right = (res.bits == cw).all(axis=1)
            # a random small graph has a few bits BP cannot free; the wrong rule freed none
            assert right.mean() >= 0.9, (kw, what, right.mean())
            assert (res.converged | ~right).all()


def test_numba_and_torch_decoders_agree(code):
    """The CPU kernel (phi table) and the torch one (exact tanh rule) on the same flooding
    schedule decide alike: the same frames converge, to the same codewords, after about as
    many iterations."""
    info, llr = _noisy_llrs(code, 2.5, 200, seed=2)
    a = decode(code, llr, backend="numba", schedule="flooding")
    b = decode(code, llr, backend="torch")
    assert 0.05 < 1 - a.converged.mean() < 0.95          # a point on the waterfall
    assert (a.converged == b.converged).mean() >= 0.97
    both = a.converged & b.converged
    np.testing.assert_array_equal(a.bits[both], b.bits[both])
    assert abs(int(a.iterations[both].sum()) - int(b.iterations[both].sum())) \
        <= 0.05 * a.iterations[both].sum()


def test_layered_schedule_corrects_more_in_fewer_iterations(code):
    """The layered schedule (the numba default) on the same frames as the flooding one: no
    frame the flooding decoder gets right is lost, more are corrected, and converging
    frames need far fewer iterations; its stall rule ends hopeless frames early."""
    info, llr = _noisy_llrs(code, 2.5, 200, seed=2)
    flood = decode(code, llr, schedule="flooding")
    full = decode(code, llr, stall=0)                    # layered, every frame up to 50
    lay = decode(code, llr)                              # layered, default stall rule
    ok_f = (flood.info_bits(code) == info).all(1)
    ok_full = (full.info_bits(code) == info).all(1)
    ok_l = (lay.info_bits(code) == info).all(1)
    assert ok_full.sum() > ok_f.sum() and ok_l.sum() >= ok_f.sum()
    assert (ok_full | ~ok_f).mean() >= 0.99           # what flooding corrects, layered does
    both = full.converged & flood.converged
    assert full.iterations[both].mean() < 0.75 * flood.iterations[both].mean()
    # the stall rule: failing frames stop early, converging ones are decided alike
    assert lay.iterations[~lay.converged].mean() < 40
    assert (full.iterations[~full.converged] == 50).all()
    np.testing.assert_array_equal(lay.bits[lay.converged], full.bits[lay.converged])
    # in the calling thread (packet_modem_rx): the same decisions as the thread pool
    ser = decode(code, llr, parallel=False)
    np.testing.assert_array_equal(ser.bits, lay.bits)
    np.testing.assert_array_equal(ser.iterations, lay.iterations)


def test_decoder_arguments_are_checked(code):
    with pytest.raises(ValueError, match=f"shape \\(frames, {code.n}\\)"):
        decode(code, np.zeros((2, code.n + 1)))
    with pytest.raises(ValueError, match="finite"):
        decode(code, np.full((1, code.n), np.inf))
    with pytest.raises(ValueError, match="backend='torch'"):
        decode(code, np.zeros((1, code.n)), device="cuda")
    with pytest.raises(ValueError, match="back end must be one of"):
        decode(code, np.zeros((1, code.n)), backend="cupy")
    with pytest.raises(ValueError, match="schedule must be one of"):
        decode(code, np.zeros((1, code.n)), schedule="zigzag")
    with pytest.raises(ValueError, match="flooding schedule only"):
        decode(code, np.zeros((1, code.n)), backend="torch", schedule="layered")
    with pytest.raises(ValueError, match="layered schedule only"):
        decode(code, np.zeros((1, code.n)), schedule="flooding", stall=5)
    with pytest.raises(ValueError, match="stall must be >= 0"):
        decode(code, np.zeros((1, code.n)), stall=-1)


# ------------------------------------------------------------------ engine
def _packets(count, seed=0, sizes=(1, 13, 20, 40, 57)):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, sizes[i % len(sizes)], dtype=np.uint8).tobytes()
            for i in range(count)]


@pytest.mark.parametrize("channel,modulation", [("awgn", "bpsk"), ("awgn", "qpsk"),
                                                ("rayleigh", "qpsk"), ("multipath", "bpsk")])
def test_high_snr_is_byte_exact(code, channel, modulation):
    pk = _packets(25)
    taps = (1.0, 0.05j) if channel == "multipath" else (1.0,)
    snr = 45.0 if channel == "rayleigh" else 20.0
    run = transmit(pk, snr_db=snr, channel=channel, modulation=modulation, code=code, taps=taps,
                   seed=4)
    assert run.sent == 25 and run.lost == 0 and run.crc_failures == 0
    assert [d for d, _ in run.received] == pk
    assert run.bit_errors == 0 and run.bits_compared == 8 * sum(map(len, pk))
    assert run.symbols == sum(symbols_per_packet(len(p), code, modulation) for p in pk)


def test_shortening_and_geometry(code):
    nbits = 8 * (13 + 4)                         # 13 bytes + CRC
    m = -(-nbits // code.k)
    pad = m * code.k - nbits
    assert frame_geometry(nbits, code.k) == (m, pad)
    assert symbols_per_packet(13, code, "bpsk") == m * code.n - pad
    assert symbols_per_packet(13, code, "qpsk") == (m * code.n - pad + pad % 2) // 2


def test_low_snr_fails_crc_and_counts_errors(code):
    pk = _packets(30, seed=5)
    run = transmit(pk, snr_db=-6.0, code=code, seed=1)
    assert run.lost == 0 and run.crc_failures >= 25
    assert all(len(d) == len(p) for (d, _), p in zip(run.received, pk))
    assert run.bit_errors > 0.1 * run.bits_compared
    assert run.iterations >= 25 * 40


def test_seed_makes_runs_reproducible(code):
    pk = _packets(30, seed=6)
    es = sv.esn0_from_ebn0(2.0, "bpsk", code.rate)
    a = transmit(pk, snr_db=es, code=code, seed=7)
    b = transmit(pk, snr_db=es, code=code, seed=7)
    c = transmit(pk, snr_db=es, code=code, seed=8)
    assert a.received == b.received and a.iterations == b.iterations
    assert a.iterations != c.iterations


def test_engine_checks_its_arguments(code):
    with pytest.raises(ValueError, match="packet 1 is empty"):
        transmit([b"a", b""], snr_db=10, code=code)
    with pytest.raises(ValueError, match="over the mtu of 2"):
        transmit([b"abc"], snr_db=10, code=code, mtu=2)
    with pytest.raises(ValueError, match="unknown channel"):
        transmit([b"a"], snr_db=10, code=code, channel="rician")
    with pytest.raises(ValueError, match="code_alist"):
        transmit([b"a"], snr_db=10)
    with pytest.raises(ValueError, match="first tap"):
        transmit([b"a"], snr_db=10, code=code, channel="multipath", taps=(0.0, 1.0))
