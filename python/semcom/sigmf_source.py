# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""sigmf_source: a SigMF recording (or a raw cf32 file) as a complex stream."""

from __future__ import annotations

from gnuradio import blocks, gr

from .core.recording import RecordingError, open_recording


class sigmf_source(gr.hier_block2):
    """Play a recording of complex baseband: a SigMF recording (``NAME.sigmf-meta`` +
    ``NAME.sigmf-data``, datatype ``cf32_le``) or a raw file of complex float32 samples.

    The samples come from GNU Radio's own ``blocks.file_source``; this block opens the
    metadata with the SigMF reference library (``core/recording.py``), checks it, and checks
    that the receiver's settings match the waveform the recording holds, so that a
    mismatch is an error that says which option to change rather than a silent loss of
    every packet.

    Input: none. Output: complex64 samples; the stream ends at the end of the file (unless
    ``repeat``).

    Args:
        recording: the recording's name (with or without ``.sigmf-meta`` / ``.sigmf-data``)
            or a raw cf32 file.
        samp_rate: samples per second; 0 = the recording's ``core:sample_rate``. A raw file
            needs it.
        expect: dict of the receiver's settings (``{'modulation': 'qpsk', 'sps': 2}``) that
            must equal the recording's ``semcom:`` keys where it has them; a difference
            raises ``ValueError`` naming the setting, both values and the fix.
        repeat: play the file in a loop.

    Methods ``sample_rate()``, ``center_freq()`` (Hz or None), ``settings()`` (the
    ``semcom:`` keys), ``num_samples()`` describe the recording.
    """

    def __init__(self, recording="semcom-recording", samp_rate=0.0, expect=None, repeat=False):
        gr.hier_block2.__init__(self, "semcom_sigmf_source", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        if not float(samp_rate) >= 0:
            raise ValueError(f"samp_rate must be >= 0 samples/s (0 = from the recording), "
                             f"got {samp_rate}")
        if expect is not None and not isinstance(expect, dict):
            raise ValueError(f"expect must be a dict of settings, got {type(expect).__name__}")
        try:
            self._rec = open_recording(recording, float(samp_rate))
        except RecordingError as exc:
            raise ValueError(f"recording: {exc}") from None
        for key, wanted in (expect or {}).items():
            have = self._rec.setting(key)
            if have is not None and str(have) != str(wanted):
                raise ValueError(
                    f"the recording {recording} holds a {key} = {have} waveform, the receiver "
                    f"is set to {wanted}; run it with --{key.replace('_', '-')} {have}")
        if self._rec.num_samples == 0:
            gr.log.warn(f"sigmf_source: recording {self._rec.data_path} holds no samples")
        self.source = blocks.file_source(gr.sizeof_gr_complex, str(self._rec.data_path),
                                         bool(repeat))
        self.connect(self.source, self)

    def sample_rate(self) -> float:
        return self._rec.sample_rate

    def center_freq(self):
        return self._rec.center_freq

    def settings(self) -> dict:
        return dict(self._rec.settings)

    def num_samples(self) -> int:
        return self._rec.num_samples
