# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Signed envelopes, model updates and the receiver's handling of both (core), and the
`semcom keygen` / `semcom blob --sign --trust --update-from` commands."""

import copy
import hashlib

import numpy as np
import pytest
import torch
from torch import nn

from gnuradio.semcom.app import cli
from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import signing
from gnuradio.semcom.core import update as updates
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.receiver import (AescReceiver, CodeDecoder, Image, ModelBuilt,
                                           ModelRejected)


def _nudged(model, seed):
    gen = torch.Generator().manual_seed(seed)
    decoder = copy.deepcopy(model.decoder)
    with torch.no_grad():
        for p in decoder.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.01 * p.abs().mean())
    return blobfmt.encode_decoder(model.decoder_layers, decoder, (model.code_length,),
                                  model.weight_bits, {"dataset": "mnist", "zdim": 40})


@pytest.fixture(scope="module")
def blobs():
    model = zoo.load_aesc("mnist", 40)
    return blobfmt.blob_from_aesc(model), _nudged(model, 1), _nudged(model, 2)


@pytest.fixture(scope="module")
def keys():
    return signing.generate_key(), signing.generate_key()


def _resealed(data: bytes, at: int) -> bytes:
    """Flip one bit at ``at`` and recompute the trailing SHA-256, as a forger would."""
    bad = bytearray(data)
    bad[at] ^= 0x01
    bad[-32:] = hashlib.sha256(bytes(bad[:-32])).digest()
    return bytes(bad)


# --------------------------------------------------------------------------- signatures

def test_signed_blob_opens_for_a_trusting_receiver(blobs, keys):
    key, _ = keys
    env = signing.sign(blobs[0], key)
    assert len(env) == len(blobs[0]) + signing.OVERHEAD_BYTES
    policy = signing.TrustPolicy([signing.public_key_bytes(key)], require_signature=True)
    payload, signer = policy.open(env)
    assert payload == blobs[0] and signer == signing.key_id(signing.public_key_bytes(key))
    # The envelope travels like a blob: its SHA-256 suffix matches its tag.
    assert pk.blob_matches_tag(env, bytes.fromhex(updates.object_id(env)[:16]))


def test_every_forgery_is_rejected_with_its_reason(blobs, keys):
    key, rogue = keys
    policy = signing.TrustPolicy([signing.public_key_bytes(key)], require_signature=True)
    env = signing.sign(blobs[1], key)
    cases = [("unsigned", blobs[1]), ("untrusted", signing.sign(blobs[1], rogue))]
    # Every byte region of the envelope after signing: payload, signature, flags.
    for at in (signing.HEADER_BYTES, signing.HEADER_BYTES + 500, len(env) - 33, 44, 100, 6):
        cases.append(("bad_signature", _resealed(env, at)))
    cases.append(("bad_signature", _resealed(env, 20)))  # the key: the signature is not its
    cases.append(("bad_signature", env[:-1]))             # truncated
    for reason, data in cases:
        with pytest.raises(signing.SignatureError) as err:
            policy.open(data)
        assert err.value.reason == reason


def test_without_require_signature_unsigned_passes_but_forgeries_do_not(blobs, keys):
    key, rogue = keys
    policy = signing.TrustPolicy([signing.public_key_bytes(key)])
    assert policy.open(blobs[0]) == (blobs[0], None)
    with pytest.raises(signing.SignatureError, match="not among"):
        policy.open(signing.sign(blobs[0], rogue))
    with pytest.raises(signing.SignatureError, match="does not verify"):
        signing.TrustPolicy().open(_resealed(signing.sign(blobs[0], key), 300))


def test_policy_errors_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="semcom keygen"):
        signing.TrustPolicy([], require_signature=True)
    with pytest.raises(ValueError, match="public key"):
        signing.TrustPolicy(str(tmp_path / "missing.pub"))


def test_keys_round_trip_through_files(tmp_path, keys):
    key, _ = keys
    private, public = signing.save_keypair(key, tmp_path)
    assert private.stat().st_mode & 0o077 == 0
    assert signing.load_public_key(str(public)) == signing.public_key_bytes(key)
    assert signing.load_public_key(signing.public_key_bytes(key).hex()) == \
        signing.public_key_bytes(key)
    assert signing.public_key_bytes(signing.load_private_key(private)) == \
        signing.public_key_bytes(key)
    with pytest.raises(FileExistsError):
        signing.save_keypair(key, tmp_path)


# --------------------------------------------------------------------------- updates

def test_update_rebuilds_the_new_blob_only_from_its_base(blobs):
    base, new, other = blobs
    upd = updates.make_update(base, new)
    assert len(upd) < len(new) / 2
    assert updates.apply_update(upd, base) == new
    parsed = updates.parse_update(upd)
    assert (parsed.base_id, parsed.result_id) == (blobfmt.model_id(base), blobfmt.model_id(new))
    with pytest.raises(updates.UpdateError) as err:
        updates.apply_update(upd, other)
    assert err.value.reason == "no_base"


def test_corrupted_update_is_rejected(blobs):
    base, new, _ = blobs
    upd = updates.make_update(base, new)
    with pytest.raises(updates.UpdateError, match="SHA-256"):
        updates.apply_update(upd[:200] + bytes([upd[200] ^ 1]) + upd[201:], base)
    # Re-sealed after changing the result id or the diff: the rebuilt blob gives it away.
    for at in (50, updates.HEADER_BYTES + 10):
        with pytest.raises(updates.UpdateError) as err:
            updates.apply_update(_resealed(upd, at), base)
        assert err.value.reason == "update"


def test_update_of_16_bit_blobs_and_layout_mismatch():
    specs = [{"type": "linear", "in_features": 6, "out_features": 20},
             {"type": "relu"}, {"type": "linear", "in_features": 20, "out_features": 4}]
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(6, 20), nn.ReLU(), nn.Linear(20, 4))
    b = copy.deepcopy(a)
    with torch.no_grad():
        b[2].weight.mul_(1.01)
    blob_a = blobfmt.encode_decoder(specs, a, (6,), 16)
    blob_b = blobfmt.encode_decoder(specs, b, (6,), 16)
    assert updates.apply_update(updates.make_update(blob_a, blob_b), blob_a) == blob_b
    blob_8 = blobfmt.encode_decoder(specs, b, (6,), 8)
    with pytest.raises(ValueError, match="full blob"):
        updates.make_update(blob_a, blob_8)


# --------------------------------------------------------------------------- receiver

def _code_packet(blob, image_id):
    code = np.full(40, 3, np.uint8)
    return pk.pack(pk.CODE, bytes.fromhex(blobfmt.model_id(blob)[:16]), image_id, 1,
                   pk.pack_code(image_id, 0.02, code))


def _packets(obj):
    return pk.segment_blob(obj, bytes.fromhex(updates.object_id(obj)[:16]), 1024)


def test_receiver_applies_update_to_its_base_and_others_wait_for_the_full_blob(blobs, keys):
    base, new, other = blobs
    key, _ = keys
    policy = signing.TrustPolicy([signing.public_key_bytes(key)], require_signature=True)
    upd = signing.sign(updates.make_update(base, new), key)
    holder, stranger = (AescReceiver(trust=policy) for _ in range(2))
    for raw in _packets(signing.sign(base, key)):
        holder.receive(raw)
    for raw in _packets(signing.sign(other, key)):
        stranger.receive(raw)
    events = {}
    for name, rx in (("holder", holder), ("stranger", stranger)):
        events[name] = [e for raw in _packets(upd) + [_code_packet(new, 5)]
                        for e in rx.receive(raw)]
    built = [e for e in events["holder"] if isinstance(e, ModelBuilt)]
    assert [b.model_id for b in built] == [blobfmt.model_id(new)]
    assert [e.code.image_id for e in events["holder"] if isinstance(e, Image)] == [5]
    assert holder.stats["decoder"]["updates"] == 1
    rejected = [e for e in events["stranger"] if isinstance(e, ModelRejected)]
    assert [r.reason for r in rejected] == ["no_base"]
    assert stranger.decoder.pending() == 1
    late = [e for raw in _packets(signing.sign(new, key)) for e in stranger.receive(raw)]
    images = [e for e in late if isinstance(e, Image)]
    assert [i.code.image_id for i in images] == [5]
    ref = [e for e in events["holder"] if isinstance(e, Image)][0]
    np.testing.assert_array_equal(images[0].pixels, ref.pixels)


def test_receiver_that_misses_the_update_falls_back_to_the_full_blob(blobs, keys):
    base, new, _ = blobs
    key, _ = keys
    rx = AescReceiver(trust=signing.TrustPolicy([signing.public_key_bytes(key)], True))
    for raw in _packets(signing.sign(base, key)):
        rx.receive(raw)
    upd = _packets(signing.sign(updates.make_update(base, new), key))
    for raw in upd[1:] + [_code_packet(new, 9)]:   # the update's first segment is lost
        assert not any(isinstance(e, Image) for e in rx.receive(raw))
    assert rx.decoder.pending() == 1
    late = [e for raw in _packets(signing.sign(new, key)) for e in rx.receive(raw)]
    assert [e.code.image_id for e in late if isinstance(e, Image)] == [9]
    assert rx.decoder.models() == [blobfmt.model_id(base), blobfmt.model_id(new)]
    assert rx.stats["decoder"]["updates"] == 0


def test_rejections_keep_the_current_decoder(blobs, keys):
    base, new, _ = blobs
    key, rogue = keys
    dec = CodeDecoder(trust=signing.TrustPolicy([signing.public_key_bytes(key)], True))
    assert isinstance(dec.add_model(signing.sign(base, key))[0], ModelBuilt)
    forged = [new, signing.sign(new, rogue), _resealed(signing.sign(new, key), 400),
              signing.sign(updates.make_update(base, new), rogue)]
    for obj in forged:
        (event,) = dec.add_model(obj, updates.object_id(obj)[:16])
        assert isinstance(event, ModelRejected)
    assert dec.stats["rejections"] == {"unsigned": 1, "untrusted": 2, "bad_signature": 1}
    assert dec.models() == [blobfmt.model_id(base)]


# --------------------------------------------------------------------------- CLI

def test_cli_keygen_sign_and_inspect(tmp_path, capsys):
    keydir, other = tmp_path / "keys", tmp_path / "other"
    assert cli.main(["keygen", "--out", str(keydir)]) == 0
    assert cli.main(["keygen", "--out", str(other)]) == 0
    assert cli.main(["keygen", "--out", str(keydir)]) == 2     # never overwrites a key
    priv, pub = keydir / signing.PRIVATE_KEY_FILE, keydir / signing.PUBLIC_KEY_FILE
    signed, plain = tmp_path / "z40.signed", tmp_path / "z40.blob"
    assert cli.main(["blob", "--zdim", "40", "--sign", str(priv), "--out", str(signed)]) == 0
    assert cli.main(["blob", "--zdim", "40", "--out", str(plain)]) == 0
    capsys.readouterr()
    assert cli.main(["blob", "--inspect", str(signed), "--trust", str(pub)]) == 0
    assert "signature OK" in capsys.readouterr().out
    assert cli.main(["blob", "--inspect", str(plain), "--trust", str(pub)]) == 1
    assert "unsigned" in capsys.readouterr().err
    untrusted = str(other / signing.PUBLIC_KEY_FILE)
    assert cli.main(["blob", "--inspect", str(signed), "--trust", untrusted]) == 1
    altered = tmp_path / "altered"
    altered.write_bytes(_resealed(signed.read_bytes(), 1000))
    assert cli.main(["blob", "--inspect", str(altered), "--trust", str(pub)]) == 1
    assert "bad_signature" in capsys.readouterr().err
    assert cli.main(["blob", "--inspect", str(signed)]) == 0     # no --trust: describe only


def test_cli_update_from(tmp_path, capsys, blobs):
    base = tmp_path / "base.blob"
    base.write_bytes(blobs[1])
    out = tmp_path / "u"
    assert cli.main(["blob", "--zdim", "40", "--update-from", str(base), "--out",
                     str(out)]) == 0
    assert "model update" in capsys.readouterr().out
    assert updates.apply_update(out.read_bytes(), blobs[1]) == blobs[0]


def test_rebase_keeps_weights_close_and_shrinks_the_update():
    specs = [{"type": "linear", "in_features": 16, "out_features": 64}, {"type": "relu"},
             {"type": "linear", "in_features": 64, "out_features": 8}]
    torch.manual_seed(1)
    a = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 8))
    b = copy.deepcopy(a)
    with torch.no_grad():
        for p in b.parameters():     # stays inside the base's range
            p.mul_(0.98).add_(torch.randn(p.shape) * 0.005 * p.abs().mean())
        b[2].bias.mul_(3.0)          # outgrows the base's range: taken from the new blob
    base, new = (blobfmt.encode_decoder(specs, m, (16,), 16) for m in (a, b))
    exact = updates.make_update(base, new)
    for step_bits in (None, 10, 8):
        out = updates.rebase(base, new, step_bits)
        assert updates.apply_update(updates.make_update(base, out), base) == out
        m = 1 << (16 - step_bits) if step_bits else 1
        pb, pn, po = (blobfmt.parse_blob(x) for x in (base, new, out))
        kept = 0
        for tb, tn, to in zip(pb.tensors, pn.tensors, po.tensors):
            w_new = tn.q * np.float64(tn.scale)
            if np.abs(w_new).max() > 32767 * tb.scale:      # outside the base's range
                assert to.scale == tn.scale and np.array_equal(to.q, tn.q)
                continue
            kept += 1
            assert to.scale == tb.scale
            assert np.abs(to.q * np.float64(to.scale) - w_new).max() <= m * tb.scale / 2 + 1e-12
        assert 0 < kept < 4
        if step_bits == 8:
            assert len(updates.make_update(base, out)) < len(exact) / 2
    with pytest.raises(ValueError, match="step_bits"):
        updates.rebase(base, new, 1)


def test_rebase_max_growth_clips_slightly_grown_tensors():
    specs = [{"type": "linear", "in_features": 8, "out_features": 32}]
    torch.manual_seed(2)
    a = nn.Sequential(nn.Linear(8, 32))
    b = copy.deepcopy(a)
    with torch.no_grad():
        b[0].weight.mul_(1.03)       # every weight 3 % larger: outside the base's range
    base, new = (blobfmt.encode_decoder(specs, m, (8,), 16) for m in (a, b))
    sb, sn = (blobfmt.parse_blob(x).tensors[0] for x in (base, new))
    assert blobfmt.parse_blob(updates.rebase(base, new)).tensors[0].scale == sn.scale
    out = blobfmt.parse_blob(updates.rebase(base, new, max_growth=0.05)).tensors[0]
    assert out.scale == sb.scale and np.abs(out.q).max() == 32767
    err = np.abs(out.q * np.float64(out.scale) - sn.q * np.float64(sn.scale)).max()
    assert err <= 0.05 * np.abs(sn.q).max() * sn.scale
