# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The results file: ONE JSON schema for every sweep (and, later, the live metrics sink).

Layout (``SCHEMA``, version ``SCHEMA_VERSION``; ``docs/results.md`` documents every field)::

    {"schema", "schema_version", "name", "description",
     "config": {...the grid and fixed settings...},
     "versions": {"gr-semcom", "gnuradio", "torch", "numpy", "pillow", "python"},
     "calibration": {"jpeg": [{"cr", "quality", "cr_header_known", "cr_full_file"}]},
     "lpips": {"available": bool, "reason": str | null},
     "example_originals": {image index: base64 uint8 image}, "example_labels": {...},
     "points": [{"key", "channel", "snr_db", "cr", "scheme", ... every metric ...}]}

A file is written after every point (atomically), so an interrupted sweep resumes where it
stopped: :func:`resume` checks that the file was made with the same fixed settings and
merges the grid; points whose key is already in the file are skipped.
"""

from __future__ import annotations

import base64
import json
import os
import platform
from pathlib import Path

import numpy as np

__all__ = ["SCHEMA", "SCHEMA_VERSION", "ResultsError", "new_results", "resume", "record_point",
           "load_results", "save_results", "validate_results", "versions", "encode_example",
           "decode_example"]

SCHEMA = "gr-semcom/sweep-results"
SCHEMA_VERSION = 1

_POINT_FIELDS = {"key": str, "channel": str, "snr_db": (int, float), "cr": (int, float),
                 "scheme": str, "images": int, "images_lost": int, "images_failed": int,
                 "recognition_rate_ratio": dict, "psnr_db": dict, "ssim": dict,
                 "cr_paper": (int, float), "cr_effective": (int, float), "link": dict,
                 "wall_s": (int, float), "examples": dict, "example_labels": dict}


class ResultsError(ValueError):
    """A results file is not a valid sweep result (the message says what is wrong)."""


def encode_example(image: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(image, dtype=np.uint8).tobytes()).decode()


def decode_example(text: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8).reshape(shape).copy()


def versions(gnuradio: str | None = None) -> dict:
    """Versions of the dependencies that shape the numbers; ``gnuradio`` is given by the
    caller (the core never imports GNU Radio)."""
    import PIL
    import torch

    out = {"python": platform.python_version(), "numpy": np.__version__,
           "torch": torch.__version__, "pillow": PIL.__version__}
    try:
        from importlib.metadata import version
        out["lpips"] = version("lpips")
    except Exception:
        out["lpips"] = None
    out["gnuradio"] = gnuradio
    return out


def new_results(name: str, description: str, config: dict, calibration: dict,
                lpips: dict) -> dict:
    """An empty results object for a new file."""
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "name": name,
            "description": description, "config": dict(config), "versions": {},
            "calibration": {"jpeg": calibration}, "lpips": lpips, "points": []}


def resume(results: dict, fixed: dict, defaults: dict, grid: dict, where: str) -> dict:
    """Check that ``results`` (a loaded file) was made with the ``fixed`` settings and merge
    the ``grid`` lists (``{"schemes": [...], "crs": [...], ...}``) into its config.

    ``defaults`` stand for settings the file predates. Raises :class:`ResultsError` naming
    the settings that differ (old, new)."""
    old = results["config"]
    clash = {k: (old.get(k, defaults[k]), v) for k, v in fixed.items()
             if old.get(k, defaults[k]) != v}
    if clash:
        raise ResultsError(
            f"{where} was made with other settings {clash} (old, new): its points cannot be "
            "mixed with these; choose another --out or delete the file")
    merged = dict(old)
    for k, new in grid.items():      # the grid may grow
        values = list(old.get(k, []))
        merged[k] = values + [v for v in new if v not in values]
    results["config"] = merged
    return results


def record_point(results: dict, point: dict) -> None:
    """Put ``point`` into ``results``, replacing a point with the same key."""
    results["points"] = [p for p in results["points"] if p["key"] != point["key"]] + [point]


def save_results(path, results: dict) -> None:
    """Write ``results`` to ``path`` atomically (a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=False))
    os.replace(tmp, path)


def load_results(path) -> dict:
    """Read and validate a results file (:class:`ResultsError` when it is not one)."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(
            f"{path}: no such results file (make one with `semcom sweep --out {path}`)")
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not JSON ({exc}); rerun the sweep into a new file")
    validate_results(obj, str(path))
    return obj


def validate_results(obj, where: str = "results") -> None:
    """Check the results schema; raises :class:`ResultsError` naming the first problem."""
    if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
        raise ResultsError(f"{where}: not a gr-semcom sweep result (schema must be {SCHEMA!r})")
    if obj.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{where}: schema_version {obj.get('schema_version')!r}, this "
                           f"gr-semcom reads {SCHEMA_VERSION}")
    for key, kind in (("name", str), ("description", str), ("config", dict), ("versions", dict),
                      ("calibration", dict), ("lpips", dict), ("points", list)):
        if not isinstance(obj.get(key), kind):
            raise ResultsError(f"{where}: field {key!r} missing or not a {kind.__name__}")
    for i, p in enumerate(obj["points"]):
        for key, kind in _POINT_FIELDS.items():
            if not isinstance(p.get(key), kind):
                raise ResultsError(f"{where}: point {i} ({p.get('key')}): field {key!r} missing "
                                   "or of the wrong type")
        for key in ("recognition_rate_ratio", "psnr_db", "ssim"):
            if set(p[key]) != {"value", "ci"} or len(p[key]["ci"]) != 2:
                raise ResultsError(
                    f"{where}: point {p['key']}: {key} must be {{value, ci: [lo, hi]}}")
