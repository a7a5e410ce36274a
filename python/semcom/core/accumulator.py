# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Figures of a live link in bounded memory: what the ``metrics_sink`` block measures.

Originals (``ref``) and received images (``rx``) arrive in any order and are matched by
image id. A matched pair is scored once (PSNR, SSIM, classifier predictions) and then
folded into running sums; only images still waiting for their partner or for the
classifier are kept, and those in bounded windows:

* originals waiting for their received image: at most ``window`` (the oldest is then
  counted lost), or until ``lost_after_s`` seconds have passed;
* received images waiting for their original: at most ``window`` (the oldest is then
  counted unmatched for good);
* images waiting for the classifier: at most ``batch_size`` per side;
* ids remembered for duplicate detection: the last ``history`` per side.

So memory does not grow with the number of images, however long the link runs.

The results file of a live run uses the sweep's schema (:func:`results_document`), so
``semcom plot`` draws it next to sweep points.

PyTorch and NumPy only: this module never imports GNU Radio.
"""

from __future__ import annotations

import base64
import collections
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from . import metrics
# The results schema is defined with the sweep for now.
from .results import SCHEMA, SCHEMA_VERSION, validate_results

__all__ = ["RunningMean", "MetricsAccumulator", "results_document"]

_log = logging.getLogger(__name__)


class RunningMean:
    """Mean and 95 % interval of a stream of numbers in O(1) memory (Welford's update),
    the same interval as :func:`.metrics.mean_interval` gives for the whole list."""

    __slots__ = ("n", "mean", "_m2")

    def __init__(self):
        self.n, self.mean, self._m2 = 0, 0.0, 0.0

    def add(self, value: float) -> None:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self._m2 += delta * (value - self.mean)

    def merged(self, values) -> "RunningMean":
        """A copy with ``values`` added (for figures that count pending images too)."""
        out = RunningMean()
        out.n, out.mean, out._m2 = self.n, self.mean, self._m2
        for v in values:
            out.add(v)
        return out

    def value(self):
        """The mean, or ``None`` when nothing was added."""
        return self.mean if self.n else None

    def interval(self, z: float = 1.96):
        """``(mean, low, high)`` or ``None``: ``mean ± z · s / √n``."""
        if not self.n:
            return None
        if self.n == 1:
            return self.mean, self.mean, self.mean
        half = z * math.sqrt(self._m2 / (self.n - 1)) / math.sqrt(self.n)
        return self.mean, self.mean - half, self.mean + half


class _RecentIds:
    """The last ``capacity`` ids seen (for duplicate detection in bounded memory)."""

    def __init__(self, capacity: int):
        self._order = collections.deque()
        self._set = set()
        self.capacity = capacity

    def add(self, image_id) -> None:
        self._order.append(image_id)
        self._set.add(image_id)
        while len(self._order) > self.capacity:
            self._set.discard(self._order.popleft())

    def __contains__(self, image_id) -> bool:
        return image_id in self._set


@dataclass
class _Ref:
    image: np.ndarray | None    # uint8 [C, H, W], kept while a partner or the classifier needs it
    label: int | None
    t: float
    pred: int | None = None
    queued: bool = False        # waiting for the classifier


@dataclass
class _Rx:
    image: np.ndarray | None
    pred: int | None = None
    queued: bool = False


@dataclass
class _Pair:
    image_id: int
    ref: _Ref
    rx: _Rx
    psnr: float | None
    ssim: float | None
    mismatch: bool


class MetricsAccumulator:
    """Running figures of a live link (see the module docstring; keys in :meth:`summary`).

    Args:
        classify: ``classify(images uint8 [N, C, H, W]) -> int [N]`` class predictions, or
            ``None`` for no accuracy figures.
        classifier_shape: ``(C, H, W)`` the classifier takes; other images are not
            classified.
        classifier_name: reported as ``classifier`` in the figures.
        batch_size: images classified per call (and the most that wait for it), >= 1.
        window: originals (and received images) kept while waiting for their partner, >= 1.
        history: ids remembered per side for duplicate detection; default ``4 · window``.
        lost_after_s: an original without partner after this many seconds is lost (0 =
            only at the end).
        log: ``log(level, message)`` for what the caller should report (``"warn"``,
            ``"error"``); default the ``logging`` module.
        clock: seconds, monotonic (tests may pass their own).
    """

    def __init__(self, classify=None, classifier_shape=None, classifier_name="none",
                 batch_size: int = 16, window: int = 4096, history: int | None = None,
                 lost_after_s: float = 0.0, log=None, clock=time.monotonic):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if int(window) < 1:
            raise ValueError(f"window must be >= 1 image, got {window}")
        if not float(lost_after_s) >= 0:
            raise ValueError(f"lost_after_s must be >= 0 s, got {lost_after_s}")
        self._classify = classify
        self._classifier_shape = tuple(classifier_shape) if classifier_shape else None
        self.classifier_name = classifier_name
        self.batch_size = int(batch_size)
        self.window = int(window)
        self.history = int(history) if history else 4 * self.window
        self.lost_after_s = float(lost_after_s)
        self._log = log or (lambda level, msg: getattr(
            _log, "warning" if level == "warn" else level)(msg))
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget every figure."""
        self._refs: collections.OrderedDict = collections.OrderedDict()   # pending originals
        self._rxs: collections.OrderedDict = collections.OrderedDict()    # pending received
        self._seen_ref, self._seen_rx = _RecentIds(self.history), _RecentIds(self.history)
        self._queue_ref, self._queue_rx = [], []        # entries waiting for the classifier
        self._waiting: list[_Pair] = []                 # matched, waiting for predictions
        self.n_sent = self.n_received = self.n_matched = 0
        self.n_lost = self.n_unmatched_dropped = self.n_late = 0
        self.n_malformed = self.n_duplicates = self.n_mismatch = 0
        self.psnr, self.ssim = RunningMean(), RunningMean()
        # end to end, the sweep's convention: a lost image is scored as the all-black image
        self.psnr_e2e, self.ssim_e2e = RunningMean(), RunningMean()
        self.scored = self.ok_orig = self.ok_rx = 0
        self.scored_lost = self.ok_orig_lost = 0
        self.packets: dict = {}                         # packet_type -> [ok, failed]
        self.snr = RunningMean()
        self.examples: dict = {}                        # label -> (image id, rx image)

    # ----------------------------------------------------------------- inputs
    def add_ref(self, image_id: int, image: np.ndarray, label: int | None) -> bool:
        """An original image (uint8 ``[C, H, W]``) with its label (or ``None``); ``False``
        when its id was seen before (a duplicate, counted and dropped)."""
        if image_id in self._refs or image_id in self._seen_ref:
            self.n_duplicates += 1
            return False
        self._seen_ref.add(image_id)
        self.n_sent += 1
        ref = _Ref(image, label, self._clock())
        self._enqueue(ref, self._queue_ref)
        rx = self._rxs.pop(image_id, None)
        if rx is not None:
            self._match(image_id, ref, rx)
        else:
            self._refs[image_id] = ref
            while len(self._refs) > self.window:       # oldest original: lost
                old_id, old = self._refs.popitem(last=False)
                self._lose(old_id, old)
        self._after_input()
        return True

    def add_rx(self, image_id: int, image: np.ndarray) -> bool:
        """A received image (uint8 ``[C, H, W]``); ``False`` when its id was seen before."""
        if image_id in self._rxs or image_id in self._seen_rx:
            self.n_duplicates += 1
            return False
        self._seen_rx.add(image_id)
        self.n_received += 1
        ref = self._refs.pop(image_id, None)
        if ref is None and image_id in self._seen_ref:
            # its original was counted lost already (window or lost_after_s): too late
            self.n_late += 1
            self._after_input()
            return True
        rx = _Rx(image)
        self._enqueue(rx, self._queue_rx)
        if ref is not None:
            self._match(image_id, ref, rx)
        else:
            self._rxs[image_id] = rx
            while len(self._rxs) > self.window:
                self._rxs.popitem(last=False)
                self.n_unmatched_dropped += 1
        self._after_input()
        return True

    def add_packet(self, packet_type: str, ok: bool, snr_db=None) -> None:
        """A packet's status: its type, whether its CRC passed and the PHY's SNR (dB)."""
        counts = self.packets.setdefault(packet_type, [0, 0])
        counts[0 if ok else 1] += 1
        if snr_db is not None and math.isfinite(snr_db):
            self.snr.add(float(snr_db))

    def count_malformed(self) -> None:
        """A message that could not be read at all."""
        self.n_malformed += 1

    # ----------------------------------------------------------------- internals
    def _classifiable(self, image) -> bool:
        return self._classify is not None and image.shape == self._classifier_shape

    def _enqueue(self, entry, queue) -> None:
        if self._classifiable(entry.image):
            entry.queued = True
            queue.append(entry)

    def _after_input(self) -> None:
        if len(self._queue_ref) >= self.batch_size or len(self._queue_rx) >= self.batch_size:
            self.classify_queued()
        self.expire()

    def _match(self, image_id, ref: _Ref, rx: _Rx) -> None:
        psnr = ssim = None
        mismatch = ref.image.shape != rx.image.shape
        if mismatch:
            self.n_mismatch += 1
            self._log("warn", f"image {image_id}: received shape {rx.image.shape} differs "
                              f"from the original {ref.image.shape}")
        else:
            psnr = metrics.psnr(ref.image[None], rx.image[None])
            try:
                ssim = metrics.ssim(ref.image[None], rx.image[None])
            except ValueError as exc:   # images smaller than the 7x7 SSIM window
                self._log("warn", f"image {image_id}: no SSIM: {exc}")
        pair = _Pair(image_id, ref, rx, psnr, ssim, mismatch)
        if mismatch:
            pair.psnr, pair.ssim = _black_scores(ref.image)
        if ref.queued or rx.queued:
            self._waiting.append(pair)
        else:
            self._finish(pair)

    def _finish(self, pair: _Pair) -> None:
        """Fold a matched, classified pair into the sums and free its images."""
        ref, rx = pair.ref, pair.rx
        self.n_matched += 1
        if not pair.mismatch:
            self.psnr.add(pair.psnr)
            if pair.ssim is not None:
                self.ssim.add(pair.ssim)
        self.psnr_e2e.add(pair.psnr)           # a mismatched image counts as black
        if pair.ssim is not None:
            self.ssim_e2e.add(pair.ssim)
        if ref.label is not None and ref.pred is not None:
            self.scored += 1
            self.ok_orig += ref.pred == ref.label
            right = not pair.mismatch and rx.pred == ref.label
            self.ok_rx += right
            if ref.label not in self.examples and not pair.mismatch and len(self.examples) < 32:
                self.examples[ref.label] = (pair.image_id, rx.image)
        ref.image = rx.image = None

    def _lose(self, image_id, ref: _Ref) -> None:
        """An original whose received image never came: count it, free it."""
        if ref.queued:
            self.classify_queued()
        self.n_lost += 1
        self._score_lost(ref, self.psnr_e2e, self.ssim_e2e)
        if ref.label is not None and ref.pred is not None:
            self.scored_lost += 1
            self.ok_orig_lost += ref.pred == ref.label
        ref.image = None

    @staticmethod
    def _score_lost(ref: _Ref, psnr: RunningMean, ssim: RunningMean) -> None:
        p, s = _black_scores(ref.image)
        psnr.add(p)
        if s is not None:
            ssim.add(s)

    def classify_queued(self) -> None:
        """Classify every image waiting for it, then finish the pairs that waited."""
        for queue in (self._queue_ref, self._queue_rx):
            if not queue:
                continue
            entries = list(queue)
            queue.clear()
            try:
                preds = self._classify(np.stack([e.image for e in entries]))
            except Exception as exc:  # a torch failure must not stop the link
                self._log("error", f"classifier failed on {len(entries)} images: {exc}")
                preds = [None] * len(entries)
            for e, p in zip(entries, preds):
                e.pred = None if p is None else int(p)
                e.queued = False
        waiting, self._waiting = self._waiting, []
        for pair in waiting:
            self._finish(pair)

    def expire(self) -> None:
        """Count as lost the originals older than ``lost_after_s`` (when it is > 0)."""
        if not self.lost_after_s:
            return
        now = self._clock()
        while self._refs:
            image_id, ref = next(iter(self._refs.items()))
            if now - ref.t < self.lost_after_s:
                break
            del self._refs[image_id]
            self._lose(image_id, ref)

    def pending_images(self) -> int:
        """Images held now (originals and received images waiting for a partner or for the
        classifier): bounded by the windows, whatever the number of images so far."""
        return len(self._refs) + len(self._rxs) + len(self._waiting)

    # ----------------------------------------------------------------- figures
    def summary(self, final: bool = False) -> dict:
        """Every figure now (plain Python types); ``final`` counts every pending original
        as lost (without forgetting it, so a restarted link carries on)."""
        self.classify_queued()
        self.expire()
        pending = list(self._refs.values())
        lost = self.n_lost + (len(pending) if final else 0)
        scored_lost, ok_orig_lost = self.scored_lost, self.ok_orig_lost
        if final:
            for ref in pending:
                if ref.label is not None and ref.pred is not None:
                    scored_lost += 1
                    ok_orig_lost += ref.pred == ref.label
        n, n_all = self.scored, self.scored + scored_lost
        acc_orig = _ratio(self.ok_orig, n)
        acc_rx = _ratio(self.ok_rx, n)
        acc_orig_all = _ratio(self.ok_orig + ok_orig_lost, n_all)
        acc_rx_e2e = _ratio(self.ok_rx, n_all)
        ok = sum(c[0] for c in self.packets.values())
        failed = sum(c[1] for c in self.packets.values())
        return {
            "images_sent": self.n_sent,
            "images_received": self.n_received,
            "images_matched": self.n_matched,
            "images_unmatched": len(self._rxs) + self.n_unmatched_dropped,
            "images_late": self.n_late,
            "images_pending": 0 if final else len(pending),
            "images_lost": lost,
            "loss_rate": _ratio(lost, self.n_matched + lost),
            "psnr_db": self.psnr.value(),
            "ssim": self.ssim.value(),
            "images_scored": n,
            "accuracy_original": acc_orig,
            "accuracy_received": acc_rx,
            "recognition_rate_ratio": _ratio(acc_rx, acc_orig) if acc_rx is not None else None,
            "images_scored_end_to_end": n_all,
            "accuracy_original_all": acc_orig_all,
            "accuracy_received_end_to_end": acc_rx_e2e,
            "recognition_rate_ratio_end_to_end":
                _ratio(acc_rx_e2e, acc_orig_all) if acc_rx_e2e is not None else None,
            "packets_ok": ok,
            "packets_failed": failed,
            "packets_by_type": {k: {"ok": c[0], "failed": c[1]}
                                for k, c in sorted(self.packets.items())},
            "snr_db_mean": self.snr.value(),
            "malformed": self.n_malformed,
            "duplicates": self.n_duplicates,
            "shape_mismatch": self.n_mismatch,
            "classifier": self.classifier_name,
            "final": final,
        }

    def point(self, summary: dict, *, scheme: str, channel: str, snr_db: float, cr: float,
              key: str, wall_s: float) -> dict:
        """One operating point of the sweep's results schema for these figures.

        ``summary``: what :meth:`summary` returned (kept whole under ``live``). The
        schema's metrics follow the sweep's end-to-end convention: the recognition-rate
        ratio over every labelled original (a lost image counts as misclassified, where
        the sweep classifies the black image) and PSNR/SSIM with each lost image scored
        as the all-black image. The compression ratios are the nominal ``cr``: a live
        sink counts no bits.
        """
        final = summary["final"]
        psnr, ssim = self.psnr_e2e, self.ssim_e2e
        if final and self._refs:      # pending originals count as lost (black) at the end
            blacks = [_black_scores(r.image) for r in self._refs.values()]
            psnr = psnr.merged(p for p, _ in blacks)
            ssim = ssim.merged(s for _, s in blacks if s is not None)
        n_all = summary["images_scored_end_to_end"]
        acc_orig = summary["accuracy_original_all"]
        ratio = None
        if n_all and acc_orig:
            ratio = metrics.ratio_interval(self.ok_rx, n_all, acc_orig)
        images = summary["images_matched"] + summary["images_lost"]
        packets = summary["packets_ok"] + summary["packets_failed"]
        return {
            "key": key, "channel": channel, "snr_db": float(snr_db), "cr": cr, "scheme": scheme,
            "images": images,
            "images_ok": summary["images_matched"] - summary["shape_mismatch"],
            "images_lost": summary["images_lost"],
            "images_failed": summary["shape_mismatch"],
            "failure_rate": _ratio(images - summary["images_matched"]
                                   + summary["shape_mismatch"], images),
            "accuracy_original": acc_orig,
            "accuracy_received": summary["accuracy_received_end_to_end"],
            "recognition_rate_ratio": _ci(ratio),
            "psnr_db": _ci(psnr.interval()),
            "ssim": _ci(ssim.interval()),
            "lpips": None,
            "lpips_unavailable": "the metrics sink does not compute LPIPS",
            "cr_paper": cr, "cr_effective": cr, "cr_measured": False,
            "link": {"packets_received": packets, "crc_failures": summary["packets_failed"],
                     "fer": _ratio(summary["packets_failed"], packets),
                     "packets_by_type": summary["packets_by_type"],
                     "snr_db_mean": summary["snr_db_mean"]},
            "examples": {str(i): _b64(img) for i, img in self.examples.values()},
            "example_labels": {str(i): int(label) for label, (i, _) in self.examples.items()},
            "wall_s": float(wall_s),
            "live": summary,
        }


def results_document(point: dict, *, config: dict, versions: dict, name: str = "metrics_sink",
                     description: str = "") -> dict:
    """A results file in the sweep's schema holding one live point (``semcom plot`` reads
    it like a sweep's). Raises :class:`~.sweep.ResultsError` if it would not validate."""
    doc = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "name": name,
           "description": description or "figures of one live run measured by semcom.metrics_sink",
           "config": dict(config), "versions": dict(versions), "calibration": {},
           "lpips": {"available": False, "reason": "the metrics sink does not compute LPIPS"},
           "points": [point]}
    validate_results(doc, name)
    return doc


# --------------------------------------------------------------------------- helpers

def _ratio(num, den):
    return num / den if den else None


def _ci(triple) -> dict:
    """``{"value", "ci": [low, high]}``; all ``None`` for an undefined figure (no
    classifier, no image yet), which the schema accepts and the plots leave out."""
    if triple is None:
        return {"value": None, "ci": [None, None]}
    return {"value": triple[0], "ci": [triple[1], triple[2]]}


def _b64(image) -> str:
    return base64.b64encode(np.ascontiguousarray(image, dtype=np.uint8).tobytes()).decode()


def _black_scores(image) -> tuple[float, float | None]:
    """PSNR and SSIM of the all-black image against ``image`` (SSIM ``None`` when the image
    is smaller than the SSIM window)."""
    black = np.zeros_like(image)[None]
    psnr = metrics.psnr(image[None], black)
    try:
        ssim = metrics.ssim(image[None], black)
    except ValueError:
        ssim = None
    return psnr, ssim
