# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Model blob (docs/model-blob.md): round trip, fidelity, sizes, and typed rejection of
every kind of malformed blob. Random-initialised models only; no dataset needed."""

import hashlib
import math
import pickle
import struct
import time
import tracemalloc

import numpy as np
import pytest
import torch

from gnuradio.semcom.core import blob as B
from gnuradio.semcom.core.models import AESC
from gnuradio.semcom.core.quant import quantize_tensor


# ----------------------------------------------------------------------------- helpers


def make_aesc(dataset="mnist", zdim=40, seed=0):
    torch.manual_seed(seed)
    return AESC(dataset, zdim)


@pytest.fixture(scope="module")
def mnist():
    aesc = make_aesc("mnist", 40)
    return aesc, B.blob_from_aesc(aesc)


def rehash(data) -> bytes:
    """Recompute the SHA-256 suffix after tampering, so that parsing gets past the
    integrity check and reaches the validation step under test."""
    content = bytes(data[:-B.HASH_BYTES])
    return content + hashlib.sha256(content).digest()


def patch(data: bytes, offset: int, new: bytes, fix_hash: bool = True) -> bytes:
    out = bytearray(data)
    out[offset:offset + len(new)] = new
    return rehash(out) if fix_hash else bytes(out)


def layout(data: bytes):
    """Offsets of the layers and of the tensor section, computed from the documented
    byte layout (independently of the parser)."""
    pos = 14                                   # fixed header
    for _ in range(2):                         # input shape, output shape
        pos += 1 + 2 * data[pos]
    (meta_len,) = struct.unpack_from(">H", data, pos)
    pos += 2 + meta_len
    n_layers = struct.unpack_from(">H", data, 12)[0]
    widths = {1: 4, 2: 7, 3: 8, 5: 0, 6: 0, 7: 0, 8: 4}
    layers = []
    for _ in range(n_layers):
        layers.append(pos)
        code = data[pos]
        pos += 1 + (1 + 2 * data[pos + 1] if code == 4 else widths[code])
    return layers, pos


def decode(module, codes):
    with torch.no_grad():
        return module(codes)


# ----------------------------------------------------------------------------- round trip


def test_round_trip_is_bit_exact(mnist):
    aesc, data = mnist
    blob = B.parse_blob(data)
    assert blob.to_bytes() == data
    # Re-quantizing the rebuilt decoder reproduces the very same bytes.
    assert B.encode_decoder(blob.specs, blob.build(), blob.in_shape, blob.bits, blob.meta) == data
    assert blob.version == 1 and blob.bits == 8 and blob.flags == 0
    assert blob.specs == aesc.decoder_layers
    assert blob.in_shape == (40,) and blob.out_shape == (1, 28, 28)
    assert blob.meta == {"dataset": "mnist", "zdim": 40, "image_shape": [1, 28, 28],
                         "latent_bits": 8}
    assert blob.size == len(data)
    # Parsed integers are exactly the quantized weights.
    params = dict(aesc.decoder.named_parameters())
    assert [t.name for t in blob.tensors] == list(params)
    for t in blob.tensors:
        q, scale = quantize_tensor(params[t.name].detach(), 8)
        assert t.shape == tuple(q.shape) and t.q.shape == t.shape
        assert np.array_equal(t.q, q.numpy()) and t.scale == scale


def test_model_id_is_sha256_of_content(mnist):
    _, data = mnist
    blob = B.parse_blob(data)
    expected = hashlib.sha256(data[:-32]).hexdigest()
    assert B.model_id(data) == blob.model_id == blob.computed_id == expected
    assert data[-32:].hex() == expected and blob.intact
    assert B.model_tag(blob.model_id) == bytes.fromhex(expected)[:8]
    # Offsets reported by the parser agree with the documented layout.
    layers, tensors = layout(data)
    assert blob.layer_offsets == layers and blob.tensor_offset == tensors
    # Two different models have different ids.
    assert B.model_id(B.blob_from_aesc(make_aesc(seed=1))) != expected


def test_rebuilt_decoder_matches_float_decoder(mnist):
    aesc, data = mnist
    module, blob = B.decoder_from_blob(data)
    assert not module.training
    rebuilt = dict(module.named_parameters())
    for t in blob.tensors:
        w = dict(aesc.decoder.named_parameters())[t.name].detach()
        assert rebuilt[t.name].dtype == torch.float32
        err = (rebuilt[t.name].detach() - w).abs().max().item()
        assert err <= t.scale / 2 * (1 + 1e-4), (t.name, err, t.scale)
    torch.manual_seed(1)
    codes = torch.rand(64, 40) * 3
    diff = (decode(module, codes) - decode(aesc.decoder.eval(), codes)).abs().max().item()
    assert diff < 0.05


@pytest.mark.parametrize("zdim", [40, 98, 196])
def test_mnist_blob_size(zdim):
    aesc = make_aesc("mnist", zdim)
    data = B.blob_from_aesc(aesc)
    params = sum(p.numel() for p in aesc.decoder.parameters())
    if zdim == 40:
        assert params == 7409
    overhead = len(data) - params  # 8 bits per parameter
    assert 0 < overhead < 1000
    assert B.blob_size_bits(data) == 8 * len(data)
    text = B.describe(B.parse_blob(data))
    assert B.parse_blob(data).model_id in text and f"{params} parameters" in text


def test_cifar10_decoder_uses_16_bits():
    aesc = make_aesc("cifar10", 8)
    data = B.blob_from_aesc(aesc)
    module, blob = B.decoder_from_blob(data)
    params = sum(p.numel() for p in aesc.decoder.parameters())
    assert blob.bits == 16 and blob.n_params == params
    assert 0 < len(data) - 2 * params < 1000
    assert blob.in_shape == (8 * 36,) and blob.out_shape == (3, 32, 32)
    assert all(t.q.dtype == np.int16 for t in blob.tensors)
    codes = torch.rand(4, 8 * 36) * 3
    assert (decode(module, codes) - decode(aesc.decoder.eval(), codes)).abs().max() < 1e-3


def test_parsing_never_unpickles(mnist, monkeypatch):
    _, data = mnist

    def forbidden(*args, **kwargs):
        raise AssertionError("the blob parser must not deserialize objects")

    for mod, name in ((pickle, "loads"), (pickle, "load"), (torch, "load")):
        monkeypatch.setattr(mod, name, forbidden)
    module, _ = B.decoder_from_blob(data)
    assert isinstance(module, torch.nn.Sequential)


# ----------------------------------------------------------------------------- malformed


def test_errors_are_value_errors():
    for cls in (B.BlobTruncatedError, B.BlobMagicError, B.BlobVersionError, B.BlobHeaderError,
                B.BlobLayerError, B.BlobShapeError, B.BlobSizeError, B.BlobIntegrityError,
                B.BlobScaleError):
        assert issubclass(cls, B.BlobError) and issubclass(cls, ValueError)


def test_truncated(mnist):
    _, data = mnist
    layers, tensors = layout(data)
    cuts = [0, 2, 4, 5, 10, 13, 14, 20, layers[0] + 2, layers[-1], tensors + 3, tensors + 100,
            len(data) - 33, len(data) - 1]
    for cut in cuts:
        with pytest.raises(B.BlobTruncatedError, match="truncated at byte") as e:
            B.parse_blob(data[:cut], verify=False)
        if cut >= 14:
            assert f"{cut} of {len(data)}" in str(e.value)
            assert "carousel" in str(e.value)


def test_wrong_magic(mnist):
    _, data = mnist
    with pytest.raises(B.BlobMagicError, match="SCMB"):
        B.parse_blob(b"SCMX" + data[4:])
    with pytest.raises(B.BlobMagicError):
        B.parse_blob(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(B.BlobMagicError):
        B.parse_blob(b"X")


def test_wrong_version_or_flags(mnist):
    _, data = mnist
    for version in (0, 2, 255):
        with pytest.raises(B.BlobVersionError, match=f"version {version} is not supported"):
            B.parse_blob(patch(data, 4, bytes([version])))
    with pytest.raises(B.BlobVersionError, match="flags 0x0001"):
        B.parse_blob(patch(data, 6, b"\x00\x01"))


def test_bad_weight_bits(mnist):
    _, data = mnist
    with pytest.raises(B.BlobHeaderError, match="weight bits = 12"):
        B.parse_blob(patch(data, 5, bytes([12])))


def test_unknown_layer_type_code(mnist):
    _, data = mnist
    layers, _ = layout(data)
    for code in (0, 9, 99):
        with pytest.raises(B.BlobLayerError, match=f"layer 1 at byte {layers[1]}: unknown "
                                                   f"layer type code {code}"):
            B.parse_blob(patch(data, layers[1], bytes([code])))


def test_bad_layer_fields(mnist):
    _, data = mnist
    layers, _ = layout(data)
    convt = layers[3]  # conv_transpose2d: code, u16 in, u16 out, u8 k, s, p, op
    with pytest.raises(B.BlobLayerError, match="field stride = 0"):
        B.parse_blob(patch(data, convt + 6, b"\x00"))
    with pytest.raises(B.BlobLayerError, match="field kernel = 16"):
        B.parse_blob(patch(data, convt + 5, b"\x10"))
    with pytest.raises(B.BlobLayerError, match="field output_padding = 2"):
        B.parse_blob(patch(data, convt + 8, b"\x02"))
    with pytest.raises(B.BlobLayerError, match="in_features = 0"):
        B.parse_blob(patch(data, layers[0] + 1, b"\x00\x00"))
    pad = layers[-1]  # pad2d: code, i8 left, right, top, bottom
    assert data[pad] == 8
    with pytest.raises(B.BlobLayerError, match="field top = -128"):
        B.parse_blob(patch(data, pad + 3, b"\x80"))
    # A crop that empties the image is a shape error, found before anything is built.
    with pytest.raises(B.BlobShapeError, match=r"pad2d.*empty output"):
        B.parse_blob(patch(data, pad + 1, struct.pack(">bb", -100, -100)))


def test_shapes_that_disagree(mnist):
    _, data = mnist
    layers, _ = layout(data)
    # linear out_features 64 -> 65: the unflatten to [16, 2, 2] no longer fits.
    with pytest.raises(B.BlobShapeError, match=r"layer 2 \(unflatten\)"):
        B.parse_blob(patch(data, layers[0] + 3, struct.pack(">H", 65)))
    # linear in_features 40 -> 41: disagrees with the declared input shape [40].
    with pytest.raises(B.BlobShapeError, match=r"layer 0 \(linear\)"):
        B.parse_blob(patch(data, layers[0] + 1, struct.pack(">H", 41)))
    # declared output shape [1, 28, 28] -> [1, 28, 27].
    out_dims = 14 + 3 + 1  # after the input shape (ndim 1), then the output ndim byte
    with pytest.raises(B.BlobShapeError, match=r"declares output shape \[1, 28, 27\]"):
        B.parse_blob(patch(data, out_dims + 4, struct.pack(">H", 27)))


def test_absurd_sizes_fail_fast_without_allocating(mnist):
    _, data = mnist
    layers, _ = layout(data)
    huge = patch(data, layers[0] + 1, struct.pack(">HH", 65535, 65535))  # 4.3e9 params
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(B.BlobSizeError, match="parameters"):
        B.parse_blob(huge)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5 and peak < 5_000_000
    # Declared blob length of 2 GiB: rejected from the header alone.
    with pytest.raises(B.BlobSizeError, match="declared blob length"):
        B.parse_blob(patch(data, 8, struct.pack(">I", 2**31), fix_hash=False))
    with pytest.raises(B.BlobSizeError, match="n_layers = 1000"):
        B.parse_blob(patch(data, 12, struct.pack(">H", 1000)))
    with pytest.raises(B.BlobSizeError, match="meta length 2000"):
        B.parse_blob(patch(data, 14 + 3 + 7, struct.pack(">H", 2000)))


def test_declared_length_disagrees_with_layers(mnist):
    _, data = mnist
    # Drop one byte of tensors but keep the declared length consistent with the data.
    short = bytearray(data[:-33] + data[-32:])
    short[8:12] = struct.pack(">I", len(short))
    with pytest.raises(B.BlobSizeError, match="the layers imply"):
        B.parse_blob(rehash(short))


def test_hash_mismatch_and_paper_mode(mnist):
    _, data = mnist
    _, tensors = layout(data)
    flipped = bytearray(data)
    flipped[tensors + 4] ^= 0x80  # sign bit of the first int8 of layer 0's weight
    flipped = bytes(flipped)
    with pytest.raises(B.BlobIntegrityError, match="SHA-256 mismatch"):
        B.parse_blob(flipped)
    # Paper mode: the bits are used as they arrived.
    module, blob = B.decoder_from_blob(flipped, verify=False)
    assert not blob.intact and blob.model_id == data[-32:].hex()
    assert blob.computed_id == B.model_id(flipped) != blob.model_id
    assert "CORRUPT" in B.describe(blob)
    good = B.decoder_from_blob(data)[0]
    codes = torch.ones(8, 40) * 2
    assert (decode(module, codes) - decode(good, codes)).abs().max() > 1e-3


def test_paper_mode_still_rejects_corrupt_structure(mnist):
    _, data = mnist
    layers, _ = layout(data)
    with pytest.raises(B.BlobLayerError):
        B.parse_blob(patch(data, layers[1], b"\x63", fix_hash=False), verify=False)


@pytest.mark.parametrize("value", [math.nan, math.inf, 0.0, -0.5])
def test_bad_scale(mnist, value):
    _, data = mnist
    _, tensors = layout(data)
    bad = patch(data, tensors, struct.pack(">f", value))
    with pytest.raises(B.BlobScaleError, match=f"tensor 0.weight at byte {tensors}"):
        B.parse_blob(bad)
    with pytest.raises(B.BlobScaleError):
        B.parse_blob(bad, verify=False)


def test_trailing_garbage(mnist):
    _, data = mnist
    for extra in (b"\x00", b"garbage" * 10):
        with pytest.raises(B.BlobSizeError, match="trailing bytes"):
            B.parse_blob(data + extra)


def test_bad_meta(mnist):
    _, data = mnist
    meta_at = 14 + 3 + 7
    (meta_len,) = struct.unpack_from(">H", data, meta_at)
    for text in (b"[1,2,3]", b'{"a":NaN}', b'{"a":{"b":1}}', b'{"a":1,"a":2}', b"\xff\xfe"):
        text = text.ljust(meta_len, b" ")  # keep every later offset in place
        assert len(text) == meta_len
        with pytest.raises(B.BlobHeaderError, match="meta"):
            B.parse_blob(patch(data, meta_at + 2, text))


def test_random_corruption_only_raises_blob_errors(mnist):
    """Paper mode over a noisy link: any single bit flip either parses (and builds) or
    raises a typed BlobError -- never another exception."""
    _, data = mnist
    rng = np.random.default_rng(0)
    built = rejected = 0
    for pos in rng.integers(0, len(data), 300):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        try:
            B.parse_blob(bytes(bad), verify=False).build()
            built += 1
        except B.BlobError:
            rejected += 1
    assert built > 0 and built + rejected == 300


# ----------------------------------------------------------------------------- encoder side


def test_encoder_rejects_what_it_cannot_represent():
    aesc = make_aesc()
    specs, module = aesc.decoder_layers, aesc.decoder
    with pytest.raises(B.BlobHeaderError):
        B.encode_decoder(specs, module, (40,), 4)
    with pytest.raises(B.BlobShapeError):
        B.encode_decoder(specs, module, (41,), 8)
    with pytest.raises(B.BlobShapeError):
        B.encode_decoder(specs[:-1], module, (40,), 8)
    with pytest.raises(B.BlobLayerError, match="not allowed"):
        B.encode_decoder([{"type": "lambda"}] + specs, module, (40,), 8)
    with pytest.raises(B.BlobHeaderError):
        B.encode_decoder(specs, module, (40,), 8, meta={"nested": {"a": 1}})
    with pytest.raises(B.BlobSizeError):
        B.encode_decoder(specs, module, (40,), 8, meta={f"k{i}": "x" * 200 for i in range(8)})
