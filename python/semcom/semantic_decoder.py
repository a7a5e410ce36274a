"""Semantic decoder block: rebuilds decoders from received model blobs, decodes codes."""

from __future__ import annotations

import collections
import math

import numpy as np
import pmt
import torch
from gnuradio import gr

from .core import blob as blobfmt
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
    ``image_id``, ``shape``, ``model_id``, ``model_protection`` and the code's ``snr_db``
    and ``crc_ok``.

    Args:
        model_protection: ``"verified"`` (default) or ``"paper"``.
        cache_size: decoders kept.
        max_pending: codes held while their model is missing.
    """

    def __init__(self, model_protection: str = "verified", cache_size: int = 4,
                 max_pending: int = 1024):
        gr.basic_block.__init__(self, name="semcom_semantic_decoder", in_sig=None, out_sig=None)
        if model_protection not in ("verified", "paper"):
            raise ValueError(f"model_protection must be 'verified' or 'paper', got {model_protection!r}")
        if int(cache_size) < 1 or int(max_pending) < 0:
            raise ValueError("cache_size must be >= 1 and max_pending >= 0")
        self.model_protection = model_protection
        self.cache_size = int(cache_size)
        self._decoders = collections.OrderedDict()  # tag hex -> (decoder, ModelBlob)
        self._pending = collections.deque(maxlen=int(max_pending) or None)
        self.max_pending = int(max_pending)
        self.stats = {"models": 0, "models_rejected": 0, "codes": 0, "images": 0,
                      "held": 0, "dropped": 0}
        self.message_port_register_in(pmt.intern("model"))
        self.message_port_register_in(pmt.intern("code"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("model"), self._handle_model)
        self.set_msg_handler(pmt.intern("code"), self._handle_code)

    def models(self) -> list:
        """Ids of the decoders in the cache, oldest first."""
        return [entry[1].model_id for entry in self._decoders.values()]

    def pending(self) -> int:
        return len(self._pending)

    def _handle_model(self, msg):
        try:
            meta, payload = parse_pdu(msg)
            blob = payload.tobytes()
            verify = self.model_protection == "verified"
            tag = str(meta.get("model_tag", "")) or blob[-32:-24].hex()
            if tag in self._decoders:
                self._decoders.move_to_end(tag)
                return
            decoder, parsed = blobfmt.decoder_from_blob(blob, verify=verify)
            if verify and parsed.model_id[:16] != tag:
                raise blobfmt.BlobIntegrityError(
                    f"blob id {parsed.model_id[:16]} does not match its packets' tag {tag}")
        except Exception as exc:  # a bad blob from the air: log, count, wait for the next copy
            self.stats["models_rejected"] += 1
            self.logger.warn(f"model blob rejected, waiting for the next carousel copy: {exc}")
            return
        self._decoders[tag] = (decoder, parsed)
        while len(self._decoders) > self.cache_size:
            self._decoders.popitem(last=False)
        self.stats["models"] += 1
        self.logger.info(f"decoder {parsed.model_id[:16]} built ({parsed.n_params} parameters, "
                         f"{parsed.bits}-bit weights, {self.model_protection})")
        held, self._pending = list(self._pending), collections.deque(maxlen=self._pending.maxlen)
        for code_msg in held:
            self._handle_code(code_msg, from_pending=True)

    def _handle_code(self, msg, from_pending=False):
        try:
            meta, code = parse_pdu(msg)
            tag = str(meta["model_tag"])
        except Exception as exc:
            self.stats["dropped"] += 1
            self.logger.warn(f"code PDU dropped: {exc!r}")
            return
        entry = self._decoders.get(tag)
        if entry is None:
            if self.max_pending == 0:
                self.stats["dropped"] += 1
                return
            if len(self._pending) == self._pending.maxlen:
                self.stats["dropped"] += 1
            self._pending.append(msg)
            if not from_pending:
                self.stats["held"] += 1
            return
        decoder, parsed = entry
        if code.size != parsed.in_shape[0]:
            self.stats["dropped"] += 1
            self.logger.warn(f"code of {code.size} values for model {tag} expecting {parsed.in_shape[0]}")
            return
        scale = float(meta.get("scale", 0.0))
        if not math.isfinite(scale) or scale < 0 or scale > 1e6:
            # Only a corrupted packet (paper mode) gets here: decode it as an all-zero code.
            scale = 0.0
        with torch.no_grad():
            latent = torch.from_numpy(code.astype(np.float32) * np.float32(scale))[None]
            image = decoder(latent)[0].numpy()
        pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
        out = {"image_id": meta.get("image_id"), "shape": tuple(parsed.out_shape),
               "model_id": parsed.model_id, "model_protection": self.model_protection,
               "snr_db": meta.get("snr_db"), "crc_ok": meta.get("crc_ok")}
        self.stats["codes"] += 1
        self.stats["images"] += 1
        self.message_port_pub(pmt.intern("out"), make_pdu(out, pixels))
