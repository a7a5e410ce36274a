# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The live-link figures of the core (``core/accumulator.py``), without GNU Radio."""

import json
import tracemalloc

import numpy as np
import pytest

from gnuradio.semcom.core import metrics, zoo
from gnuradio.semcom.core.accumulator import MetricsAccumulator, RunningMean, results_document
from gnuradio.semcom.core.results import ResultsError, validate_results


@pytest.fixture(scope="module")
def sample():
    return zoo.load_sample()


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def by_label(labels):
    """A classifier that answers the true label for ids it was told, 0 otherwise: images
    are keyed by their first pixel row's sum, which differs between the sample images."""
    table = {}

    def classify(images):
        return np.array([table.get(int(im.sum()), 0) for im in images])

    return table, classify


def test_running_mean_matches_the_batch_interval():
    values = np.random.default_rng(0).normal(20, 3, 500)
    r = RunningMean()
    for v in values:
        r.add(v)
    np.testing.assert_allclose(r.interval(), metrics.mean_interval(values), rtol=1e-12)
    assert RunningMean().interval() is None and RunningMean().value() is None


def test_pairs_match_in_either_order_and_score_like_the_batch_metrics(sample):
    images, labels = sample
    table, classify = by_label(labels)
    for i in range(10):
        table[int(images[i].sum())] = int(labels[i])
    acc = MetricsAccumulator(classify, (1, 28, 28), "test", batch_size=4)
    received = images[:10].copy()
    received[::3] = 255 - received[::3]           # some distorted images
    for i in range(10):
        if i % 2:
            acc.add_ref(i, images[i], int(labels[i]))
            acc.add_rx(i, received[i])
        else:
            acc.add_rx(i, received[i])
            acc.add_ref(i, images[i], int(labels[i]))
    s = acc.summary()
    assert (s["images_matched"], s["images_pending"], s["images_unmatched"]) == (10, 0, 0)
    assert s["psnr_db"] == pytest.approx(metrics.psnr(images[:10], received))
    assert s["ssim"] == pytest.approx(metrics.ssim(images[:10], received))
    # the distorted ones are not recognised by this classifier's table
    ok = classify(received) == labels[:10]
    assert not ok.all()
    assert s["accuracy_original"] == 1.0 and s["accuracy_received"] == pytest.approx(ok.mean())
    assert acc.pending_images() == 0


def test_duplicates_losses_and_the_final_view(sample):
    images, labels = sample
    clock = Clock()
    acc = MetricsAccumulator(window=100, lost_after_s=0.0, clock=clock)
    for i in range(6):
        acc.add_ref(i, images[i], int(labels[i]))
    assert not acc.add_ref(2, images[2], 0)
    for i in (0, 1, 2):
        acc.add_rx(i, images[i])
    assert not acc.add_rx(1, images[1])
    s = acc.summary()
    assert (s["duplicates"], s["images_pending"], s["images_lost"]) == (2, 3, 0)
    final = acc.summary(final=True)
    assert (final["images_pending"], final["images_lost"], final["loss_rate"]) == (0, 3, 0.5)
    assert acc.summary()["images_pending"] == 3           # the final view forgets nothing
    acc.add_rx(3, images[3])                              # a restarted link carries on
    assert acc.summary()["images_matched"] == 4


def test_lost_after_s_and_late_images(sample):
    images, _ = sample
    clock = Clock()
    acc = MetricsAccumulator(lost_after_s=2.0, clock=clock)
    acc.add_ref(0, images[0], None)
    clock.t = 1.0
    acc.add_ref(1, images[1], None)
    clock.t = 2.5
    s = acc.summary()
    assert (s["images_lost"], s["images_pending"]) == (1, 1)
    acc.add_rx(0, images[0])                              # after it was counted lost
    s = acc.summary()
    assert (s["images_late"], s["images_matched"], s["images_lost"]) == (1, 0, 1)


def test_the_windows_bound_memory():
    """Every tenth image lost, every hundredth received without its original: what is held
    stays within the windows and the traced memory does not grow with the images.
    (benchmarks/metrics_sink_memory.py runs 100 000 through a flowgraph.)"""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (50, 1, 8, 8), dtype=np.uint8)
    acc = MetricsAccumulator(window=16)
    tracemalloc.start()
    traced = []
    try:
        for i in range(3000):
            if i % 100 != 5:
                acc.add_ref(i, images[i % 50], i % 10)
            if i % 10 != 3:
                acc.add_rx(i, images[(i + 1) % 50])
            if i % 500 == 499:
                traced.append(tracemalloc.get_traced_memory()[0])
                assert acc.pending_images() <= 2 * 16
    finally:
        tracemalloc.stop()
    s = acc.summary(final=True)
    assert s["images_sent"] == 2970 and s["images_received"] == 2700
    assert s["images_lost"] + s["images_matched"] == 2970
    assert max(traced[1:]) - traced[1] < 64 * 1024, traced     # flat after the first 1000


def test_results_document_validates_and_marks_undefined_figures(sample):
    images, labels = sample
    acc = MetricsAccumulator()
    empty = acc.point(acc.summary(), scheme="aesc-verified", channel="awgn", snr_db=3.0, cr=20,
                      key="awgn|snr=3|cr=20|aesc-verified", wall_s=0.0)
    doc = results_document(empty, config={"dataset": "mnist"}, versions={})
    assert doc["points"][0]["recognition_rate_ratio"] == {"value": None, "ci": [None, None]}
    for i in range(4):
        acc.add_ref(i, images[i], int(labels[i]))
    acc.add_rx(0, images[0])
    point = acc.point(acc.summary(final=True), scheme="aesc-verified", channel="awgn",
                      snr_db=3.0, cr=20, key="k", wall_s=1.0)
    # end to end: three lost images scored as black
    black = np.zeros_like(images[:4])
    got = np.concatenate([images[:1], black[1:]])
    assert point["psnr_db"]["value"] == pytest.approx(
        metrics.mean_interval(metrics.psnr(images[:4], got, per_image=True))[0])
    assert (point["images"], point["images_lost"]) == (4, 3)
    doc = json.loads(json.dumps(results_document(point, config={}, versions={})))
    validate_results(doc)
    bad = dict(point)
    del bad["psnr_db"]
    with pytest.raises(ResultsError, match="psnr_db"):
        results_document(bad, config={}, versions={})


def test_bad_parameters_name_the_problem():
    for kwargs, word in ((dict(batch_size=0), "batch_size"), (dict(window=0), "window"),
                         (dict(lost_after_s=-1), "lost_after_s")):
        with pytest.raises(ValueError, match=word):
            MetricsAccumulator(**kwargs)
