# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Baseline encoder block: images in, JPEG or raw-pixel link packets out."""

from __future__ import annotations

import pmt
from gnuradio import gr

from .core import registry
from .core.schemes import make_scheme
from .phy.pdu import MalformedPdu, make_pdu, parse_image_pdu


class baseline_encoder(gr.basic_block):
    """The paper's baselines as a block: each image PDU becomes one link packet.

    Input port ``in``: image PDUs (from the image source).

    Output port ``out``: u8 PDUs, one packet each (type 3, *image data*, of
    ``docs/model-blob.md`` §2: header, ``u32`` image id and the scheme's bytes, CRC-32),
    ready for the packet modem or the symbol link. Metadata: ``packet_type`` =
    ``"image_data"``, ``image_id``, ``packet_len``, ``data_bits``.

    Args:
        scheme: ``"jpeg"`` (Pillow) or ``"direct"`` (the raw 8-bit pixels, the bound).
        quality: JPEG quality 0–100 (MNIST: 66 / 19 / 2 give Cr 4 / 8 / 20, header known).
        variant: ``"header-known"`` (only the scan data is sent; the receiver holds the
            headers) or ``"full-file"``.

    Pair it with a :class:`baseline_decoder` of the same settings.
    """

    def __init__(self, scheme: str = "jpeg", quality: int = 2, variant: str = "header-known"):
        gr.basic_block.__init__(self, name="semcom_baseline_encoder", in_sig=None, out_sig=None)
        registry.check(registry.BASELINES, scheme, "scheme")
        self._scheme = make_scheme(scheme, quality=quality, variant=variant)
        self.stats = {"images": 0, "packets": 0, "dropped": 0, "data_bits": 0}
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def label(self) -> str:
        return self._scheme.label()

    def _handle(self, msg):
        self.stats["images"] += 1
        try:
            pdu = parse_image_pdu(msg)
            packet, bits = self._scheme.encode_packet(pdu.image_id, pdu.image)
        except (MalformedPdu, ValueError) as exc:   # bad upstream PDU: log, count, drop
            self.stats["dropped"] += 1
            self.logger.warn(f"image not encoded: {exc}")
            return
        self.stats["packets"] += 1
        self.stats["data_bits"] += bits
        meta = {"packet_type": "image_data", "image_id": pdu.image_id,
                "packet_len": len(packet), "data_bits": bits}
        self.message_port_pub(pmt.intern("out"), make_pdu(meta, packet))
