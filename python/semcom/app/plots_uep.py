# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The unequal-error-protection figure of ``semcom plot`` (``uep``), drawn from result files.

Points of different files can share a key (channel, SNR, Cr, scheme) while their links
differ (``packet_codes``, ``segment_size``), so this figure does not merge by key: each
file's AESC-I (verified) and header-known JPEG points form one series per scheme, labelled
with that file's link settings. Panel (a) is AWGN, (b) slow Rayleigh fading, each over
the SNR range of the files that use a code per packet kind; the figure is skipped when no
file does. Circles are AESC-I, triangles JPEG; a solid line is a series whose packets travel
on a code of their own, a dashed one a series whose packets are all on the link's code.
"""

from __future__ import annotations

from pathlib import Path

from ..core import registry
from ..core.results import load_results

__all__ = ["plot_uep", "link_label"]

_SCHEMES = ("aesc-verified", "jpeg-header-known")
_MARKERS = {"aesc-verified": "o", "jpeg-header-known": "^"}


def link_label(config: dict, scheme: str) -> str:
    """How a file's link treats a scheme's packets, in words (codes, segment size)."""
    code = config.get("code", registry.DEFAULT_CODE)
    packet_codes = config.get("packet_codes") or {}
    kinds = ("model_segment", "code") if scheme.startswith("aesc") else ("image_data",)
    strong = sorted({packet_codes[k] for k in kinds if k in packet_codes})
    if not strong:
        text = f"all on {code}"
    else:
        plural = {"model_segment": "model segments", "code": "codes",
                  "image_data": "image data"}
        named = [plural[k] for k in kinds if k in packet_codes]
        text = " + ".join(named) + f" on {', '.join(strong)}"
    if scheme.startswith("aesc"):
        text += (f", {config.get('segment_size', 1024)}-B segments, a copy every "
                 f"{config.get('carousel_every', 500)} codes")
    return text


def _series(res: dict, channel: str, scheme: str, lo: float, hi: float):
    pts = sorted((p for p in res["points"] if p["channel"] == channel
                  and p["scheme"] == scheme and p["cr"] == 20 and lo <= p["snr_db"] <= hi),
                 key=lambda p: p["snr_db"])
    xs = [p["snr_db"] for p in pts]
    ys = [p["recognition_rate_ratio"]["value"] for p in pts]
    err = [[y - p["recognition_rate_ratio"]["ci"][0] for y, p in zip(ys, pts)],
           [p["recognition_rate_ratio"]["ci"][1] - y for y, p in zip(ys, pts)]]
    return xs, ys, err


def plot_uep(paths, out) -> Path | None:
    """Draw ``uep.png`` into ``out`` from the result files ``paths``; ``None`` when no file
    uses a code per packet kind."""
    files = [(Path(p), load_results(p)) for p in paths]
    if not any(res["config"].get("packet_codes") for _, res in files):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 6.6))
    colours = {}
    for ax, channel, title in ((axes[0], "awgn", "(a) AWGN"),
                               (axes[1], "rayleigh", "(b) slow Rayleigh fading")):
        uep_snrs = [p["snr_db"] for _, res in files if res["config"].get("packet_codes")
                    for p in res["points"] if p["channel"] == channel]
        if not uep_snrs:
            ax.text(0.5, 0.5, "no points with a code per packet kind", ha="center",
                    va="center", transform=ax.transAxes, fontsize=8)
            ax.set_title(title)
            continue
        lo, hi = min(uep_snrs) - 0.5, max(uep_snrs) + (1.5 if channel == "awgn" else 3.0)
        for path, res in files:
            for scheme in _SCHEMES:
                xs, ys, err = _series(res, channel, scheme, lo, hi)
                if not xs:
                    continue
                link = link_label(res["config"], scheme)
                label = (f"{registry.entry(registry.SCHEMES, scheme, 'scheme').label}: "
                         f"{link} ({path.stem})")
                colour = colours.setdefault(label, f"C{len(colours) % 10}")
                ax.errorbar(xs, ys, yerr=err, capsize=2, ms=4, label=label, color=colour,
                            marker=_MARKERS[scheme],
                            linestyle="--" if link.startswith("all on") else "-")
        ax.axhline(0.95, color="grey", lw=0.8, ls=":")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("Es/N0 (dB)" if channel == "awgn" else "average Es/N0 (dB)")
        ax.set_ylabel("Recognition-rate ratio")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.suptitle("Unequal error protection: MNIST, Cr = 20; AESC-I (circles) and header-known "
                 "JPEG (triangles); solid: its packets on a code of their own")
    fig.tight_layout()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "uep.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
