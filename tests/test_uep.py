# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unequal error protection without GNU Radio: the packet-code map (core.uep), the fast
engine with a code per packet (core.fastlink.transmit_mixed) and the sweep's setting.

qa_symbol_link checks the same map through the GNU Radio symbol link, qa_engines the two
engines against each other on a UEP point.
"""

import numpy as np
import pytest

from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import results as res
from gnuradio.semcom.core import uep
from gnuradio.semcom.core.fastlink import LdpcCode, symbols_per_packet, transmit, transmit_mixed
from gnuradio.semcom.core.grid import SweepConfig


def gallager_h(n: int, dv: int, dc: int, seed: int = 0) -> np.ndarray:
    """A random regular (dv, dc) parity-check matrix, Gallager's construction."""
    rng = np.random.default_rng(seed)
    rows = n // dc
    band = np.zeros((rows, n), dtype=np.uint8)
    for r in range(rows):
        band[r, r * dc:(r + 1) * dc] = 1
    return np.vstack([band] + [band[:, rng.permutation(n)] for _ in range(dv - 1)])


@pytest.fixture(scope="module")
def codes():
    """A rate-1/2 and a rate-1/4 code (the weak and the strong one)."""
    return (LdpcCode.from_parity_check(gallager_h(240, 3, 6, seed=1), name="r05"),
            LdpcCode.from_parity_check(gallager_h(240, 3, 4, seed=2), name="r025"))


def _packets(n=24, seed=0):
    rng = np.random.default_rng(seed)
    kinds = (pk.MODEL_SEGMENT, pk.CODE, pk.IMAGE_DATA)
    return [pk.pack(kinds[i % 3], b"\x01" * 8, i, 1,
                    rng.integers(0, 256, 10 + 7 * (i % 5), dtype=np.uint8).tobytes())
            for i in range(n)]


# ------------------------------------------------------------------ the packet-code map
def test_parse_packet_codes_forms_and_order():
    want = {"model_segment": "n0500_r025", "code": "n1100_r04"}
    assert uep.parse_packet_codes("code=n1100_r04, model_segment=n0500_r025") == want
    assert list(uep.parse_packet_codes({"code": "n1100_r04", "model_segment": "n0500_r025"})) \
        == ["model_segment", "code"]
    assert uep.parse_packet_codes(None) == uep.parse_packet_codes("") == {}
    assert uep.format_packet_codes(want) == "model_segment=n0500_r025,code=n1100_r04"
    assert uep.parse_packet_codes(uep.format_packet_codes(want)) == want


@pytest.mark.parametrize("spec, words", [
    ("blob=n0500_r025", ["unknown packet kind 'blob'", "model_segment"]),
    ("model_segment=n9_r9", ["unknown LDPC code 'n9_r9'", "n0500_r025"]),
    ("model_segment", ["KIND=CODE"]),
    ("code=n0500_r025,code=n1800_r05", ["given twice"]),
])
def test_parse_packet_codes_names_the_fault(spec, words):
    with pytest.raises(ValueError) as err:
        uep.parse_packet_codes(spec)
    for w in words:
        assert w in str(err.value)


def test_code_follows_the_packet_type_byte():
    pcs = {"model_segment": "n0500_r025"}
    seg, code, img = _packets(3)
    assert uep.packet_kind(seg) == "model_segment" and uep.packet_kind(code) == "code"
    assert uep.code_plan([seg, code, img], "n1800_r05", pcs) == \
        ["n0500_r025", "n1800_r05", "n1800_r05"]
    # a packet of no known kind (or empty) uses the default code
    assert uep.packet_kind(b"\x09abc") is None and uep.packet_kind(b"") is None
    assert uep.code_for(b"\x09abc", "n1800_r05", pcs) == "n1800_r05"


# ------------------------------------------------------------------ fast engine
def test_transmit_mixed_keeps_order_and_counts_each_code(codes):
    weak, strong = codes
    packets = _packets()
    plan = [strong if uep.packet_kind(p) == "model_segment" else weak for p in packets]
    run = transmit_mixed(packets, plan, snr_db=30.0, seed=4)
    assert [d for d, _ in run.received] == packets            # order of the packets sent
    assert all(ok for _, ok in run.received) and run.crc_failures == 0
    assert run.symbols == sum(symbols_per_packet(len(p), c, "bpsk")
                              for p, c in zip(packets, plan))
    assert run.codewords == sum(-(-8 * (len(p) + 4) // c.k) for p, c in zip(packets, plan))


def test_transmit_mixed_with_one_code_is_transmit(codes):
    weak, _ = codes
    packets = _packets(12)
    a = transmit_mixed(packets, [weak] * len(packets), snr_db=0.0, seed=9)
    b = transmit(packets, code=weak, snr_db=0.0, seed=9)
    assert a.received == b.received and a.symbols == b.symbols


def test_strong_code_protects_its_packets(codes):
    """At an Es/N0 where the rate-1/2 code fails the rate-1/4 code gets through."""
    weak, strong = codes
    packets = _packets(60, seed=5)
    plan = [strong if uep.packet_kind(p) == "model_segment" else weak for p in packets]
    run = transmit_mixed(packets, plan, snr_db=-2.5, seed=1)
    ok = {k: [o for p, (_, o) in zip(packets, run.received) if uep.packet_kind(p) == k]
          for k in ("model_segment", "code")}
    assert np.mean(ok["model_segment"]) >= 0.9, ok
    assert np.mean(ok["code"]) <= 0.3, ok


def test_transmit_mixed_refuses_bad_arguments(codes):
    weak, _ = codes
    with pytest.raises(ValueError, match="one code per packet"):
        transmit_mixed(_packets(3), [weak], snr_db=0.0)
    with pytest.raises(ValueError, match="not code"):
        transmit_mixed(_packets(2), [weak, weak], snr_db=0.0, code=weak)


# ------------------------------------------------------------------ the sweep's setting
def test_sweep_config_checks_and_records_packet_codes():
    cfg = SweepConfig(packet_codes="model_segment=n0500_r025").check()
    assert cfg.packet_codes == {"model_segment": "n0500_r025"}
    assert cfg.fixed()["packet_codes"] == {"model_segment": "n0500_r025"}
    # the full burst waveform carries the code in its header
    full = SweepConfig(packet_codes={"code": "n0500_r025"}, engine="gnuradio",
                       waveform="full").check()
    assert full.packet_codes == {"code": "n0500_r025"}
    with pytest.raises(ValueError, match="unknown packet kind"):
        SweepConfig(packet_codes={"codes": "n0500_r025"}).check()


def test_a_results_file_resumes_only_with_its_packet_codes():
    old = SweepConfig().check()
    results = res.new_results("x", "", old.fixed() | old.grid_lists(), {}, {"available": False})
    new = SweepConfig(packet_codes={"model_segment": "n0500_r025"}).check()
    with pytest.raises(res.ResultsError, match="packet_codes"):
        res.resume(results, new.fixed(), SweepConfig.predating_defaults(), new.grid_lists(), "x")
    # a file written before the setting existed counts as "no packet codes"
    del results["config"]["packet_codes"]
    res.resume(results, old.fixed(), SweepConfig.predating_defaults(), old.grid_lists(), "x")


def test_full_waveform_link_carries_codes_per_packet_kind():
    """``app.link.run_packets`` (what ``semcom sweep --waveform full --packet-code`` runs):
    model segments on n0500_r025, codes and image data on n1800_r05, through packet_modem_tx
    -> channel model -> packet_modem_rx at QPSK Es/N0 8 dB: every packet arrives intact,
    and the symbols counted are each packet's burst on its own code."""
    from gnuradio.semcom.app.link import run_packets
    from gnuradio.semcom.phy import waveform as wf
    codes = {"model_segment": "n0500_r025"}
    packets = _packets(9, seed=3)
    run = run_packets(packets, snr_db=8.0, modulation="qpsk", waveform="full",
                      packet_codes=codes, idle_s=3.0, timeout_s=60.0)
    assert sorted(d for d, _ in run.received) == sorted(packets)
    assert all(ok for _, ok in run.received)
    fmt = wf.burst_format("qpsk", 2, 0.35)
    want = 0
    for p in packets:
        n, k = semfec_dims(uep.code_for(p, "n1800_r05", codes))
        want += fmt.burst_symbols(wf.body_symbols(len(p) + wf.CRC_BYTES, n, k, 2))
    pads = run.symbols - want
    assert pads == len(packets) * (pads // len(packets))    # the same padding per burst
    assert 0 <= pads // len(packets) <= 400


def semfec_dims(code):
    from gnuradio.semcom.phy import fec as semfec
    return semfec.code_dims(code)
