# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom table``: the Markdown tables of ``docs/results.md``, from sweep result files only.

One table per call: rows are the SNRs, columns the schemes of the files (or, with ``--by cr``,
rows SNR and scheme at the SNRs where every ratio has a point, one column per compression
ratio), and each cell one metric of one point:

* ``ratio`` — recognition-rate ratio with its 95 % interval;
* ``psnr-ssim`` — mean PSNR (dB) / mean SSIM;
* ``lpips`` — mean LPIPS with its 95 % interval (``n/a`` where the file has none);
* ``lost`` — images lost + images failed, of the point's images;
* ``all`` — ratio / PSNR / SSIM / LPIPS in one cell (the layout of the Cr tables).

Points are merged across files as ``semcom plot`` merges them (later files win on a key).
"""

from __future__ import annotations

from ..core import registry
from .plots import merge_points

__all__ = ["METRICS", "cell", "table"]

METRICS = ("ratio", "psnr-ssim", "lpips", "lost", "all")


def _interval(metric: dict | None, digits: int) -> str:
    if metric is None:
        return "n/a"
    lo, hi = metric["ci"]
    return f"{metric['value']:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def cell(point: dict, metric: str) -> str:
    """One point's ``metric`` as the tables of ``docs/results.md`` print it."""
    if metric == "ratio":
        return _interval(point["recognition_rate_ratio"], 3)
    if metric == "psnr-ssim":
        return f"{point['psnr_db']['value']:.1f} / {point['ssim']['value']:.3f}"
    if metric == "lpips":
        return _interval(point.get("lpips"), 3)
    if metric == "lost":
        return f"{point['images_lost']} + {point['images_failed']}"
    if metric == "all":
        lp = point.get("lpips")
        return (f"{point['recognition_rate_ratio']['value']:.3f} / "
                f"{point['psnr_db']['value']:.1f} / {point['ssim']['value']:.3f} / "
                + (f"{lp['value']:.3f}" if lp else "n/a"))
    raise ValueError(f"unknown table metric {metric!r}; choose one of {', '.join(METRICS)}")


_LABELS = dict(zip(registry.keys(registry.SCHEMES), registry.labels(registry.SCHEMES)))


def _label(scheme: str) -> str:
    return _LABELS.get(scheme, scheme)


def table(paths, metric: str = "ratio", by: str = "scheme", channel: str | None = None,
          cr=None) -> str:
    """The Markdown table of ``metric`` over the points of ``paths``.

    ``by="scheme"``: one row per SNR, one column per scheme (points of one Cr: ``cr``, or
    the files' only one; ``direct`` is drawn whatever its Cr). ``by="cr"``: one row per
    SNR and scheme, one column per Cr. ``channel`` picks one channel when the files mix
    them."""
    if metric not in METRICS:
        raise ValueError(f"unknown table metric {metric!r}; choose one of {', '.join(METRICS)}")
    points, _ = merge_points(paths)
    channels = sorted({p["channel"] for p in points})
    if channel is None:
        if len(channels) > 1:
            raise ValueError(f"the files hold channels {', '.join(channels)}: pick one "
                             "with --channel")
        channel = channels[0] if channels else None
    points = [p for p in points if p["channel"] == channel]
    if not points:
        raise ValueError(f"no point on channel {channel!r} in these files")
    order = {name: i for i, name in enumerate(_LABELS)}
    schemes = sorted({p["scheme"] for p in points}, key=lambda s: order.get(s, len(order)))
    crs = sorted({p["cr"] for p in points if p["scheme"] != "direct"})
    if by == "cr":
        snrs = sorted({p["snr_db"] for p in points})
        at = {(p["snr_db"], p["scheme"], p["cr"]): p for p in points}
        lines = ["| Es/N0 (dB) | scheme | " + " | ".join(f"Cr {c:g}" for c in crs) + " |",
                 "|---|---|" + "---|" * len(crs)]
        for snr in snrs:
            for scheme in schemes:
                if scheme == "direct":
                    continue
                if any((snr, scheme, c) not in at for c in crs):
                    continue                    # rows with every ratio only
                cells = [cell(at[(snr, scheme, c)], metric) for c in crs]
                lines.append(f"| {snr:g} | {_label(scheme)} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
    if by != "scheme":
        raise ValueError(f"unknown table layout {by!r}; choose scheme or cr")
    if cr is None:
        if len(crs) > 1:
            raise ValueError(f"the files hold ratios {', '.join(f'{c:g}' for c in crs)}: "
                             "pick one with --cr, or use --by cr")
        cr = crs[0] if crs else None
    at = {(p["snr_db"], p["scheme"]): p for p in points
          if p["scheme"] == "direct" or p["cr"] == cr}
    snrs = sorted({snr for snr, _ in at})
    lines = ["| Es/N0 (dB) | " + " | ".join(_label(s) for s in schemes) + " |",
             "|---|" + "---|" * len(schemes)]
    for snr in snrs:
        cells = [cell(at[(snr, s)], metric) if (snr, s) in at else "" for s in schemes]
        lines.append(f"| {snr:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
