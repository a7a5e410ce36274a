# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""sigmf_sink: a complex baseband stream to a SigMF recording."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr

from .core.recording import RecordingError, check_settings, recording_paths, write_meta


class sigmf_sink(gr.sync_block):
    """Write the complex baseband to ``NAME.sigmf-data`` (cf32_le) and ``NAME.sigmf-meta``.

    GNU Radio 3.10 has no SigMF sink of its own; this block writes the samples as a file sink
    would and the metadata with the SigMF reference library (``core/recording.py``), so that
    the recording can be decoded later (``examples/sigmf_rx.grc``) or opened by any SigMF
    tool.

    Input: complex64 samples. Output: none.

    Metadata: the sample rate, the centre frequency when known, the waveform's ``settings``
    under the ``semcom:`` namespace, the time of the first sample, and, once the flowgraph
    stops, the SHA-512 of the data and one annotation per burst (from the ``burst_tag`` tags
    that ``packet_modem_tx`` puts on each burst's first sample, holding its length in
    samples). The metadata file is written when the flowgraph starts, so a recording cut
    short still opens, and rewritten when it stops.

    Args:
        path: recording name; ``.sigmf-data`` / ``.sigmf-meta`` are appended (a given suffix
            is replaced). Its folder is created.
        samp_rate: samples per second (> 0), written as ``core:sample_rate``.
        center_freq: centre frequency in Hz (``core:frequency``); 0 = unknown, not written.
        settings: dict of the waveform's settings (JSON values), written as ``semcom:<key>``:
            ``modulation``, ``sps``, ``amplitude``, ``code`` ... whatever a receiver needs.
        description: ``core:description`` (empty = none).
        hw: ``core:hw``, the hardware that made the recording (empty = none).
        burst_tag: tag key of burst starts (value: length in samples); empty = no annotations.
        overwrite: replace an existing recording; False raises ``ValueError`` when one exists.
    """

    def __init__(self, path="recording", samp_rate=1e6, center_freq=0.0, settings=None,
                 description="", hw="", burst_tag="packet_len", overwrite=True):
        gr.sync_block.__init__(self, name="sigmf_sink", in_sig=[np.complex64], out_sig=None)
        if not str(path).strip():
            raise ValueError("path must name the recording to write, e.g. 'capture' for "
                             "capture.sigmf-data and capture.sigmf-meta")
        if not float(samp_rate) > 0:
            raise ValueError(f"samp_rate must be > 0 samples/s, got {samp_rate}")
        if not float(center_freq) >= 0:
            raise ValueError(f"center_freq must be >= 0 Hz (0 = unknown), got {center_freq}")
        if settings is not None and not isinstance(settings, dict):
            raise ValueError(f"settings must be a dict of the waveform's settings, got "
                             f"{type(settings).__name__}")
        self._data_path, self._meta_path = recording_paths(Path(str(path)).expanduser())
        if not overwrite and (self._data_path.exists() or self._meta_path.exists()):
            raise ValueError(f"path: recording {self._data_path.with_suffix('')} exists; "
                             "choose another name or allow overwrite")
        self._meta_args = dict(sample_rate=float(samp_rate), center_freq=float(center_freq),
                               settings=dict(settings or {}), description=str(description),
                               hw=str(hw))
        try:   # fail here, not at start, on settings the metadata cannot hold
            check_settings(self._meta_args["settings"])
        except RecordingError as exc:
            raise ValueError(f"settings: {exc}") from None
        self._burst_key = pmt.intern(burst_tag) if burst_tag else None
        self._lock = threading.Lock()
        self._file = None
        self._bursts = []
        self._samples = 0
        self._started = None

    # ----------------------------------------------------------------- public API
    def data_path(self) -> str:
        """The ``.sigmf-data`` file."""
        return str(self._data_path)

    def meta_path(self) -> str:
        """The ``.sigmf-meta`` file."""
        return str(self._meta_path)

    def samples_written(self) -> int:
        with self._lock:
            return self._samples

    def bursts(self) -> int:
        """Bursts seen so far (annotations of the final metadata)."""
        with self._lock:
            return len(self._bursts)

    # ----------------------------------------------------------------- GNU Radio
    def start(self):
        self._data_path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._file = open(self._data_path, "wb")
            self._bursts = []
            self._samples = 0
            self._started = datetime.datetime.now(datetime.timezone.utc)
        write_meta(self._meta_path, started=self._started, sha512=False, **self._meta_args)
        return True

    def stop(self):
        with self._lock:
            if self._file is None:
                return True
            self._file.close()
            self._file = None
            bursts = list(self._bursts)
        write_meta(self._meta_path, started=self._started, bursts=bursts, **self._meta_args)
        return True

    def work(self, input_items, output_items):
        samples = input_items[0]
        n = len(samples)
        with self._lock:
            if self._file is None:
                return n
            if self._burst_key is not None:
                start = self.nitems_read(0)
                for tag in self.get_tags_in_window(0, 0, n, self._burst_key):
                    if pmt.is_integer(tag.value) and pmt.to_long(tag.value) > 0:
                        self._bursts.append((tag.offset, pmt.to_long(tag.value)))
                    elif tag.offset >= start:
                        self.logger.warning(f"tag {self._burst_key} at sample {tag.offset} "
                                            "is not a positive length; no annotation")
            self._file.write(np.ascontiguousarray(samples, dtype=np.complex64).tobytes())
            self._samples += n
        return n
