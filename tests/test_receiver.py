# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AESC-I receiver of the core (``core/receiver.py``), without GNU Radio."""

import numpy as np
import pytest
import torch

from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.evaluate import transmit_noiseless
from gnuradio.semcom.core.receiver import (AescReceiver, BlobReady, Code, CodeDecoder, CodeHeld,
                                           Dropped, Image, ModelBuilt, ModelRejected,
                                           PacketReceiver, PacketStatus, to_pixels)
from gnuradio.semcom.core.schemes import AescScheme


@pytest.fixture(scope="module")
def link():
    """The zdim-40 model, 8 sample images and their packets: segments first, then codes."""
    images, _ = zoo.load_sample()
    model = zoo.load_aesc("mnist", 40)
    scheme = AescScheme(model, "verified", carousel_every=1000, segment_size=1024)
    packets = scheme.transmit(images[:8])
    n_seg = len(packets) - 8
    return {"model": model, "images": images[:8], "blob": scheme.blob, "tag": scheme.tag,
            "segs": packets[:n_seg], "codes": packets[n_seg:]}


def kinds(events):
    return [type(e).__name__ for e in events]


def corrupt(packet, byte):
    data = bytearray(packet)
    data[byte] ^= 0xFF
    return bytes(data)


def test_to_pixels_guards_non_finite_values():
    out = to_pixels(np.array([[np.nan, np.inf, -np.inf, 0.5, 1.5, -0.2]], np.float32))
    assert out.dtype == np.uint8 and out.shape == (1, 6)
    assert out.tolist() == [[0, 255, 0, 128, 255, 0]]


def test_clean_stream_equals_the_noiseless_receiver(link):
    rx = AescReceiver("verified")
    images = {}
    for p in link["segs"] + link["codes"]:
        for e in rx.receive(p, True, {"snr_db": 7.0}):
            if isinstance(e, Image):
                images[e.code.image_id] = e
    want = np.round(transmit_noiseless(link["model"], link["images"]).recon * 255).astype(np.uint8)
    assert sorted(images) == list(range(8))
    for i, e in images.items():
        np.testing.assert_array_equal(e.pixels, want[i])
        assert e.code.phy == {"snr_db": 7.0} and e.code.crc_ok
        assert e.model_id == blobfmt.model_id(link["blob"])
    assert rx.stats["decoder"] == {"models": 1, "models_rejected": 0, "rejections": {},
                                   "updates": 0, "codes": 8, "images": 8, "held": 0,
                                   "dropped": 0}
    assert rx.stats["deframer"]["blobs"] == 1 and rx.stats["deframer"]["dropped"] == 0


def test_protection_policy_for_crc_failures(link):
    seg = link["segs"][0]
    verified, paper = PacketReceiver("verified"), PacketReceiver("paper")
    assert kinds(verified.receive(seg, phy_crc_ok=False)) == ["Dropped"]
    assert verified.stats["reasons"] == {"crc": 1}
    events = paper.receive(seg, phy_crc_ok=False)
    assert kinds(events) == ["PacketStatus"] and events[0].crc_ok is False
    assert paper.stats["crc_failed_kept"] == 1
    # the packet's own CRC: dropped in verified mode, kept (flagged) in paper mode
    bad = corrupt(link["codes"][0], pk.HEADER_BYTES + 9)
    (drop,) = verified.receive(bad)
    assert (drop.reason, drop.status) == ("crc", True)
    status, code = paper.receive(bad)
    assert isinstance(code, Code) and not code.crc_ok and not status.crc_ok


def test_unroutable_packets_are_dropped_by_reason():
    rx = PacketReceiver("paper")
    baseline = pk.pack(pk.IMAGE_DATA, b"baseline", 0, 1, b"\x00" * 8)
    short_code = pk.pack(pk.CODE, b"A" * 8, 0, 1, b"\x00" * 4)
    events = [rx.receive(b"")[0], rx.receive(baseline)[0], rx.receive(short_code)[-1]]
    assert [e.reason for e in events] == ["short", "type", "code"]
    assert all(isinstance(e, Dropped) for e in events)
    assert rx.stats["dropped"] == 3 and rx.stats["codes"] == 0


def test_segments_from_different_rounds_combine(link):
    segs = link["segs"]
    rx = PacketReceiver("verified")
    for i, s in enumerate(segs):            # round 1: segment 2 fails its CRC
        assert not any(isinstance(e, BlobReady) for e in rx.receive(s, i != 2))
    assert rx.missing() == {link["tag"].hex(): [2]}
    events = rx.receive(segs[2])            # round 2's copy of it
    assert isinstance(events[-1], BlobReady) and events[-1].blob == link["blob"]
    assert rx.missing() == {}


def test_a_blob_failing_its_hash_is_rejected_in_verified_mode_only(link):
    segs = list(link["segs"])
    raw = bytearray(segs[1][:-4])
    raw[pk.HEADER_BYTES + 10] ^= 0x01                 # a weight byte, CRC recomputed
    segs[1] = pk.pack(pk.MODEL_SEGMENT, bytes(raw[2:10]), 1, len(segs),
                      bytes(raw[pk.HEADER_BYTES:]))
    verified = PacketReceiver("verified")
    events = [e for s in segs for e in verified.receive(s)]
    (drop,) = [e for e in events if isinstance(e, Dropped)]
    assert (drop.reason, drop.level, drop.status) == ("blob", "warn", False)
    paper = AescReceiver("paper")
    events = [e for s in segs for e in paper.receive(s)]
    assert "ModelBuilt" in kinds(events)


def test_codes_wait_for_their_model(link):
    rx = AescReceiver("verified", max_pending=3)
    events = [e for p in link["codes"][:5] for e in rx.receive(p)]
    held = [e for e in events if isinstance(e, CodeHeld)]
    assert len(held) == 5 and [e.evicted is not None for e in held] == [False] * 3 + [True] * 2
    assert rx.decoder.pending() == 3
    assert rx.stats["decoder"]["held"] == 5 and rx.stats["decoder"]["dropped"] == 2
    events = [e for p in link["segs"] for e in rx.receive(p)]
    assert kinds(events)[-4:] == ["ModelBuilt", "Image", "Image", "Image"]
    assert [e.code.image_id for e in events if isinstance(e, Image)] == [2, 3, 4]
    assert rx.decoder.pending() == 0


def test_no_holding_when_max_pending_is_zero(link):
    dec = CodeDecoder("verified", max_pending=0)
    code = Code(0, 0.1, np.zeros(40, np.uint8), "00" * 8)
    (drop,) = dec.add_code(code)
    assert drop.reason == "no_model" and dec.stats["dropped"] == 1 and dec.pending() == 0


def test_blob_checks(link):
    dec = CodeDecoder("verified")
    (rejected,) = dec.add_model(link["blob"], "ff" * 8)                # tag of another model
    assert isinstance(rejected, ModelRejected) and "does not match" in rejected.message
    (rejected,) = dec.add_model(b"not a blob at all", "ff" * 8)
    assert isinstance(rejected, ModelRejected) and dec.stats["models_rejected"] == 2
    (built,) = dec.add_model(link["blob"])                              # tag from the blob's id
    assert isinstance(built, ModelBuilt) and built.model_tag == link["tag"].hex()
    assert dec.add_model(link["blob"]) == []                            # already cached
    corrupted = bytearray(link["blob"])
    corrupted[300] ^= 0x10
    assert isinstance(CodeDecoder("verified").add_model(bytes(corrupted))[0], ModelRejected)
    assert isinstance(CodeDecoder("paper").add_model(bytes(corrupted))[0], ModelBuilt)


def test_decoder_cache_drops_the_least_recently_used(link):
    dec = CodeDecoder("paper", cache_size=2)
    for tag in ("aa" * 8, "bb" * 8, "aa" * 8, "cc" * 8):
        dec.add_model(link["blob"], tag)
    assert dec.stats["models"] == 3 and len(dec.models()) == 2
    q = np.zeros(40, np.uint8)
    assert kinds(dec.add_code(Code(0, 0.1, q, "aa" * 8))) == ["Image"]
    assert kinds(dec.add_code(Code(1, 0.1, q, "cc" * 8))) == ["Image"]
    assert kinds(dec.add_code(Code(2, 0.1, q, "bb" * 8))) == ["CodeHeld"]     # evicted


def test_scale_check_and_code_length(link):
    dec = CodeDecoder("paper")
    tag = link["tag"].hex()
    dec.add_model(link["blob"], tag)
    q = np.arange(40, dtype=np.uint8)
    (zero,) = dec.add_code(Code(0, 0.0, q, tag))
    for scale in (float("nan"), float("inf"), -0.5, 1e7):       # corrupted: all-zero code
        (img,) = dec.add_code(Code(1, scale, q, tag))
        np.testing.assert_array_equal(img.pixels, zero.pixels)
    (img,) = dec.add_code(Code(2, 0.05, q, tag))
    assert not np.array_equal(img.pixels, zero.pixels)
    (drop,) = dec.add_code(Code(3, 0.05, q[:39], tag))
    assert drop.reason == "code_length" and dec.stats["dropped"] == 1


def test_a_decoder_with_nan_outputs_gives_black_pixels(link):
    parsed = blobfmt.parse_blob(link["blob"])
    blob = bytearray(link["blob"])
    blob[parsed.tensor_offset] = 0x7E               # first tensor's scale ~1e38: inf weights
    decoder, _ = blobfmt.decoder_from_blob(bytes(blob), verify=False)
    q = np.full(40, 200, np.uint8)
    with torch.no_grad():
        raw = decoder(torch.from_numpy(q.astype(np.float32) * np.float32(0.05))[None])[0].numpy()
    assert np.isnan(raw).any()
    dec = CodeDecoder("paper")
    dec.add_model(bytes(blob), "12" * 8)
    (img,) = dec.add_code(Code(0, 0.05, q, "12" * 8))
    assert (img.pixels[np.isnan(raw)] == 0).all()
    np.testing.assert_array_equal(img.pixels, to_pixels(np.nan_to_num(raw)))


def test_random_bytes_never_raise():
    rng = np.random.default_rng(0)
    for protection in ("verified", "paper"):
        rx = AescReceiver(protection)
        for n in rng.integers(0, 200, 300):
            data = rng.integers(0, 256, int(n), dtype=np.uint8).tobytes()
            events = rx.receive(data, bool(rng.integers(2)))
            assert all(isinstance(e, (Dropped, PacketStatus, Code, CodeHeld, BlobReady))
                       for e in events)
        assert rx.stats["deframer"]["packets"] == 300


def test_bad_parameters_name_the_problem():
    with pytest.raises(ValueError, match="model_protection"):
        AescReceiver("none")
    with pytest.raises(ValueError, match="max_models"):
        PacketReceiver("verified", 0)
    with pytest.raises(ValueError, match="cache_size"):
        CodeDecoder("verified", cache_size=0)
    with pytest.raises(ValueError, match="max_pending"):
        CodeDecoder("verified", max_pending=-1)
