# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom table``: the docs' Markdown tables, cell by cell from the committed result files."""

import json
from pathlib import Path

import pytest

from gnuradio.semcom.app import cli
from gnuradio.semcom.app.tables import table

RESULTS = Path(__file__).resolve().parents[1] / "results" / "mnist" / "gnuradio-2000"
FIG5 = RESULTS / "fig5_awgn.json"
FIG4 = RESULTS / "fig4_awgn_cr.json"


def _rows(text):
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()]


def test_ratio_table_holds_every_point_of_the_file():
    points = json.loads(FIG5.read_text())["points"]
    rows = _rows(table([FIG5], "ratio"))
    snrs = sorted({p["snr_db"] for p in points})
    assert len(rows) == 2 + len(snrs)
    assert rows[0][0] == "Es/N0 (dB)" and "Direct transmission" in rows[0]
    for p in points:
        row = rows[2 + snrs.index(p["snr_db"])]
        col = next(i for i, h in enumerate(rows[0]) if h.startswith(
            {"aesc-verified": "AESC-I (verified", "aesc-paper": "AESC-I (paper",
             "jpeg-header-known": "JPEG (header", "jpeg-full-file": "JPEG (full",
             "direct": "Direct"}[p["scheme"]]))
        value, (lo, hi) = p["recognition_rate_ratio"]["value"], p["recognition_rate_ratio"]["ci"]
        assert row[col] == f"{value:.3f} [{lo:.3f}, {hi:.3f}]", p["key"]


def test_lost_cells_add_up_to_the_point_counts():
    points = {p["key"]: p for p in json.loads(FIG5.read_text())["points"]}
    rows = _rows(table([FIG5], "lost"))
    cells = [c for row in rows[2:] for c in row[1:]]
    assert len(cells) == len(points)
    for c in cells:
        lost, failed = (int(v) for v in c.split(" + "))
        assert 0 <= lost + failed <= next(iter(points.values()))["images"]


def test_by_cr_keeps_the_snrs_every_ratio_has():
    rows = _rows(table([FIG5, FIG4], "all", by="cr"))
    assert rows[0][2:] == ["Cr 4", "Cr 8", "Cr 20"]
    snrs = {float(r[0]) for r in rows[2:]}
    fig4_snrs = {p["snr_db"] for p in json.loads(FIG4.read_text())["points"]}
    assert snrs == fig4_snrs & {p["snr_db"] for p in json.loads(FIG5.read_text())["points"]}
    assert all(len(c.split(" / ")) == 4 for r in rows[2:] for c in r[2:])


def test_ambiguous_choices_are_clear_errors(capsys):
    with pytest.raises(ValueError, match="--cr"):
        table([FIG5, FIG4], "ratio")
    with pytest.raises(ValueError, match="unknown table metric"):
        table([FIG5], "bleu")
    assert cli.main(["table", str(FIG5), str(FIG4)]) == 2
    assert "pick one with --cr" in capsys.readouterr().err
    assert cli.main(["table", str(FIG5), str(FIG4), "--cr", "4", "--metric", "psnr-ssim"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 2 + 8       # header; the SNRs of Cr 4's points and direct's
