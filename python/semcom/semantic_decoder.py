# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Semantic decoder block: rebuilds decoders from received model blobs, decodes codes."""

from __future__ import annotations

import pmt
from gnuradio import gr

from .core.receiver import (Code, CodeDecoder, check_protection, Dropped, Image, ModelBuilt,
                            ModelRejected)
from .core.signing import TrustPolicy
from .phy.pdu import make_pdu, parse_pdu


class semantic_decoder(gr.basic_block):
    """Decode code PDUs into images with decoders built from received model blobs.

    Input port ``model``: model blob PDUs (from the deframer). In ``verified`` mode a
    decoder is built only from a blob whose SHA-256 matches its id and tag; in ``paper``
    mode from whatever bits arrived (weight bit errors included), as long as the blob's
    structure parses. Built decoders are cached by model id (``cache_size``, least
    recently used dropped).

    Input port ``code``: code PDUs (payload the 8-bit code; metadata ``model_tag``,
    ``scale``, ``image_id``). Codes for a model not yet received are held (at most
    ``max_pending``, oldest dropped) and decoded when it arrives.

    Output port ``out``: image PDUs: payload u8 pixels ``[C, H, W]`` row-major; metadata
    ``image_id``, ``shape``, ``model_id``, ``dataset`` (the source its decoder's blob names),
    ``model_protection`` and the code's ``snr_db`` and ``crc_ok``.

    Several sources in one stream: every code is decoded with the decoder its model tag
    names, so with both an MNIST and a CIFAR-10 blob received (``cache_size`` >= 2) the
    block decodes both kinds of code; ``dataset`` lets a stock ``pdu_filter`` split the
    images per source (``examples/loopback_mixed.grc``).

    The model port also takes signed blobs and model updates (``docs/model-blob.md``
    §3–4): an update is applied to the cached decoder whose blob is its base; without that
    base it is dropped and the codes of the new model wait for its full blob. A rejected
    blob or update is logged and counted (``stats["rejections"]`` by reason) and the
    decoders already built stay in use.

    Args:
        model_protection: ``"verified"`` (default) or ``"paper"``.
        cache_size: decoders kept.
        max_pending: codes held while their model is missing.
        trusted_keys: Ed25519 public keys trusted to sign decoders: a list, or one string of
            comma-separated PEM file paths or 64-hex-digit keys (``semcom keygen``).
        require_signature: reject unsigned blobs and updates, and those signed by a key
            not in ``trusted_keys``; blobs altered after signing are always rejected.
    """

    def __init__(self, model_protection: str = "verified", cache_size: int = 4,
                 max_pending: int = 1024, trusted_keys="", require_signature: bool = False):
        gr.basic_block.__init__(self, name="semcom_semantic_decoder", in_sig=None, out_sig=None)
        check_protection(model_protection)
        if int(cache_size) < 1 or int(max_pending) < 0:
            raise ValueError("cache_size must be >= 1 and max_pending >= 0")
        trust = TrustPolicy(trusted_keys, bool(require_signature))
        # The rules (blob checks, decoder cache, held codes, scale check, pixels) live in
        # the core receiver; this block turns PDUs into its calls and its events into PDUs.
        self._decoder = CodeDecoder(model_protection, int(cache_size), int(max_pending), trust)
        self.model_protection = model_protection
        self.cache_size = int(cache_size)
        self.max_pending = int(max_pending)
        self.stats = self._decoder.stats
        self._handled = 0
        self.message_port_register_in(pmt.intern("model"))
        self.message_port_register_in(pmt.intern("code"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("model"), self._handle_model)
        self.set_msg_handler(pmt.intern("code"), self._handle_code)

    def models(self) -> list:
        """Ids of the decoders in the cache, oldest first."""
        return self._decoder.models()

    def pending(self) -> int:
        """Codes held while their model is missing."""
        return self._decoder.pending()

    def messages_handled(self) -> int:
        """Input messages (both ports) whose handling has finished, every image they
        caused sent."""
        return self._handled

    def _handle_model(self, msg):
        try:
            meta, payload = parse_pdu(msg)
        except ValueError as exc:
            self._decoder.stats["models_rejected"] += 1
            self.logger.warn(f"model blob rejected, waiting for the next carousel copy: {exc}")
        else:
            self._publish(self._decoder.add_model(payload.tobytes(),
                                                  str(meta.get("model_tag", ""))))
        self._handled += 1

    def _handle_code(self, msg):
        try:
            meta, code = parse_pdu(msg)
            received = Code(image_id=meta.get("image_id"), scale=float(meta.get("scale", 0.0)),
                            code=code, model_tag=str(meta["model_tag"]), seq=meta.get("seq"),
                            crc_ok=meta.get("crc_ok"), phy={"snr_db": meta.get("snr_db")})
        except Exception as exc:  # a malformed PDU: its metadata may hold anything
            self._decoder.reject_code(str(exc))
            self.logger.warn(f"code PDU dropped: {exc!r}")
        else:
            self._publish(self._decoder.add_code(received))
        self._handled += 1

    def _publish(self, events):
        for event in events:
            if isinstance(event, Image):
                out = {"image_id": event.code.image_id, "shape": tuple(event.pixels.shape),
                       "model_id": event.model_id, "model_protection": self.model_protection,
                       "snr_db": event.code.phy.get("snr_db"), "crc_ok": event.code.crc_ok}
                if event.dataset is not None:
                    out["dataset"] = event.dataset
                self.message_port_pub(pmt.intern("out"), make_pdu(out, event.pixels))
            elif isinstance(event, ModelBuilt):
                self.logger.info(f"decoder {event.model_id[:16]} built ({event.n_params} "
                                 f"parameters, {event.bits}-bit weights, {self.model_protection})")
            elif isinstance(event, ModelRejected):
                self.logger.warn(f"model blob rejected ({event.reason}), decoders kept, "
                                 f"waiting for the next carousel copy: {event.message}")
            elif isinstance(event, Dropped):
                getattr(self.logger, event.level)(f"code dropped ({event.reason}): {event.message}")
