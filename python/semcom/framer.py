# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Framer: the paper's splicing rule SR(l, β) — code and model-segment PDUs to packets."""

from __future__ import annotations

import pmt
from gnuradio import gr

from .core import packet as pk
from .phy.pdu import make_pdu, parse_pdu


class framer(gr.basic_block):
    """Wrap code and model-segment PDUs into link packets (``docs/model-blob.md`` §2).

    Input port ``in``: PDUs from the model carousel: code PDUs (metadata ``packet_type`` =
    ``"code"``, ``image_id``, ``scale``, ``model_id``; payload the 8-bit code) and segment
    PDUs (``"model_segment"``, ``model_id``, ``segment_index``, ``segment_count``; payload
    the blob segment).

    Output port ``out``: u8 PDUs, each one packet: 20-byte header (type, version, model
    tag, index, count, payload length), payload, CRC-32. Code packets get consecutive
    sequence numbers. Metadata: ``packet_type``, ``model_tag``, ``seq`` or
    ``segment_index``, ``image_id`` (codes), ``packet_len``.
    """

    def __init__(self):
        gr.basic_block.__init__(self, name="semcom_framer", in_sig=None, out_sig=None)
        self._seq = 0
        self.stats = {"codes": 0, "segments": 0, "dropped": 0}
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        try:
            meta, payload = parse_pdu(msg)
            kind = meta.get("packet_type")
            tag = bytes.fromhex(str(meta["model_id"])[:16])
            if kind == "code":
                body = pk.pack_code(int(meta["image_id"]), float(meta["scale"]), payload)
                raw = pk.pack(pk.CODE, tag, self._seq, 1, body)
                out = {"packet_type": kind, "model_tag": tag.hex(), "seq": self._seq,
                       "image_id": int(meta["image_id"])}
                self._seq = (self._seq + 1) & 0xFFFFFFFF
                self.stats["codes"] += 1
            elif kind == "model_segment":
                raw = pk.pack(pk.MODEL_SEGMENT, tag, int(meta["segment_index"]),
                              int(meta["segment_count"]), payload.tobytes())
                out = {"packet_type": kind, "model_tag": tag.hex(),
                       "segment_index": int(meta["segment_index"])}
                self.stats["segments"] += 1
            else:
                raise ValueError(f"unknown packet_type {kind!r}")
        except Exception as exc:  # bad upstream PDU: log, count, drop
            self.stats["dropped"] += 1
            self.logger.warn(f"PDU not framed: {exc!r}")
            return
        out["packet_len"] = len(raw)
        self.message_port_pub(pmt.intern("out"), make_pdu(out, raw))
