# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

import struct

import numpy as np
import pytest

from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core.blob import blob_from_aesc, model_id, model_tag
from gnuradio.semcom.core.models import AESC


@pytest.fixture(scope="module")
def blob():
    import torch

    torch.manual_seed(0)
    return blob_from_aesc(AESC("mnist", 40))


def test_pack_unpack_roundtrip():
    raw = pk.pack(pk.CODE, b"ABCDEFGH", 7, 1, b"hello")
    assert len(raw) == pk.OVERHEAD_BYTES + 5
    p = pk.unpack(raw)
    assert ((p.type, p.model_tag, p.index, p.count, p.payload, p.crc_ok)
            == (2, b"ABCDEFGH", 7, 1, b"hello", True))
    assert p.type_name == "code"


@pytest.mark.parametrize("mutate,reason", [
    (lambda r: r[:10], "short"),
    (lambda r: r[:-1] + bytes([r[-1] ^ 1]), "crc"),
])
def test_bad_packets_are_named(mutate, reason):
    raw = pk.pack(pk.CODE, b"ABCDEFGH", 1, 1, b"x" * 30)
    with pytest.raises(pk.PacketError) as err:
        pk.unpack(mutate(raw))
    assert err.value.reason == reason


def _recrc(body):
    import zlib

    return body + struct.pack(">I", zlib.crc32(body))


@pytest.mark.parametrize("field,value,reason", [(0, 9, "type"), (1, 3, "version")])
def test_unknown_type_and_version(field, value, reason):
    raw = bytearray(pk.pack(pk.CODE, b"ABCDEFGH", 1, 1, b"abc")[:-4])
    raw[field] = value
    with pytest.raises(pk.PacketError) as err:
        pk.unpack(_recrc(bytes(raw)))
    assert err.value.reason == reason


def test_out_of_range_length_and_index():
    raw = bytearray(pk.pack(pk.CODE, b"ABCDEFGH", 1, 1, b"abc")[:-4])
    raw[18:20] = struct.pack(">H", 999)
    with pytest.raises(pk.PacketError, match="999-byte payload") as err:
        pk.unpack(_recrc(bytes(raw)))
    assert err.value.reason == "length"
    raw = bytearray(pk.pack(pk.MODEL_SEGMENT, b"ABCDEFGH", 5, 3, b"abc")[:-4])
    with pytest.raises(pk.PacketError) as err:
        pk.unpack(_recrc(bytes(raw)))
    assert err.value.reason == "index"


def test_crc_failure_passes_in_unchecked_mode():
    raw = bytearray(pk.pack(pk.CODE, b"ABCDEFGH", 1, 1, b"abcdef"))
    raw[21] ^= 0x10
    p = pk.unpack(bytes(raw), check_crc=False)
    assert not p.crc_ok and p.payload != b"abcdef"


def test_code_payload_roundtrip():
    code = np.arange(40, dtype=np.uint8)
    payload = pk.pack_code(123456, 0.0421, code)
    assert len(payload) == 48
    out = pk.unpack_code(payload, 40)
    assert out.image_id == 123456 and out.scale == pytest.approx(0.0421)
    assert np.array_equal(out.code, code)
    with pytest.raises(pk.PacketError, match="expects 98"):
        pk.unpack_code(payload, 98)


def test_reassembly_any_order_with_duplicates(blob):
    tag = model_tag(model_id(blob))
    packets = [pk.unpack(p) for p in pk.segment_blob(blob, tag, 1024)]
    assert len(packets) == -(-len(blob) // 1024)
    rev = packets[::-1]
    order = rev[:3] + rev[:2] + rev[3:]  # reversed, two duplicates before it completes
    r = pk.Reassembler()
    done = [b for b in (r.add(p) for p in order) if b is not None]
    assert done == [blob]
    assert r.stats["duplicates"] == 2 and r.stats["blobs"] == 1


def test_missing_segments_are_reported(blob):
    tag = model_tag(model_id(blob))
    packets = [pk.unpack(p) for p in pk.segment_blob(blob, tag, 1024)]
    r = pk.Reassembler()
    for p in packets[:3] + packets[5:]:
        assert r.add(p) is None
    assert r.missing() == {tag.hex(): [3, 4]}


def test_verified_mode_rejects_a_corrupted_blob_then_accepts_a_clean_copy(blob):
    tag = model_tag(model_id(blob))
    clean = [pk.unpack(p) for p in pk.segment_blob(blob, tag, 1024)]
    bad = [pk.Packet(p.type, p.model_tag, p.index, p.count, p.payload) for p in clean]
    bad[2].payload = bytes([bad[2].payload[0] ^ 1]) + bad[2].payload[1:]
    r = pk.Reassembler("verified")
    with pytest.raises(pk.PacketError, match="SHA-256"):
        for p in bad:
            r.add(p)
    assert r.stats["rejected"] == 1
    assert [b for b in map(r.add, clean) if b is not None] == [blob]


def test_paper_mode_keeps_crc_failed_segments(blob):
    tag = model_tag(model_id(blob))
    packets = [pk.unpack(p) for p in pk.segment_blob(blob, tag, 1024)]
    packets[1].crc_ok = False
    assert [r for r in map(pk.Reassembler("verified").add, packets) if r] == []
    assert [r for r in map(pk.Reassembler("paper").add, packets) if r] == [blob]


def test_bad_parameters():
    with pytest.raises(ValueError, match="model_protection"):
        pk.Reassembler("sloppy")
    with pytest.raises(ValueError, match="segment_size"):
        pk.segment_blob(b"x" * 100, b"ABCDEFGH", 4)
