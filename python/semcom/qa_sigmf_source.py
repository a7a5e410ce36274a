#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for semcom.sigmf_source: raw cf32 files, recordings made elsewhere, and the errors
that say which option to change. The round trip with the sink is in qa_sigmf_sink."""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from gnuradio import blocks, gr, gr_unittest

from gnuradio import semcom
from gnuradio.semcom.core.recording import write_meta
from _qa_util import run_to_completion


class qa_sigmf_source(gr_unittest.TestCase):

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="qa_sigmf_source_"))
        self.samples = (np.arange(40) * (1 - 0.5j)).astype(np.complex64)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def play(self, *args, **kwargs):
        tb = gr.top_block()
        src = semcom.sigmf_source(*args, **kwargs)
        out = blocks.vector_sink_c()
        tb.connect(src, out)
        run_to_completion(tb)
        return src, np.asarray(out.data(), np.complex64)

    def test_raw_cf32_needs_and_takes_the_sample_rate(self):
        raw = self.tmp / "capture.cf32"
        self.samples.tofile(raw)
        with self.assertRaisesRegex(ValueError, r"no \.sigmf-meta.*give its sample rate"):
            semcom.sigmf_source(str(raw))
        src, got = self.play(str(raw), samp_rate=250e3)
        self.assertTrue(np.array_equal(got, self.samples))
        self.assertEqual((src.sample_rate(), src.center_freq(), src.settings()),
                         (250e3, None, {}))
        (self.tmp / "odd.cf32").write_bytes(b"\x00" * 12)
        with self.assertRaisesRegex(ValueError, "not a whole number of complex float32"):
            semcom.sigmf_source(str(self.tmp / "odd.cf32"), samp_rate=1e6)

    def test_settings_are_checked_and_the_rate_can_be_overridden(self):
        self.samples.tofile(self.tmp / "rec.sigmf-data")
        write_meta(self.tmp / "rec", 1e6, settings={"modulation": "bpsk", "sps": 2})
        with self.assertRaisesRegex(ValueError, "bpsk waveform.*set to qpsk.*--modulation bpsk"):
            semcom.sigmf_source(str(self.tmp / "rec"), expect={"modulation": "qpsk"})
        src, got = self.play(str(self.tmp / "rec"), samp_rate=2e6, expect={"sps": 2})
        self.assertEqual(src.sample_rate(), 2e6)
        self.assertTrue(np.array_equal(got, self.samples))

    def test_unsupported_or_missing_recordings_are_refused(self):
        with self.assertRaisesRegex(ValueError, "no such recording"):
            semcom.sigmf_source(str(self.tmp / "nothing"))
        self.samples.tofile(self.tmp / "ci.sigmf-data")
        write_meta(self.tmp / "ci", 1e6)
        meta = json.loads((self.tmp / "ci.sigmf-meta").read_text())
        meta["global"]["core:datatype"] = "ci16_le"
        (self.tmp / "ci.sigmf-meta").write_text(json.dumps(meta))
        with self.assertRaisesRegex(ValueError, "samples are ci16_le.*convert"):
            semcom.sigmf_source(str(self.tmp / "ci"))
        write_meta(self.tmp / "nodata", 1e6)
        with self.assertRaisesRegex(ValueError, "data file .* is missing"):
            semcom.sigmf_source(str(self.tmp / "nodata"))
        (self.tmp / "bad.sigmf-meta").write_text("{not json")
        with self.assertRaisesRegex(ValueError, "not a valid SigMF recording"):
            semcom.sigmf_source(str(self.tmp / "bad"))


if __name__ == "__main__":
    gr_unittest.run(qa_sigmf_source)
