"""``semcom sweep``: the paper's evaluation grid through the GNU Radio link, resumable.

A sweep is a grid of operating points — channel × SNR × compression ratio × scheme — on
the first ``num_images`` test images. Each point transmits every image with its scheme
(:mod:`.schemes`), pushes the packets through one GNU Radio flowgraph
(:mod:`gnuradio.semcom.phy.runner`: the symbol-level link by default, the full burst
waveform with ``waveform="full"``), rebuilds the images at the receiver and scores them.

This module is the PyTorch half's side of the sweep; the flowgraph is imported (lazily,
inside :func:`run_point`) from the GNU Radio half, so importing this module never
imports GNU Radio.

Results: ONE JSON schema (``SCHEMA``, version ``SCHEMA_VERSION``), written after every
point (atomically), so an interrupted sweep resumes where it stopped: points whose key is
already in the file are skipped. Layout::

    {"schema", "schema_version", "name", "description",
     "config": {...the grid and fixed settings...},
     "versions": {"gr-semcom", "gnuradio", "torch", "numpy", "pillow", "python"},
     "calibration": {"jpeg": [{"cr", "quality", "cr_header_known", "cr_full_file"}]},
     "lpips": {"available": bool, "reason": str | null},
     "example_originals": {image index: base64 uint8 image}, "example_labels": {...},
     "points": [{"key", "channel", "snr_db", "cr", "scheme", ... every metric ...}]}

Each point holds every metric with its 95 % interval (``*_ci``), the failure counts, the
link's packet/bit counters, compression figures, wall time and example images
(``docs/results.md`` documents every field).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import datasets as ds
from . import jpeg, metrics, zoo
from .schemes import FAILED, LOST, OK, make_scheme

log = logging.getLogger(__name__)

__all__ = ["SCHEMA", "SCHEMA_VERSION", "SweepConfig", "SCHEME_NAMES", "grid", "run_point",
           "run_sweep", "load_results", "validate_results", "ResultsError", "point_key",
           "decode_example"]

SCHEMA = "gr-semcom/sweep-results"
SCHEMA_VERSION = 1
SCHEME_NAMES = ("aesc-verified", "aesc-paper", "jpeg-header-known", "jpeg-full-file", "direct")
CHANNELS = ("awgn", "rayleigh", "multipath")
# Settings that must agree for a results file to be resumed (the grid itself may grow).
_FIXED = ("dataset", "num_images", "seed", "waveform", "modulation", "code", "carousel_every",
          "segment_size",
          "taps", "freq_offset", "timing_offset", "lpips_size", "models")


class ResultsError(ValueError):
    """A results file is not a valid sweep result (the message says what is wrong)."""


@dataclass
class SweepConfig:
    """The grid and the settings of one sweep (the CLI exposes each field)."""

    name: str = "sweep"
    description: str = ""
    dataset: str = "mnist"
    schemes: list = field(default_factory=lambda: list(SCHEME_NAMES))
    crs: list = field(default_factory=lambda: [20])
    channels: list = field(default_factory=lambda: ["awgn"])
    snrs: list = field(default_factory=lambda: [0.0, 5.0, 10.0])
    num_images: int = 2000
    seed: int = 0
    waveform: str = "symbol"
    modulation: str = "bpsk"
    code: str = "n1800_r05"
    carousel_every: int = 500
    segment_size: int = 1024
    taps: list = field(default_factory=lambda: [1.0])
    freq_offset: float = 0.0
    timing_offset: float = 1.0
    examples_per_class: int = 1
    lpips_backbone: str | None = None
    lpips_size: int = 64
    models: dict = field(default_factory=dict)   # zdim -> AESC-I .pt path ("" = shipped)
    data_root: str | None = None

    def check(self) -> "SweepConfig":
        if self.dataset not in ("mnist", "cifar10"):
            raise ValueError(f"unknown dataset {self.dataset!r}")
        bad = [s for s in self.schemes if s not in SCHEME_NAMES]
        if bad or not self.schemes:
            raise ValueError(f"unknown scheme(s) {bad}; choose from {', '.join(SCHEME_NAMES)}")
        bad = [c for c in self.channels if c not in CHANNELS]
        if bad or not self.channels:
            raise ValueError(f"unknown channel(s) {bad}; choose from {', '.join(CHANNELS)}")
        if not self.snrs:
            raise ValueError("give at least one SNR")
        if not self.crs or min(self.crs) <= 1:
            raise ValueError(f"compression ratios must be > 1, got {self.crs}")
        if self.num_images < 1:
            raise ValueError("num_images must be >= 1")
        if self.waveform not in ("symbol", "full"):
            raise ValueError(f"waveform must be 'symbol' or 'full', got {self.waveform!r}")
        if self.modulation not in ("bpsk", "qpsk"):
            raise ValueError(f"modulation must be 'bpsk' or 'qpsk', got {self.modulation!r}")
        return self

    def fixed(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in _FIXED}


def zdim_for(dataset: str, cr: float) -> int:
    """AESC-I latent size for a nominal compression ratio.

    The paper's pairs first (MNIST Cr 4/8/20 → zdim 196/98/40, CIFAR-10 Cr 3/6/12 →
    32/12/8, whose exact ratios are 4, 8, 19.6 and 2.67, 7.11, 10.67), else the zdim
    whose eq. (13)/(16) ratio is nearest.
    """
    from .models import PAPER_ZDIMS, compression_ratio

    nominal = {"mnist": (4, 8, 20), "cifar10": (3, 6, 12)}[dataset]
    for c, z in zip(nominal, PAPER_ZDIMS[dataset]):
        if float(cr) == c:
            return z
    return min(range(1, 785), key=lambda z: abs(compression_ratio(dataset, z) - float(cr)))


def point_key(channel: str, snr: float, cr, scheme: str) -> str:
    return f"{channel}|snr={float(snr):g}|cr={cr}|{scheme}"


def grid(cfg: SweepConfig) -> list[dict]:
    """The operating points of a sweep, in the order they run."""
    points = []
    for channel in cfg.channels:
        for snr in cfg.snrs:
            for scheme in cfg.schemes:
                crs = [1] if scheme == "direct" else cfg.crs
                for cr in crs:
                    points.append({"key": point_key(channel, snr, cr, scheme), "channel": channel,
                                   "snr_db": float(snr), "cr": cr, "scheme": scheme})
    return points


# --------------------------------------------------------------------------- one point

_CACHE: dict = {}


def _data(cfg: SweepConfig):
    key = ("data", cfg.dataset, cfg.num_images, cfg.data_root)
    if key not in _CACHE:
        images = ds.load(cfg.dataset, "test", root=cfg.data_root)
        if cfg.num_images > len(images):
            raise ValueError(f"num_images {cfg.num_images} exceeds the {len(images)} test images")
        x, y = images.images[:cfg.num_images], images.labels[:cfg.num_images]
        from .evaluate import classify
        clf = zoo.load_classifier(cfg.dataset)
        pred = classify(clf, x)
        _CACHE[key] = (x, y, clf, pred)
    return _CACHE[key]


def _lpips(cfg: SweepConfig):
    key = ("lpips", cfg.lpips_backbone)
    if key not in _CACHE:
        from .perceptual import LPIPSUnavailable, load_lpips
        try:
            _CACHE[key] = (load_lpips(cfg.lpips_backbone), None)
        except LPIPSUnavailable as exc:
            _CACHE[key] = (None, str(exc))
    return _CACHE[key]


def lpips_status(cfg: SweepConfig) -> dict:
    scorer, reason = _lpips(cfg)
    return {"available": scorer is not None, "reason": reason}


def example_indices(labels: np.ndarray, per_class: int) -> list[int]:
    """The first ``per_class`` images of each class (Fig. 7/8 pick theirs from these)."""
    out = []
    for c in np.unique(labels):
        out.extend(int(i) for i in np.flatnonzero(labels == c)[:per_class])
    return sorted(out)


def encode_example(image: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(image, dtype=np.uint8).tobytes()).decode()


def decode_example(text: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8).reshape(shape).copy()


def _scheme(cfg: SweepConfig, point: dict, calibration: dict):
    name, cr = point["scheme"], point["cr"]
    if name.startswith("aesc"):
        zdim = zdim_for(cfg.dataset, cr)
        path = cfg.models.get(str(zdim)) or None
        model = zoo.load_aesc(cfg.dataset, zdim, path=path)
        return make_scheme("aesc", model=model, protection=name.split("-", 1)[1],
                           carousel_every=cfg.carousel_every,
                           segment_size=cfg.segment_size), {"zdim": zdim}
    if name.startswith("jpeg"):
        quality = calibration[str(cr)]["quality"]
        return make_scheme("jpeg", quality=quality, variant=name.split("-", 1)[1]), {"quality": quality}
    return make_scheme("direct"), {}


def _ci(triple) -> dict:
    return {"value": triple[0], "ci": [triple[1], triple[2]]}


def run_point(cfg: SweepConfig, point: dict, calibration: dict, progress=None) -> dict:
    """Run one operating point through the GNU Radio link and score it."""
    from gnuradio.semcom.phy.runner import run_packets   # the GNU Radio half

    t0 = time.perf_counter()
    x, y, clf, pred_orig = _data(cfg)
    n, shape = len(x), tuple(x.shape[1:])
    pixels = int(np.prod(shape))
    scheme, extra = _scheme(cfg, point, calibration)
    packets = scheme.transmit(x)
    # noise/fading seed: fixed per (sweep seed, point), so a rerun reproduces the point
    seed = int(np.random.SeedSequence([cfg.seed, *map(ord, point["key"])]).generate_state(1)[0] % (2**31))
    link = run_packets(packets, snr_db=point["snr_db"], channel=point["channel"],
                       modulation=cfg.modulation, code=cfg.code, seed=seed,
                       taps=[complex(*t) if isinstance(t, (list, tuple)) else t for t in cfg.taps],
                       waveform=cfg.waveform, freq_offset=cfg.freq_offset,
                       timing_offset=cfg.timing_offset, progress=progress)
    rx = scheme.receive(link.received, n, shape)

    from .evaluate import classify
    pred = classify(clf, rx.images)
    ok_orig = int((pred_orig == y).sum())
    acc_orig = ok_orig / n
    ok_recv = int((pred == y).sum())
    delivered = rx.status == OK
    ratio = metrics.ratio_interval(ok_recv, n, acc_orig)
    psnr = metrics.psnr(x, rx.images, per_image=True)
    ssim = metrics.ssim(x, rx.images, per_image=True)
    scorer, reason = _lpips(cfg)
    acct = scheme.accounting
    examples = example_indices(y, cfg.examples_per_class)
    result = dict(point)
    result.update(extra)
    result.update({
        "images": n,
        "images_ok": int(delivered.sum()),
        "images_lost": int((rx.status == LOST).sum()),
        "images_failed": int((rx.status == FAILED).sum()),
        "failure_rate": float(1 - delivered.mean()),
        "accuracy_original": acc_orig,
        "accuracy_received": ok_recv / n,
        "recognition_rate_ratio": _ci(ratio),
        "recognition_rate_ratio_delivered": (
            float((pred[delivered] == y[delivered]).mean() / max((pred_orig[delivered] == y[delivered]).mean(), 1e-12))
            if delivered.any() else None),
        "psnr_db": _ci(metrics.mean_interval(psnr)),
        "ssim": _ci(metrics.mean_interval(ssim)),
        "lpips": (_ci(metrics.mean_interval(scorer.score(x, rx.images, size=cfg.lpips_size)))
                  if scorer is not None else None),
        "lpips_unavailable": reason,
        "cr_paper": pixels * 8 * n / acct["source_bits"],
        "cr_effective": pixels * 8 * n / (acct["source_bits"] + acct["model_bits"]),
        "source_bits": acct["source_bits"],
        "model_bits": acct["model_bits"],
        "model_copies": acct.get("model_copies", 0),
        "packet_bits": acct["packet_bits"],
        "bits_per_pixel": acct["packet_bits"] / (n * pixels),
        "source_bits_per_pixel": (acct["source_bits"] + acct["model_bits"]) / (n * pixels),
        "channel_uses_per_pixel": link.symbols / (n * pixels),
        "link": {
            "packets_sent": link.sent, "packets_received": len(link.received),
            "packets_lost": link.lost, "crc_failures": link.crc_failures,
            "fer": link.crc_failures / max(1, len(link.received)),
            "bit_errors": link.bit_errors, "bits_compared": link.bits_compared,
            "ber": (link.bit_errors / link.bits_compared) if link.bits_compared else None,
            "symbols": link.symbols, "wall_s": link.wall_s,
            "info_bits_per_s": acct["packet_bits"] / link.wall_s if link.wall_s > 0 else None,
        },
        "receiver": rx.counters,
        "examples": {str(i): encode_example(rx.images[i]) for i in examples},
        "example_labels": {str(i): int(y[i]) for i in examples},
        "wall_s": time.perf_counter() - t0,
    })
    return result


# --------------------------------------------------------------------------- whole sweep

def _versions() -> dict:
    import PIL
    import torch

    out = {"python": platform.python_version(), "numpy": np.__version__,
           "torch": torch.__version__, "pillow": PIL.__version__}
    try:
        from importlib.metadata import version
        out["lpips"] = version("lpips")
    except Exception:
        out["lpips"] = None
    try:
        from gnuradio import gr
        out["gnuradio"] = gr.version()
    except Exception:
        out["gnuradio"] = None
    return out


def calibrate_jpeg(cfg: SweepConfig) -> dict:
    """JPEG quality per compression ratio, measured on the sweep's images (header-known)."""
    x = _data(cfg)[0]
    out = {}
    for cr in cfg.crs:
        q, cr_hk = jpeg.quality_for_ratio(x, float(cr), "header-known")
        out[str(cr)] = {"cr": cr, "quality": q, "cr_header_known": cr_hk,
                        "cr_full_file": jpeg.compression_ratio(x, q, "full-file")}
    return out


def _atomic_write(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=False))
    os.replace(tmp, path)


def load_results(path) -> dict:
    """Read and validate a results file (:class:`ResultsError` when it is not one)."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file (make one with `semcom sweep --out {path}`)")
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not JSON ({exc}); rerun the sweep into a new file")
    validate_results(obj, str(path))
    return obj


_POINT_FIELDS = {"key": str, "channel": str, "snr_db": (int, float), "cr": (int, float),
                 "scheme": str, "images": int, "images_lost": int, "images_failed": int,
                 "recognition_rate_ratio": dict, "psnr_db": dict, "ssim": dict,
                 "cr_paper": (int, float), "cr_effective": (int, float), "link": dict,
                 "wall_s": (int, float), "examples": dict, "example_labels": dict}


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
                raise ResultsError(f"{where}: point {p['key']}: {key} must be {{value, ci: [lo, hi]}}")


def _worker(args):
    cfg_dict, point, calibration = args
    import torch
    torch.set_num_threads(1)
    return run_point(SweepConfig(**cfg_dict), point, calibration)


def run_sweep(cfg: SweepConfig, out, workers: int = 1, progress: bool = True,
              limit_points: int | None = None) -> dict:
    """Run every point of the grid not yet in ``out``; returns the results object."""
    cfg.check()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    points = grid(cfg)
    if out.exists():
        results = load_results(out)
        old = results["config"]
        defaults = SweepConfig().fixed()     # files written before a setting existed used its default
        clash = {k: (old.get(k, defaults[k]), v) for k, v in cfg.fixed().items()
                 if old.get(k, defaults[k]) != v}
        if clash:
            raise ResultsError(
                f"{out} was made with other settings {clash} (old, new): its points cannot be "
                "mixed with these; choose another --out or delete the file")
        calibration = results["calibration"].get("jpeg", {})
        need = [cr for cr in cfg.crs if str(cr) not in calibration]
        if need and any(s.startswith("jpeg") for s in cfg.schemes):
            calibration.update(calibrate_jpeg(SweepConfig(**{**asdict(cfg), "crs": need})))
        results["calibration"]["jpeg"] = calibration
        merged = dict(old)
        for k in ("schemes", "crs", "channels", "snrs"):      # the grid may grow
            values = list(old.get(k, []))
            merged[k] = values + [v for v in getattr(cfg, k) if v not in values]
        results["config"] = merged
    else:
        calibration = calibrate_jpeg(cfg) if any(s.startswith("jpeg") for s in cfg.schemes) else {}
        results = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "name": cfg.name,
                   "description": cfg.description, "config": asdict(cfg),
                   "versions": {}, "calibration": {"jpeg": calibration},
                   "lpips": lpips_status(cfg), "points": []}
    results["config"].pop("data_root", None)
    results["versions"] = _versions()
    x, y = _data(cfg)[:2]
    idx = example_indices(y, cfg.examples_per_class)
    results["example_originals"] = {str(i): encode_example(x[i]) for i in idx}
    results["example_labels"] = {str(i): int(y[i]) for i in idx}
    done = {p["key"] for p in results["points"]}
    todo = [p for p in points if p["key"] not in done]
    if limit_points is not None:
        todo = todo[:limit_points]
    log.info("%s: %d points in the grid, %d to run", out, len(points), len(todo))
    _atomic_write(out, results)
    if not todo:
        return results

    from tqdm import tqdm
    bar = tqdm(total=len(todo), desc=f"sweep {cfg.name}", unit="point", disable=not progress)

    def record(res):
        results["points"] = [p for p in results["points"] if p["key"] != res["key"]] + [res]
        _atomic_write(out, results)
        bar.set_postfix_str(f"{res['key']}: RR {res['recognition_rate_ratio']['value']:.3f}")
        bar.update(1)

    cfg_dict = asdict(cfg)
    if workers <= 1:
        for point in todo:
            record(run_point(cfg, point, calibration))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_worker, (cfg_dict, p, calibration)) for p in todo]
            for fut in as_completed(futures):
                record(fut.result())
    bar.close()
    return results
