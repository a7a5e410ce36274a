# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Metrics sink: image quality, classifier accuracy and recognition-rate ratio of a live link."""

from __future__ import annotations

import json
import math
import os
import platform
import threading
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr

from .core import registry
from .core.accumulator import MetricsAccumulator, results_document
from .core.grid import point_key
from .core.results import ResultsError
from .phy.pdu import SYSTEM_PORT, DoneGate, MalformedPdu, parse_image_pdu

__all__ = ["metrics_sink", "CLASSIFIERS"]

CLASSIFIERS = ("shipped", "file", "none")
DATASETS = registry.keys(registry.DATASETS)


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
          ``images_unmatched`` (rx whose ref has not come), ``images_late`` (rx whose ref
          was counted lost already), ``images_pending``, ``images_lost`` (a ref without rx
          is lost at stop, when ``summary(final=True)`` is asked, ``lost_after_s`` seconds
          after it came, or when ``window`` newer refs wait), ``loss_rate``.
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

    Memory: each matched pair is scored and folded into running sums at once
    (:class:`~.core.accumulator.MetricsAccumulator`); only images waiting for their
    partner (at most ``window`` per side) or for the classifier are kept, so a sink left
    running for days does not grow.

    Args:
        classifier: ``'shipped'`` (the module's classifier for ``dataset``), ``'file'``
            (``classifier_path``) or ``'none'`` (no accuracy figures).
        dataset: ``'mnist'`` or ``'cifar10'``: the classifier ``'shipped'`` for it, and the
            dataset the results file names.
        classifier_path: a classifier file in the zoo format (classifier ``'file'``).
        batch_size: images classified per torch call (1..4096); pending images are also
            classified whenever figures are asked for.
        update_every: post ``stats`` every this many received images (>= 1).
        json_path: write the figures to this JSON file at stop; ``''`` = no file. The file
            is a results file of ``semcom sweep``'s schema with one point (see
            ``docs/pdu.md``), which ``semcom plot`` reads.
        write_every: also write it every this many received images; 0 = only at stop.
        lost_after_s: a ref with no rx after this many seconds counts as lost; 0 = only at
            stop (use it when the link drops images and the run is long).
        linger_s: seconds of silence after a ``done`` before the sink ends anyway (>= 0).
        scheme, channel, snr_db, cr: the operating point the results file records (names
            as ``semcom sweep`` uses them; ``snr_db`` the nominal Es/N0 in dB, ``cr`` the
            nominal compression ratio).
        window: refs (and rx) kept while waiting for their partner (>= 1); beyond it the
            oldest ref counts as lost.

    Images whose shape differs from the classifier's input are left out of the accuracy
    figures; a received image whose shape differs from its original counts as
    ``shape_mismatch``, has no PSNR/SSIM and counts as misclassified.
    """

    def __init__(self, classifier="shipped", dataset="mnist", classifier_path="", batch_size=16,
                 update_every=16, json_path="", write_every=0, lost_after_s=0.0, linger_s=3.0,
                 scheme="aesc-verified", channel="awgn", snr_db=0.0, cr=20.0, window=4096):
        gr.basic_block.__init__(self, name="metrics_sink", in_sig=None, out_sig=None)
        if classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}, got {classifier!r}")
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
        if classifier == "file" and not str(classifier_path).strip():
            raise ValueError(
                "classifier_path must name a classifier file when classifier is 'file'")
        if not 1 <= int(batch_size) <= 4096:
            raise ValueError(f"batch_size must be in 1..4096, got {batch_size}")
        self._check_update_every(update_every)
        self._check_write_every(write_every)
        if not float(lost_after_s) >= 0:
            raise ValueError(f"lost_after_s must be >= 0 s (0 = only at stop), got {lost_after_s}")
        if not float(linger_s) >= 0:
            raise ValueError(f"linger_s must be >= 0 s, got {linger_s}")
        registry.check(registry.SCHEMES, scheme, "scheme")
        registry.check(registry.CHANNELS, channel, "channel")
        if not math.isfinite(float(snr_db)):
            raise ValueError(f"snr_db must be a finite number of dB, got {snr_db}")
        if not float(cr) >= 1:
            raise ValueError(f"cr (compression ratio) must be >= 1 (1 = direct), got {cr}")
        if int(window) < 1:
            raise ValueError(f"window must be >= 1 image, got {window}")
        self._json_path = Path(json_path).expanduser() if str(json_path).strip() else None
        if self._json_path is not None:
            try:
                self._json_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ValueError(
                    f"json_path: cannot create folder {self._json_path.parent}: {exc}") from exc

        classify, classifier_shape, classifier_name, shape_of = None, None, "none", dataset
        if classifier != "none":
            from .core import zoo
            from .core.evaluate import classify as run_classifier
            from .core.models import DATASET_SHAPES

            path = classifier_path if classifier == "file" else None
            # ModelFileError names the missing file and how to train one.
            model = zoo.load_classifier(dataset, path)
            classifier_shape = DATASET_SHAPES[model.dataset]
            classifier_name = f"file:{classifier_path}" if path else f"shipped:{model.dataset}"
            shape_of = model.dataset
            classify = lambda images: run_classifier(model, images, batch=int(batch_size))  # noqa: E731

        self._update_every = int(update_every)
        self._write_every = int(write_every)
        # a whole ratio is written as the sweep's grids write it (key "cr=20", not "cr=20.0")
        cr = int(cr) if float(cr).is_integer() else float(cr)
        self._point = {"scheme": scheme, "channel": channel, "snr_db": float(snr_db), "cr": cr}
        self._config = {
            "classifier": classifier_name, "batch_size": int(batch_size),
            "update_every": self._update_every, "write_every": self._write_every,
            "lost_after_s": float(lost_after_s), "window": int(window), **self._point,
            # the dataset whose image shape the plots assume when they draw examples
            "dataset": shape_of,
        }
        self._figures = MetricsAccumulator(
            classify, classifier_shape, classifier_name, batch_size=int(batch_size),
            window=int(window), lost_after_s=float(lost_after_s), log=self._log)

        self._lock = threading.RLock()
        self._since_update = self._since_write = 0
        self._final = False
        self._t_start = time.monotonic()
        self._gate = DoneGate(self, ("ref", "rx", "pkt"), linger_s, implied={"ref": "rx"},
                              on_finish=self._finalize)
        self._stats_port = pmt.intern("stats")
        self.message_port_register_out(self._stats_port)
        for port, handler in (("ref", self._handle_ref), ("rx", self._handle_rx),
                              ("pkt", self._handle_pkt)):
            self.message_port_register_in(pmt.intern(port))
            self.set_msg_handler(pmt.intern(port), handler)
        self.set_msg_handler(SYSTEM_PORT, self._handle_system)

    def _log(self, level, message):
        getattr(self.logger, level)(message)

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
            self._figures.lost_after_s = self._config["lost_after_s"] = float(lost_after_s)

    def set_linger_s(self, linger_s):
        """Seconds of silence after a ``done`` before the sink ends anyway."""
        if not float(linger_s) >= 0:
            raise ValueError(f"linger_s must be >= 0 s, got {linger_s}")
        self._gate.linger_s = float(linger_s)

    def reset(self):
        """Forget every figure (e.g. between two operating points of a live link)."""
        with self._lock:
            self._figures.reset()
            self._since_update = self._since_write = 0
            self._final = False
            self._t_start = time.monotonic()

    def images_sent(self) -> int:
        """Originals (``ref``) counted so far; cheap, unlike :meth:`summary`."""
        with self._lock:
            return self._figures.n_sent

    def images_received(self) -> int:
        """Received images (``rx``) counted so far; cheap, unlike :meth:`summary`."""
        with self._lock:
            return self._figures.n_received

    def pending_images(self) -> int:
        """Images held now, waiting for their partner or the classifier (bounded by
        ``window`` and ``batch_size``, not by the length of the run)."""
        with self._lock:
            return self._figures.pending_images()

    # ----------------------------------------------------------------- handlers
    def _parse(self, msg, port):
        try:
            return parse_image_pdu(msg)
        except MalformedPdu as exc:
            with self._lock:
                self._figures.count_malformed()
            self.logger.warn(f"dropped a PDU on '{port}': {exc}")
            return None

    def _handle_ref(self, msg):
        with self._gate.handling("ref"):
            pdu = self._parse(msg, "ref")
            if pdu is not None:
                with self._lock:
                    self._figures.add_ref(pdu.image_id, pdu.image, pdu.label)

    def _handle_rx(self, msg):
        with self._gate.handling("rx"):
            self._on_rx(msg)

    def _on_rx(self, msg):
        pdu = self._parse(msg, "rx")
        if pdu is None:
            return
        with self._lock:
            if not self._figures.add_rx(pdu.image_id, pdu.image):      # a duplicate
                return
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
            with self._lock:
                self._figures.count_malformed()
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
        snr = pmt.to_double(snr) if pmt.is_number(snr) and not pmt.is_complex(snr) else None
        with self._lock:
            self._figures.add_packet(kind, ok, snr)

    def _handle_system(self, msg):
        self._gate.on_system(msg)

    # ----------------------------------------------------------------- figures
    def summary(self, final: bool = False) -> dict:
        """All figures now (plain Python types); ``final`` counts every pending ref as lost."""
        with self._lock:
            return self._figures.summary(final or self._final)

    def _post_stats(self, summary=None):
        with self._lock:
            self._since_update = 0
        summary = summary or self.summary()
        try:
            self.message_port_pub(self._stats_port,
                                  pmt.cons(pmt.to_pmt(summary), pmt.init_u8vector(0, [])))
        except Exception as exc:  # a conversion surprise must not stop the flowgraph
            self.logger.error(f"cannot post stats: {exc}")

    def results(self, summary=None) -> dict:
        """The figures as a results file of the sweep's schema (one point; ``docs/pdu.md``)."""
        with self._lock:
            summary = summary or self._figures.summary(self._final)
            point = self._figures.point(
                summary, key=point_key(self._point["channel"], self._point["snr_db"],
                                       self._point["cr"], self._point["scheme"]),
                wall_s=time.monotonic() - self._t_start, **self._point)
            return results_document(point, config=self._config, versions=_versions())

    def write_json(self, summary=None):
        """Write the results file to ``json_path`` (atomically); returns the path or ``None``."""
        with self._lock:
            self._since_write = 0
        if self._json_path is None:
            return None
        try:
            doc = self.results(summary)
        except ResultsError as exc:   # a bug, not bad input: say so, keep the flowgraph up
            self.logger.error(
                f"results do not fit the schema, {self._json_path} not written: {exc}")
            return None
        tmp = self._json_path.with_name(self._json_path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(doc, indent=1) + "\n")
            os.replace(tmp, self._json_path)
            return self._json_path
        except OSError as exc:
            self.logger.error(f"cannot write {self._json_path}: {exc}")
            return None

    # ----------------------------------------------------------------- scheduler hooks
    def start(self):
        with self._lock:
            self._final = False
            self._t_start = time.monotonic()
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


def _versions() -> dict:
    """What produced the figures, as the sweep's results record it."""
    import PIL
    import torch

    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "pillow": PIL.__version__, "gnuradio": gr.version()}
