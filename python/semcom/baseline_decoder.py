# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Baseline decoder block: JPEG or raw-pixel link packets in, images out."""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from .core import packet as pk
from .core import registry
from .core.schemes import make_scheme
from .phy.pdu import make_image_pdu, parse_pdu


class baseline_decoder(gr.basic_block):
    """Rebuild images from the packets of a :class:`baseline_encoder` with the same settings.

    Input port ``in``: u8 PDUs, one packet each, from the packet modem's receiver or the
    symbol link (their ``crc_ok`` metadata is read). As in the paper's evaluation, a
    packet whose CRC failed is still decoded when ``use_corrupted`` is true and its header
    still routes it; with ``use_corrupted`` false it is dropped.

    Output port ``out``: image PDUs (u8 pixels ``[C, H, W]``; metadata ``image_id``,
    ``shape``, ``crc_ok``). A JPEG that does not decode gives the all-black image with
    ``decode_failed`` true (the failure policy of ``docs/results.md``).

    Args:
        scheme, quality, variant: as the encoder's.
        shape: image shape ``(C, H, W)`` (the receiver's knowledge; MNIST ``(1, 28, 28)``).
        use_corrupted: decode packets whose CRC failed (default true).
    """

    def __init__(self, scheme: str = "jpeg", quality: int = 2, variant: str = "header-known",
                 shape=(1, 28, 28), use_corrupted: bool = True):
        gr.basic_block.__init__(self, name="semcom_baseline_decoder", in_sig=None, out_sig=None)
        registry.check(registry.BASELINES, scheme, "scheme")
        shape = tuple(int(s) for s in shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"shape must be (C, H, W) of positive ints, got {shape}")
        self._scheme = make_scheme(scheme, quality=quality, variant=variant)
        self.shape = shape
        self.use_corrupted = bool(use_corrupted)
        self.stats = {"packets": 0, "images": 0, "decode_failed": 0, "crc_failed_used": 0,
                      "dropped": 0, "reasons": {}}
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _drop(self, reason, text):
        self.stats["dropped"] += 1
        self.stats["reasons"][reason] = self.stats["reasons"].get(reason, 0) + 1
        self.logger.debug(f"packet dropped ({reason}): {text}")

    def _handle(self, msg):
        self.stats["packets"] += 1
        try:
            meta, data = parse_pdu(msg)
        except ValueError as exc:
            self._drop("not_pdu", str(exc))
            return
        crc_ok = bool(meta.get("crc_ok", True))
        if not crc_ok and not self.use_corrupted:
            self._drop("crc", "the PHY's CRC failed")
            return
        try:
            image_id, image, packet_ok = self._scheme.decode_packet(data.tobytes(), self.shape)
        except pk.PacketError as exc:
            self._drop(exc.reason, str(exc))
            return
        crc_ok = crc_ok and packet_ok
        failed = image is None
        if failed:
            image = np.zeros(self.shape, dtype=np.uint8)
            self.stats["decode_failed"] += 1
        self.stats["crc_failed_used"] += not crc_ok
        self.stats["images"] += 1
        self.message_port_pub(pmt.intern("out"), make_image_pdu(
            image, image_id, extra={"crc_ok": crc_ok, "decode_failed": failed}))
