# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""core/recording.py: SigMF metadata written and read through the SigMF reference library
(no GNU Radio needed); the blocks built on it are tested in qa_sigmf_sink / qa_sigmf_source."""

import datetime
import json

import numpy as np
import pytest
import sigmf

from gnuradio.semcom.core.recording import (RecordingError, open_recording, recording_paths,
                                            write_meta)


def test_paths_accept_either_suffix(tmp_path):
    for name in ("cap", "cap.sigmf-data", "cap.sigmf-meta"):
        assert recording_paths(tmp_path / name) == (tmp_path / "cap.sigmf-data",
                                                    tmp_path / "cap.sigmf-meta")


def test_written_metadata_opens_in_the_reference_library_and_back(tmp_path):
    samples = (np.arange(64) - 5j).astype(np.complex64)
    samples.tofile(tmp_path / "cap.sigmf-data")
    started = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    write_meta(tmp_path / "cap", 5e5, center_freq=915e6, description="d", hw="usrp b210",
               settings={"modulation": "qpsk", "sps": 2, "taps": (1.0, 0.5)},
               started=started, bursts=[(0, 30), (30, 34)])
    rec = sigmf.fromfile(str(tmp_path / "cap"))   # checks the SHA-512 we wrote
    rec.validate()
    assert rec.get_global_info()["core:hw"] == "usrp b210"
    assert rec.get_captures()[0]["core:datetime"] == "2026-01-02T03:04:05.000000Z"
    assert np.array_equal(rec.read_samples(), samples)

    got = open_recording(tmp_path / "cap.sigmf-meta", check_hash=True)
    assert (got.sample_rate, got.center_freq, got.num_samples) == (5e5, 915e6, 64)
    assert got.settings == {"modulation": "qpsk", "sps": 2, "taps": [1.0, 0.5]}
    assert got.setting("code", "n1800_r05") == "n1800_r05"
    assert [(a["core:sample_start"], a["core:sample_count"]) for a in got.annotations] == \
        [(0, 30), (30, 34)]
    assert open_recording(tmp_path / "cap", sample_rate=1e6).sample_rate == 1e6


def test_a_changed_data_file_fails_the_hash_check(tmp_path):
    np.zeros(8, np.complex64).tofile(tmp_path / "cap.sigmf-data")
    write_meta(tmp_path / "cap", 1e6)
    np.ones(8, np.complex64).tofile(tmp_path / "cap.sigmf-data")
    open_recording(tmp_path / "cap")   # the hash is only checked when asked
    with pytest.raises(RecordingError, match="not a valid SigMF recording"):
        open_recording(tmp_path / "cap", check_hash=True)


def test_errors_say_what_to_do(tmp_path):
    with pytest.raises(RecordingError, match="sample_rate must be > 0"):
        write_meta(tmp_path / "x", 0)
    with pytest.raises(RecordingError, match="setting names must be plain strings"):
        write_meta(tmp_path / "x", 1e6, settings={"semcom:sps": 2})
    with pytest.raises(RecordingError, match="no such recording"):
        open_recording(tmp_path / "missing.sigmf-meta")
    (tmp_path / "raw.bin").write_bytes(b"\x00" * 16)
    with pytest.raises(RecordingError, match="give its sample rate"):
        open_recording(tmp_path / "raw.bin")
    assert open_recording(tmp_path / "raw.bin", 1e6).num_samples == 2
    np.zeros(4, np.complex64).tofile(tmp_path / "two.sigmf-data")
    write_meta(tmp_path / "two", 1e6)
    meta = json.loads((tmp_path / "two.sigmf-meta").read_text())
    meta["global"]["core:num_channels"] = 2
    (tmp_path / "two.sigmf-meta").write_text(json.dumps(meta))
    with pytest.raises(RecordingError, match="2 channels"):
        open_recording(tmp_path / "two")
