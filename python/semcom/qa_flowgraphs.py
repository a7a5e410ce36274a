#!/usr/bin/env python3
"""QA for examples/*.grc: every flowgraph compiles with grcc, the simulations run headless."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gnuradio import gr_unittest

from gnuradio.semcom.core.sweep import load_results

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# grcc reads this module's block YAML from the source tree, installed or not.
os.environ["GRC_BLOCKS_PATH"] = os.pathsep.join(
    [str(ROOT / "grc")] + [p for p in os.environ.get("GRC_BLOCKS_PATH", "").split(os.pathsep) if p])


def grcc(grc: Path, out_dir: Path) -> Path:
    result = subprocess.run(["grcc", "-o", str(out_dir), str(grc)], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"grcc failed on {grc.name}:\n{result.stdout}\n{result.stderr}")
    return out_dir / f"{grc.stem}.py"


def run_flowgraph(script: Path, args, timeout=240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=script.parent)


class qa_flowgraphs(gr_unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_every_flowgraph_compiles(self):
        grcs = sorted(EXAMPLES.glob("*.grc"))
        self.assertGreaterEqual(len(grcs), 7)
        for grc in grcs:
            with self.subTest(flowgraph=grc.name):
                script = grcc(grc, self.dir)
                self.assertTrue(script.is_file())
                compile(script.read_text(), str(script), "exec")

    def _run_simulation(self, name, extra, num_images=16):
        script = grcc(EXAMPLES / f"{name}.grc", self.dir)
        out = self.dir / f"{name}-out"
        result = run_flowgraph(script, ["--num-images", str(num_images), "--out-dir", str(out), *extra])
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:])
        # the metrics sink writes a sweep results file; its live figures are under "live"
        return load_results(out / "metrics.json")["points"][-1]["live"], out

    def test_awgn_full_waveform_with_offsets(self):
        """Es/N0 10 dB, frequency offset 0.002, timing offset 1.0001: every image arrives."""
        m, out = self._run_simulation("loopback_awgn", ["--snr-db", "10", "--freq-offset", "0.002",
                                                        "--timing-offset", "1.0001"])
        self.assertEqual(m["images_received"], 16)
        self.assertEqual(m["images_lost"], 0)
        # The same images through the noiseless link (encoder, 8-bit codes, decoder rebuilt
        # from the blob): the radio link must not change a single reconstruction.
        import numpy as np
        from PIL import Image
        from gnuradio.semcom.core import evaluate, metrics, zoo

        images, labels = zoo.load_sample()
        reference = evaluate.transmit_noiseless(zoo.load_aesc("mnist", 40), images[:16]).recon
        reference = np.round(np.clip(reference, 0, 1) * 255)
        for i in range(16):
            received = np.asarray(Image.open(next(out.glob(f"image_{i:06d}*.png"))), dtype=float)
            self.assertLessEqual(np.abs(received - reference[i, 0]).max(), 1.0)
        clf = zoo.load_classifier("mnist")
        noiseless = metrics.recognition_rate_ratio(
            float((evaluate.classify(clf, reference.astype(np.uint8)) == labels[:16]).mean()),
            float((evaluate.classify(clf, images[:16]) == labels[:16]).mean()))
        self.assertAlmostEqual(m["recognition_rate_ratio"], noiseless, delta=0.01)

    def test_fading_delivers_model_and_images(self):
        m, _ = self._run_simulation("loopback_fading", ["--snr-db", "20"])
        self.assertGreater(m["images_received"], 0)
        self.assertEqual(m["images_received"] + m["images_lost"], 16)

    def test_zmq_receiver_started_late_gets_the_decoder_from_the_carousel(self):
        """TX and RX as two processes over ZMQ; the RX starts 5 s after the TX."""
        tx = grcc(EXAMPLES / "zmq_tx.grc", self.dir)
        rx = grcc(EXAMPLES / "zmq_rx.grc", self.dir)
        address = "tcp://127.0.0.1:%d" % (20000 + os.getpid() % 20000)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        sender = subprocess.Popen([sys.executable, str(tx), "--num-images", "60", "--address", address,
                                   "--image-interval", "0.25", "--carousel-period", "2"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            time.sleep(5)
            out = self.dir / "zmq-out"
            result = run_flowgraph(rx, ["--num-images", "60", "--duration", "20", "--address", address,
                                        "--out-dir", str(out)])
            self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        finally:
            sender.wait(timeout=60)
        m = load_results(out / "metrics.json")["points"][-1]["live"]
        received = sorted(int(p.stem.split("_")[1]) for p in out.glob("image_*.png"))
        # The images sent before the receiver listened are lost; the receiver builds the
        # decoder from a later carousel copy and decodes (nearly) every image after that.
        self.assertGreater(received[0], 0)
        self.assertGreater(m["images_lost"], 0)
        expected = 60 - received[0]
        self.assertGreaterEqual(len(received), 0.9 * expected)
        self.assertGreater(len(received), 20)
        self.assertGreaterEqual(m["recognition_rate_ratio"], 0.9)

    def test_symbol_level_path(self):
        m, _ = self._run_simulation("loopback_symbol", ["--snr-db", "10"])
        self.assertEqual(m["images_received"], 16)
        self.assertEqual(m["packets_failed"], 0)

    def test_baseline_loopback_jpeg_and_direct(self):
        m, _ = self._run_simulation("loopback_baseline", ["--snr-db", "3", "--scheme", "jpeg"])
        self.assertEqual(m["images_received"], 16)
        self.assertGreater(m["recognition_rate_ratio"], 0.9)
        self.assertLess(m["psnr_db"], 40)                       # JPEG at quality 2 is lossy
        m, _ = self._run_simulation("loopback_baseline", ["--snr-db", "3", "--scheme", "direct"])
        self.assertEqual(m["images_received"], 16)
        self.assertGreaterEqual(m["psnr_db"], 99.0)             # raw pixels, error-free link

    def test_multipath_runs(self):
        m, _ = self._run_simulation("loopback_multipath", ["--snr-db", "20"])
        self.assertGreater(m["images_received"], 0)


if __name__ == "__main__":
    gr_unittest.run(qa_flowgraphs)
