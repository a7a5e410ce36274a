# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Authenticity of transmitted decoders: Ed25519-signed envelopes around blobs and updates.

A receiver rebuilds its decoder from bits that came over the air, so anyone who can
transmit can otherwise replace it. The transmitter wraps each model blob (``SCMB``) or
model update (``SCMU``, :mod:`.update`) in a *signed envelope* (``docs/model-blob.md`` §3)::

    "SCMS" | u8 version=1 | u8 algorithm=1 (Ed25519) | u16 flags=0 | u32 length L
    | 32-byte signer public key | 64-byte signature | payload | 32-byte SHA-256

The signature covers ``SIGNING_CONTEXT + payload``; the SHA-256 suffix covers everything
before it, as the blob's does, so the link layer reassembles and checks an envelope exactly
like a blob (its model tag is the first 8 bytes of that hash).

:class:`TrustPolicy` is the receiver's side: its trusted public keys and whether a
signature is required. :meth:`TrustPolicy.open` returns the payload of an acceptable
object or raises :class:`SignatureError` whose ``reason`` is ``unsigned``, ``untrusted``
or ``bad_signature`` (also for a malformed envelope).

Keys are files: the private key as PKCS#8 PEM, the public key as SubjectPublicKeyInfo PEM
(both what ``openssl genpkey -algorithm ed25519`` writes), or a public key as 64 hex digits.
PyTorch-free and GNU-Radio-free: only ``cryptography`` and the standard library.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

__all__ = ["MAGIC", "VERSION", "ALG_ED25519", "SIGNING_CONTEXT", "HEADER_BYTES", "OVERHEAD_BYTES",
           "SignatureError", "Envelope", "is_envelope", "sign", "parse_envelope", "TrustPolicy",
           "generate_key", "save_keypair", "load_private_key", "load_public_key",
           "public_key_bytes", "key_id", "PRIVATE_KEY_FILE", "PUBLIC_KEY_FILE"]

MAGIC = b"SCMS"
VERSION = 1
ALG_ED25519 = 1
SIGNING_CONTEXT = b"gr-semcom signed object v1\x00"
_HEAD = struct.Struct(">4sBBHI")
KEY_BYTES, SIG_BYTES, HASH_BYTES = 32, 64, 32
HEADER_BYTES = _HEAD.size + KEY_BYTES + SIG_BYTES        # 108
OVERHEAD_BYTES = HEADER_BYTES + HASH_BYTES               # 140
MAX_BYTES = 1 << 28
PRIVATE_KEY_FILE = "semcom-ed25519.key"
PUBLIC_KEY_FILE = "semcom-ed25519.pub"


class SignatureError(ValueError):
    """An object fails the receiver's trust policy. ``reason``: ``unsigned``,
    ``untrusted`` or ``bad_signature``."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Envelope:
    """A parsed signed envelope: ``payload`` (the blob or update bytes), the signer's raw
    32-byte ``public_key``, the 64-byte ``signature`` and whether it ``verified``."""

    payload: bytes
    public_key: bytes
    signature: bytes
    verified: bool

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)


def key_id(public_key: bytes) -> str:
    """Short name of a public key: 16 hex digits of the SHA-256 of its raw 32 bytes."""
    return hashlib.sha256(bytes(public_key)).hexdigest()[:16]


def is_envelope(data: bytes) -> bool:
    return bytes(data[:4]) == MAGIC


# --------------------------------------------------------------------------- keys

def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_bytes(key) -> bytes:
    """Raw 32 bytes of a public key (or of a private key's public half)."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def save_keypair(key: Ed25519PrivateKey, out_dir) -> tuple[Path, Path]:
    """Write ``semcom-ed25519.key`` (PKCS#8 PEM, mode 0600) and ``semcom-ed25519.pub``
    (SubjectPublicKeyInfo PEM) into ``out_dir``; refuses to overwrite a private key."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    private, public = out / PRIVATE_KEY_FILE, out / PUBLIC_KEY_FILE
    if private.exists():
        raise FileExistsError(f"{private} exists; choose another --out folder or remove it "
                              f"first (a private key is never overwritten)")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def load_private_key(path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PKCS#8 PEM file (unencrypted)."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot read an Ed25519 private key from {path}: {exc}; give the "
                         f"{PRIVATE_KEY_FILE} file that `semcom keygen` wrote") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key; "
                         f"make one with `semcom keygen --out DIR`")
    return key


def load_public_key(source) -> bytes:
    """Raw 32 bytes of a trusted public key given as a PEM file path, raw bytes, or 64 hex
    digits."""
    if isinstance(source, (bytes, bytearray)) and len(source) == KEY_BYTES:
        return bytes(source)
    text = str(source).strip()
    if len(text) == 2 * KEY_BYTES and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    try:
        key = serialization.load_pem_public_key(Path(text).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot read an Ed25519 public key from {text!r}: {exc}; give the "
                         f"{PUBLIC_KEY_FILE} file that `semcom keygen` wrote, or the key as 64 "
                         f"hex digits") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{text} holds a {type(key).__name__}, not an Ed25519 public key")
    return public_key_bytes(key)


# --------------------------------------------------------------------------- envelope

def sign(payload: bytes, key: Ed25519PrivateKey) -> bytes:
    """Wrap a blob or update (``payload``) in a signed envelope."""
    payload = bytes(payload)
    total = OVERHEAD_BYTES + len(payload)
    if total > MAX_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes is too large to sign (cap "
                         f"{MAX_BYTES - OVERHEAD_BYTES})")
    signature = key.sign(SIGNING_CONTEXT + payload)
    content = (_HEAD.pack(MAGIC, VERSION, ALG_ED25519, 0, total) + public_key_bytes(key)
               + signature + payload)
    return content + hashlib.sha256(content).digest()


def parse_envelope(data: bytes) -> Envelope:
    """Parse an envelope and verify its signature against the key it names.

    Raises :class:`SignatureError` (``bad_signature``) when the envelope is malformed, its
    SHA-256 suffix does not match, or the signature does not verify; trust in the key is
    :class:`TrustPolicy`'s business."""
    data = bytes(data)
    if len(data) < OVERHEAD_BYTES or not is_envelope(data):
        raise SignatureError("bad_signature", f"not a signed envelope ({len(data)} bytes, "
                                              f"magic {data[:4]!r}, expected {MAGIC!r})")
    _, version, alg, flags, total = _HEAD.unpack_from(data)
    if version != VERSION or alg != ALG_ED25519 or flags != 0:
        raise SignatureError("bad_signature", f"envelope version {version}, algorithm {alg}, "
                                              f"flags {flags}: this receiver reads version "
                                              f"{VERSION}, algorithm {ALG_ED25519} (Ed25519), "
                                              f"flags 0")
    if total != len(data):
        raise SignatureError("bad_signature", f"envelope declares {total} bytes, got "
                                              f"{len(data)}")
    if hashlib.sha256(data[:-HASH_BYTES]).digest() != data[-HASH_BYTES:]:
        raise SignatureError("bad_signature", "envelope SHA-256 mismatch: the copy is corrupted")
    at = _HEAD.size
    public_key = data[at:at + KEY_BYTES]
    signature = data[at + KEY_BYTES:HEADER_BYTES]
    payload = data[HEADER_BYTES:-HASH_BYTES]
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature,
                                                             SIGNING_CONTEXT + payload)
    except (InvalidSignature, ValueError):
        raise SignatureError("bad_signature",
                             f"the Ed25519 signature of key {key_id(public_key)} does not "
                             f"verify: the object was altered after signing, or forged") from None
    return Envelope(payload, public_key, signature, True)


class TrustPolicy:
    """What a receiver accepts.

    Args:
        trusted_keys: public keys (PEM file paths, 64 hex digits, or raw 32 bytes), as a
            list or one comma-separated string.
        require_signature: reject unsigned objects and objects signed by a key not in
            ``trusted_keys`` (needs at least one trusted key).

    Without ``require_signature`` an unsigned object is accepted; a signed one must still
    verify, and when trusted keys are configured its key must be one of them.
    """

    def __init__(self, trusted_keys=(), require_signature: bool = False):
        if isinstance(trusted_keys, str):     # a GRC text field: comma-separated
            trusted_keys = [k.strip() for k in trusted_keys.split(",") if k.strip()]
        elif isinstance(trusted_keys, (bytes, bytearray)):
            trusted_keys = [trusted_keys]
        self.trusted = {load_public_key(k) for k in trusted_keys}
        self.require_signature = bool(require_signature)
        if self.require_signature and not self.trusted:
            raise ValueError("require_signature needs at least one trusted public key "
                             "(trusted_keys); make a key pair with `semcom keygen --out DIR`")

    @property
    def active(self) -> bool:
        return self.require_signature or bool(self.trusted)

    def open(self, data: bytes) -> tuple[bytes, str | None]:
        """``(payload, signer key id or None)`` of an acceptable object; raises
        :class:`SignatureError` otherwise. An unsigned object is its own payload."""
        data = bytes(data)
        if not is_envelope(data):
            if self.require_signature:
                raise SignatureError("unsigned", "unsigned model object rejected: this "
                                                 "receiver requires a signature")
            return data, None
        envelope = parse_envelope(data)
        if self.trusted and envelope.public_key not in self.trusted:
            raise SignatureError("untrusted", f"signed by key {envelope.key_id}, which is not "
                                              f"among the {len(self.trusted)} trusted key(s)")
        return envelope.payload, envelope.key_id
