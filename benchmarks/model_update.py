#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Model updates by difference, measured: update bits against full-blob bits, and the
images receivers decode across a switch of decoders.

**MNIST** (``--part mnist``): the shipped zdim-40 model is fine-tuned (encoder and decoder,
AESC-I loss, Adam) for ``--steps`` steps on training digits rotated by a random angle in
±``--angle`` degrees: the realistic case of a transmitter whose images changed. Reported:
its recognition rate on rotated test digits against the base model's, the sizes of both
blobs and of the update (plain and signed), and a stream across the switch: ``--before``
upright test digits coded with the base model, then ``--after`` rotated ones coded with the
new model, as the carousel sends them with updates on (``model_carousel(send_updates=True,
signing_key=...)``): the base blob, then at the switch the signed update, the new full blob
after ``--carousel-every`` codes. Three receivers (``core.receiver.AescReceiver``,
verified, signature required) see it: one that holds the base from the start, one that
joins at the switch (no base), one that holds the base but loses the update. For each:
images decoded, images matching the reference decoding of their own model (within one
grey level), images the classifier recognises, and the bits on the air from the switch
until its first image of the new model. Without updates the carousel would send the full
new blob at the switch.

**CIFAR-10** (``--part cifar10``): the shipped zdim-32 model against a later one: a copy
fine-tuned ``--steps`` more steps on the training images (or ``--new MODEL.pt``); same
figures for the blobs and update, and a check that the decoder rebuilt from base + update
decodes test images as the new blob's does.

    .venv/bin/python benchmarks/model_update.py --part mnist --steps 600 --threads 1 \\
        --json results/updates/mnist_rotated.json
    .venv/bin/python benchmarks/model_update.py --part cifar10 --steps 20 --batch 64 \\
        --threads 1 --eval-images 200 --json results/updates/cifar10_z32.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gnuradio.semcom.core import blob as blobfmt
from gnuradio.semcom.core import datasets as ds
from gnuradio.semcom.core import packet as pk
from gnuradio.semcom.core import signing
from gnuradio.semcom.core import update as updates
from gnuradio.semcom.core import zoo
from gnuradio.semcom.core.evaluate import classify, transmit_noiseless
from gnuradio.semcom.core.receiver import AescReceiver, Image, to_pixels
from gnuradio.semcom.core.train import DEFAULT_GAMMA, aesc_loss


def rotate(images_u8: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Rotate each ``uint8 [N, 1, H, W]`` image by its angle (bilinear, zero fill)."""
    x = ds.to_tensor(images_u8)
    a = torch.from_numpy(np.radians(degrees).astype(np.float32))
    theta = torch.stack([torch.stack([a.cos(), -a.sin(), torch.zeros_like(a)], 1),
                         torch.stack([a.sin(), a.cos(), torch.zeros_like(a)], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    return (out.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def fine_tune(dataset, model, classifier, images, steps, angle, seed, batch=256, lr=5e-4):
    """Fine-tune a copy of ``model`` (AESC-I loss, Adam) on random batches of ``images``,
    each rotated by a random angle in ±angle degrees (0: as they are)."""
    model = copy.deepcopy(model).train()
    classifier.eval()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        idx = rng.integers(0, len(images), batch)
        x = images[idx] if not angle else rotate(images[idx], rng.uniform(-angle, angle, batch))
        x = ds.to_tensor(x)
        with torch.no_grad():
            feats = classifier(x)["features"]
        loss, _, _ = aesc_loss(dataset, classifier, model(x)["recon"], x, feats,
                               DEFAULT_GAMMA[dataset])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 25 == 0:
            print(f"step {step + 1}/{steps}: loss {loss.item():.4f}", file=sys.stderr, flush=True)
    return model.eval()


def _save(model, path):
    """In the form ``zoo.load_aesc`` reads (and ``semcom train`` writes)."""
    torch.save({"meta": {"kind": "aesc", "dataset": model.dataset, "zdim": model.zdim},
                "state_dict": model.state_dict()}, path)


def sizes(base: bytes, new: bytes, key) -> dict:
    t0 = time.perf_counter()
    upd = updates.make_update(base, new)
    t_make = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert updates.apply_update(upd, base) == new
    t_apply = time.perf_counter() - t0
    parsed = updates.parse_update(upd)
    return {"base_id": blobfmt.model_id(base), "new_id": blobfmt.model_id(new),
            "full_blob_bits": 8 * len(new), "update_bits": 8 * len(upd),
            "signed_full_blob_bits": 8 * len(signing.sign(new, key)),
            "signed_update_bits": 8 * len(signing.sign(upd, key)),
            "update_over_full": len(upd) / len(new), "diff_bytes": parsed.diff_length,
            "changed_weights": _changed(base, new), "make_s": round(t_make, 3),
            "apply_s": round(t_apply, 3)}


def _changed(base: bytes, new: bytes) -> float:
    a, b = blobfmt.parse_blob(base), blobfmt.parse_blob(new)
    n = sum(t.q.size for t in a.tensors)
    return sum(int((x.q != y.q).sum()) for x, y in zip(a.tensors, b.tensors)) / n


@torch.no_grad()
def decode_with(blob: bytes, tx) -> np.ndarray:
    """Decode a transmission's codes with the decoder of ``blob`` (float, ``[N, C, H, W]``)."""
    decoder, _ = blobfmt.decoder_from_blob(blob)
    lat = torch.from_numpy(tx.codes.astype(np.float32)
                           * tx.scales.reshape(-1, *[1] * (tx.codes.ndim - 1)))
    return decoder(lat).numpy()


def rebased(base_blob, new_blob, tx, classifier, labels, orig_ok, step_bits_list,
            max_growth=0.0) -> dict:
    """Update size and quality of the new model re-expressed on the base's grid
    (``update.rebase``) for each ``step_bits``: the receiver decodes ``tx``'s codes."""
    ref = decode_with(new_blob, tx)
    out = {}
    for step_bits in step_bits_list:
        blob = updates.rebase(base_blob, new_blob, step_bits, max_growth)
        recon = decode_with(blob, tx)
        mse = float(np.mean((recon.clip(0, 1) - ref.clip(0, 1)) ** 2))
        ok = classify(classifier, recon) == labels
        out[str(step_bits or blobfmt.parse_blob(base_blob).bits)] = {
            "update_bits": 8 * len(updates.make_update(base_blob, blob)),
            "psnr_vs_new_blob_db": round(10 * np.log10(1 / mse), 2) if mse else None,
            "recognition_ratio": float(ok.mean() / orig_ok.mean())}
    return out


def _close(a, b) -> bool:
    """Same image up to one grey level (float32 rounding of code × scale)."""
    return int(np.abs(a.astype(int) - b.astype(int)).max()) <= 1


def _objects(obj: bytes, segment_size: int) -> list:
    return pk.segment_blob(obj, bytes.fromhex(updates.object_id(obj)[:16]), segment_size)


def _codes(tx, first_id: int) -> list:
    tag = bytes.fromhex(tx.model_id[:16])
    return [pk.pack(pk.CODE, tag, first_id + i, 1,
                    pk.pack_code(first_id + i, float(s), q.reshape(-1).astype(np.uint8)))
            for i, (q, s) in enumerate(zip(tx.codes, tx.scales))]


def switch_stream(tx_base, tx_new, base_obj, new_obj, update_obj, every, segment_size):
    """The carousel's packets, each marked with its phase: ``("pre"|"update"|"post", raw)``.
    Base blob, base codes with a base round every ``every`` codes; at the switch the
    update, then the new model's codes with a full new round every ``every`` codes."""
    stream = [("pre", p) for p in _objects(base_obj, segment_size)]
    for i, p in enumerate(_codes(tx_base, 0)):
        stream.append(("pre", p))
        if (i + 1) % every == 0:
            stream += [("pre", s) for s in _objects(base_obj, segment_size)]
    if update_obj is not None:
        stream += [("update", p) for p in _objects(update_obj, segment_size)]
    else:
        stream += [("post", p) for p in _objects(new_obj, segment_size)]
    for i, p in enumerate(_codes(tx_new, len(tx_base.codes))):
        stream.append(("post", p))
        if (i + 1) % every == 0:
            stream += [("post", s) for s in _objects(new_obj, segment_size)]
    return stream


def run_receiver(stream, policy, base_id, joins_at_switch=False, loses_update=False):
    rx = AescReceiver("verified", max_pending=None, trust=policy)
    images, bits, first_new_bits = {}, 0, None
    for phase, raw in stream:
        if joins_at_switch and phase == "pre":
            continue
        if phase != "pre":
            bits += 8 * len(raw)
        if loses_update and phase == "update":
            continue
        for ev in rx.receive(raw):
            if isinstance(ev, Image):
                images[ev.code.image_id] = (ev.model_id, ev.pixels)
                if phase != "pre" and first_new_bits is None and ev.model_id != base_id:
                    first_new_bits = bits
    return images, first_new_bits, rx.stats


def part_mnist(args) -> dict:
    classifier = zoo.load_classifier("mnist")
    base = zoo.load_aesc("mnist", 40)
    train = ds.load("mnist", "train", root=args.data)
    test = ds.load("mnist", "test", root=args.data)
    t0 = time.perf_counter()
    if args.new:
        new = zoo.load_aesc("mnist", 40, path=args.new)
    else:
        new = fine_tune("mnist", base, classifier, train.images, args.steps, args.angle,
                        args.seed)
        if args.save_new:
            _save(new, args.save_new)
    tune_s = time.perf_counter() - t0
    rng = np.random.default_rng(args.seed + 1)
    n_eval = args.eval_images
    rot_images = rotate(test.images[:n_eval], rng.uniform(-args.angle, args.angle, n_eval))
    labels = test.labels[:n_eval]
    quality = {}
    with torch.no_grad():
        for name, model in (("base", base), ("new", new)):
            for kind, imgs in (("upright", test.images[:n_eval]), ("rotated", rot_images)):
                recon = transmit_noiseless(model, imgs).recon
                orig = classify(classifier, imgs) == labels
                rec = classify(classifier, recon) == labels
                quality[f"{name}_{kind}_recognition_ratio"] = float(rec.mean() / orig.mean())
    key = signing.generate_key()
    policy = signing.TrustPolicy([signing.public_key_bytes(key)], require_signature=True)
    base_blob, new_blob = blobfmt.blob_from_aesc(base), blobfmt.blob_from_aesc(new)
    result = {"part": "mnist", "steps": args.steps, "angle_deg": args.angle,
              "fine_tune_s": round(tune_s, 1), **quality, **sizes(base_blob, new_blob, key)}
    with torch.no_grad():
        tx_rot = transmit_noiseless(new, rot_images)
    result["rebased_rotated"] = rebased(base_blob, new_blob, tx_rot, classifier, labels,
                                        classify(classifier, rot_images) == labels,
                                        [None, 6, 5, 4])

    # Across the switch.
    before, after = args.before, args.after
    up_imgs, up_labels = test.images[n_eval:n_eval + before], test.labels[n_eval:n_eval + before]
    rot = rotate(test.images[n_eval + before:n_eval + before + after],
                 rng.uniform(-args.angle, args.angle, after))
    rot_labels = test.labels[n_eval + before:n_eval + before + after]
    with torch.no_grad():
        tx_base, tx_new = transmit_noiseless(base, up_imgs), transmit_noiseless(new, rot)
    ref = {i: to_pixels(r).reshape(-1) for i, r in enumerate(tx_base.recon)}
    ref.update({before + i: to_pixels(r).reshape(-1) for i, r in enumerate(tx_new.recon)})
    all_labels = np.concatenate([up_labels, rot_labels])
    signed_base = signing.sign(base_blob, key)
    signed_new = signing.sign(new_blob, key)
    signed_update = signing.sign(updates.make_update(base_blob, new_blob), key)
    across = {}
    for mode, upd in (("with_update", signed_update), ("full_blob_only", None)):
        stream = switch_stream(tx_base, tx_new, signed_base, signed_new, upd,
                               args.carousel_every, args.segment_size)
        cases = {"holds_base": {}, "joins_at_switch": {"joins_at_switch": True}}
        if upd is not None:
            cases["loses_update"] = {"loses_update": True}
        for name, kw in cases.items():
            images, first_bits, stats = run_receiver(stream, policy, tx_base.model_id, **kw)
            ids = sorted(images)
            exact = sum(_close(images[i][1].reshape(-1), ref[i]) for i in ids)
            pix = np.stack([images[i][1] for i in ids]).astype(np.float32) / 255.0
            correct = int((classify(classifier, pix) == all_labels[ids]).sum())
            new_ids = [i for i in ids if i >= before]
            across[f"{mode}/{name}"] = {
                "images_sent": before + after if not kw.get("joins_at_switch") else after,
                "images_decoded": len(ids), "new_model_images_decoded": len(new_ids),
                "match_reference": int(exact), "recognised": correct,
                "bits_from_switch_to_first_new_image": first_bits,
                "updates_applied": stats["decoder"]["updates"],
                "rejections": stats["decoder"]["rejections"]}
    result["across_switch"] = {"before": before, "after": after,
                               "carousel_every": args.carousel_every,
                               "segment_size": args.segment_size, "receivers": across}
    return result


def part_cifar10(args) -> dict:
    base = zoo.load_aesc("cifar10", 32)
    if args.new:
        new, tune_s, name = zoo.load_aesc("cifar10", 32, path=args.new), None, Path(args.new).name
    else:
        t0 = time.perf_counter()
        new = fine_tune("cifar10", base, zoo.load_classifier("cifar10"),
                        ds.load("cifar10", "train", root=args.data).images, args.steps, 0.0,
                        args.seed, batch=args.batch)
        tune_s, name = round(time.perf_counter() - t0, 1), f"fine-tuned {args.steps} steps"
        if args.save_new:
            _save(new, args.save_new)
    key = signing.generate_key()
    base_blob, new_blob = blobfmt.blob_from_aesc(base), blobfmt.blob_from_aesc(new)
    tuned = not args.new
    result = {"part": "cifar10", "new_model": name, "steps": args.steps if tuned else None,
              "batch": args.batch if tuned else None, "fine_tune_s": tune_s,
              **sizes(base_blob, new_blob, key)}
    rebuilt = updates.apply_update(updates.make_update(base_blob, new_blob), base_blob)
    test = ds.load("cifar10", "test", root=args.data)
    with torch.no_grad():
        tx = transmit_noiseless(new, test.images[:args.eval_images])
        decoder, _ = blobfmt.decoder_from_blob(rebuilt)
        lat = torch.from_numpy(tx.codes.astype(np.float32)
                               * tx.scales.reshape(-1, *[1] * (tx.codes.ndim - 1)))
        got = decoder(lat).numpy()
    same = sum(_close(to_pixels(a), to_pixels(b)) for a, b in zip(got, tx.recon))
    result["images_matching_via_update"] = int(same)
    result["images_checked"] = int(args.eval_images)
    classifier = zoo.load_classifier("cifar10")
    labels = test.labels[:args.eval_images]
    orig_ok = classify(classifier, test.images[:args.eval_images]) == labels
    result["new_recognition_ratio"] = float((classify(classifier, tx.recon) == labels).mean()
                                            / orig_ok.mean())
    result["rebased"] = rebased(base_blob, new_blob, tx, classifier, labels, orig_ok,
                                [None, 12, 10, 8])
    result["rebased_max_growth_5pct"] = rebased(base_blob, new_blob, tx, classifier, labels,
                                                orig_ok, [None, 12, 10, 8], 0.05)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=["mnist", "cifar10"], required=True)
    p.add_argument("--new", default=None,
                   help="cifar10: the later model (.pt); default: fine-tune --steps steps")
    p.add_argument("--steps", type=int, default=600, help="fine-tuning steps")
    p.add_argument("--save-new", default=None, help="save the fine-tuned state dict here")
    p.add_argument("--batch", type=int, default=256, help="fine-tuning batch size")
    p.add_argument("--angle", type=float, default=30.0, help="mnist: rotation range, degrees")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-images", type=int, default=1000)
    p.add_argument("--before", type=int, default=200, help="images coded with the base")
    p.add_argument("--after", type=int, default=300, help="images coded with the new model")
    p.add_argument("--carousel-every", type=int, default=100)
    p.add_argument("--segment-size", type=int, default=1024)
    p.add_argument("--data", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", default=None, help="also write the result here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = part_mnist(args) if args.part == "mnist" else part_cifar10(args)
    text = json.dumps(result, indent=2, default=lambda v: None if v != v else v)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
