# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Image sink: writes received images as PNG files and keeps a contact sheet up to date."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import pmt
from gnuradio import gr

from .core.images import contact_sheet, save_png
from .phy.pdu import SYSTEM_PORT, DoneGate, MalformedPdu, parse_image_pdu

__all__ = ["image_sink"]


class image_sink(gr.basic_block):
    """Write each received image PDU as a PNG file and draw a contact sheet.

    Inputs (message ports):
        ``in``: image PDUs (``docs/pdu.md``): ``pmt.cons(meta, u8vector)``, payload
            ``uint8 [C, H, W]`` row-major, metadata ``image_id`` (int) and ``shape``
            ``(C, H, W)`` required, ``label`` (int) optional.
        ``ref`` (optional): the original image PDUs, e.g. straight from the image source. When
            an ``image_id`` is known on both ports the contact sheet shows the original above
            the received image; an original whose image never arrived shows above a blank
            cell once later images have arrived (or at the end).

    Output: none. Files in ``folder``: ``image_<id>.png`` (``image_<id>_label<d>.png`` when the
    label is known; ``<id>`` zero-padded to 6 digits, so the image source's ``folder`` mode reads
    them back in order and with labels), and the contact sheet ``sheet_name``.

    PDUs that are not image PDUs (not a pair, no ``shape`` or ``image_id``, payload size not
    ``C·H·W``, C not 1 or 3) are logged, counted (:meth:`malformed`) and dropped.

    The sink ends with the flowgraph: it waits for a ``done`` from each port that has carried
    messages (and on ``in`` once ``ref`` has been seen), or for ``linger_s`` seconds of silence
    after the first ``done`` (see ``DoneGate`` in ``image_source.py``).

    Args:
        folder: output folder (created if missing).
        save_images: write one PNG per received image.
        sheet_name: contact sheet file name inside ``folder``; ``''`` = no sheet.
        sheet_every: redraw the sheet every this many received images; 0 = only at stop.
        sheet_columns: images per sheet row (1..256).
        sheet_max_images: the sheet shows the most recent this many images (1..4096).
        sheet_scale: integer zoom of the sheet (1..16).
        linger_s: seconds of silence after a ``done`` before the sink ends anyway (>= 0).
    """

    def __init__(self, folder="received", save_images=True, sheet_name="contact_sheet.png",
                 sheet_every=16, sheet_columns=16, sheet_max_images=64, sheet_scale=2,
                 linger_s=3.0):
        gr.basic_block.__init__(self, name="image_sink", in_sig=None, out_sig=None)
        if not str(folder).strip():
            raise ValueError("folder must name the output folder")
        self._folder = Path(folder).expanduser()
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"folder: cannot create {self._folder}: {exc}") from exc
        if sheet_name and (Path(sheet_name).name != sheet_name
                           or not sheet_name.lower().endswith(".png")):
            raise ValueError(
                f"sheet_name must be a bare file name ending in .png, got {sheet_name!r}")
        self._check_sheet_every(sheet_every)
        if not 1 <= int(sheet_columns) <= 256:
            raise ValueError(f"sheet_columns must be in 1..256, got {sheet_columns}")
        if not 1 <= int(sheet_max_images) <= 4096:
            raise ValueError(f"sheet_max_images must be in 1..4096, got {sheet_max_images}")
        if not 1 <= int(sheet_scale) <= 16:
            raise ValueError(f"sheet_scale must be in 1..16, got {sheet_scale}")
        if not float(linger_s) >= 0:
            raise ValueError(f"linger_s must be >= 0 s, got {linger_s}")

        self._save_images = bool(save_images)
        self._sheet_path = self._folder / sheet_name if sheet_name else None
        self._sheet_every = int(sheet_every)
        self._columns = int(sheet_columns)
        self._max_images = int(sheet_max_images)
        self._scale = int(sheet_scale)

        self._lock = threading.Lock()
        self._received = OrderedDict()      # image_id -> uint8 [C, H, W], newest last
        self._refs = OrderedDict()          # image_id -> uint8 [C, H, W]
        self._n_received = 0
        self._n_written = 0
        self._n_malformed = 0
        self._n_write_errors = 0
        self._since_sheet = 0

        self._gate = DoneGate(self, ("in", "ref"), linger_s, implied={"ref": "in"})
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_in(pmt.intern("ref"))
        self.set_msg_handler(pmt.intern("in"), self._handle_in)
        self.set_msg_handler(pmt.intern("ref"), self._handle_ref)
        self.set_msg_handler(SYSTEM_PORT, self._handle_system)

    # ----------------------------------------------------------------- setters / getters
    @staticmethod
    def _check_sheet_every(sheet_every):
        if int(sheet_every) < 0:
            raise ValueError(f"sheet_every must be >= 0 (0 = only at stop), got {sheet_every}")

    def set_sheet_every(self, sheet_every):
        """Redraw the sheet every ``sheet_every`` images from now on (0 = only at stop)."""
        self._check_sheet_every(sheet_every)
        with self._lock:
            self._sheet_every = int(sheet_every)

    def sheet_every(self) -> int:
        return self._sheet_every

    def set_linger_s(self, linger_s):
        """Seconds of silence after a ``done`` before the sink ends anyway."""
        if not float(linger_s) >= 0:
            raise ValueError(f"linger_s must be >= 0 s, got {linger_s}")
        self._gate.linger_s = float(linger_s)

    def images_received(self) -> int:
        """Valid image PDUs received on ``in``."""
        return self._n_received

    def images_written(self) -> int:
        """PNG files written (one per received image when ``save_images``)."""
        return self._n_written

    def malformed(self) -> int:
        """PDUs dropped on ``in`` or ``ref`` because they were not image PDUs."""
        return self._n_malformed

    def write_errors(self) -> int:
        return self._n_write_errors

    def sheet_path(self):
        return self._sheet_path

    # ----------------------------------------------------------------- handlers
    def _parse(self, msg, port):
        try:
            pdu = parse_image_pdu(msg)
            if pdu.image.shape[0] not in (1, 3):
                raise MalformedPdu(f"images need 1 or 3 channels, got shape {pdu.image.shape}")
            return pdu
        except MalformedPdu as exc:
            self._n_malformed += 1
            self.logger.warn(f"dropped a PDU on '{port}': {exc}")
            return None

    def _handle_in(self, msg):
        with self._gate.handling("in"):
            self._receive(msg)

    def _handle_ref(self, msg):
        with self._gate.handling("ref"):
            self._receive_ref(msg)

    def _receive(self, msg):
        pdu = self._parse(msg, "in")
        if pdu is None:
            return
        self._n_received += 1
        if self._save_images:
            suffix = "" if pdu.label is None else f"_label{pdu.label}"
            path = self._folder / f"image_{pdu.image_id:06d}{suffix}.png"
            try:
                save_png(pdu.image, path)
                self._n_written += 1
            except (OSError, ValueError) as exc:
                self._n_write_errors += 1
                self.logger.error(f"cannot write {path}: {exc}")
        with self._lock:
            self._received.pop(pdu.image_id, None)
            self._received[pdu.image_id] = pdu.image
            while len(self._received) > self._max_images:
                self._received.popitem(last=False)
            self._since_sheet += 1
            due = self._sheet_every and self._since_sheet >= self._sheet_every
        if due:
            self.write_sheet()

    def _receive_ref(self, msg):
        pdu = self._parse(msg, "ref")
        if pdu is None:
            return
        with self._lock:
            self._refs[pdu.image_id] = pdu.image
            # Originals run ahead of the received images by the link latency; keep enough.
            while len(self._refs) > 4 * self._max_images + 1024:
                self._refs.popitem(last=False)

    def _handle_system(self, msg):
        self._gate.on_system(msg)

    # ----------------------------------------------------------------- contact sheet
    def _sheet_rows(self, final: bool):
        received, refs = self._received, self._refs
        if not received and not (final and refs):
            return []
        newest = max(received) if received else None
        ids = set(received)
        # An original with no received image counts as lost once a later image has come.
        ids.update(i for i in refs if final or (newest is not None and i < newest))
        ids = sorted(ids)[-self._max_images:]
        shown = received[newest] if newest is not None else refs[ids[-1]]
        size = shown.shape[1:]

        def cell(store, i):
            im = store.get(i)
            return im if im is not None and im.shape[1:] == size else None

        with_refs = any(i in refs for i in ids)
        rows = []
        for k in range(0, len(ids), self._columns):
            chunk = ids[k:k + self._columns]
            if with_refs:
                rows.append([cell(refs, i) for i in chunk])
            rows.append([cell(received, i) for i in chunk])
        return rows

    def write_sheet(self, final: bool = False):
        """Redraw the contact sheet now; returns its path, or ``None`` when nothing to show."""
        if self._sheet_path is None:
            return None
        with self._lock:
            self._since_sheet = 0
            rows = self._sheet_rows(final)
        if not any(im is not None for row in rows for im in row):
            return None
        try:
            tmp = self._sheet_path.with_name(self._sheet_path.stem + ".tmp.png")
            contact_sheet(rows, tmp, scale=self._scale)
            tmp.replace(self._sheet_path)   # viewers never see a half-written sheet
            return self._sheet_path
        except (OSError, ValueError) as exc:
            self._n_write_errors += 1
            self.logger.error(f"cannot write contact sheet {self._sheet_path}: {exc}")
            return None

    # ----------------------------------------------------------------- scheduler hooks
    def start(self):
        self._gate.start()
        return True

    def stop(self):
        self._gate.stop()
        self.write_sheet(final=True)
        return True
