# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom plot``: the paper's Section IV-A figures, drawn from sweep result files only.

* ``fig4``  — SSIM, PSNR, recognition-rate ratio and LPIPS vs compression ratio at each
  SNR (AWGN), AESC-I against header-known JPEG.
* ``fig5`` / ``fig6`` — LPIPS and recognition-rate ratio vs SNR at Cr = 20, AWGN / slow
  Rayleigh fading, every scheme, direct transmission as the bound (95 % intervals).
* ``fig7`` / ``fig8`` — received images across SNR, AESC-I against JPEG, AWGN / fading.
* ``waterfall`` — the link's own bit and packet error rates vs Es/N0 (every point's
  link counters).
* ``fig5_waveforms`` — Fig. 5's curves through the full burst waveform beside the
  symbol-level ones (:mod:`.plot_waveforms`).

Points from several files are merged by their key (channel, SNR, Cr, scheme); where a
symbol-level file and a full-waveform file (config ``waveform``) hold the same key, the
paper's figures draw the symbol-level point. A figure whose data is absent is skipped
with a message. Where LPIPS is unavailable the panel
says so and why.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..core import registry
from ..core.models import DATASET_SHAPES
from ..core.results import decode_example, load_results
from .plot_waveforms import fig5_waveforms

log = logging.getLogger(__name__)

__all__ = ["plot_results", "FIGURES", "merge_points"]

FIGURES = ("fig4", "fig5", "fig6", "fig7", "fig8", "waterfall", "fig5_waveforms")
# Colour and marker per scheme; the legend says the registry's label.
_MARKS = {
    "aesc-verified": dict(color="C0", marker="o"),
    "aesc-paper": dict(color="C2", marker="s"),
    "jpeg-header-known": dict(color="C1", marker="^"),
    "jpeg-full-file": dict(color="C3", marker="v"),
    "direct": dict(color="k", marker="x", linestyle="--"),
}
_STYLE = {e.key: dict(_MARKS[e.key], label=e.label) for e in registry.SCHEMES}
_METRICS = {
    "ssim": "SSIM", "psnr_db": "PSNR (dB)", "recognition_rate_ratio": "Recognition-rate ratio",
    "lpips": "LPIPS",
}


def merge_points(paths) -> tuple[list, dict]:
    """All points of ``paths`` (later files win on equal keys) and the shape/LPIPS notes."""
    points, info = {}, {"lpips_reason": None, "shape": None, "originals": {}}
    waveform_of = {}
    for path in paths:
        res = load_results(path)
        waveform = res["config"].get("waveform", "symbol")
        info["originals"].update(res.get("example_originals", {}))
        ds = res["config"].get("dataset", "mnist")
        info["shape"] = DATASET_SHAPES[ds]
        if not res["lpips"].get("available"):
            info["lpips_reason"] = res["lpips"].get("reason")
        for p in res["points"]:
            if waveform_of.get(p["key"], waveform) != waveform:
                # the same operating point through both links: the paper's figures are the
                # symbol-level link's (fig5_waveforms draws both)
                if waveform != "symbol":
                    continue
            elif p["key"] in points:
                log.warning("%s: point %s is also in an earlier file; this one is drawn",
                            path, p["key"])
            points[p["key"]] = p
            waveform_of[p["key"]] = waveform
    return list(points.values()), info


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _value(p, metric):
    v = p.get(metric)
    if isinstance(v, dict):
        return v["value"], v["ci"]
    return None, None


def _series(points, x_key, metric):
    pts = sorted(points, key=lambda p: p[x_key])
    xs, ys, lo, hi = [], [], [], []
    for p in pts:
        v, ci = _value(p, metric)
        if v is None:
            continue
        xs.append(p[x_key])
        ys.append(v)
        lo.append(v - ci[0])
        hi.append(ci[1] - v)
    return np.array(xs), np.array(ys), np.array([lo, hi])


def _unavailable(ax, reason):
    ax.text(0.5, 0.5, "LPIPS unavailable:\n" + _wrap(reason or "no LPIPS values"), ha="center",
            va="center", fontsize=7, transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _wrap(text, width=48):
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width))


def _metric_panel(ax, groups, x_key, metric, reason, xlabel):
    drawn = False
    for label, pts, style in groups:
        xs, ys, err = _series(pts, x_key, metric)
        if len(xs):
            ax.errorbar(xs, ys, yerr=err, capsize=2, ms=4, label=label,
                        **{k: v for k, v in style.items() if k != "label"})
            drawn = True
    if not drawn and metric == "lpips":
        _unavailable(ax, reason)
        return
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_METRICS[metric])
    ax.grid(alpha=0.3)


def _fig_vs_snr(points, info, channel, out, name, title):
    sel = [p for p in points
           if p["channel"] == channel and (p["cr"] == 20 or p["scheme"] == "direct")]
    if not sel:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    groups = [(_STYLE[s]["label"], [p for p in sel if p["scheme"] == s], _STYLE[s])
              for s in _STYLE if any(p["scheme"] == s for p in sel)]
    xlabel = "Es/N0 (dB)" if channel == "awgn" else "average Es/N0 (dB)"
    _metric_panel(axes[0], groups, "snr_db", "lpips", info["lpips_reason"], xlabel)
    axes[0].set_title("(a) LPIPS")
    _metric_panel(axes[1], groups, "snr_db", "recognition_rate_ratio", None, xlabel)
    axes[1].set_title("(b) Recognition-rate ratio")
    axes[1].legend(fontsize=7, loc="lower right")
    n = sel[0]["images"]
    fig.suptitle(f"{title} ({n} test images per point)")
    return _save(plt, fig, Path(out) / f"{name}.png")


def _fig4(points, info, out):
    sel = [p for p in points if p["channel"] == "awgn"
           and p["scheme"] in ("aesc-verified", "jpeg-header-known", "aesc-paper")]
    snrs = sorted({p["snr_db"] for p in sel
                   if len({q["cr"] for q in sel if q["snr_db"] == p["snr_db"]}) >= 2})
    if not snrs:
        return None
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    cmap = plt.get_cmap("viridis")
    groups = []
    for i, snr in enumerate(snrs):
        color = cmap(i / max(1, len(snrs) - 1))
        for scheme, ls, marker in (("aesc-verified", "-", "o"), ("aesc-paper", ":", "s"),
                                   ("jpeg-header-known", "--", "^")):
            pts = [p for p in sel if p["snr_db"] == snr and p["scheme"] == scheme]
            if pts:
                short = {"aesc-verified": "AESC-I", "aesc-paper": "AESC-I paper",
                         "jpeg-header-known": "JPEG"}[scheme]
                groups.append((f"{short}, {snr:g} dB", pts,
                               dict(color=color, linestyle=ls, marker=marker)))
    for ax, metric, title in zip(axes.flat, ("ssim", "psnr_db", "recognition_rate_ratio", "lpips"),
                                 ("(a) SSIM", "(b) PSNR", "(c) Recognition-rate ratio",
                                  "(d) LPIPS")):
        _metric_panel(ax, groups, "cr", metric, info["lpips_reason"], "compression ratio Cr")
        ax.set_title(title)
        if metric != "lpips" or ax.lines:
            ax.set_xticks(sorted({p["cr"] for p in sel}))
    axes.flat[2].legend(fontsize=6, ncol=2)
    fig.suptitle("AESC-I vs JPEG over AWGN at several Es/N0 "
                 f"({sel[0]['images']} test images per point)")
    return _save(plt, fig, Path(out) / "fig4.png")


def _pick_example(points, label):
    """Index of the first example image of class ``label``, or ``None``."""
    found = sorted(int(k) for p in points for k, v in p["example_labels"].items() if v == label)
    return found[0] if found else None


def _fig_grid(points, info, channel, out, name, classes, title):
    sel = [p for p in points if p["channel"] == channel and p["cr"] == 20
           and p["scheme"] in ("aesc-verified", "jpeg-header-known")]
    if not sel or info["shape"] is None:
        return None
    snrs = sorted({p["snr_db"] for p in sel})
    plt = _plt()
    rows = []
    for cls in classes:
        idx = _pick_example(sel, cls)
        if idx is None:
            continue
        if str(idx) in info["originals"]:
            rows.append((f"original '{cls}'", "original", idx))
        for scheme, label in (("aesc-verified", "AESC-I"), ("jpeg-header-known", "JPEG")):
            rows.append((f"{label}", scheme, idx))
    if not rows:
        return None
    fig, axes = plt.subplots(len(rows), len(snrs),
                             figsize=(1.1 * len(snrs) + 1.4, 1.2 * len(rows) + 0.9),
                             squeeze=False)
    for r, (label, scheme, idx) in enumerate(rows):
        for c, snr in enumerate(snrs):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if scheme == "original":
                text = info["originals"][str(idx)]
            else:
                p = next((q for q in sel if q["scheme"] == scheme and q["snr_db"] == snr), None)
                text = p["examples"].get(str(idx)) if p is not None else None
            if text is not None:
                img = decode_example(text, info["shape"])
                ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0), cmap="gray",
                          vmin=0, vmax=255)
            if r == 0:
                ax.set_title(f"{snr:g} dB", fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(_wrap(title, 6 + 9 * len(snrs)), fontsize=9)
    return _save(plt, fig, Path(out) / f"{name}.png")


def _positive(values):
    """Zero error rates cannot sit on a log axis: leave them out (NaN) rather than invent a
    floor."""
    v = np.asarray(values, dtype=float)
    return np.where(v > 0, v, np.nan)


def _waterfall(points, info, out):
    sel = [p for p in points if p["link"].get("bits_compared")]
    if not sel:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for channel, ls in (("awgn", "-"), ("rayleigh", "--"), ("multipath", ":")):
        pts = [p for p in sel if p["channel"] == channel]
        if not pts:
            continue
        snrs = sorted({p["snr_db"] for p in pts})
        ber = [sum(p["link"]["bit_errors"] for p in pts if p["snr_db"] == s)
               / sum(p["link"]["bits_compared"] for p in pts if p["snr_db"] == s) for s in snrs]
        axes[0].semilogy(snrs, _positive(ber), "o" + ls, label=channel)
        for scheme in ("aesc-verified", "jpeg-header-known", "direct"):
            # one packet-size family per line: Cr 20 (the figures' ratio) when present
            crs = {p["cr"] for p in pts if p["scheme"] == scheme}
            cr = 20 if 20 in crs else max(crs, default=None)
            sp = sorted((p for p in pts if p["scheme"] == scheme and p["cr"] == cr),
                        key=lambda p: p["snr_db"])
            if sp:
                fer = [p["link"]["fer"] for p in sp]
                axes[1].semilogy([p["snr_db"] for p in sp], _positive(fer),
                                 linestyle=ls, marker=_STYLE[scheme]["marker"],
                                 color=_STYLE[scheme]["color"],
                                 label=f"{channel}, {scheme}"
                                       + ("" if scheme == "direct" else f", Cr {cr}"))
    axes[0].set_title("(a) payload bit error rate after LDPC (all packets)")
    axes[1].set_title("(b) packet error rate (CRC-32 failures)")
    for ax in axes:
        ax.set_xlabel("Es/N0 (dB; average for fading)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("BER (points with no error not drawn)")
    axes[1].set_ylabel("FER (points with no error not drawn)")
    return _save(plt, fig, Path(out) / "waterfall.png")


def plot_results(paths, out, figures=("all",)) -> list[Path]:
    """Draw the requested figures from result files into ``out``; returns the PNG paths."""
    figures = list(FIGURES) if "all" in figures else list(figures)
    bad = [f for f in figures if f not in FIGURES]
    if bad:
        raise ValueError(f"unknown figure(s) {bad}; choose from {', '.join(FIGURES)} or all")
    points, info = merge_points(paths)
    Path(out).mkdir(parents=True, exist_ok=True)
    makers = {
        "fig4": lambda: _fig4(points, info, out),
        "fig5": lambda: _fig_vs_snr(points, info, "awgn", out, "fig5",
                                    "Cr = 20 over AWGN"),
        "fig6": lambda: _fig_vs_snr(points, info, "rayleigh", out, "fig6",
                                    "Cr = 20 over slow Rayleigh fading"),
        "fig7": lambda: _fig_grid(points, info, "awgn", out, "fig7", (0, 2),
                                  "Received images across Es/N0, AWGN, Cr = 20"),
        "fig8": lambda: _fig_grid(points, info, "rayleigh", out, "fig8", (6, 8),
                                  "Received images across average Es/N0, slow fading, Cr = 20"),
        "waterfall": lambda: _waterfall(points, info, out),
        "fig5_waveforms": lambda: fig5_waveforms(paths, out, _STYLE),
    }
    written = []
    for name in figures:
        path = makers[name]()
        if path is None:
            log.warning("%s: the results hold no points for it; skipped", name)
        else:
            written.append(path)
    return written
