"""Deframer: the paper's SR⁻¹ — packets to code PDUs and reassembled model blobs."""

from __future__ import annotations

import pmt
from gnuradio import gr

from .core import packet as pk
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
        if int(max_models) < 1:
            raise ValueError(f"max_models must be >= 1, got {max_models}")
        self._reassembler = pk.Reassembler(model_protection, int(max_models))
        self.model_protection = model_protection
        self.stats = {"packets": 0, "bytes": 0, "codes": 0, "segments": 0, "blobs": 0,
                      "dropped": 0, "reasons": {}}
        self.message_port_register_in(pmt.intern("in"))
        for port in ("code", "model", "pkt"):
            self.message_port_register_out(pmt.intern(port))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def missing(self) -> dict:
        """``{model tag hex: [missing segment indices]}`` for blobs being collected."""
        return self._reassembler.missing()

    def _drop(self, reason, message, level="debug", status=True):
        self.stats["dropped"] += 1
        self.stats["reasons"][reason] = self.stats["reasons"].get(reason, 0) + 1
        getattr(self.logger, level)(f"packet dropped ({reason}): {message}")
        if status:
            self.message_port_pub(pmt.intern("pkt"), make_pdu(
            {"packet_type": "unknown", "crc_ok": False, "reason": reason}, b""))

    def _handle(self, msg):
        self.stats["packets"] += 1
        try:
            meta, data = parse_pdu(msg)
        except ValueError as exc:
            self._drop("not_pdu", str(exc), "warn")
            return
        paper = self.model_protection == "paper"
        phy_ok = bool(meta.get("crc_ok", True))
        if not phy_ok and not paper:
            self._drop("crc", "the PHY's CRC failed")
            return
        try:
            packet = pk.unpack(data.tobytes(), check_crc=not paper)
        except pk.PacketError as exc:
            self._drop(exc.reason, str(exc), "info" if exc.reason != "crc" else "debug")
            return
        if packet.type == pk.IMAGE_DATA:
            self._drop("type", "image-data packet (a baseline scheme's), not AESC-I", "debug")
            return
        crc_ok = packet.crc_ok and phy_ok
        self.stats["bytes"] += len(data)
        phy = {k: meta[k] for k in _PHY_KEYS if k in meta}
        self.message_port_pub(pmt.intern("pkt"), make_pdu(
            {**phy, "packet_type": packet.type_name, "crc_ok": crc_ok}, b""))
        if packet.type == pk.CODE:
            try:
                code = pk.unpack_code(packet.payload)
            except pk.PacketError as exc:
                self._drop(exc.reason, str(exc), "info")
                return
            out = {**phy, "packet_type": "code", "image_id": code.image_id, "scale": code.scale,
                   "model_tag": packet.model_tag.hex(), "seq": packet.index, "crc_ok": crc_ok}
            self.stats["codes"] += 1
            self.message_port_pub(pmt.intern("code"), make_pdu(out, code.code))
            return
        self.stats["segments"] += 1
        packet.crc_ok = crc_ok
        try:
            blob = self._reassembler.add(packet)
        except pk.PacketError as exc:
            self._drop(exc.reason, str(exc), "warn", status=False)
            return
        if blob is not None:
            self.stats["blobs"] += 1
            out = {"packet_type": "model", "model_tag": packet.model_tag.hex()}
            self.message_port_pub(pmt.intern("model"), make_pdu(out, blob))
