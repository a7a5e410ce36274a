# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom plot`` figure ``fig5_waveforms``: Fig. 5's curves through the full burst waveform
beside the symbol-level link's, from result files only.

A results file says in its config which link made it (``waveform``: ``symbol`` or
``full``). The figure draws, for every scheme at Cr 20 over AWGN, the recognition-rate
ratio and the SSIM against Es/N0: solid lines for the symbol-level points, dashed lines
with open markers for the full waveform's. :func:`cliff_shift` gives, per scheme, the
Es/N0 at which the recognition-rate ratio first reaches a level (default: halfway between
its lowest and highest value on the symbol-level curve) on each curve, by linear
interpolation, and the difference (full minus symbol): the implementation loss as the
application sees it. The legend carries that difference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.results import load_results

__all__ = ["WAVEFORMS", "points_by_waveform", "cliff_shift", "fig5_waveforms"]

WAVEFORMS = ("symbol", "full")


def points_by_waveform(paths, channel="awgn", cr=20) -> dict:
    """``{'symbol': [points], 'full': [points]}`` of ``channel`` at ``cr`` (``direct`` at any
    Cr) from ``paths``; later files win on equal keys within one waveform."""
    out = {w: {} for w in WAVEFORMS}
    for path in paths:
        res = load_results(path)
        waveform = res["config"].get("waveform", "symbol")
        if waveform not in out:
            continue
        for p in res["points"]:
            if p["channel"] == channel and (p["cr"] == cr or p["scheme"] == "direct"):
                out[waveform][p["key"]] = p
    return {w: list(pts.values()) for w, pts in out.items()}


def _curve(points, scheme, metric="recognition_rate_ratio"):
    pts = sorted((p for p in points if p["scheme"] == scheme and isinstance(p.get(metric), dict)),
                 key=lambda p: p["snr_db"])
    return (np.array([p["snr_db"] for p in pts], dtype=float),
            np.array([p[metric]["value"] for p in pts], dtype=float))


def _crossing(x, y, level):
    """First Es/N0 where ``y`` reaches ``level`` going up (linear interpolation)."""
    for i in range(1, len(x)):
        if y[i - 1] < level <= y[i]:
            return float(x[i - 1] + (level - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))
    if len(y) and y[0] >= level:
        return None     # already above at the first point: the grid does not show the cliff
    return None


def cliff_shift(symbol_points, full_points, scheme, level=None):
    """``(level, esn0_symbol, esn0_full, shift_db)`` of ``scheme``'s recognition-rate ratio;
    ``level`` defaults to the midpoint of the symbol-level curve's range. Entries are
    ``None`` where a curve does not cross the level inside its grid."""
    xs, ys = _curve(symbol_points, scheme)
    xf, yf = _curve(full_points, scheme)
    if not len(xs) or not len(xf):
        return level, None, None, None
    if level is None:
        level = float((ys.min() + ys.max()) / 2)
    es, ef = _crossing(xs, ys, level), _crossing(xf, yf, level)
    shift = None if es is None or ef is None else ef - es
    return level, es, ef, shift


def fig5_waveforms(paths, out, styles):
    """Draw ``fig5_waveforms.png`` into ``out``; ``None`` when the files lack either
    waveform's Fig. 5 points. ``styles``: per scheme, matplotlib keywords and ``label``."""
    from .plots import _plt, _save

    pts = points_by_waveform(paths)
    if not pts["symbol"] or not pts["full"]:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for scheme, style in styles.items():
        if not any(p["scheme"] == scheme for p in pts["full"]):
            continue
        kw = {k: v for k, v in style.items() if k not in ("label", "linestyle")}
        _, _, _, shift = cliff_shift(pts["symbol"], pts["full"], scheme)
        if shift is not None and abs(shift) < 0.005:
            shift = 0.0
        note = "" if shift is None else f" (cliff {shift:+.2f} dB)"
        for ax, metric in zip(axes, ("recognition_rate_ratio", "ssim")):
            x, y = _curve(pts["symbol"], scheme, metric)
            ax.plot(x, y, linestyle="-", label=f"{style['label']}, symbol-level", **kw)
            x, y = _curve(pts["full"], scheme, metric)
            ax.plot(x, y, linestyle="--", mfc="none",
                    label=f"{style['label']}, full waveform{note}", **kw)
    axes[0].set_ylabel("Recognition-rate ratio")
    axes[1].set_ylabel("SSIM")
    axes[0].set_title("(a) Recognition-rate ratio")
    axes[1].set_title("(b) SSIM")
    for ax in axes:
        ax.set_xlabel("Es/N0 (dB)")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=6, loc="lower right")     # the SSIM panel's lower right is empty
    n_full = min(p["images"] for p in pts["full"])
    fig.suptitle("Cr = 20 over AWGN: symbol-level link (solid) and full burst waveform with "
                 f"synchronisation (dashed; {n_full} test images per point)", fontsize=10)
    return _save(plt, fig, Path(out) / "fig5_waveforms.png")
