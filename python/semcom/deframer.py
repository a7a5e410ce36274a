# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Deframer: the paper's SR⁻¹ — packets to code PDUs and reassembled model blobs."""

from __future__ import annotations

import pmt
from gnuradio import gr

from .core.receiver import BlobReady, Code, Dropped, PacketReceiver, PacketStatus
from .phy.pdu import make_pdu, parse_pdu

_PHY_KEYS = ("snr_db", "crc_ok", "freq_offset")


class deframer(gr.basic_block):
    """Parse link packets, reassemble model blobs, pass codes on.

    Input port ``in``: u8 PDUs, one packet each, from the packet modem's receiver
    (metadata such as ``snr_db`` and the PHY's ``crc_ok`` is carried along).

    Output port ``code``: code PDUs; payload the 8-bit code; metadata ``packet_type`` =
    ``"code"``, ``image_id``, ``scale``, ``model_tag``, ``seq``, ``crc_ok`` and the PHY's
    ``snr_db``.

    Output port ``model``: each reassembled model blob; payload the blob; metadata
    ``packet_type`` = ``"model"``, ``model_tag``.

    Output port ``pkt``: one status PDU per input packet (empty payload; metadata
    ``packet_type``, ``crc_ok``, ``reason`` when dropped) for the metrics sink.

    Segments may arrive in any order; duplicates are dropped; :meth:`missing` reports the
    indices still missing per model.

    Args:
        model_protection: ``"verified"`` drops packets whose CRC-32 fails and blobs whose
            SHA-256 fails (the carousel's next round brings a clean copy); ``"paper"``
            keeps packets whose CRC fails (if their header is still routable), as in the
            paper's unprotected evaluation.
        max_models: blobs collected at once (older ones are dropped).
    """

    def __init__(self, model_protection: str = "verified", max_models: int = 4):
        gr.basic_block.__init__(self, name="semcom_deframer", in_sig=None, out_sig=None)
        # The rules (protection policy, reassembly, counters) live in the core receiver;
        # this block only turns PDUs into its calls and its events into PDUs and logs.
        self._receiver = PacketReceiver(model_protection, int(max_models))
        self.model_protection = model_protection
        self.stats = self._receiver.stats
        self._handled = 0
        self.message_port_register_in(pmt.intern("in"))
        for port in ("code", "model", "pkt"):
            self.message_port_register_out(pmt.intern(port))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def missing(self) -> dict:
        """``{model tag hex: [missing segment indices]}`` for blobs being collected."""
        return self._receiver.missing()

    def messages_handled(self) -> int:
        """Input messages whose handling has finished, every output they caused sent."""
        return self._handled

    def _handle(self, msg):
        try:
            meta, data = parse_pdu(msg)
        except ValueError as exc:
            self._publish(self._receiver.reject("not_pdu", str(exc), "warn"))
        else:
            phy = {k: meta[k] for k in _PHY_KEYS if k in meta}
            for event in self._receiver.receive(data.tobytes(), bool(meta.get("crc_ok", True)),
                                                phy):
                self._publish(event)
        self._handled += 1

    def _publish(self, event):
        if isinstance(event, Dropped):
            getattr(self.logger, event.level)(f"packet dropped ({event.reason}): {event.message}")
            if event.status:
                self.message_port_pub(pmt.intern("pkt"), make_pdu(
                    {"packet_type": "unknown", "crc_ok": False, "reason": event.reason}, b""))
        elif isinstance(event, PacketStatus):
            self.message_port_pub(pmt.intern("pkt"), make_pdu(
                {**event.phy, "packet_type": event.packet_type, "crc_ok": event.crc_ok}, b""))
        elif isinstance(event, Code):
            out = {**event.phy, "packet_type": "code", "image_id": event.image_id,
                   "scale": event.scale, "model_tag": event.model_tag, "seq": event.seq,
                   "crc_ok": event.crc_ok}
            self.message_port_pub(pmt.intern("code"), make_pdu(out, event.code))
        elif isinstance(event, BlobReady):
            out = {"packet_type": "model", "model_tag": event.model_tag}
            self.message_port_pub(pmt.intern("model"), make_pdu(out, event.blob))
