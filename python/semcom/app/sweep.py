# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom sweep``: the paper's evaluation grid through the link, resumable.

Each operating point of the grid (:mod:`gnuradio.semcom.core.grid`) transmits every image
with its scheme, pushes the packets through the link, rebuilds the images at the receiver
and scores them (:mod:`gnuradio.semcom.core.scoring`). The link is computed by one of two
engines (``cfg.engine``):

* ``"fast"`` (default): the batched array engine :func:`gnuradio.semcom.core.fastlink.transmit`,
  all packets of the point at once (symbol level only);
* ``"gnuradio"``: one GNU Radio flowgraph per point (:mod:`.link`: the symbol-level link,
  or the full burst waveform with ``waveform="full"``), the reference the fast engine is
  validated against (``qa_engines``).

Both hand the schemes' receivers the same thing, ``(data, crc_ok)`` per packet in order.
The results go to one file of the schema of :mod:`gnuradio.semcom.core.results`, written
after every point, so an interrupted sweep resumes where it stopped. Points run one after
the other, in a pool of local processes (``workers``), or on a Dask distributed cluster
(``scheduler``); each point's noise seed comes from the sweep's seed and the point's key,
so its result does not depend on where or when it ran.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from ..core import datasets as ds
from ..core import results as res
from ..core import zoo
from ..core.grid import SweepConfig, grid, point_seed, scheme_for
from ..core.scoring import (ImageScores, example_indices, jpeg_calibration, load_scorer,
                            score_point)

log = logging.getLogger(__name__)

__all__ = ["run_point", "run_link", "run_sweep", "calibrate_jpeg", "lpips_status"]

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


def _image_scores(cfg: SweepConfig) -> ImageScores:
    key = ("scores", cfg.dataset, cfg.num_images, cfg.data_root)
    if key not in _CACHE:
        from ..core.evaluate import classify
        x, _, clf, _ = _data(cfg)
        _CACHE[key] = ImageScores(x, lambda images: classify(clf, images))
    return _CACHE[key]


def _transmission(cfg: SweepConfig, point: dict, calibration: dict) -> tuple:
    """``(scheme, extra point fields, packets)`` of a point. A scheme's packets depend on the
    images and its settings only, not on the channel or SNR, so they are made once per
    process and scheme and sent at every SNR (for AESC-I the encoder and the blob, for JPEG
    Pillow's encoder, were a tenth of the fast engine's time outside the decoder)."""
    name, cr = point["scheme"], point["cr"]
    key = ("tx", name, cr, cfg.dataset, cfg.num_images, cfg.data_root, cfg.carousel_every,
           cfg.segment_size, tuple(sorted(cfg.models.items())),
           calibration.get(str(cr), {}).get("quality") if name.startswith("jpeg") else None)
    if key not in _CACHE:
        scheme, extra = scheme_for(cfg, point, calibration)
        _CACHE[key] = (scheme, extra, scheme.transmit(_data(cfg)[0]))
    return _CACHE[key]


def _lpips(cfg: SweepConfig):
    key = ("lpips", cfg.lpips_backbone)
    if key not in _CACHE:
        from ..core.lpips_memory import LpipsMemory
        scorer, reason = load_scorer(cfg.lpips_backbone)
        # per-pair values remembered across points (the received images recur)
        _CACHE[key] = (LpipsMemory(scorer) if scorer is not None else None, reason)
    return _CACHE[key]


def lpips_status(cfg: SweepConfig) -> dict:
    scorer, reason = _lpips(cfg)
    return {"available": scorer is not None, "reason": reason}


def calibrate_jpeg(cfg: SweepConfig) -> dict:
    """JPEG quality per compression ratio, measured on the sweep's images (header-known)."""
    return jpeg_calibration(_data(cfg)[0], cfg.crs)


def _fast_code(code: str):
    """The fast engine's :class:`~gnuradio.semcom.core.fastlink.LdpcCode`, built once per
    process (its generator takes a Gauss-Jordan elimination of H)."""
    key = ("code", code)
    if key not in _CACHE:
        from ..core import fastlink
        from ..phy import fec as semfec
        _CACHE[key] = fastlink.load_code(semfec.alist_path(code))
    return _CACHE[key]


def run_link(cfg: SweepConfig, packets: list, point: dict, seed: int, progress=None):
    """The packets of one point through the link of ``cfg.engine``: a ``LinkRun`` whose
    ``received`` is ``(data, crc_ok)`` per packet, in order."""
    taps = [complex(*t) if isinstance(t, (list, tuple)) else t for t in cfg.taps]
    if cfg.engine == "fast":
        from ..core import fastlink
        from ..core.uep import code_plan
        codes = [_fast_code(c) for c in code_plan(packets, cfg.code, cfg.packet_codes)]
        return fastlink.transmit_mixed(packets, codes, snr_db=point["snr_db"],
                                       channel=point["channel"], modulation=cfg.modulation,
                                       taps=taps, seed=seed, mtu=max(len(p) for p in packets),
                                       decoder=cfg.decoder, device=cfg.device,
                                       progress=progress)
    from .link import run_packets
    return run_packets(packets, snr_db=point["snr_db"], channel=point["channel"],
                       modulation=cfg.modulation, code=cfg.code, seed=seed, taps=taps,
                       waveform=cfg.waveform, freq_offset=cfg.freq_offset,
                       timing_offset=cfg.timing_offset, progress=progress,
                       packet_codes=cfg.packet_codes)


def run_point(cfg: SweepConfig, point: dict, calibration: dict, progress=None) -> dict:
    """Run one operating point through the link of ``cfg.engine`` and score it."""
    t0 = time.perf_counter()
    x, y, clf, pred_orig = _data(cfg)
    n, shape = len(x), tuple(x.shape[1:])
    scheme, extra, packets = _transmission(cfg, point, calibration)
    link = run_link(cfg, packets, point, point_seed(cfg.seed, point["key"]), progress)
    rx = scheme.receive(link.received, n, shape)

    pred, psnr, ssim = _image_scores(cfg)(rx.images)
    scorer, reason = _lpips(cfg)
    result = score_point(point, extra, x, y, pred_orig, pred, rx, scheme.accounting, link,
                         scorer, reason, cfg.lpips_size, cfg.examples_per_class,
                         per_image=(psnr, ssim))
    result["link"]["engine"] = cfg.engine
    if cfg.engine == "fast":
        from ..core.fastlink import bp
        schedule = bp.DEFAULT_SCHEDULE[cfg.decoder]
        result["link"].update(decoder=cfg.decoder, device=cfg.device, decoder_schedule=schedule,
                              decoder_stall=bp.DEFAULT_STALL if schedule == "layered" else 0,
                              codewords=link.codewords, decoder_iterations=link.iterations)
    result["wall_s"] = time.perf_counter() - t0
    return result


def _gnuradio_version():
    try:
        from gnuradio import gr
        return gr.version()
    except Exception:
        return None


def _worker(args):
    """One point in a worker process (local pool or Dask worker): ``(cfg_dict, point,
    calibration, threads)``; ``threads`` caps torch's and the decoder's threads (``None``:
    leave them)."""
    cfg_dict, point, calibration, threads = args
    if threads:
        import numba
        import torch
        torch.set_num_threads(threads)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return run_point(SweepConfig(**cfg_dict), point, calibration)


def _open_results(cfg: SweepConfig, out: Path) -> tuple:
    """``(results, calibration)``: the file at ``out`` resumed, or a new one."""
    if out.exists():
        results = res.resume(res.load_results(out), cfg.fixed(),
                             SweepConfig.predating_defaults(), cfg.grid_lists(), str(out))
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
              limit_points: int | None = None, scheduler=None) -> dict:
    """Run every point of the grid not yet in ``out``; returns the results object.

    ``workers``: points run in parallel local processes (1: in this process).
    ``scheduler``: a Dask distributed scheduler's address (``"tcp://host:8786"``) or a
    ``distributed.Client``; the points then run on that cluster's workers instead (each
    worker needs gr-semcom installed, README "Sweeping on a cluster"), ``workers`` is
    ignored, and the results land in ``out`` here as they come back.
    """
    cfg.check()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    points = grid(cfg)
    results, calibration = _open_results(cfg, out)
    results["config"].pop("data_root", None)
    # the back end and device of this run (recorded per point too: a resume may change them)
    results["config"].update(engine=cfg.engine, decoder=cfg.decoder, device=cfg.device)
    results["versions"] = res.versions(gnuradio=_gnuradio_version())
    if cfg.engine == "fast":
        import numba
        results["versions"]["numba"] = numba.__version__
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
    t0, totals = time.perf_counter(), {"images": 0, "bits": 0, "link_s": 0.0}

    def record(point):
        res.record_point(results, point)
        res.save_results(out, results)
        totals["images"] += point["images"]
        totals["bits"] += point["packet_bits"]
        totals["link_s"] += point["link"]["wall_s"]
        elapsed = max(time.perf_counter() - t0, 1e-9)
        # images/s over the wall time; link Mbit/s: packet bits over the link's own time
        bar.set_postfix_str(
            f"{totals['images'] / elapsed:.0f} images/s, link "
            f"{totals['bits'] / max(totals['link_s'], 1e-9) / 1e6:.2f} Mbit/s, "
            f"{point['key']}: RR {point['recognition_rate_ratio']['value']:.3f}")
        bar.update(1)

    cfg_dict = asdict(cfg)
    try:
        if scheduler is not None:
            _run_on_cluster(scheduler, cfg, cfg_dict, todo, calibration, record)
        elif workers <= 1:
            for point in todo:
                record(run_point(cfg, point, calibration))
        else:
            import multiprocessing as mp
            import os
            from concurrent.futures import ProcessPoolExecutor, as_completed
            # each process gets its share of the cores (torch and the Numba decoder)
            threads = max(1, (os.cpu_count() or 1) // workers)
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
                futures = [pool.submit(_worker, (cfg_dict, p, calibration, threads))
                           for p in todo]
                for fut in as_completed(futures):
                    record(fut.result())
    finally:
        bar.close()
    return results


def _run_on_cluster(scheduler, cfg, cfg_dict, todo, calibration, record):
    """Run ``todo`` on a Dask distributed cluster, recording each point as it comes back."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ValueError("--scheduler needs dask.distributed: install the pinned dask and "
                         "distributed of requirements.txt (`make install` does)") from None
    own = not isinstance(scheduler, Client)
    try:
        # how long to try is dask's "distributed.comm.timeouts.connect" (30 s by default)
        client = Client(scheduler) if own else scheduler
    except OSError as exc:
        raise ValueError(f"cannot reach the Dask scheduler {scheduler!r} ({exc}); start one "
                         "with `dask scheduler` and give its tcp://HOST:PORT") from None
    try:
        if not client.scheduler_info().get("workers"):
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise ValueError(f"the Dask scheduler {scheduler!r} has no workers after 60 s; "
                                 "start some with `dask worker <scheduler address>`") from None
        # threads=None: a Dask worker's own --nthreads decides how many points it runs at once
        run = uuid.uuid4().hex[:8]
        futures = [client.submit(_worker, (cfg_dict, p, calibration, None), pure=False,
                                 key=f"semcom-{cfg.name}-{run}-{p['key']}")
                   for p in todo]
        for fut in as_completed(futures):
            record(fut.result())
    finally:
        if own:
            client.close()
