# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom keygen`` and ``semcom blob``: decoder blobs, updates and their signatures.

``semcom keygen --out DIR`` writes an Ed25519 key pair; ``semcom blob`` writes a model
blob (optionally signed, optionally as an update against a base blob) or inspects one,
checking its signature against trusted public keys (``docs/model-blob.md`` §3–4).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..core import blob as blobfmt
from ..core import signing
from ..core import update as updates

__all__ = ["cmd_keygen", "cmd_blob", "describe_object"]

# Exit status of `semcom blob --inspect --trust` when the signature is missing, invalid or
# by an untrusted key (2 stays "the command failed").
EXIT_UNTRUSTED = 1


def cmd_keygen(args) -> int:
    key = signing.generate_key()
    private, public = signing.save_keypair(key, args.out)
    print(f"wrote {private} (private: keep it on the transmitter) and {public} (public: give "
          f"it to receivers); key id {signing.key_id(signing.public_key_bytes(key))}")
    return 0


def _plain(data: bytes) -> bytes:
    """The blob inside a signed envelope, or the data itself."""
    return signing.parse_envelope(data).payload if signing.is_envelope(data) else data


def describe_object(data: bytes) -> str:
    """Human-readable summary of a blob, an update, or either in a signed envelope."""
    lines = []
    if signing.is_envelope(data):
        try:
            env = signing.parse_envelope(data)
        except signing.SignatureError as exc:
            return f"signed envelope, {len(data)} bytes: INVALID ({exc})"
        lines.append(f"signed envelope, {len(data)} bytes: Ed25519 signature by key "
                     f"{env.key_id} verifies ({signing.OVERHEAD_BYTES} bytes of overhead)")
        data = env.payload
    if updates.is_update(data):
        upd = updates.parse_update(data)
        lines.append(f"model update, {upd.size} bytes ({8 * upd.size} bits), LZMA2 diff of "
                     f"{upd.diff_length} bytes\n  base   {upd.base_id}\n  result {upd.result_id}")
    else:
        lines.append(blobfmt.describe(blobfmt.parse_blob(data)))
    return "\n".join(lines)


def _inspect(args) -> int:
    data = Path(args.inspect).read_bytes()
    print(describe_object(data))
    if not args.trust:
        return 0
    try:
        _, signer = signing.TrustPolicy(args.trust, require_signature=True).open(data)
    except signing.SignatureError as exc:
        print(f"semcom blob: {args.inspect}: signature check failed ({exc.reason}): {exc}",
              file=sys.stderr)
        return EXIT_UNTRUSTED
    print(f"signature OK: signed by trusted key {signer}")
    return 0


def cmd_blob(args) -> int:
    from ..core.zoo import load_aesc

    if args.inspect:
        return _inspect(args)
    if args.trust:
        raise ValueError("--trust checks a file given with --inspect")
    blob = blobfmt.blob_from_aesc(load_aesc(args.dataset, args.zdim, args.model))
    out = blob
    if args.update_from:
        base = _plain(Path(args.update_from).read_bytes())
        out = updates.make_update(base, blob)
        print(f"update from {blobfmt.model_id(base)[:16]} to {blobfmt.model_id(blob)[:16]}: "
              f"{len(out)} bytes against {len(blob)} for the full blob")
    if args.sign:
        out = signing.sign(out, signing.load_private_key(args.sign))
    if args.out:
        Path(args.out).write_bytes(out)
        print(f"wrote {len(out)} bytes to {args.out}")
    print(describe_object(out))
    return 0
