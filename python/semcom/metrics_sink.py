"""Metrics sink: image quality, classifier accuracy and recognition-rate ratio of a live link."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr

from .core import metrics, registry
from .phy.pdu import SYSTEM_PORT, DoneGate, MalformedPdu, parse_image_pdu

__all__ = ["metrics_sink", "CLASSIFIERS"]

CLASSIFIERS = ("shipped", "file", "none")
DATASETS = registry.keys(registry.DATASETS)


def _mean(values):
    return float(np.mean(values)) if values else None


def _ratio(num, den):
    return num / den if den else None


class metrics_sink(gr.basic_block):
    """Compare the received images with the originals, as the paper's figures do.

    Inputs (message ports):
        ``ref``: original image PDUs (``docs/pdu.md``; ``image_id`` and ``shape`` required,
            ``label`` needed for the accuracy figures), e.g. from the image source.
        ``rx``: received image PDUs, matched to ``ref`` by ``image_id`` in either order.
        ``pkt`` (optional): any PDU whose metadata may carry ``crc_ok`` (bool; absent counts
            as ok), ``packet_type`` (str) and ``snr_db`` (float): packets ok / failed per type
            and the mean SNR estimate.

    Output: ``stats``, a PDU ``pmt.cons(pmt.to_pmt(summary()), u8vector[0])`` after every
    ``update_every`` received images and at stop.

    Figures (:meth:`summary`):
        * ``images_sent`` (refs), ``images_received`` (rx, unique ids), ``images_matched``,
          ``images_unmatched`` (rx whose ref has not come), ``images_pending``,
          ``images_lost`` (a ref without rx is lost at stop, when ``summary(final=True)``
          is asked, or ``lost_after_s`` seconds after it came), ``loss_rate``.
        * ``psnr_db``, ``ssim``: means over matched pairs (identical images count 100 dB;
          SSIM needs images of at least 7×7 pixels).
        * Over the matched, labelled, classifiable images: ``accuracy_original``,
          ``accuracy_received`` and ``recognition_rate_ratio`` = received / original
          (paper eq. 1).
        * End to end, over the labelled refs that are matched or lost (a lost image counts
          as misclassified): ``accuracy_original_all``, ``accuracy_received_end_to_end`` and
          ``recognition_rate_ratio_end_to_end``.
        * ``packets_ok``, ``packets_failed``, ``packets_by_type``, ``snr_db_mean``;
          ``malformed``, ``duplicates``, ``shape_mismatch`` (dropped or odd PDUs).
        Undefined figures (nothing to average, zero denominator) are ``None``.

    Args:
        classifier: ``'shipped'`` (the module's classifier for ``dataset``), ``'file'``
            (``classifier_path``) or ``'none'`` (no accuracy figures).
        dataset: ``'mnist'`` or ``'cifar10'`` (classifier ``'shipped'``).
        classifier_path: a classifier file in the zoo format (classifier ``'file'``).
        batch_size: images classified per torch call (1..4096); pending images are also
            classified whenever figures are asked for.
        update_every: post ``stats`` every this many received images (>= 1).
        json_path: write the figures to this JSON file at stop; ``''`` = no file.
        write_every: also write it every this many received images; 0 = only at stop.
        lost_after_s: a ref with no rx after this many seconds counts as lost; 0 = only at
            stop (use it when the link drops images and the run is long).
        linger_s: seconds of silence after a ``done`` before the sink ends anyway (>= 0).

    Images whose shape differs from the classifier's input are left out of the accuracy
    figures; a received image whose shape differs from its original counts as
    ``shape_mismatch``, has no PSNR/SSIM and counts as misclassified.
    """

    def __init__(self, classifier="shipped", dataset="mnist", classifier_path="", batch_size=16,
                 update_every=16, json_path="", write_every=0, lost_after_s=0.0, linger_s=3.0):
        gr.basic_block.__init__(self, name="metrics_sink", in_sig=None, out_sig=None)
        if classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}, got {classifier!r}")
        if classifier == "shipped" and dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
        if classifier == "file" and not str(classifier_path).strip():
            raise ValueError("classifier_path must name a classifier file when classifier is 'file'")
        if not 1 <= int(batch_size) <= 4096:
            raise ValueError(f"batch_size must be in 1..4096, got {batch_size}")
        self._check_update_every(update_every)
        self._check_write_every(write_every)
        if not float(lost_after_s) >= 0:
            raise ValueError(f"lost_after_s must be >= 0 s (0 = only at stop), got {lost_after_s}")
        if not float(linger_s) >= 0:
            raise ValueError(f"linger_s must be >= 0 s, got {linger_s}")
        self._json_path = Path(json_path).expanduser() if str(json_path).strip() else None
        if self._json_path is not None:
            try:
                self._json_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"json_path: cannot create folder {self._json_path.parent}: {exc}") from exc

        self._classifier, self._classifier_name, self._classifier_shape = None, "none", None
        if classifier != "none":
            from .core import zoo
            from .core.models import DATASET_SHAPES

            path = classifier_path if classifier == "file" else None
            # ModelFileError names the missing file and how to train one.
            self._classifier = zoo.load_classifier(dataset, path)
            self._classifier_shape = DATASET_SHAPES[self._classifier.dataset]
            self._classifier_name = (f"file:{classifier_path}" if path
                                     else f"shipped:{self._classifier.dataset}")

        self._batch_size = int(batch_size)
        self._update_every = int(update_every)
        self._write_every = int(write_every)
        self._lost_after_s = float(lost_after_s)
        self._config = {
            "classifier": self._classifier_name, "batch_size": self._batch_size,
            "update_every": self._update_every, "write_every": self._write_every,
            "lost_after_s": self._lost_after_s,
        }

        self._lock = threading.RLock()
        self._reset_figures()
        self._gate = DoneGate(self, ("ref", "rx", "pkt"), linger_s, implied={"ref": "rx"},
                              on_finish=self._finalize)
        self._stats_port = pmt.intern("stats")
        self.message_port_register_out(self._stats_port)
        for port, handler in (("ref", self._handle_ref), ("rx", self._handle_rx),
                              ("pkt", self._handle_pkt)):
            self.message_port_register_in(pmt.intern(port))
            self.set_msg_handler(pmt.intern(port), handler)
        self.set_msg_handler(SYSTEM_PORT, self._handle_system)

    def _reset_figures(self):
        self._refs = {}        # id -> {"image", "label", "t", "pred"}
        self._rx = {}          # id -> {"image", "pred", "psnr", "ssim", "mismatch"}
        self._queue_ref, self._queue_rx = [], []     # ids awaiting classification
        self._packets = {}     # packet_type -> [ok, failed]
        self._snr = []
        self._n_malformed = self._n_duplicates = self._n_mismatch = 0
        self._since_update = self._since_write = 0
        self._final = False

    # ----------------------------------------------------------------- setters / getters
    @staticmethod
    def _check_update_every(update_every):
        if int(update_every) < 1:
            raise ValueError(f"update_every must be >= 1 image, got {update_every}")

    @staticmethod
    def _check_write_every(write_every):
        if int(write_every) < 0:
            raise ValueError(f"write_every must be >= 0 (0 = only at stop), got {write_every}")

    def set_update_every(self, update_every):
        """Post ``stats`` every ``update_every`` received images from now on."""
        self._check_update_every(update_every)
        with self._lock:
            self._update_every = self._config["update_every"] = int(update_every)

    def set_write_every(self, write_every):
        """Write the JSON file every ``write_every`` received images (0 = only at stop)."""
        self._check_write_every(write_every)
        with self._lock:
            self._write_every = self._config["write_every"] = int(write_every)

    def set_lost_after_s(self, lost_after_s):
        """Count a ref as lost when its rx has not come after this many seconds (0 = at stop)."""
        if not float(lost_after_s) >= 0:
            raise ValueError(f"lost_after_s must be >= 0 s, got {lost_after_s}")
        with self._lock:
            self._lost_after_s = self._config["lost_after_s"] = float(lost_after_s)

    def set_linger_s(self, linger_s):
        """Seconds of silence after a ``done`` before the sink ends anyway."""
        if not float(linger_s) >= 0:
            raise ValueError(f"linger_s must be >= 0 s, got {linger_s}")
        self._gate.linger_s = float(linger_s)

    def reset(self):
        """Forget every figure (e.g. between two operating points of a live link)."""
        with self._lock:
            self._reset_figures()

    # ----------------------------------------------------------------- handlers
    def _parse(self, msg, port):
        try:
            return parse_image_pdu(msg)
        except MalformedPdu as exc:
            self._n_malformed += 1
            self.logger.warn(f"dropped a PDU on '{port}': {exc}")
            return None

    def _handle_ref(self, msg):
        with self._gate.handling("ref"):
            self._on_ref(msg)

    def _on_ref(self, msg):
        pdu = self._parse(msg, "ref")
        if pdu is None:
            return
        with self._lock:
            if pdu.image_id in self._refs:
                self._n_duplicates += 1
                return
            self._refs[pdu.image_id] = {"image": pdu.image, "label": pdu.label,
                                        "t": time.monotonic(), "pred": None}
            if self._classifiable(pdu.image):
                self._queue_ref.append(pdu.image_id)
            if pdu.image_id in self._rx:
                self._match(pdu.image_id)
            if len(self._queue_ref) >= self._batch_size:
                self._classify_queued()

    def _handle_rx(self, msg):
        with self._gate.handling("rx"):
            self._on_rx(msg)

    def _on_rx(self, msg):
        pdu = self._parse(msg, "rx")
        if pdu is None:
            return
        with self._lock:
            if pdu.image_id in self._rx:
                self._n_duplicates += 1
                return
            self._rx[pdu.image_id] = {"image": pdu.image, "pred": None, "psnr": None,
                                      "ssim": None, "mismatch": False}
            if self._classifiable(pdu.image):
                self._queue_rx.append(pdu.image_id)
            if pdu.image_id in self._refs:
                self._match(pdu.image_id)
            if len(self._queue_rx) >= self._batch_size:
                self._classify_queued()
            self._since_update += 1
            self._since_write += 1
            post = self._since_update >= self._update_every
            write = self._write_every and self._since_write >= self._write_every
        if post:
            self._post_stats()
        if write:
            self.write_json()

    def _handle_pkt(self, msg):
        with self._gate.handling("pkt"):
            self._on_pkt(msg)

    def _on_pkt(self, msg):
        if not (pmt.is_pair(msg) and pmt.is_dict(pmt.car(msg))):
            self._n_malformed += 1
            self.logger.warn("dropped a PDU on 'pkt': not a pair with a metadata dict")
            return
        meta = pmt.car(msg)
        nil = pmt.PMT_NIL
        crc = pmt.dict_ref(meta, pmt.intern("crc_ok"), nil)
        kind = pmt.dict_ref(meta, pmt.intern("packet_type"), nil)
        snr = pmt.dict_ref(meta, pmt.intern("snr_db"), nil)
        try:
            ok = True if pmt.eq(crc, nil) else bool(pmt.to_python(crc))
        except Exception:  # an odd crc_ok value counts as a failed packet
            ok = False
        kind = "unknown" if pmt.eq(kind, nil) else (
            pmt.symbol_to_string(kind) if pmt.is_symbol(kind) else str(kind))
        with self._lock:
            counts = self._packets.setdefault(kind, [0, 0])
            counts[0 if ok else 1] += 1
            if pmt.is_number(snr) and not pmt.is_complex(snr):
                value = pmt.to_double(snr)
                if math.isfinite(value):
                    self._snr.append(value)

    def _handle_system(self, msg):
        self._gate.on_system(msg)

    # ----------------------------------------------------------------- figures
    def _classifiable(self, image) -> bool:
        return self._classifier is not None and image.shape == self._classifier_shape

    def _match(self, image_id):
        """Both images of ``image_id`` are here: quality figures, then free what is done."""
        ref, rx = self._refs[image_id], self._rx[image_id]
        if ref["image"].shape != rx["image"].shape:
            self._n_mismatch += 1
            rx["mismatch"] = True
            self.logger.warn(f"image {image_id}: received shape {rx['image'].shape} differs "
                             f"from the original {ref['image'].shape}")
        else:
            rx["psnr"] = metrics.psnr(ref["image"][None], rx["image"][None])
            try:
                rx["ssim"] = metrics.ssim(ref["image"][None], rx["image"][None])
            except ValueError as exc:   # images smaller than the 7x7 SSIM window
                self.logger.warn(f"image {image_id}: no SSIM: {exc}")
        self._release(image_id)

    def _release(self, image_id):
        ref, rx = self._refs.get(image_id), self._rx.get(image_id)
        if ref is None or rx is None:
            return
        if image_id not in self._queue_ref:
            ref["image"] = None
        if image_id not in self._queue_rx:
            rx["image"] = None

    def _classify_queued(self):
        if self._classifier is None:
            return
        from .core.evaluate import classify

        done = []
        for queue, store in ((self._queue_ref, self._refs), (self._queue_rx, self._rx)):
            if not queue:
                continue
            ids = list(queue)
            queue.clear()
            done += ids
            try:
                preds = classify(self._classifier, np.stack([store[i]["image"] for i in ids]),
                                 batch=self._batch_size)
            except Exception as exc:  # a torch failure must not stop the flowgraph
                self.logger.error(f"classifier failed on {len(ids)} images: {exc}")
                continue
            for i, p in zip(ids, preds):
                store[i]["pred"] = int(p)
        for i in done:
            self._release(i)

    def summary(self, final: bool = False) -> dict:
        """All figures now (plain Python types); ``final`` counts every pending ref as lost."""
        with self._lock:
            self._classify_queued()
            final = final or self._final
            now = time.monotonic()
            matched, lost = [], []
            for i, ref in self._refs.items():
                if i in self._rx:
                    matched.append(i)
                elif final or (self._lost_after_s and now - ref["t"] >= self._lost_after_s):
                    lost.append(i)
            pending = len(self._refs) - len(matched) - len(lost)

            def ok_orig(i):
                return self._refs[i]["pred"] == self._refs[i]["label"]

            def ok_rx(i):
                rx = self._rx[i]
                return not rx["mismatch"] and rx["pred"] == self._refs[i]["label"]

            scored = [i for i in matched
                      if self._refs[i]["label"] is not None and self._refs[i]["pred"] is not None]
            scored_lost = [i for i in lost
                           if self._refs[i]["label"] is not None and self._refs[i]["pred"] is not None]
            n, n_all = len(scored), len(scored) + len(scored_lost)
            acc_orig = _ratio(sum(ok_orig(i) for i in scored), n)
            acc_rx = _ratio(sum(ok_rx(i) for i in scored), n)
            acc_orig_all = _ratio(sum(ok_orig(i) for i in scored + scored_lost), n_all)
            acc_rx_e2e = _ratio(sum(ok_rx(i) for i in scored), n_all)
            ok = sum(c[0] for c in self._packets.values())
            failed = sum(c[1] for c in self._packets.values())
            return {
                "images_sent": len(self._refs),
                "images_received": len(self._rx),
                "images_matched": len(matched),
                "images_unmatched": len(self._rx) - len(matched),
                "images_pending": pending,
                "images_lost": len(lost),
                "loss_rate": _ratio(len(lost), len(matched) + len(lost)),
                "psnr_db": _mean([self._rx[i]["psnr"] for i in matched
                                  if self._rx[i]["psnr"] is not None]),
                "ssim": _mean([self._rx[i]["ssim"] for i in matched
                               if self._rx[i]["ssim"] is not None]),
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
                                    for k, c in sorted(self._packets.items())},
                "snr_db_mean": _mean(self._snr),
                "malformed": self._n_malformed,
                "duplicates": self._n_duplicates,
                "shape_mismatch": self._n_mismatch,
                "classifier": self._classifier_name,
                "final": final,
            }

    def _post_stats(self, summary=None):
        with self._lock:
            self._since_update = 0
        summary = summary or self.summary()
        try:
            self.message_port_pub(self._stats_port,
                                  pmt.cons(pmt.to_pmt(summary), pmt.init_u8vector(0, [])))
        except Exception as exc:  # a conversion surprise must not stop the flowgraph
            self.logger.error(f"cannot post stats: {exc}")

    def write_json(self, summary=None):
        """Write the figures to ``json_path`` (atomically); returns the path or ``None``."""
        with self._lock:
            self._since_write = 0
        if self._json_path is None:
            return None
        summary = summary or self.summary()
        doc = {
            "name": "metrics_sink",
            "description": "figures of one live run measured by semcom.metrics_sink",
            "config": dict(self._config),
            "points": [summary],
        }
        tmp = self._json_path.with_name(self._json_path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(doc, indent=2) + "\n")
            os.replace(tmp, self._json_path)
            return self._json_path
        except OSError as exc:
            self.logger.error(f"cannot write {self._json_path}: {exc}")
            return None

    # ----------------------------------------------------------------- scheduler hooks
    def start(self):
        with self._lock:
            self._final = False
        self._gate.start()
        return True

    def _finalize(self):
        """Last figures: every pending ref is lost; post them and write the file once."""
        with self._lock:
            if self._final:
                return
            self._final = True
            summary = self.summary(final=True)
        self._post_stats(summary)
        self.write_json(summary)

    def stop(self):
        self._gate.stop()
        self._finalize()
        return True
