# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shipped CIFAR-10 models on the link: the 16-bit decoder blob (about 1.2 MB, some
1 150 segments of 1 KB) round trip and its reassembly across carousel rounds."""

import numpy as np
import pytest
import torch

from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.quant import quantize_tensor
from gnuradio.semcom.core.receiver import AescReceiver, BlobReady, ModelBuilt, PacketReceiver
from gnuradio.semcom.core.schemes import AescScheme


@pytest.fixture(scope="module", params=zoo.shipped_aesc("cifar10") or [None])
def shipped(request):
    assert request.param is not None, "no CIFAR-10 AESC-I model ships in core/assets"
    model = zoo.load_aesc("cifar10", request.param)
    return model, blobfmt.blob_from_aesc(model)


def test_the_16_bit_blob_of_the_real_decoder_round_trips_bit_exact(shipped):
    model, data = shipped
    blob = blobfmt.parse_blob(data)
    assert blob.bits == 16 and blob.intact and blob.to_bytes() == data
    assert blobfmt.encode_decoder(blob.specs, blob.build(), blob.in_shape, blob.bits,
                                  blob.meta) == data
    params = dict(model.decoder.named_parameters())
    for t in blob.tensors:
        q, scale = quantize_tensor(params[t.name].detach(), 16)
        assert t.q.dtype == np.int16 and np.array_equal(t.q, q.numpy()) and t.scale == scale


def test_the_rebuilt_decoder_is_within_the_quantization_bound(shipped):
    model, data = shipped
    module, blob = blobfmt.decoder_from_blob(data)
    rebuilt = dict(module.named_parameters())
    for t in blob.tensors:
        w = dict(model.decoder.named_parameters())[t.name].detach()
        # half a step, plus the float32 rounding of q * scale near the largest weight
        ulp = float(np.spacing(np.float32(w.abs().max().item())))
        assert (rebuilt[t.name].detach() - w).abs().max().item() <= t.scale / 2 + ulp
    images, _ = zoo.load_sample(dataset="cifar10")
    with torch.no_grad():
        x = torch.from_numpy(images[:16]).float() / 255
        code = model(x)["code"]
        diff = (module(code) - model.decode(code)).abs().max().item()
    # 16-bit weights: the images differ by far less than one grey level (1/255).
    assert diff < 1 / 255


def test_segments_of_a_cifar10_blob_from_different_rounds_combine(shipped):
    model, data = shipped
    scheme = AescScheme(model, "verified", carousel_every=10**6, segment_size=1024)
    images, _ = zoo.load_sample(dataset="cifar10")
    packets = scheme.transmit(images[:4])
    segments = [p for p in packets if p[0] == pk.MODEL_SEGMENT]
    assert len(segments) == -(-len(data) // 1024) > 1100
    rng = np.random.default_rng(0)
    lost_first = set(rng.choice(len(segments), 60, replace=False).tolist())
    rx = PacketReceiver("verified")
    for i, s in enumerate(segments):                  # round 1: 60 segments lost
        if i not in lost_first:
            assert not any(isinstance(e, BlobReady) for e in rx.receive(s))
    assert sorted(rx.missing()[scheme.tag.hex()]) == sorted(lost_first)
    events = []
    for i, s in enumerate(segments):                  # round 2: other losses, fills the gaps
        if i in lost_first or rng.random() < 0.5:
            events += rx.receive(s)
        if any(isinstance(e, BlobReady) for e in events):
            break                                     # complete at the last missing segment
    (ready,) = [e for e in events if isinstance(e, BlobReady)]
    assert ready.blob == data and rx.missing() == {}
    assert i == max(lost_first)

    receiver = AescReceiver("verified")
    built = [e for s in segments for e in receiver.receive(s) if isinstance(e, ModelBuilt)]
    assert len(built) == 1
