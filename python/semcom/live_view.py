# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Live view: a QT GUI widget showing the received images as they arrive, with the link's
running figures (recognition-rate ratio, PSNR, images and packets received)."""

from __future__ import annotations

import html
import math
import threading
from collections import deque

import numpy as np
import pmt
from gnuradio import gr
from PyQt5 import QtCore, QtGui, QtWidgets

from .phy.pdu import SYSTEM_PORT, DONE, MalformedPdu, parse_image_pdu

__all__ = ["live_view"]

_IN, _STATS, _PKT = (pmt.intern(p) for p in ("in", "stats", "pkt"))


class live_view(gr.basic_block):
    """QT GUI live view of a receiver: the latest received images as a grid, with the
    running recognition-rate ratio, PSNR, SSIM and image and packet counters.

    Inputs (message ports; each optional but ``in``):
        ``in``: image PDUs (``docs/pdu.md``): ``pmt.cons(meta, u8vector)``, payload
            ``uint8 [C, H, W]`` row-major, metadata ``image_id`` and ``shape`` required
            (C = 1 gray or 3 RGB), e.g. the semantic decoder's ``out``. The newest
            ``max_images`` are shown in arrival order, the newest framed in green.
        ``stats``: the metrics sink's ``stats`` PDUs (a dict of figures as the car): the
            line "images ... recognition-rate ratio ... PSNR ... SSIM" shows the latest.
        ``pkt``: any PDUs, one per packet (e.g. the packet modem RX's ``out``): counted, with
            ``crc_ok`` (absent = ok), and the latest and mean ``snr_db`` (Es/N0 estimate, dB)
            and ``freq_offset`` (cycles/sample) shown.

    Output: none. :meth:`widget` is the ``QWidget`` to place in a window (GRC does this
    through ``gui_hint``); it redraws every ``update_period_s`` seconds when something new
    has come, in the GUI thread (the message handlers only store what came).

    Bad input (a PDU that is not an image PDU on ``in``, a ``stats`` message whose car is
    not a dict) is logged, counted (:meth:`malformed`) and dropped. The view keeps
    listening after its upstream blocks have ended (a ``done`` on the ``system`` port is
    ignored) until the flowgraph is stopped, e.g. by closing the window.

    Args:
        title: heading above the images.
        max_images: images shown (1..1024).
        columns: images per row (1..64).
        update_period_s: seconds between redraws (0.02..10).
        parent: parent ``QWidget`` (``None`` = none yet; the layout sets it).
    """

    def __init__(self, title="Received images", max_images=32, columns=8,
                 update_period_s=0.25, parent=None):
        gr.basic_block.__init__(self, name="live_view", in_sig=None, out_sig=None)
        if not 1 <= int(max_images) <= 1024:
            raise ValueError(f"max_images must be in 1..1024, got {max_images}")
        if not 1 <= int(columns) <= 64:
            raise ValueError(f"columns must be in 1..64, got {columns}")
        self._check_period(update_period_s)
        if QtWidgets.QApplication.instance() is None:
            raise ValueError("live_view needs a running QApplication: use it in a QT GUI "
                             "flowgraph (GRC Options: Generate Options = QT GUI)")

        self._lock = threading.Lock()
        self._images = deque(maxlen=int(max_images))   # (image_id, uint8 [H, W, 3])
        self._columns = int(columns)
        self._n_images = 0
        self._n_malformed = 0
        self._stats = None
        self._packets = {"total": 0, "ok": 0, "failed": 0, "snr_sum": 0.0, "snr_n": 0,
                         "snr_db": None, "freq_offset": None}
        self._version = 0          # bumped on every change; the widget redraws when it moved

        self._widget = _LiveViewWidget(self, str(title), float(update_period_s), parent)

        for port, handler in ((_IN, self._handle_in), (_STATS, self._handle_stats),
                              (_PKT, self._handle_pkt)):
            self.message_port_register_in(port)
            self.set_msg_handler(port, handler)
        self.set_msg_handler(SYSTEM_PORT, self._handle_system)

    # ----------------------------------------------------------------- GUI side
    def widget(self) -> QtWidgets.QWidget:
        """The view's ``QWidget``."""
        return self._widget

    @staticmethod
    def _check_period(update_period_s):
        if not 0.02 <= float(update_period_s) <= 10:
            raise ValueError(f"update_period_s must be in 0.02..10 s, got {update_period_s}")

    def set_update_period_s(self, update_period_s):
        """Seconds between redraws, from now on."""
        self._check_period(update_period_s)
        self._widget.set_period(float(update_period_s))

    def update_period_s(self) -> float:
        return self._widget.period()

    def snapshot(self) -> dict:
        """A consistent copy of what the view shows: ``images`` [(image_id, uint8 [H, W, 3])],
        ``columns``, ``stats`` (the latest metrics dict or ``None``), ``packets`` (counts and
        latest estimates), ``images_received``, ``version``."""
        with self._lock:
            return {"images": list(self._images), "columns": self._columns,
                    "stats": self._stats, "packets": dict(self._packets),
                    "images_received": self._n_images, "version": self._version}

    # ----------------------------------------------------------------- counters
    def images_received(self) -> int:
        """Valid image PDUs received on ``in``."""
        return self._n_images

    def packets_received(self) -> int:
        """PDUs received on ``pkt``."""
        return self._packets["total"]

    def malformed(self) -> int:
        """Messages dropped because they were not what their port takes."""
        return self._n_malformed

    # ----------------------------------------------------------------- handlers
    def _drop(self, port: str, why) -> None:
        with self._lock:
            self._n_malformed += 1
        self.logger.warn(f"dropped a message on '{port}': {why}")

    def _handle_in(self, msg):
        try:
            pdu = parse_image_pdu(msg)
            if pdu.image.shape[0] not in (1, 3):
                raise MalformedPdu(f"images need 1 or 3 channels, got shape {pdu.image.shape}")
        except MalformedPdu as exc:
            self._drop("in", exc)
            return
        rgb = np.repeat(pdu.image, 3, axis=0) if pdu.image.shape[0] == 1 else pdu.image
        rgb = np.ascontiguousarray(np.transpose(rgb, (1, 2, 0)))
        with self._lock:
            self._images.append((pdu.image_id, rgb))
            self._n_images += 1
            self._version += 1

    def _handle_stats(self, msg):
        try:
            stats = pmt.to_python(pmt.car(msg)) if pmt.is_pair(msg) else None
        except Exception as exc:  # pmt.to_python raises several types on odd input
            stats, why = None, exc
        else:
            why = "not a PDU whose car is a dict of figures (the metrics sink's stats)"
        if not isinstance(stats, dict):
            self._drop("stats", why)
            return
        with self._lock:
            self._stats = stats
            self._version += 1

    def _handle_pkt(self, msg):
        meta = pmt.car(msg) if pmt.is_pair(msg) else pmt.PMT_NIL
        ok = _meta_value(meta, "crc_ok", True)
        snr = _meta_value(meta, "snr_db", None)
        freq = _meta_value(meta, "freq_offset", None)
        with self._lock:
            p = self._packets
            p["total"] += 1
            p["ok" if ok is not False else "failed"] += 1
            if isinstance(snr, (int, float)) and math.isfinite(snr):
                p["snr_db"] = float(snr)
                p["snr_sum"] += float(snr)
                p["snr_n"] += 1
            if isinstance(freq, (int, float)) and math.isfinite(freq):
                p["freq_offset"] = float(freq)
            self._version += 1

    def _handle_system(self, msg):
        # A display keeps listening after its upstream chain ended (the window stays open
        # and further bursts may come); the flowgraph's stop() ends it.
        if pmt.is_pair(msg) and pmt.eq(pmt.car(msg), DONE):
            return
        self.gateway.system_handler(msg)


def _meta_value(meta, key, default):
    if not pmt.is_dict(meta):
        return default
    value = pmt.dict_ref(meta, pmt.intern(key), pmt.PMT_NIL)
    if pmt.is_null(value):
        return default
    try:
        return pmt.to_python(value)
    except Exception:  # an odd value in a key we only display
        return default


# --------------------------------------------------------------------------- the widget

def _fmt(value, spec, unit=""):
    return "–" if value is None else f"{value:{spec}}{unit}"


def status_lines(snap: dict) -> tuple[str, str]:
    """The view's two text lines (images and figures; packets) for a :meth:`snapshot`."""
    s = snap["stats"]
    images = f"Images: {snap['images_received']} received"
    if s:
        # the metrics sink's figures, as of its last update (every few images)
        images += (f" of {s.get('images_sent', 0)} sent, {s.get('images_lost', 0)} lost  ·  "
                   f"recognition-rate ratio {_fmt(s.get('recognition_rate_ratio'), '.3f')}  ·  "
                   f"PSNR {_fmt(s.get('psnr_db'), '.2f', ' dB')}  ·  "
                   f"SSIM {_fmt(s.get('ssim'), '.3f')}")
    else:
        images += "  ·  recognition-rate ratio – (no figures from a metrics sink yet)"
    p = snap["packets"]
    if p["total"]:
        mean = p["snr_sum"] / p["snr_n"] if p["snr_n"] else None
        packets = (f"Packets: {p['total']} received, {p['ok']} CRC ok, {p['failed']} failed  ·  "
                   f"Es/N0 estimate {_fmt(p['snr_db'], '.1f', ' dB')} "
                   f"(mean {_fmt(mean, '.1f', ' dB')})  ·  "
                   f"carrier offset {_fmt(p['freq_offset'], '+.5f', ' cycles/sample')}")
    elif s and (s.get("packets_ok") or s.get("packets_failed")):
        packets = (f"Packets: {s.get('packets_ok', 0)} CRC ok, "
                   f"{s.get('packets_failed', 0)} failed  ·  "
                   f"mean Es/N0 estimate {_fmt(s.get('snr_db_mean'), '.1f', ' dB')}")
    else:
        packets = "Packets: none yet (waiting for the first burst)"
    return images, packets


class _ImageGrid(QtWidgets.QWidget):
    """Paints the images as a grid, each scaled by the same whole factor (crisp pixels)."""

    GAP = 4
    NEWEST = QtGui.QColor(40, 200, 80)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._images = []
        self._columns = 1
        self._empty_text = ""
        self.setMinimumSize(240, 120)
        self.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Expanding)

    def show_images(self, images, columns, empty_text=""):
        self._images = [(i, QtGui.QImage(rgb.tobytes(), rgb.shape[1], rgb.shape[0],
                                         3 * rgb.shape[1], QtGui.QImage.Format_RGB888).copy())
                        for i, rgb in images]
        self._columns = columns
        self._empty_text = empty_text
        self.update()

    def paintEvent(self, event):  # noqa: N802 (Qt's name)
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(32, 32, 32))
        if not self._images:
            painter.setPen(QtGui.QColor(200, 200, 200))
            painter.drawText(self.rect(), QtCore.Qt.AlignCenter | QtCore.Qt.TextWordWrap,
                             self._empty_text)
            return
        cols = min(self._columns, len(self._images))
        rows = math.ceil(len(self._images) / cols)
        cell_w = max(im.width() for _, im in self._images)
        cell_h = max(im.height() for _, im in self._images)
        g = self.GAP
        # the largest whole zoom at which cols x rows cells and their gaps fit
        zoom = max(1, min((self.width() - g - cols * g) // (cols * cell_w),
                          (self.height() - g - rows * g) // (rows * cell_h)))
        step_x, step_y = cell_w * zoom + g, cell_h * zoom + g
        x0 = max(0, (self.width() - cols * step_x + g) // 2)
        for k, (_, im) in enumerate(self._images):
            x = x0 + (k % cols) * step_x
            y = g + (k // cols) * step_y
            target = QtCore.QRect(x, y, im.width() * zoom, im.height() * zoom)
            painter.drawImage(target, im)
            if k == len(self._images) - 1:
                painter.setPen(QtGui.QPen(self.NEWEST, 2))
                painter.drawRect(target.adjusted(-1, -1, 1, 1))


class _LiveViewWidget(QtWidgets.QWidget):
    def __init__(self, block: live_view, title: str, period_s: float, parent=None):
        super().__init__(parent)
        self._block = block
        self._shown = -1
        layout = QtWidgets.QVBoxLayout(self)
        heading = QtWidgets.QLabel(f"<b>{html.escape(title)}</b>")
        self.grid = _ImageGrid()
        self.images_label = QtWidgets.QLabel()
        self.packets_label = QtWidgets.QLabel()
        for label in (self.images_label, self.packets_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        layout.addWidget(heading)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.images_label)
        layout.addWidget(self.packets_label)
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self.set_period(period_s)
        self.refresh()

    def set_period(self, period_s: float):
        self._timer.start(int(round(period_s * 1000)))

    def period(self) -> float:
        return self._timer.interval() / 1000.0

    def refresh(self):
        """Redraw from the block's state if it changed (runs in the GUI thread)."""
        snap = self._block.snapshot()
        if snap["version"] == self._shown:
            return
        self._shown = snap["version"]
        if snap["packets"]["total"]:
            empty = ("no image received yet: packets arrive; the first image comes once the "
                     "decoder's model blob is complete")
        else:
            empty = "no image received yet"
        self.grid.show_images(snap["images"], snap["columns"], empty)
        images, packets = status_lines(snap)
        self.images_label.setText(images)
        self.packets_label.setText(packets)
