"""``semcom sweep``: the paper's evaluation grid through the GNU Radio link, resumable.

Each operating point of the grid (:mod:`gnuradio.semcom.core.grid`) transmits every image
with its scheme, pushes the packets through one GNU Radio flowgraph (:mod:`.link`: the
symbol-level link by default, the full burst waveform with ``waveform="full"``), rebuilds
the images at the receiver and scores them (:mod:`gnuradio.semcom.core.scoring`). The
results go to one file of the schema of :mod:`gnuradio.semcom.core.results`, written after
every point, so an interrupted sweep resumes where it stopped. Points run one after the
other, or in a pool of processes (``workers``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..core import datasets as ds
from ..core import results as res
from ..core import zoo
from ..core.grid import SweepConfig, grid, scheme_for
from ..core.scoring import example_indices, jpeg_calibration, load_scorer, score_point

log = logging.getLogger(__name__)

__all__ = ["run_point", "run_sweep", "calibrate_jpeg", "lpips_status"]

_CACHE: dict = {}


def _data(cfg: SweepConfig):
    key = ("data", cfg.dataset, cfg.num_images, cfg.data_root)
    if key not in _CACHE:
        images = ds.load(cfg.dataset, "test", root=cfg.data_root)
        if cfg.num_images > len(images):
            raise ValueError(f"num_images {cfg.num_images} exceeds the {len(images)} test images")
        x, y = images.images[:cfg.num_images], images.labels[:cfg.num_images]
        from ..core.evaluate import classify
        clf = zoo.load_classifier(cfg.dataset)
        pred = classify(clf, x)
        _CACHE[key] = (x, y, clf, pred)
    return _CACHE[key]


def _lpips(cfg: SweepConfig):
    key = ("lpips", cfg.lpips_backbone)
    if key not in _CACHE:
        _CACHE[key] = load_scorer(cfg.lpips_backbone)
    return _CACHE[key]


def lpips_status(cfg: SweepConfig) -> dict:
    scorer, reason = _lpips(cfg)
    return {"available": scorer is not None, "reason": reason}


def calibrate_jpeg(cfg: SweepConfig) -> dict:
    """JPEG quality per compression ratio, measured on the sweep's images (header-known)."""
    return jpeg_calibration(_data(cfg)[0], cfg.crs)


def run_point(cfg: SweepConfig, point: dict, calibration: dict, progress=None) -> dict:
    """Run one operating point through the GNU Radio link and score it."""
    from .link import run_packets

    t0 = time.perf_counter()
    x, y, clf, pred_orig = _data(cfg)
    n, shape = len(x), tuple(x.shape[1:])
    scheme, extra = scheme_for(cfg, point, calibration)
    packets = scheme.transmit(x)
    # noise/fading seed: fixed per (sweep seed, point), so a rerun reproduces the point
    seed = int(np.random.SeedSequence([cfg.seed, *map(ord, point["key"])]).generate_state(1)[0] % (2**31))
    link = run_packets(packets, snr_db=point["snr_db"], channel=point["channel"],
                       modulation=cfg.modulation, code=cfg.code, seed=seed,
                       taps=[complex(*t) if isinstance(t, (list, tuple)) else t for t in cfg.taps],
                       waveform=cfg.waveform, freq_offset=cfg.freq_offset,
                       timing_offset=cfg.timing_offset, progress=progress)
    rx = scheme.receive(link.received, n, shape)

    from ..core.evaluate import classify
    pred = classify(clf, rx.images)
    scorer, reason = _lpips(cfg)
    result = score_point(point, extra, x, y, pred_orig, pred, rx, scheme.accounting, link,
                         scorer, reason, cfg.lpips_size, cfg.examples_per_class)
    result["wall_s"] = time.perf_counter() - t0
    return result


def _gnuradio_version():
    try:
        from gnuradio import gr
        return gr.version()
    except Exception:
        return None


def _worker(args):
    cfg_dict, point, calibration = args
    import torch
    torch.set_num_threads(1)
    return run_point(SweepConfig(**cfg_dict), point, calibration)


def _open_results(cfg: SweepConfig, out: Path) -> tuple:
    """``(results, calibration)``: the file at ``out`` resumed, or a new one."""
    if out.exists():
        results = res.resume(res.load_results(out), cfg.fixed(), SweepConfig().fixed(),
                             cfg.grid_lists(), str(out))
        calibration = results["calibration"].get("jpeg", {})
        need = [cr for cr in cfg.crs if str(cr) not in calibration]
        if need and any(s.startswith("jpeg") for s in cfg.schemes):
            calibration.update(calibrate_jpeg(SweepConfig(**{**asdict(cfg), "crs": need})))
        results["calibration"]["jpeg"] = calibration
        return results, calibration
    calibration = calibrate_jpeg(cfg) if any(s.startswith("jpeg") for s in cfg.schemes) else {}
    return res.new_results(cfg.name, cfg.description, asdict(cfg), calibration,
                           lpips_status(cfg)), calibration


def run_sweep(cfg: SweepConfig, out, workers: int = 1, progress: bool = True,
              limit_points: int | None = None) -> dict:
    """Run every point of the grid not yet in ``out``; returns the results object."""
    cfg.check()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    points = grid(cfg)
    results, calibration = _open_results(cfg, out)
    results["config"].pop("data_root", None)
    results["versions"] = res.versions(gnuradio=_gnuradio_version())
    x, y = _data(cfg)[:2]
    idx = example_indices(y, cfg.examples_per_class)
    results["example_originals"] = {str(i): res.encode_example(x[i]) for i in idx}
    results["example_labels"] = {str(i): int(y[i]) for i in idx}
    done = {p["key"] for p in results["points"]}
    todo = [p for p in points if p["key"] not in done]
    if limit_points is not None:
        todo = todo[:limit_points]
    log.info("%s: %d points in the grid, %d to run", out, len(points), len(todo))
    res.save_results(out, results)
    if not todo:
        return results

    from tqdm import tqdm
    bar = tqdm(total=len(todo), desc=f"sweep {cfg.name}", unit="point", disable=not progress)

    def record(point):
        res.record_point(results, point)
        res.save_results(out, results)
        bar.set_postfix_str(f"{point['key']}: RR {point['recognition_rate_ratio']['value']:.3f}")
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
