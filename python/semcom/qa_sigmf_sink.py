#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for semcom.sigmf_sink: a tagged complex stream into a SigMF recording, read back with
the SigMF reference library and played back by semcom.sigmf_source."""

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pmt
import sigmf
from gnuradio import blocks, gr, gr_unittest

from gnuradio import semcom
from _qa_util import run_to_completion, wait_for

SETTINGS = {"modulation": "bpsk", "sps": 2, "code": "n1800_r05", "amplitude": 0.5}


def bursts_stream(lengths, seed=0):
    """Random complex samples, one ``packet_len`` tag on each burst's first sample."""
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal(sum(lengths)) + 1j * rng.standard_normal(sum(lengths)))
    tags, offset = [], 0
    for n in lengths:
        tag = gr.tag_t()
        tag.offset, tag.key, tag.value = offset, pmt.intern("packet_len"), pmt.from_long(n)
        tags.append(tag)
        offset += n
    return samples.astype(np.complex64), tags


class qa_sigmf_sink(gr_unittest.TestCase):

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="qa_sigmf_sink_"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def record(self, name, samples, tags=(), **kwargs):
        tb = gr.top_block()
        src = blocks.vector_source_c(samples.tolist(), False, 1, list(tags))
        sink = semcom.sigmf_sink(str(self.tmp / name), **kwargs)
        tb.connect(src, sink)
        run_to_completion(tb)
        return sink

    def test_recording_round_trip_through_the_sigmf_library_and_the_source(self):
        lengths = [300, 1200, 77]
        samples, tags = bursts_stream(lengths)
        sink = self.record("sub/capture", samples, tags, samp_rate=2e6, center_freq=2.45e9,
                           settings=SETTINGS, description="test bursts", hw="none")
        self.assertEqual(sink.samples_written(), len(samples))
        self.assertEqual(sink.bursts(), 3)
        data = self.tmp / "sub" / "capture.sigmf-data"
        self.assertEqual(sink.data_path(), str(data))

        # the reference library reads the pair, checks the hash and the schema
        rec = sigmf.fromfile(str(self.tmp / "sub" / "capture"))
        rec.validate()
        info = rec.get_global_info()
        self.assertEqual(info["core:datatype"], "cf32_le")
        self.assertEqual(info["core:sample_rate"], 2e6)
        self.assertEqual(info["core:description"], "test bursts")
        self.assertEqual(info["core:sha512"], hashlib.sha512(data.read_bytes()).hexdigest())
        self.assertEqual(info["core:extensions"][0]["name"], "semcom")
        for key, value in SETTINGS.items():
            self.assertEqual(info[f"semcom:{key}"], value)
        capture = rec.get_captures()[0]
        self.assertEqual(capture["core:frequency"], 2.45e9)
        self.assertIn("core:datetime", capture)
        spans = [(a["core:sample_start"], a["core:sample_count"]) for a in rec.get_annotations()]
        self.assertEqual(spans, [(0, 300), (300, 1200), (1500, 77)])
        self.assertTrue(np.array_equal(rec.read_samples(), samples))

        # played back: the same samples, the same description
        tb = gr.top_block()
        src = semcom.sigmf_source(str(self.tmp / "sub" / "capture.sigmf-meta"),
                                  expect={"modulation": "bpsk", "sps": 2, "other": 1})
        out = blocks.vector_sink_c()
        tb.connect(src, out)
        run_to_completion(tb)
        self.assertTrue(np.array_equal(np.asarray(out.data(), np.complex64), samples))
        self.assertEqual((src.sample_rate(), src.center_freq()), (2e6, 2.45e9))
        self.assertEqual(src.settings(), SETTINGS)
        self.assertEqual(src.num_samples(), len(samples))

    def test_minimal_recording_and_a_recording_cut_short(self):
        samples, _ = bursts_stream([50])
        self.record("plain.sigmf-data", samples, samp_rate=1e6, burst_tag="")
        meta = json.loads((self.tmp / "plain.sigmf-meta").read_text())
        self.assertNotIn("core:frequency", meta["captures"][0])
        self.assertEqual(meta["annotations"], [])
        # The metadata exists from the start: a flowgraph killed mid-way leaves a recording
        # that opens (without hash); stop() adds the hash.
        tb = gr.top_block()
        sink = semcom.sigmf_sink(str(self.tmp / "cut"), samp_rate=1e6)
        tb.connect(blocks.vector_source_c([1j] * 10, True), blocks.head(gr.sizeof_gr_complex,
                                                                          10**9), sink)
        tb.start()
        try:
            self.assertTrue(wait_for(lambda: sink.samples_written() > 0))
            sigmf.fromfile(str(self.tmp / "cut")).validate()   # while it still records
            meta = json.loads((self.tmp / "cut.sigmf-meta").read_text())
            self.assertNotIn("core:sha512", meta["global"])
        finally:
            tb.stop()
            tb.wait()
        meta = json.loads((self.tmp / "cut.sigmf-meta").read_text())
        self.assertIn("core:sha512", meta["global"])

    def test_bad_parameters_raise_naming_them(self):
        with self.assertRaisesRegex(ValueError, "samp_rate must be > 0"):
            semcom.sigmf_sink(str(self.tmp / "x"), samp_rate=0)
        with self.assertRaisesRegex(ValueError, "path must name the recording"):
            semcom.sigmf_sink("", samp_rate=1e6)
        with self.assertRaisesRegex(ValueError, "center_freq must be >= 0"):
            semcom.sigmf_sink(str(self.tmp / "x"), samp_rate=1e6, center_freq=-1)
        with self.assertRaisesRegex(ValueError, "settings: setting 'sps'.*not a JSON value"):
            semcom.sigmf_sink(str(self.tmp / "x"), samp_rate=1e6, settings={"sps": object()})
        with self.assertRaisesRegex(ValueError, "settings must be a dict"):
            semcom.sigmf_sink(str(self.tmp / "x"), samp_rate=1e6, settings="qpsk")
        (self.tmp / "old.sigmf-data").write_bytes(b"")
        with self.assertRaisesRegex(ValueError, "exists; choose another name"):
            semcom.sigmf_sink(str(self.tmp / "old"), samp_rate=1e6, overwrite=False)


if __name__ == "__main__":
    gr_unittest.run(qa_sigmf_sink)
