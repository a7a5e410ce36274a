# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Message glue for the hier blocks: the few Python steps between stock blocks."""

from __future__ import annotations

import threading

import pmt
from gnuradio import gr

from .pdu import DONE, SYSTEM_PORT

__all__ = ["msg_map", "msg_route", "per_pdu"]

_RECHECK = pmt.intern("semcom_recheck")


class msg_map(gr.basic_block):
    """Apply ``fn(msg) -> msg | None`` to each message on ``in`` and publish it on ``out``.

    ``None`` drops the message. An exception is logged, never raised: the message is
    dropped, or ``fallback`` is sent instead when one is given (a header parser
    downstream of ``header_payload_demux`` must always answer); ``on_error()`` is called
    so that the owner can count it.

    ``hold_done()``, when given, is asked whenever a ``done`` reaches the ``system`` port
    (and then ten times a second): while it returns true the block holds the ``done``
    instead of ending and passing it on, so that a block downstream that would drop what it
    still holds when it ends (``pdu_to_tagged_stream`` drops the PDUs queued at its input)
    gets the time to take it.
    """

    def __init__(self, name, fn, logger=None, fallback=None, on_error=None, hold_done=None):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self._fn = fn
        self._log = logger
        self._fallback = fallback
        self._on_error = on_error
        self.dropped = 0
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)
        self._hold_done = hold_done
        self._holding = threading.Event()
        self._halt = threading.Event()
        if hold_done is not None:
            self.set_msg_handler(SYSTEM_PORT, self._system)

    def _system(self, msg):
        if not (pmt.is_pair(msg) and pmt.eq(pmt.car(msg), DONE)):
            self.gateway.system_handler(msg)    # GNU Radio reports the bad op
            return
        if self.nmsgs(pmt.intern("in")) or self._hold_done():
            if not self._holding.is_set():
                self._holding.set()
                threading.Thread(target=self._recheck, name=f"{self.name()}_hold",
                                 daemon=True).start()
            return
        self._holding.clear()
        self.gateway.system_handler(pmt.cons(DONE, pmt.from_long(1)))

    def _recheck(self):
        while self._holding.is_set() and not self._halt.wait(0.1):
            self._post(SYSTEM_PORT, pmt.cons(DONE, _RECHECK))

    def start(self):
        self._halt.clear()
        return True

    def stop(self):
        self._halt.set()
        self._holding.clear()
        return True

    def _handle(self, msg):
        try:
            out = self._fn(msg)
        except Exception as exc:  # never let bad input kill the flowgraph
            (self._log or self.logger).warn(f"{self.name()}: message dropped: {exc!r}")
            if self._on_error is not None:
                self._on_error()
            out = self._fallback
        if out is None:
            self.dropped += 1
            return
        self.message_port_pub(pmt.intern("out"), out)


def per_pdu(fn):
    """``fn(meta, data) -> (meta, data) | None`` as a :class:`msg_map` function on PDUs
    (messages that are not a pmt pair are dropped)."""

    def apply(msg):
        if not pmt.is_pair(msg):
            return None
        res = fn(pmt.car(msg), pmt.cdr(msg))
        return None if res is None else pmt.cons(res[0], res[1])

    return apply


class msg_route(gr.basic_block):
    """Send each message on ``in`` to one of the ports ``out0`` ... ``out{n-1}``:
    ``fn(msg) -> index | None`` picks it (``None`` drops the message). An exception is
    logged and counted (``on_error()``), never raised; the message is dropped."""

    def __init__(self, name, nports, fn, logger=None, on_error=None):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        if int(nports) < 1:
            raise ValueError(f"nports must be >= 1, got {nports!r}")
        self._fn = fn
        self._log = logger
        self._on_error = on_error
        self._ports = [pmt.intern(f"out{i}") for i in range(int(nports))]
        self.message_port_register_in(pmt.intern("in"))
        for port in self._ports:
            self.message_port_register_out(port)
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        try:
            index = self._fn(msg)
            port = None if index is None else self._ports[int(index)]
        except Exception as exc:  # never let bad input kill the flowgraph
            (self._log or self.logger).warn(f"{self.name()}: message dropped: {exc!r}")
            if self._on_error is not None:
                self._on_error()
            return
        if port is not None:
            self.message_port_pub(port, msg)
