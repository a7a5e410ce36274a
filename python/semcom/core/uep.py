# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unequal error protection: which LDPC code each kind of link packet travels with.

A system that sends its decoder fails as soon as one segment of the decoder's blob cannot
get through; the images' codes are useless without it. The link can therefore give each
kind of packet (``registry.PACKET_KINDS``: ``model_segment``, ``code``, ``image_data``)
its own LDPC code, e.g. the decoder's segments on the rate-1/4 code ``n0500_r025`` and
everything else on the default ``n1800_r05``. The choice is a *packet-code map*,
``{kind: code key}``; a kind it does not name uses the link's default code.

The transmitter reads the kind from the packet's first byte (the type of
``docs/model-blob.md`` §2); the receiver learns the code of a packet from the link, not by
parsing the (still encoded) packet: the symbol-level link carries it beside the packet as
it carries the length (ideal framing), and the fast engine computes each code's packets
with that code.

Pure Python, no GNU Radio: the symbol-link block, the fast engine and the sweep all use
these functions, so the rule is the same everywhere.
"""

from __future__ import annotations

from . import packet as pk
from . import registry

__all__ = ["PACKET_KINDS", "parse_packet_codes", "format_packet_codes", "packet_kind",
           "code_for", "code_plan", "code_table"]

PACKET_KINDS = registry.keys(registry.PACKET_KINDS)
_KIND_OF_TYPE = {pk.MODEL_SEGMENT: "model_segment", pk.CODE: "code",
                 pk.IMAGE_DATA: "image_data"}
assert set(_KIND_OF_TYPE.values()) == set(PACKET_KINDS)


def parse_packet_codes(spec) -> dict:
    """A packet-code map from ``None``/``""`` (empty), a dict, or a string
    ``"kind=code,kind=code"`` (e.g. ``"model_segment=n0500_r025"``).

    Returns a dict in the order of ``registry.PACKET_KINDS``; ``ValueError`` names a bad
    kind, code or item and the choices.
    """
    if spec is None or spec == "":
        return {}
    if isinstance(spec, str):
        items = {}
        for item in spec.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" not in item:
                raise ValueError(f"packet code {item!r}: write KIND=CODE, e.g. "
                                 "model_segment=n0500_r025 (kinds: "
                                 f"{', '.join(PACKET_KINDS)})")
            kind, code = (s.strip() for s in item.split("=", 1))
            if kind in items:
                raise ValueError(f"packet kind {kind!r} given twice in {spec!r}")
            items[kind] = code
        spec = items
    if not isinstance(spec, dict):
        raise ValueError(f"packet codes must be a dict or 'kind=code,...', got {spec!r}")
    for kind, code in spec.items():
        registry.check(registry.PACKET_KINDS, kind, "packet kind")
        registry.check(registry.LDPC_CODES, code, "LDPC code")
    return {k: spec[k] for k in PACKET_KINDS if k in spec}


def format_packet_codes(packet_codes: dict) -> str:
    """The string form of a map (``""`` when empty), the inverse of
    :func:`parse_packet_codes`."""
    return ",".join(f"{k}={c}" for k, c in parse_packet_codes(packet_codes).items())


def packet_kind(data) -> str | None:
    """The kind of a link packet from its type byte, ``None`` for an unknown type or an
    empty packet (such a packet uses the default code)."""
    return _KIND_OF_TYPE.get(data[0]) if len(data) else None


def code_for(data, default: str, packet_codes: dict) -> str:
    """The code key a packet travels with: its kind's entry of ``packet_codes``, else
    ``default``."""
    return packet_codes.get(packet_kind(data), default)


def code_plan(packets, default: str, packet_codes: dict) -> list:
    """:func:`code_for` of every packet, in order."""
    return [code_for(p, default, packet_codes) for p in packets]


def code_table(default: str, packet_codes: dict) -> list:
    """The distinct codes of a link, its ``default`` first, then the map's other codes in
    sorted order: a packet names its code by its index here (the burst header's code field,
    ``phy.waveform.header_bits``), so the transmitter and the receiver, given the same
    ``default`` and map, build the same table. At most four entries (three kinds)."""
    return [default] + sorted(set(parse_packet_codes(packet_codes).values()) - {default})
