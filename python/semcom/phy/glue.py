# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Message glue for the hier blocks: the few Python steps between stock blocks."""

from __future__ import annotations

import pmt
from gnuradio import gr

__all__ = ["msg_map", "msg_route", "per_pdu"]


class msg_map(gr.basic_block):
    """Apply ``fn(msg) -> msg | None`` to each message on ``in`` and publish it on ``out``.

    ``None`` drops the message. An exception is logged, never raised: the message is
    dropped, or ``fallback`` is sent instead when one is given (a header parser
    downstream of ``header_payload_demux`` must always answer); ``on_error()`` is called
    so that the owner can count it.
    """

    def __init__(self, name, fn, logger=None, fallback=None, on_error=None):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self._fn = fn
        self._log = logger
        self._fallback = fallback
        self._on_error = on_error
        self.dropped = 0
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

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
