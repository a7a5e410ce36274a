# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Model carousel: the decoder's model blob as numbered segments, repeated."""

from __future__ import annotations

import math
import threading

import pmt
from gnuradio import gr

from .core import blob as blobfmt
from .core import signing
from .core import update as updates
from .phy.pdu import make_pdu, parse_pdu


class model_carousel(gr.basic_block):
    """Interleave a model blob's segments with the code stream, and repeat them.

    Input port ``model``: model PDUs from the semantic encoder (payload = model blob, or a
    blob already signed; metadata ``model_id``). A new model is segmented and sent at once.

    Input port ``in``: code PDUs; passed through unchanged to ``out``.

    Output port ``out``: code PDUs and model-segment PDUs. A segment PDU's payload is
    bytes ``[i·S, (i+1)·S)`` of the blob; metadata ``packet_type`` = ``"model_segment"``,
    ``model_id``, ``model_tag``, ``segment_index`` (i), ``segment_count``.

    The whole blob of each model in use is sent again after every ``repeat_codes`` code
    packets and every ``repeat_seconds`` seconds, so a receiver that starts late, or lost a
    segment, still gets the decoder. The models in use are those the codes since the last
    round referred to (in the order they were first referred to), else the one the latest
    code referred to: a stream that mixes sources (MNIST and CIFAR-10 codes) repeats every
    source's blob, one after the other.

    With a ``signing_key`` every blob and update goes out in a signed envelope
    (``docs/model-blob.md`` §3). With ``send_updates``, a new model of the same layers as
    the one in use is announced by an update against it (§4), sent at once; its full blob
    follows in the next repeat round, for receivers that lack the base. The segments of an
    envelope or an update carry that object's own id in ``model_id`` (so its tag), and the
    decoder's id in ``decoder_id``; ``object_kind`` is ``blob`` or ``update``.

    Args:
        segment_size: payload bytes per segment S (16 … 65535).
        repeat_codes: resend after this many code packets (0: never by count).
        repeat_seconds: resend at this period in seconds (0: never by time).
        signing_key: Ed25519 private key file (PKCS#8 PEM, from ``semcom keygen``) that
            signs every blob and update; ``""``: send them unsigned.
        send_updates: announce a changed model by an update against the previous one.
    """

    def __init__(self, segment_size: int = 1024, repeat_codes: int = 100,
                 repeat_seconds: float = 0.0, signing_key: str = "",
                 send_updates: bool = False):
        gr.basic_block.__init__(self, name="semcom_model_carousel", in_sig=None, out_sig=None)
        if not 16 <= int(segment_size) <= 65535:
            raise ValueError(f"segment_size must be in [16, 65535] bytes, got {segment_size}")
        self.segment_size = int(segment_size)
        self.set_repeat_codes(repeat_codes)
        self.set_repeat_seconds(repeat_seconds)
        self._key = signing.load_private_key(signing_key) if str(signing_key) else None
        self.send_updates = bool(send_updates)
        self._lock = threading.Lock()
        self._models = {}        # model_id -> the object its rounds send (blob or envelope)
        self._current = None     # model_id in use
        self._since_repeat = 0
        self._stop = threading.Event()
        self._in_use = {}        # model_ids the codes since the last round referred to
        self._thread = None
        self.stats = {"codes": 0, "segments": 0, "rounds": 0, "updates": 0, "dropped": 0}
        self.message_port_register_in(pmt.intern("model"))
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("model"), self._handle_model)
        self.set_msg_handler(pmt.intern("in"), self._handle_code)

    # -- setters (GRC callbacks) -------------------------------------------------------
    def set_repeat_codes(self, repeat_codes):
        if int(repeat_codes) < 0:
            raise ValueError(f"repeat_codes must be >= 0, got {repeat_codes}")
        self.repeat_codes = int(repeat_codes)

    def set_repeat_seconds(self, repeat_seconds):
        if float(repeat_seconds) < 0 or not math.isfinite(float(repeat_seconds)):
            raise ValueError(f"repeat_seconds must be a finite number >= 0, got {repeat_seconds}")
        self.repeat_seconds = float(repeat_seconds)

    def segment_count(self, model_id: str | None = None) -> int:
        blob = self._models.get(model_id or self._current, b"")
        return max(1, math.ceil(len(blob) / self.segment_size)) if blob else 0

    def _wrap(self, obj: bytes) -> bytes:
        return signing.sign(obj, self._key) if self._key is not None else obj

    # -- timer ----------------------------------------------------------------------------
    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._timer, name="semcom_carousel", daemon=True)
        self._thread.start()
        return True

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        return True

    def _timer(self):
        while not self._stop.is_set():
            period = self.repeat_seconds
            if self._stop.wait(period if period > 0 else 0.1):
                break
            if period > 0:
                with self._lock:
                    self._repeat_round()

    # -- handlers -------------------------------------------------------------------------
    def _repeat_round(self):
        """A repeat: the blob of every model in use, one after the other."""
        in_use, self._in_use = list(self._in_use) or [self._current], {}
        for model_id in in_use:
            self._send_round(model_id)

    def _send_round(self, model_id=None):
        model_id = model_id or self._current
        blob = self._models.get(model_id)
        if blob is None:
            return
        self._send_object(blob, model_id, "blob")
        self.stats["rounds"] += 1
        self._since_repeat = 0

    def _send_object(self, obj: bytes, decoder_id: str, kind: str):
        object_id = updates.object_id(obj)
        count = max(1, math.ceil(len(obj) / self.segment_size))
        for i in range(count):
            meta = {"packet_type": "model_segment", "model_id": object_id,
                    "model_tag": object_id[:16], "segment_index": i, "segment_count": count,
                    "decoder_id": decoder_id, "object_kind": kind}
            chunk = obj[i * self.segment_size:(i + 1) * self.segment_size]
            self.message_port_pub(pmt.intern("out"), make_pdu(meta, chunk))
        self.stats["segments"] += count

    def _update_from(self, blob: bytes):
        """An update to ``blob`` from a model sent before, or None: the base is the model
        in use if it has the same layers, else the latest such one (a stream that mixes
        sources keeps one per source)."""
        if not self.send_updates:
            return None
        for model_id in [self._current, *reversed(list(self._models))]:
            base = self._models.get(model_id)
            if base is not None and signing.is_envelope(base):
                base = signing.parse_envelope(base).payload
            if base is None or len(base) != len(blob):
                continue
            try:
                return updates.make_update(base, blob)
            except ValueError as exc:
                self.logger.debug(f"no update from {model_id[:16]}: {exc}")
        return None

    def _handle_model(self, msg):
        try:
            meta, payload = parse_pdu(msg)
            blob, signed = payload.tobytes(), None
            if signing.is_envelope(blob):   # signed elsewhere (semcom blob --sign): sent as is
                signed = blob
                blob = signing.parse_envelope(blob).payload
            model_id = blobfmt.model_id(blob)
            if meta.get("model_id", model_id) != model_id:
                raise ValueError(
                    f"model PDU says id {meta.get('model_id')}, blob hashes to {model_id}")
        except Exception as exc:
            self.stats["dropped"] += 1
            self.logger.warn(f"model PDU dropped: {exc}")
            return
        with self._lock:
            new = model_id not in self._models
            update = self._update_from(blob) if new else None
            if new:
                self._models[model_id] = signed or self._wrap(blob)
            if self._current is None or new:
                self._current = model_id
            if update is not None:
                # Receivers holding the base switch on these few bytes; the others get the
                # full blob in the next round.
                self._send_object(self._wrap(update), model_id, "update")
                self.stats["updates"] += 1
            elif new:
                self._send_round(model_id)

    def _handle_code(self, msg):
        with self._lock:
            if pmt.is_pair(msg) and pmt.is_dict(pmt.car(msg)):
                tag = pmt.dict_ref(pmt.car(msg), pmt.intern("model_id"), pmt.PMT_NIL)
                if pmt.is_symbol(tag) and pmt.symbol_to_string(tag) in self._models:
                    self._current = pmt.symbol_to_string(tag)
                    self._in_use[self._current] = True
            self.message_port_pub(pmt.intern("out"), msg)
            self.stats["codes"] += 1
            self._since_repeat += 1
            if self.repeat_codes and self._since_repeat >= self.repeat_codes:
                self._repeat_round()
