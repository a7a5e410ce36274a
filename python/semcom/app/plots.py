# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom plot``: the paper's Section IV figures, drawn from sweep result files only.

MNIST (Section IV-A):

* ``fig4``  — SSIM, PSNR, recognition-rate ratio and LPIPS vs compression ratio at each
  SNR (AWGN), AESC-I against header-known JPEG.
* ``fig5`` / ``fig6`` — LPIPS and recognition-rate ratio vs SNR at Cr = 20, AWGN / slow
  Rayleigh fading, every scheme, direct transmission as the bound (95 % intervals).
* ``fig7`` / ``fig8`` — received images across SNR, AESC-I against JPEG, AWGN / fading.

CIFAR-10 (Section IV-B), the same figures for the colour half:

* ``fig10`` — as ``fig4``, at the paper's ratios 3 / 6 / 12 (zdim 32 / 12 / 8);
* ``fig11`` / ``fig12`` — as ``fig5`` / ``fig6`` at the paper's "Cr 12" (zdim 8);
* ``fig13`` / ``fig14`` — image grids of a horse, a car and a truck (the paper's "bus":
  CIFAR-10 has no bus class), AWGN / fading.

Both:

* ``waterfall`` — the link's own bit and packet error rates vs Es/N0 (every point's
  link counters).
* ``cost`` (not part of ``all``; from a sweep made for it, ``results/*/cost/``) — what
  the decoder really costs: AESC-I's effective compression ratio with its decoder copies
  counted against the number of images sent, and its bits on the air against JPEG's at
  the same recognition-rate ratio (``core.cost``); also writes ``cost.md``, the table.
* ``uep`` (not part of ``all``; from the sweeps of ``results/*/uep/``) —
  unequal error protection: recognition-rate ratio vs SNR, one series per file and
  scheme (:mod:`.plots_uep`; drawn only when a file uses a code per packet kind).
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

from ..core import cost as costs
from ..core import datasets as ds
from ..core import registry
from ..core.models import DATASET_SHAPES
from ..core.results import decode_example, load_results
from .plots_uep import plot_uep
from .plot_waveforms import fig5_waveforms

log = logging.getLogger(__name__)

__all__ = ["plot_results", "FIGURES", "merge_points"]

#: The paper's figures per dataset: (name, kind, channel, Cr, classes of the grid).
PAPER_FIGURES = {
    "mnist": (("fig4", "cr", "awgn", None, None), ("fig5", "snr", "awgn", 20, None),
              ("fig6", "snr", "rayleigh", 20, None), ("fig7", "grid", "awgn", 20, (0, 2)),
              ("fig8", "grid", "rayleigh", 20, (6, 8))),
    "cifar10": (("fig10", "cr", "awgn", None, None), ("fig11", "snr", "awgn", 12, None),
                ("fig12", "snr", "rayleigh", 12, None),
                ("fig13", "grid", "awgn", 12, (7, 1, 9)),
                ("fig14", "grid", "rayleigh", 12, (7, 1, 9))),
}
FIGURES = (*(f[0] for figs in PAPER_FIGURES.values() for f in figs), "waterfall",
           "fig5_waveforms", "cost", "uep")
#: What ``all`` draws: the paper's figures of the files' dataset, the waterfall and
#: fig5_waveforms (``cost`` and ``uep`` need sweeps of their own).
ALL = ("paper", "waterfall", "fig5_waveforms")
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
    points, info = {}, {"lpips_reason": None, "shape": None, "originals": {},
                        "carousel_every": set(), "dataset": None}
    waveform_of = {}
    for path in paths:
        res = load_results(path)
        waveform = res["config"].get("waveform", "symbol")
        info["originals"].update(res.get("example_originals", {}))
        ds = res["config"].get("dataset", "mnist")
        if info["dataset"] not in (None, ds):
            raise ValueError(f"{path}: a {ds} results file among {info['dataset']} ones; "
                             "plot each dataset's files apart")
        info["dataset"] = ds
        info["shape"] = DATASET_SHAPES[ds]
        info["carousel_every"].add(res["config"].get("carousel_every"))
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


def _fig_vs_snr(points, info, channel, cr, out, name, title):
    sel = [p for p in points
           if p["channel"] == channel and (p["cr"] == cr or p["scheme"] == "direct")]
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


def _fig_vs_cr(points, info, out, name):
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
    return _save(plt, fig, Path(out) / f"{name}.png")


def _pick_example(points, label):
    """Index of the first example image of class ``label``, or ``None``."""
    found = sorted(int(k) for p in points for k, v in p["example_labels"].items() if v == label)
    return found[0] if found else None


def _fig_grid(points, info, channel, cr, out, name, classes, title):
    sel = [p for p in points if p["channel"] == channel and p["cr"] == cr
           and p["scheme"] in ("aesc-verified", "jpeg-header-known")]
    if not sel or info["shape"] is None:
        return None
    snrs = sorted({p["snr_db"] for p in sel})
    plt = _plt()
    rows = []
    names = ds.CLASSES.get(info["dataset"], ())
    for cls in classes:
        idx = _pick_example(sel, cls)
        if idx is None:
            continue
        if str(idx) in info["originals"]:
            rows.append((f"original '{names[cls] if cls < len(names) else cls}'",
                         "original", idx))
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


def _cost_inputs(points, info):
    """The error-free AWGN SNR with both AESC-I and >= 2 JPEG ratios, and its points."""
    every = {e for e in info["carousel_every"] if e}
    if info["shape"] is None or len(every) != 1:
        return None
    ok = [p for p in points if p["channel"] == "awgn" and p["failure_rate"] == 0
          and p["scheme"] in ("aesc-verified", "jpeg-header-known")]
    for snr in sorted({p["snr_db"] for p in ok}, reverse=True):
        at = [p for p in ok if p["snr_db"] == snr]
        if (any(p["scheme"] == "aesc-verified" for p in at)
                and len({p["cr"] for p in at if p["scheme"] == "jpeg-header-known"}) >= 2):
            pixel_bits = 8.0 * float(np.prod(info["shape"]))
            aesc, curve = costs.from_points(at, pixel_bits, every.pop())
            return snr, aesc, curve, pixel_bits
    return None


def cost_table(points, info) -> list[dict] | None:
    """One row per AESC-I model: its figures, JPEG's bits at the same recognition-rate
    ratio and the break-even numbers of images (``core.cost``); ``None`` without data."""
    got = _cost_inputs(points, info)
    if got is None:
        return None
    snr, aesc, curve, pixel_bits = got
    rows = []
    for a in aesc:
        jb = curve.bits_at(a.ratio)
        row = {"snr_db": snr, "cr": a.cr, "ratio": a.ratio, "code_bits": a.code_bits,
               "blob_bits": a.blob_bits, "every": a.every, "jpeg_bits": jb,
               "jpeg_cr": pixel_bits / jb if jb else None}
        for n in (2000, 10000):
            row[f"cr_eff_{n}"] = float(costs.effective_cr(n, pixel_bits, a.code_bits,
                                                          a.blob_bits, a.every))
        row["cr_eff_limit"] = pixel_bits / (a.code_bits + a.blob_bits / a.every)
        for key, every in (("once", costs.ONCE), ("carousel", a.every)):
            # the ratio AESC-I would need at 10 000 images: JPEG's with as many bits
            per_image = costs.bits_per_image(10000, a.code_bits, a.blob_bits, every)
            row[f"needed_{key}"] = (curve.ratio_at(per_image), per_image,
                                    float(curve.bits[-1]), float(curve.ratio.max()))
            row[f"break_even_{key}"] = (None if jb is None else
                                        costs.break_even(a.code_bits, a.blob_bits, jb, every))
            row[f"for_good_{key}"] = (None if jb is None else
                                      costs.ahead_for_good(a.code_bits, a.blob_bits, jb, every))
        rows.append(row)
    return rows


def _fmt(v, spec):
    return "never" if v is None else format(v, spec)


def _needed(got) -> str:
    """The ratio JPEG reaches with AESC-I's bits per image (what AESC-I must beat)."""
    ratio, per_image, top_bits, top_ratio = got
    if ratio is not None:
        return f"{ratio:.3f}"
    if per_image > top_bits:
        return f"> {top_ratio:.3f} (more bits than JPEG's best point)"
    return "below JPEG's measured range"


def _cost_markdown(rows) -> str:
    head = ("| Cr (codes) | ratio | code bit/img | decoder bit | JPEG bit/img at that ratio "
            "(its Cr) | Cr_eff 2 000 / 10 000 img / limit | break-even, decoder once | "
            f"break-even, carousel every {rows[0]['every']} (first / for good) | "
            "ratio needed at 10 000 img, decoder once / carousel |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    body = ""
    for r in rows:
        jpeg = ("beyond JPEG's measured range" if r["jpeg_bits"] is None
                else f"{r['jpeg_bits']:.0f} ({r['jpeg_cr']:.2f})")
        body += (f"| {r['cr']:.2f} | {r['ratio']:.4f} | {r['code_bits']:.0f} | "
                 f"{r['blob_bits']:.0f} | {jpeg} | {r['cr_eff_2000']:.2f} / "
                 f"{r['cr_eff_10000']:.2f} / {r['cr_eff_limit']:.2f} | "
                 f"{_fmt(r['break_even_once'], '.0f')} | "
                 f"{_fmt(r['break_even_carousel'], '.0f')} / "
                 f"{_fmt(r['for_good_carousel'], '.0f')} | "
                 f"{_needed(r['needed_once'])} / {_needed(r['needed_carousel'])} |\n")
    return head + body


def _cost(points, info, out):
    got = _cost_inputs(points, info)
    if got is None:
        return None
    snr, aesc, curve, pixel_bits = got
    rows = cost_table(points, info)
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    n = np.unique(np.logspace(0, 5, 400).astype(np.int64))
    for i, (a, r) in enumerate(zip(aesc, rows)):
        color = f"C{i}"
        axes[0].loglog(n, costs.effective_cr(n, pixel_bits, a.code_bits, a.blob_bits, a.every),
                       color=color, label=f"AESC-I Cr {a.cr:.3g}, decoder every {a.every}")
        axes[0].loglog(n, costs.effective_cr(n, pixel_bits, a.code_bits, a.blob_bits,
                                             costs.ONCE),
                       color=color, linestyle=":", label=f"AESC-I Cr {a.cr:.3g}, decoder once")
        if r["jpeg_cr"]:
            axes[0].axhline(r["jpeg_cr"], color=color, linestyle="--", linewidth=0.8,
                            label=f"JPEG at ratio {a.ratio:.3f} (Cr {r['jpeg_cr']:.2f})")
            carousel = costs.bits_per_image(n, a.code_bits, a.blob_bits, a.every)
            axes[1].loglog(n, carousel / r["jpeg_bits"], color=color,
                           label=f"Cr {a.cr:.3g}, decoder every {a.every}")
            once = costs.bits_per_image(n, a.code_bits, a.blob_bits, costs.ONCE)
            axes[1].loglog(n, once / r["jpeg_bits"], color=color, linestyle=":",
                           label=f"Cr {a.cr:.3g}, decoder once")
    axes[1].axhline(1.0, color="k", linewidth=0.8)
    if not any(r["jpeg_cr"] for r in rows):
        low, high = float(curve.ratio.min()), float(curve.ratio.max())
        axes[1].text(0.5, 0.5, "AESC-I's recognition-rate ratios "
                     f"({min(a.ratio for a in aesc):.3f}-{max(a.ratio for a in aesc):.3f})\n"
                     f"lie outside JPEG's measured range ({low:.3f}-{high:.3f}):\n"
                     "no JPEG at the same ratio to compare with",
                     ha="center", va="center", transform=axes[1].transAxes, fontsize=8)
    axes[0].set_title("(a) effective Cr, decoder copies counted")
    axes[0].set_ylabel("source bits / bits sent")
    axes[1].set_title("(b) AESC-I bits / JPEG bits at the same ratio")
    axes[1].set_ylabel("< 1: AESC-I sends fewer bits")
    for ax in axes:
        ax.set_xlabel("images sent")
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    fig.suptitle(f"What the decoder costs (recognition-rate ratios at Es/N0 {snr:g} dB, "
                 f"AWGN, {aesc[0].every if aesc else ''}-code carousel as swept)", fontsize=9)
    (Path(out) / "cost.md").write_text(_cost_markdown(rows) if rows else "")
    return _save(plt, fig, Path(out) / "cost.png")


def plot_results(paths, out, figures=("all",)) -> list[Path]:
    """Draw the requested figures from result files into ``out``; returns the PNG paths."""
    paths = list(paths)
    wanted = [f for f in figures if f != "all"] + (list(ALL) if "all" in figures else [])
    bad = [f for f in wanted if f not in FIGURES and f not in ALL]
    if bad:
        raise ValueError(f"unknown figure(s) {bad}; choose from {', '.join(FIGURES)} or all")
    points, info = merge_points(paths)
    Path(out).mkdir(parents=True, exist_ok=True)
    makers = {"waterfall": lambda: _waterfall(points, info, out),
              "cost": lambda: _cost(points, info, out),
              "uep": lambda: plot_uep(paths, out),
              "fig5_waveforms": lambda: fig5_waveforms(paths, out, _STYLE)}
    for figs in PAPER_FIGURES.values():
        for name, kind, channel, cr, classes in figs:
            makers[name] = _paper_maker(points, info, out, name, kind, channel, cr, classes)
    names = []
    for f in wanted:
        if f == "paper":
            names.extend(fig[0] for fig in PAPER_FIGURES.get(info["dataset"], ()))
        elif f not in names:
            names.append(f)
    written = []
    for name in names:
        path = makers[name]()
        if path is None:
            log.warning("%s: the results hold no points for it; skipped", name)
        else:
            written.append(path)
    return written


def _paper_maker(points, info, out, name, kind, channel, cr, classes):
    fading = "slow Rayleigh fading" if channel == "rayleigh" else "AWGN"
    if kind == "cr":
        return lambda: _fig_vs_cr(points, info, out, name)
    if kind == "snr":
        return lambda: _fig_vs_snr(points, info, channel, cr, out, name,
                                   f"Cr = {cr} over {fading}")
    across = "average Es/N0, slow fading" if channel == "rayleigh" else "Es/N0, AWGN"
    return lambda: _fig_grid(points, info, channel, cr, out, name, classes,
                             f"Received images across {across}, Cr = {cr}")
