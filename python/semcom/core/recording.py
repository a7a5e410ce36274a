# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""SigMF recordings of the baseband: metadata written and read with the SigMF reference
library (``sigmf`` on PyPI), so that a capture made now can be decoded later, by this module
or by any SigMF tool.

A recording is a pair ``NAME.sigmf-data`` (complex float32 little-endian samples, SigMF
datatype ``cf32_le``) + ``NAME.sigmf-meta`` (JSON). gr-semcom's metadata:

- ``global``: ``core:datatype`` ``cf32_le``, ``core:sample_rate`` (Hz), ``core:version``,
  ``core:recorder``, ``core:description``, ``core:hw`` when given, ``core:sha512`` of the
  data once the recording is complete, ``core:extensions`` declaring the optional ``semcom``
  namespace, and the waveform's settings as ``semcom:<name>`` keys (``semcom:modulation``,
  ``semcom:sps``, ``semcom:code``, ``semcom:rolloff``, ``semcom:amplitude``, ... whatever
  the recorder was given: see :data:`WAVEFORM_KEYS`).
- ``captures``: one capture from sample 0 with ``core:frequency`` (the centre frequency, Hz)
  when it is known and ``core:datetime`` (UTC, when the recording started).
- ``annotations``: one per transmitted burst, ``core:sample_start`` / ``core:sample_count``
  and ``core:label`` ``semcom burst``, when the recorder saw burst-length tags.

:func:`open_recording` reads such a recording, any SigMF recording of cf32 samples, or a raw
cf32 file when the sample rate is given.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Recording", "RecordingError", "write_meta", "check_settings", "open_recording",
           "recording_paths", "WAVEFORM_KEYS", "NAMESPACE", "DATATYPE"]

NAMESPACE = "semcom"
NAMESPACE_VERSION = "1.0.0"
DATATYPE = "cf32_le"
SAMPLE_BYTES = 8
# The settings a receiver needs to demodulate a recording (packet_modem_tx's parameters).
WAVEFORM_KEYS = ("modulation", "code", "sps", "rolloff", "amplitude", "pre_pad", "post_pad")


class RecordingError(ValueError):
    """A recording that cannot be written or read as asked; the text says why and what to do."""


@dataclass
class Recording:
    """What a receiver needs from a recording.

    Attributes:
        data_path: the cf32 samples (``.sigmf-data`` or a raw file).
        sample_rate: samples per second.
        center_freq: centre frequency in Hz, or None when the recording does not say.
        settings: the ``semcom:`` keys without their prefix (empty for a raw file or a
            recording made elsewhere).
        num_samples: complex samples in the data file.
        meta_path: the ``.sigmf-meta`` file, None for a raw file.
        annotations: the recording's annotations (SigMF dicts).
    """

    data_path: Path
    sample_rate: float
    center_freq: float | None = None
    settings: dict = field(default_factory=dict)
    num_samples: int = 0
    meta_path: Path | None = None
    annotations: list = field(default_factory=list)

    def setting(self, key: str, default=None):
        """``settings[key]``, or ``default`` when the recording does not hold it."""
        return self.settings.get(key, default)


def _sigmf():
    try:
        import sigmf
        from sigmf import sigmffile
    except ImportError as exc:   # pragma: no cover - pinned in requirements.txt
        raise RecordingError("the SigMF library is not installed; install the pinned version "
                             "of requirements.txt (pip install -r requirements.txt)") from exc
    return sigmf, sigmffile


def recording_paths(path) -> tuple[Path, Path]:
    """``(NAME.sigmf-data, NAME.sigmf-meta)`` for NAME given with either suffix or none."""
    path = Path(path)
    if path.suffix in (".sigmf-data", ".sigmf-meta"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".sigmf-data"), path.with_name(path.name + ".sigmf-meta")


def check_settings(settings: dict | None) -> dict:
    """The ``semcom:<key>`` global keys of ``settings``; raises :class:`RecordingError` for a
    key or value SigMF metadata cannot hold."""
    out = {}
    for key, value in (settings or {}).items():
        if not isinstance(key, str) or not key or ":" in key:
            raise RecordingError(f"setting names must be plain strings without ':', got {key!r}")
        if hasattr(value, "item"):
            value = value.item()
        try:
            json.dumps(value)
        except TypeError:
            raise RecordingError(f"setting {key!r} = {value!r} is not a JSON value") from None
        out[f"{NAMESPACE}:{key}"] = value
    return out


def _sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_meta(path, sample_rate: float, center_freq: float | None = None,
               settings: dict | None = None, description: str = "", hw: str = "",
               started: datetime.datetime | None = None, bursts=(), sha512: bool = True) -> Path:
    """Write (or rewrite) the ``.sigmf-meta`` of the recording ``path``; returns its path.

    Args:
        path: the recording's name, with or without ``.sigmf-data`` / ``.sigmf-meta``.
        sample_rate: samples per second (> 0).
        center_freq: centre frequency in Hz; None or 0 = unknown (not written).
        settings: the waveform's settings, written as ``semcom:<key>`` (JSON values).
        description, hw: ``core:description`` / ``core:hw`` (empty = not written).
        started: UTC time of the first sample (``core:datetime``); None = not written.
        bursts: ``(start, length)`` sample ranges of the bursts, written as annotations.
        sha512: write ``core:sha512`` of the data file (when it exists).

    The metadata is checked against the SigMF schema by the library before it is written;
    the file is replaced atomically.
    """
    sigmf, sigmffile = _sigmf()
    from sigmf import keys

    if not float(sample_rate) > 0:
        raise RecordingError(f"sample_rate must be > 0 samples/s, got {sample_rate}")
    data_path, meta_path = recording_paths(path)
    global_info = {
        keys.DATATYPE_KEY: DATATYPE,
        keys.SAMPLE_RATE_KEY: float(sample_rate),
        keys.VERSION_KEY: sigmf.__specification__,
        keys.RECORDER_KEY: "gr-semcom",
        keys.EXTENSIONS_KEY: [{"name": NAMESPACE, "version": NAMESPACE_VERSION,
                               "optional": True}],
    }
    if description:
        global_info[keys.DESCRIPTION_KEY] = str(description)
    if hw:
        global_info[keys.HW_KEY] = str(hw)
    if sha512 and data_path.is_file():
        global_info[keys.SHA512_KEY] = _sha512(data_path)
    global_info.update(check_settings(settings))
    capture = {keys.SAMPLE_START_KEY: 0}
    if center_freq:
        capture[keys.FREQUENCY_KEY] = float(center_freq)
    if started is not None:
        capture[keys.DATETIME_KEY] = started.astimezone(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
    annotations = [{keys.SAMPLE_START_KEY: int(start), keys.SAMPLE_COUNT_KEY: int(length),
                    keys.LABEL_KEY: f"{NAMESPACE} burst"} for start, length in bursts]
    meta = sigmffile.SigMFFile(metadata={"global": global_info, "captures": [capture],
                                         "annotations": annotations})
    try:
        meta.validate()
    except Exception as exc:   # the library raises its own and jsonschema's errors
        raise RecordingError(f"SigMF metadata for {meta_path} does not validate: {exc}") from exc
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = meta_path.with_name(meta_path.name + ".tmp")
    with open(tmp, "w") as f:
        meta.dump(f, pretty=True)
        f.write("\n")
    os.replace(tmp, meta_path)
    return meta_path


def open_recording(path, sample_rate: float = 0.0, check_hash: bool = False) -> Recording:
    """Open a recording to decode.

    ``path`` is a SigMF recording (its name with or without ``.sigmf-meta`` /
    ``.sigmf-data``) or a raw file of complex float32 samples. A SigMF recording gives its
    own sample rate; ``sample_rate`` > 0 overrides it. A raw file needs ``sample_rate``.
    ``check_hash`` verifies ``core:sha512`` (reads the whole file). Raises
    :class:`RecordingError` saying what is missing or unsupported.
    """
    path = Path(path)
    data_path, meta_path = recording_paths(path)
    if meta_path.is_file():
        return _open_sigmf(meta_path, float(sample_rate), check_hash)
    if path.suffix in (".sigmf-meta", ".sigmf-data") or not path.exists():
        raise RecordingError(f"{path}: no such recording (looked for {meta_path}"
                             + ("" if path.suffix else f" and the raw file {path}") + ")")
    if not float(sample_rate) > 0:
        raise RecordingError(f"{path} has no .sigmf-meta file beside it; to read it as raw "
                             "complex float32 samples, give its sample rate (--samp-rate)")
    size = path.stat().st_size
    if size % SAMPLE_BYTES:
        raise RecordingError(f"{path}: {size} bytes is not a whole number of complex float32 "
                             f"samples ({SAMPLE_BYTES} bytes each)")
    return Recording(data_path=path, sample_rate=float(sample_rate),
                     num_samples=size // SAMPLE_BYTES)


def _open_sigmf(meta_path: Path, sample_rate: float, check_hash: bool) -> Recording:
    _, sigmffile = _sigmf()
    from sigmf import keys

    try:
        with open(meta_path) as f:
            metadata = json.load(f)
        data_fn = sigmffile.get_dataset_filename_from_metadata(meta_path, metadata)
        if data_fn is None or not Path(data_fn).is_file():
            raise RecordingError(f"{meta_path}: its data file {recording_paths(meta_path)[0]} "
                                 "is missing")
        rec = sigmffile.SigMFFile(metadata=metadata, data_file=data_fn,
                                  skip_checksum=not check_hash)
        rec.validate()
    except RecordingError:
        raise
    except Exception as exc:   # json, the library's and jsonschema's errors
        raise RecordingError(f"{meta_path} is not a valid SigMF recording: {exc}") from exc
    info = rec.get_global_info()
    datatype = info.get(keys.DATATYPE_KEY)
    if datatype != DATATYPE:
        raise RecordingError(f"{meta_path}: samples are {datatype}, the receiver reads {DATATYPE}"
                             " (complex float32); convert the recording first")
    if int(info.get(keys.NUM_CHANNELS_KEY, 1)) != 1:
        raise RecordingError(f"{meta_path}: {info[keys.NUM_CHANNELS_KEY]} channels; the "
                             "receiver reads single-channel recordings")
    captures = rec.get_captures()
    if len(captures) > 1 or (captures and captures[0].get(keys.HEADER_BYTES_KEY)) \
            or info.get(keys.TRAILING_BYTES_KEY) or info.get(keys.DATASET_KEY):
        raise RecordingError(f"{meta_path}: several captures, header or trailing bytes or a "
                             "non-conforming dataset; the receiver reads plain cf32 recordings")
    rate = sample_rate if sample_rate > 0 else float(info.get(keys.SAMPLE_RATE_KEY) or 0)
    if not rate > 0:
        raise RecordingError(f"{meta_path} does not give core:sample_rate; give --samp-rate")
    prefix = f"{NAMESPACE}:"
    settings = {k[len(prefix):]: v for k, v in info.items() if k.startswith(prefix)}
    freq = captures[0].get(keys.FREQUENCY_KEY) if captures else None
    data_path = Path(data_fn)
    return Recording(data_path=data_path, sample_rate=rate, center_freq=freq, settings=settings,
                     num_samples=data_path.stat().st_size // SAMPLE_BYTES, meta_path=meta_path,
                     annotations=rec.get_annotations())
