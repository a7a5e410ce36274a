# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fig. 5 through both links: the comparison figure, the cliff shift, and which point the
paper's figures draw when both links' files hold it."""

import copy
import json
from pathlib import Path

import pytest

from gnuradio.semcom.app import cli
from gnuradio.semcom.app.plot_waveforms import cliff_shift, points_by_waveform
from gnuradio.semcom.app.plots import merge_points

FIG5 = Path(__file__).resolve().parents[1] / "results" / "mnist" / "fig5_awgn.json"


def _shifted_copy(tmp_path, shift_db):
    """The committed symbol-level Fig. 5 results as if made by the full waveform, every
    point ``shift_db`` further right."""
    res = json.loads(FIG5.read_text())
    full = copy.deepcopy(res)
    full["config"]["waveform"] = "full"
    for p in full["points"]:
        p["snr_db"] = p["snr_db"] + shift_db
        p["key"] = f"{p['channel']}|snr={p['snr_db']:g}|cr={p['cr']}|{p['scheme']}"
    path = tmp_path / "fig5_full.json"
    path.write_text(json.dumps(full))
    return path


def test_cliff_shift_of_a_shifted_curve(tmp_path):
    pts = points_by_waveform([FIG5, _shifted_copy(tmp_path, 0.5)])
    assert len(pts["symbol"]) == len(pts["full"]) == 40
    for scheme in ("aesc-verified", "aesc-paper", "jpeg-header-known", "jpeg-full-file"):
        level, es, ef, shift = cliff_shift(pts["symbol"], pts["full"], scheme)
        assert 0.1 < level < 1.0
        assert shift == pytest.approx(0.5, abs=1e-9), scheme


def test_figure_and_symbol_level_points_win(tmp_path):
    full = _shifted_copy(tmp_path, 1.0)     # -4 + 1 = -3 etc.: keys shared with FIG5
    points, _ = merge_points([FIG5, full])
    sym = {p["key"]: p for p in json.loads(FIG5.read_text())["points"]}
    for p in points:
        if p["key"] in sym:
            assert p is not None and p["link"] == sym[p["key"]]["link"], p["key"]
    # the full file's points at Es/N0 not in the symbol-level grid are still drawn
    assert any(p["snr_db"] == 3.0 for p in points)
    out = tmp_path / "figures"
    assert cli.main(["plot", str(FIG5), str(full), "--out", str(out),
                     "--figures", "fig5_waveforms"]) == 0
    assert (out / "fig5_waveforms.png").stat().st_size > 10000
