# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Schemes of the evaluation: noiseless round trips, corrupted and lost packets."""

import numpy as np
import pytest

from gnuradio.semcom.core import jpeg, zoo
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core.evaluate import transmit_noiseless
from gnuradio.semcom.core.schemes import (FAILED, LOST, OK, AescScheme, DirectScheme,
                                          JpegScheme, make_scheme)


@pytest.fixture(scope="module")
def sample():
    images, labels = zoo.load_sample()
    return images[:24]


def _clean(packets):
    return [(p, True) for p in packets]


def test_direct_round_trip_is_exact(sample):
    s = DirectScheme()
    packets = s.transmit(sample)
    assert len(packets) == len(sample)
    assert s.accounting["source_bits"] == sample.size * 8
    rx = s.receive(_clean(packets), len(sample), sample.shape[1:])
    assert (rx.status == OK).all()
    np.testing.assert_array_equal(rx.images, sample)


def test_jpeg_round_trip_equals_pillow_decode(sample):
    for variant in jpeg.VARIANTS:
        s = JpegScheme(18, variant)
        rx = s.receive(_clean(s.transmit(sample)), len(sample), sample.shape[1:])
        assert (rx.status == OK).all()
        for im, got in zip(sample, rx.images):
            want = jpeg.decode(jpeg.encode(im, 18, variant), im.shape, 18, variant)
            np.testing.assert_array_equal(got, want)


def test_aesc_round_trip_equals_the_noiseless_receiver(sample):
    model = zoo.load_aesc("mnist", 40)
    s = AescScheme(model, "verified", carousel_every=10)
    packets = s.transmit(sample)
    # blob copies before codes 0, 10, 20 and one code packet per image
    assert s.accounting["model_copies"] == 3
    assert s.accounting["source_bits"] == len(sample) * 40 * 8
    segs = [p for p in packets if pk.unpack(p).type == pk.MODEL_SEGMENT]
    assert len(segs) == 3 * len(pk.segment_blob(s.blob, s.tag))
    rx = s.receive(_clean(packets), len(sample), sample.shape[1:])
    assert (rx.status == OK).all() and rx.counters["model_received"]
    want = np.round(transmit_noiseless(model, sample).recon * 255).astype(np.uint8)
    np.testing.assert_array_equal(rx.images, want)


def _flip(packet, byte):
    data = bytearray(packet)
    data[byte] ^= 0x10
    return bytes(data)


def test_aesc_verified_drops_corrupted_codes_and_paper_keeps_them(sample):
    model = zoo.load_aesc("mnist", 40)
    for protection, want in (("verified", LOST), ("paper", OK)):
        s = AescScheme(model, protection, carousel_every=100)
        packets = s.transmit(sample)
        n_seg = len(packets) - len(sample)
        received = []
        for i, p in enumerate(packets):
            if i == n_seg + 5:                      # code of image 5: payload bit error
                received.append((_flip(p, pk.HEADER_BYTES + 10), False))
            else:
                received.append((p, True))
        rx = s.receive(received, len(sample), sample.shape[1:])
        assert rx.status[5] == want
        assert (rx.status[np.arange(len(sample)) != 5] == OK).all()


def test_aesc_without_a_clean_model_copy_fails_its_images(sample):
    model = zoo.load_aesc("mnist", 40)
    s = AescScheme(model, "verified", carousel_every=100)
    packets = s.transmit(sample)
    n_seg = len(packets) - len(sample)
    received = [(_flip(p, 40), False) if i < n_seg else (p, True) for i, p in enumerate(packets)]
    rx = s.receive(received, len(sample), sample.shape[1:])
    assert (rx.status == FAILED).all() and not rx.counters["model_received"]
    assert (rx.images == 0).all()                   # failed images count as black


def test_lost_and_unroutable_packets_lose_their_image(sample):
    s = DirectScheme()
    packets = s.transmit(sample)
    received = [(p, True) for i, p in enumerate(packets) if i != 3]
    received[0] = (b"\x07" + received[0][0][1:], False)          # unknown packet type
    rx = s.receive(received, len(sample), sample.shape[1:])
    assert rx.status[3] == LOST and rx.status[0] == LOST
    assert rx.counters["unroutable"] == 1
    assert (rx.images[3] == 0).all()
    assert (rx.status[[1, 2, 4]] == OK).all()


def test_make_scheme_names_bad_arguments():
    with pytest.raises(ValueError, match="one of"):
        make_scheme("wavelet")
    with pytest.raises(ValueError, match="quality"):
        make_scheme("jpeg")
    with pytest.raises(ValueError, match="model"):
        make_scheme("aesc")
    with pytest.raises(ValueError, match="protection"):
        AescScheme(zoo.load_aesc("mnist", 40), "none")
