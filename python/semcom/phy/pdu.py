# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""PDUs between the blocks: plain (metadata dict, u8 payload) PDUs, image PDUs, and the
end-of-run rule of the message sinks.

The PDU layouts and metadata keys are documented in ``docs/pdu.md``.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pmt

__all__ = [
    "make_pdu",
    "parse_pdu",
    "MalformedPdu",
    "ImagePdu",
    "make_image_pdu",
    "parse_image_pdu",
    "DoneGate",
    "DONE",
    "SYSTEM_PORT",
    "MAX_IMAGE_ID",
]

# GNU Radio 3.10 ends a message-only block when its "system" input port receives
# ("done" . 1); the block then sends the same message to every block it feeds.
SYSTEM_PORT = pmt.intern("system")
DONE = pmt.intern("done")
MAX_IMAGE_ID = 2**32 - 1   # image ids travel as uint32 in the code packet header


# --------------------------------------------------------------------------- plain PDUs

def _native(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_native(v) for v in value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def make_pdu(meta: dict, payload) -> pmt.pmt_t:
    """Build a PDU from a dict of plain values and a ``bytes``/uint8 payload."""
    data = (np.frombuffer(bytes(payload), dtype=np.uint8)
            if isinstance(payload, (bytes, bytearray))
            else np.ascontiguousarray(payload, dtype=np.uint8).ravel())
    meta_pmt = pmt.make_dict()
    for key, value in meta.items():
        if value is None:
            continue
        meta_pmt = pmt.dict_add(meta_pmt, pmt.intern(key), pmt.to_pmt(_native(value)))
    return pmt.cons(meta_pmt, pmt.init_u8vector(len(data), data))


def parse_pdu(msg) -> tuple[dict, np.ndarray]:
    """Split a PDU into (metadata dict, uint8 array); raises ValueError if it is not one."""
    if not pmt.is_pair(msg):
        raise ValueError("message is not a PDU (metadata, u8vector) pair")
    meta, data = pmt.car(msg), pmt.cdr(msg)
    if not pmt.is_u8vector(data):
        raise ValueError("PDU payload is not a u8vector")
    meta_dict = pmt.to_python(meta) if pmt.is_dict(meta) else {}
    if not isinstance(meta_dict, dict):
        meta_dict = {}
    return meta_dict, np.asarray(pmt.to_python(data), dtype=np.uint8)


# --------------------------------------------------------------------------- image PDUs

class MalformedPdu(ValueError):
    """A message is not a valid image PDU; the text says what is wrong."""


@dataclass(frozen=True)
class ImagePdu:
    """One parsed image PDU.

    Attributes:
        image: ``uint8 [C, H, W]`` (a copy owned by the caller).
        image_id: the ``image_id`` key.
        label: the ``label`` key, or ``None`` when absent.
        meta: the metadata as a pmt dict, to pass on unchanged.
    """

    image: np.ndarray
    image_id: int
    label: int | None
    meta: object


def make_image_pdu(image, image_id: int, label=None, dataset=None, extra=None):
    """Build the image PDU ``pmt.cons(meta, u8vector)`` for one ``uint8 [C, H, W]`` image.

    ``extra`` is a dict of further metadata keys (Python values ``pmt.to_pmt`` accepts).
    """
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3:
        raise ValueError(f"image must be [C, H, W], got shape {image.shape}")
    meta = pmt.make_dict()
    meta = pmt.dict_add(meta, pmt.intern("image_id"), pmt.from_long(int(image_id)))
    meta = pmt.dict_add(meta, pmt.intern("shape"), pmt.to_pmt(tuple(int(s) for s in image.shape)))
    if label is not None:
        meta = pmt.dict_add(meta, pmt.intern("label"), pmt.from_long(int(label)))
    if dataset:
        meta = pmt.dict_add(meta, pmt.intern("dataset"), pmt.intern(str(dataset)))
    for key, value in (extra or {}).items():
        meta = pmt.dict_add(meta, pmt.intern(key), pmt.to_pmt(value))
    return pmt.cons(meta, pmt.init_u8vector(image.size, image.reshape(-1)))


def _int_of(value, key: str) -> int:
    if pmt.is_integer(value) or pmt.is_uint64(value):
        return int(pmt.to_python(value))
    raise MalformedPdu(f"metadata key {key!r} must be an integer, got {value}")


def _shape_of(value) -> tuple:
    try:
        shape = pmt.to_python(value)
        shape = tuple(int(s) for s in np.asarray(shape).reshape(-1))
    except Exception as exc:  # pmt.to_python raises several types on odd input
        raise MalformedPdu(f"metadata key 'shape' is not a sequence of integers: {value}") from exc
    if len(shape) != 3 or min(shape) <= 0:
        raise MalformedPdu(f"metadata key 'shape' must hold 3 positive ints (C, H, W), got {shape}")
    return shape


def parse_image_pdu(msg) -> ImagePdu:
    """Check and unpack an image PDU; raises :class:`MalformedPdu` saying what is wrong."""
    if not pmt.is_pair(msg):
        raise MalformedPdu("message is not a PDU (a pmt pair of metadata and payload)")
    meta, payload = pmt.car(msg), pmt.cdr(msg)
    if not pmt.is_dict(meta):
        raise MalformedPdu("PDU metadata is not a pmt dict")
    if not pmt.is_u8vector(payload):
        raise MalformedPdu("PDU payload is not a u8vector")
    missing = pmt.PMT_NIL
    shape_pmt = pmt.dict_ref(meta, pmt.intern("shape"), missing)
    if pmt.eq(shape_pmt, missing):
        raise MalformedPdu("metadata lacks the 'shape' key")
    shape = _shape_of(shape_pmt)
    id_pmt = pmt.dict_ref(meta, pmt.intern("image_id"), missing)
    if pmt.eq(id_pmt, missing):
        raise MalformedPdu("metadata lacks the 'image_id' key")
    image_id = _int_of(id_pmt, "image_id")
    label_pmt = pmt.dict_ref(meta, pmt.intern("label"), missing)
    label = None if pmt.eq(label_pmt, missing) else _int_of(label_pmt, "label")
    size = pmt.length(payload)
    if size != int(np.prod(shape)):
        raise MalformedPdu(
            f"payload holds {size} bytes but shape {shape} needs {int(np.prod(shape))}")
    image = np.array(pmt.to_python(payload), dtype=np.uint8).reshape(shape)
    return ImagePdu(image, image_id, label, meta)


# --------------------------------------------------------------------------- end of run

_CHECK = pmt.intern("semcom_check")


class DoneGate:
    """When a sink with several input ports may end: the end-of-run rule of the image sinks.

    Stock GNU Radio ends a message-only block on the *first* ``done`` on its ``system``
    port. A sink fed by the image source (``ref``) and by the receive chain (``rx``) would
    then stop long before the received images arrive. The sink routes its ``system`` port
    here instead; once every data queue is empty, the gate ends the block (through the
    stock handler) when

    * it has had at least one ``done`` per input port that has carried messages, counting
      ``implied`` ports as expected once their trigger port has been seen (a ``ref`` that
      has been seen means an ``rx`` is coming); or
    * ``linger_s`` seconds have passed since the last message on any port after a ``done``
      (receive chains that never end, such as a USRP, or a chain that lost everything).

    ``on_finish()`` runs in the block's thread just before it ends, while the blocks it feeds
    still listen (a last figures message goes out there, not in ``stop()``).

    Usage: wrap every data handler in ``with gate.handling("port"):``, hand ``system``
    messages to :meth:`on_system` from a method registered with ``set_msg_handler``, and
    call :meth:`start`/:meth:`stop` from the block's own ``start``/``stop``.
    """

    def __init__(self, block, ports, linger_s: float, implied=None, on_finish=None):
        self._block = block
        self._ports = [pmt.intern(p) for p in ports]
        self.linger_s = float(linger_s)
        self._implied = dict(implied or {})
        self._on_finish = on_finish
        self._seen = set()
        self._dones = 0
        self._last = time.monotonic()
        self._finished = False
        self._halt = threading.Event()
        self._thread = None

    @contextmanager
    def handling(self, port: str):
        """Around one data message: note the port, and after it re-check the end rule."""
        self._seen.add(port)
        self._last = time.monotonic()
        try:
            yield
        finally:
            if self._dones:
                self.check()

    def on_system(self, msg) -> None:
        if not (pmt.is_pair(msg) and pmt.eq(pmt.car(msg), DONE)):
            self._block.gateway.system_handler(msg)     # GNU Radio reports the bad op
            return
        if not pmt.eq(pmt.cdr(msg), _CHECK):
            self._dones += 1
            self._last = time.monotonic()
        self.check()

    def expected_ports(self) -> set:
        expected = set(self._seen)
        for trigger, implied in self._implied.items():
            if trigger in self._seen:
                expected.add(implied)
        return expected

    def check(self) -> None:
        if self._finished or not self._dones:
            return
        # The system port is drained before the data ports: never decide with data queued.
        if any(self._block.nmsgs(p) for p in self._ports):
            return
        quiet = time.monotonic() - self._last >= self.linger_s
        if self._dones >= max(1, len(self.expected_ports())) or quiet:
            self._finished = True
            if self._on_finish is not None:
                try:
                    self._on_finish()
                except Exception as exc:  # ending must not fail
                    self._block.logger.error(f"while finishing: {exc}")
            self._block.gateway.system_handler(pmt.cons(DONE, pmt.from_long(1)))

    def start(self) -> None:
        self._finished = False
        self._dones = 0
        self._halt.clear()
        self._thread = threading.Thread(target=self._watch, name="semcom_done_gate", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def _watch(self) -> None:
        # Once a done has come, wake the block thread a few times a second so that the rule
        # is re-evaluated even when no data arrives (linger time, empty queues).
        while not self._halt.wait(0.1):
            if self._dones and not self._finished:
                self._block._post(SYSTEM_PORT, pmt.cons(DONE, _CHECK))
