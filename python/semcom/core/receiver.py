# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AESC-I receiver: link packets in, events and images out.

This is the one place where the receiver's rules live; the ``deframer`` and
``semantic_decoder`` blocks and the sweep's :class:`~.schemes.AescScheme` are shells
around it (a differential QA test, ``qa_receiver.py``, keeps them identical):

* **protection policy** — ``verified`` drops packets whose CRC-32 (the PHY's or the
  packet's own) fails and builds a decoder only from a blob whose SHA-256 matches its id
  and tag; ``paper`` keeps corrupted packets whose header still routes them and builds
  the decoder from whatever bits arrived, as long as the blob's structure parses;
* **reassembly** of model blobs from segments (:class:`.packet.Reassembler`: any order,
  duplicates dropped, segments of one blob from different carousel rounds combine);
* **blob → decoder**, with its checks, cached per model tag;
* **held codes**: codes whose decoder has not been built yet wait (bounded) for it;
* the **scale check**, the **non-finite guard** and the **pixel conversion**
  (:func:`to_pixels`).

Two stages, usable apart (one per block) or together (:class:`AescReceiver`):
:class:`PacketReceiver` (SR⁻¹: packets → codes and blobs) and :class:`CodeDecoder`
(blobs → decoders, codes → images). Each call returns a list of events (the dataclasses
below) in the order they happened; the caller logs, forwards or collects them. Bad input
never raises: it is counted in ``stats`` and reported as an event.

PyTorch and NumPy only: this module never imports GNU Radio.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from . import blob as blobfmt
from . import packet as pk
from . import registry
from . import signing
from . import update as updates

__all__ = ["PROTECTIONS", "check_protection", "Code", "Dropped", "PacketStatus", "BlobReady",
           "ModelBuilt", "ModelRejected", "CodeHeld", "Image", "PacketReceiver", "CodeDecoder",
           "AescReceiver", "to_pixels", "MAX_SCALE"]

PROTECTIONS = registry.keys(registry.PROTECTIONS)
# A code scale above this (or negative, or not finite) can only come from a corrupted
# packet: the encoder's scales are max(latent) / 255, far below it.
MAX_SCALE = 1e6


def check_protection(protection: str) -> str:
    return registry.check(registry.PROTECTIONS, protection, "model_protection")


# --------------------------------------------------------------------------- events

@dataclass
class Code:
    """One received code, ready for the decoder.

    ``code`` uint8 ``[C]``; ``scale`` the code's quantization scale (float);
    ``model_tag`` 16 hex digits; ``image_id``/``seq`` ints (``image_id`` may be ``None``
    when a code PDU came without one); ``crc_ok`` whether every CRC on its way passed;
    ``phy`` the PHY's metadata it arrived with (e.g. ``snr_db``), passed on unchanged.
    """

    image_id: int | None
    scale: float
    code: np.ndarray
    model_tag: str
    seq: int | None = None
    crc_ok: bool = True
    phy: dict = field(default_factory=dict)


@dataclass
class Dropped:
    """Something was dropped. ``reason`` is one word (the counters' key), ``message`` says
    why, ``level`` is the log level it deserves (``debug``, ``info``, ``warn``) and
    ``status`` whether the deframer reports it as an unknown packet on its ``pkt`` port."""

    reason: str
    message: str
    level: str = "debug"
    status: bool = True


@dataclass
class PacketStatus:
    """A routable AESC-I packet arrived: its ``packet_type`` name, ``crc_ok`` and the PHY's
    metadata."""

    packet_type: str
    crc_ok: bool
    phy: dict = field(default_factory=dict)


@dataclass
class BlobReady:
    """A model blob was reassembled (``blob`` bytes, ``model_tag`` 16 hex digits)."""

    model_tag: str
    blob: bytes


@dataclass
class ModelBuilt:
    """A decoder was built from a blob and cached under ``model_tag``."""

    model_tag: str
    model_id: str
    n_params: int
    bits: int


@dataclass
class ModelRejected:
    """A blob did not give a decoder; ``message`` says why (the next copy may).
    ``reason``: ``blob`` (it does not parse or match its tag), ``update`` (an update that
    does not apply), ``no_base`` (an update whose base this receiver lacks), or a
    signature verdict: ``unsigned``, ``untrusted``, ``bad_signature``."""

    model_tag: str
    message: str
    reason: str = "blob"


@dataclass
class CodeHeld:
    """A code waits for its model (``code``); ``evicted`` is the older code that made room
    for it when the holding queue was full, else ``None``."""

    code: Code
    evicted: Code | None = None


@dataclass
class Image:
    """A decoded image: ``pixels`` uint8 ``[C, H, W]`` (the decoder's output shape), the
    ``code`` it came from, the full ``model_id`` (64 hex digits) of its decoder and the
    ``dataset`` its blob names (``None`` when the blob names none)."""

    code: Code
    pixels: np.ndarray
    model_id: str
    dataset: str | None = None


# --------------------------------------------------------------------------- pixels

def to_pixels(image) -> np.ndarray:
    """Decoder output (float, any shape, nominally in ``[0, 1]``) → uint8 of the same shape.

    Non-finite values are replaced first (NaN → 0, ±inf → the clip limits): a paper-mode
    decoder built from corrupted weights can output them, and casting NaN to uint8 is
    undefined in NumPy.
    """
    image = np.nan_to_num(np.asarray(image))
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


# --------------------------------------------------------------------------- SR⁻¹

class PacketReceiver:
    """SR⁻¹: link packets → codes, reassembled model blobs and status events.

    Args:
        protection: ``"verified"`` or ``"paper"`` (module docstring).
        max_models: blobs collected at once (the oldest partial blob is dropped).

    ``stats``: ``packets`` in, ``bytes`` of routable packets, ``codes`` and ``segments``
    accepted, ``blobs`` completed, ``crc_failed_kept`` (corrupted packets kept, paper
    mode), ``dropped`` and its ``reasons`` (``crc``, ``short``, ``type``, ``version``,
    ``length``, ``index``, ``code``, ``blob``, and whatever :meth:`reject` is given).
    """

    def __init__(self, protection: str = "verified", max_models: int = 4):
        if int(max_models) < 1:
            raise ValueError(f"max_models must be >= 1, got {max_models}")
        self.protection = check_protection(protection)
        self._reassembler = pk.Reassembler(protection, int(max_models))
        self.stats = {"packets": 0, "bytes": 0, "codes": 0, "segments": 0, "blobs": 0,
                      "crc_failed_kept": 0, "dropped": 0, "reasons": {}}

    def missing(self) -> dict:
        """``{model tag hex: [missing segment indices]}`` for blobs being collected."""
        return self._reassembler.missing()

    def reject(self, reason: str, message: str, level: str = "debug",
               status: bool = True) -> Dropped:
        """Count a drop under ``reason`` and return its event (also for drops that the
        caller detects, such as a message that is not a PDU)."""
        self.stats["dropped"] += 1
        self.stats["reasons"][reason] = self.stats["reasons"].get(reason, 0) + 1
        return Dropped(reason, message, level, status)

    def receive(self, data: bytes, phy_crc_ok: bool = True, phy: dict | None = None) -> list:
        """One packet (``bytes``) and the PHY's CRC verdict → events.

        Events, in order: a :class:`Dropped` (unroutable), or a :class:`PacketStatus`
        followed by a :class:`Code`, a :class:`BlobReady` (the last segment of a blob), or
        a :class:`Dropped` (bad code payload, blob failing its SHA-256).
        """
        self.stats["packets"] += 1
        paper = self.protection == "paper"
        if not phy_crc_ok and not paper:
            return [self.reject("crc", "the PHY's CRC failed")]
        try:
            packet = pk.unpack(bytes(data), check_crc=not paper)
        except pk.PacketError as exc:
            return [self.reject(exc.reason, str(exc), "debug" if exc.reason == "crc" else "info")]
        if packet.type == pk.IMAGE_DATA:
            return [self.reject("type", "image-data packet (a baseline scheme's), not AESC-I")]
        crc_ok = packet.crc_ok and bool(phy_crc_ok)
        self.stats["bytes"] += len(data)
        self.stats["crc_failed_kept"] += not crc_ok
        phy = dict(phy or {})
        events = [PacketStatus(packet.type_name, crc_ok, phy)]
        if packet.type == pk.CODE:
            try:
                code = pk.unpack_code(packet.payload)
            except pk.PacketError as exc:
                events.append(self.reject(exc.reason, str(exc), "info"))
                return events
            self.stats["codes"] += 1
            events.append(Code(code.image_id, code.scale, code.code, packet.model_tag.hex(),
                               packet.index, crc_ok, phy))
            return events
        self.stats["segments"] += 1
        packet.crc_ok = crc_ok
        try:
            blob = self._reassembler.add(packet)
        except pk.PacketError as exc:   # verified mode: the blob failed its SHA-256
            events.append(self.reject(exc.reason, str(exc), "warn", status=False))
            return events
        if blob is not None:
            self.stats["blobs"] += 1
            events.append(BlobReady(packet.model_tag.hex(), blob))
        return events


# --------------------------------------------------------------------------- decoding

class CodeDecoder:
    """Decoders built from received model blobs; codes decoded into images.

    Args:
        protection: ``"verified"``: a decoder is built only from a blob whose SHA-256
            matches its id, and whose id starts with its packets' tag; ``"paper"``: from
            whatever bits arrived, as long as the structure parses.
        cache_size: decoders kept (least recently used dropped), >= 1.
        max_pending: codes held while their model is missing (oldest dropped when full);
            0 drops such codes at once; ``None`` holds every one.
        trust: a :class:`.signing.TrustPolicy` (trusted keys, ``require_signature``);
            default: unsigned blobs accepted, signed ones must verify.

    Blobs may arrive signed (:mod:`.signing`) or as updates against a cached decoder's
    blob (:mod:`.update`); an update's decoder is cached under its result's tag.

    ``stats``: ``models`` built, ``models_rejected`` and ``rejections`` by reason,
    ``updates`` applied, ``codes`` decoded, ``images`` out, ``held`` (codes that had to
    wait), ``dropped`` (codes: malformed, evicted from the holding queue, or of the wrong
    length for their decoder).
    """

    def __init__(self, protection: str = "verified", cache_size: int = 4,
                 max_pending: int | None = 1024, trust: signing.TrustPolicy | None = None):
        if int(cache_size) < 1 or (max_pending is not None and int(max_pending) < 0):
            raise ValueError("cache_size must be >= 1 and max_pending >= 0")
        self.protection = check_protection(protection)
        self.trust = trust or signing.TrustPolicy()
        self.cache_size = int(cache_size)
        self.max_pending = None if max_pending is None else int(max_pending)
        self._decoders = collections.OrderedDict()   # tag hex -> (nn.Module, ModelBlob)
        self._pending = self._new_pending()
        self.stats = {"models": 0, "models_rejected": 0, "rejections": {}, "updates": 0,
                      "codes": 0, "images": 0, "held": 0, "dropped": 0}

    def _new_pending(self):
        return collections.deque(maxlen=self.max_pending or None)

    def models(self) -> list:
        """Ids (64 hex digits) of the cached decoders, oldest first."""
        return [parsed.model_id for _, parsed in self._decoders.values()]

    def pending(self) -> int:
        """Number of codes held."""
        return len(self._pending)

    def held_codes(self) -> list:
        """The codes held, oldest first (:class:`Code`)."""
        return list(self._pending)

    def reject_code(self, message: str) -> Dropped:
        """Count a code the caller could not even read (e.g. a malformed PDU)."""
        self.stats["dropped"] += 1
        return Dropped("code", message, "warn")

    @torch.no_grad()
    def add_model(self, blob: bytes, model_tag: str | None = None) -> list:
        """A reassembled blob (``bytes``) and its packets' tag (16 hex digits; taken from
        the blob's id suffix when absent) → events: nothing (tag already cached), a
        :class:`ModelRejected`, or a :class:`ModelBuilt` followed by the events of the
        held codes, now handled again."""
        blob = bytes(blob)
        tag = str(model_tag or "") or blob[-32:-24].hex()
        if tag in self._decoders:
            self._decoders.move_to_end(tag)
            return []
        verify = self.protection == "verified"
        try:
            opened = updates.open_object(blob, self.trust, self._base_blob)
            if opened.wrapped:   # an envelope or update: its tag is its own, not the blob's
                if verify and updates.object_id(blob)[:16] != tag:
                    raise blobfmt.BlobIntegrityError(
                        f"object id {updates.object_id(blob)[:16]} does not match its "
                        f"packets' tag {tag}")
                blob, tag = opened.blob, opened.blob[-32:-24].hex()
                if tag in self._decoders:
                    self._decoders.move_to_end(tag)
                    return []
            decoder, parsed = blobfmt.decoder_from_blob(blob, verify=verify)
            if verify and parsed.model_id[:16] != tag:
                raise blobfmt.BlobIntegrityError(
                    f"blob id {parsed.model_id[:16]} does not match its packets' tag {tag}")
        except Exception as exc:  # bits from the air: any failure rejects this copy only
            reason = getattr(exc, "reason", "blob")
            self.stats["models_rejected"] += 1
            self.stats["rejections"][reason] = self.stats["rejections"].get(reason, 0) + 1
            return [ModelRejected(tag, str(exc), reason)]
        self.stats["updates"] += opened.kind == "update"
        self._decoders[tag] = (decoder, parsed)
        while len(self._decoders) > self.cache_size:
            self._decoders.popitem(last=False)
        self.stats["models"] += 1
        events = [ModelBuilt(tag, parsed.model_id, parsed.n_params, parsed.bits)]
        held, self._pending = list(self._pending), self._new_pending()
        for code in held:
            events += self._decode(code, from_pending=True)
        return events

    def _base_blob(self, model_id: str) -> bytes | None:
        """The intact blob of a cached decoder with this id (an update's base), or None."""
        for _, parsed in self._decoders.values():
            if parsed.model_id == model_id and parsed.intact:
                return parsed.to_bytes()
        return None

    def add_code(self, code: Code) -> list:
        """One code → events: an :class:`Image`, a :class:`CodeHeld` or a :class:`Dropped`."""
        return self._decode(code, from_pending=False)

    @torch.no_grad()
    def _decode(self, code: Code, from_pending: bool) -> list:
        entry = self._decoders.get(code.model_tag)
        if entry is None:
            if self.max_pending == 0:
                self.stats["dropped"] += 1
                return [Dropped("no_model", f"code for model {code.model_tag} dropped: no "
                                            "decoder yet and max_pending is 0")]
            evicted = None
            if len(self._pending) == self._pending.maxlen:
                self.stats["dropped"] += 1
                evicted = self._pending[0]
            self._pending.append(code)
            if not from_pending:
                self.stats["held"] += 1
            return [CodeHeld(code, evicted)]
        decoder, parsed = entry
        size = math.prod(parsed.in_shape)
        if code.code.size != size:
            self.stats["dropped"] += 1
            return [Dropped("code_length", f"code of {code.code.size} values for model "
                                           f"{code.model_tag} expecting {size}", "warn")]
        scale = float(code.scale)
        if not math.isfinite(scale) or scale < 0 or scale > MAX_SCALE:
            # Only a corrupted packet (paper mode) gets here: decode it as an all-zero code.
            scale = 0.0
        latent = torch.from_numpy(code.code.astype(np.float32) * np.float32(scale))
        image = decoder(latent.reshape(1, *parsed.in_shape))[0].numpy()
        self.stats["codes"] += 1
        self.stats["images"] += 1
        dataset = parsed.meta.get("dataset")
        return [Image(code, to_pixels(image), parsed.model_id,
                      dataset if isinstance(dataset, str) else None)]


# --------------------------------------------------------------------------- both

class AescReceiver:
    """Both stages in one process: packets in, events (images among them) out.

    Args:
        protection: ``"verified"`` or ``"paper"``.
        max_models, cache_size, max_pending, trust: as for :class:`PacketReceiver` and
            :class:`CodeDecoder`.
    """

    def __init__(self, protection: str = "verified", max_models: int = 4, cache_size: int = 4,
                 max_pending: int | None = 1024, trust: signing.TrustPolicy | None = None):
        self.packets = PacketReceiver(protection, max_models)
        self.decoder = CodeDecoder(protection, cache_size, max_pending, trust)
        self.protection = protection

    def receive(self, data: bytes, crc_ok: bool = True, phy: dict | None = None) -> list:
        """One packet → the events of both stages, in the order they happened."""
        events = []
        for event in self.packets.receive(data, crc_ok, phy):
            events.append(event)
            if isinstance(event, Code):
                events += self.decoder.add_code(event)
            elif isinstance(event, BlobReady):
                events += self.decoder.add_model(event.blob, event.model_tag)
        return events

    @property
    def stats(self) -> dict:
        """``{"deframer": PacketReceiver.stats, "decoder": CodeDecoder.stats}``."""
        return {"deframer": self.packets.stats, "decoder": self.decoder.stats}
