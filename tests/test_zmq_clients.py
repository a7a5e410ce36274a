# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""``semcom send`` / ``semcom listen`` (app/zmqclients.py) against running GNU Radio
flowgraphs with the stock ZMQ message blocks, and their handling of bad input.

The whole transmitter/receiver pair with both clients runs in qa_flowgraphs
(``test_zmq_images_from_and_to_other_programs``)."""

import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from gnuradio.semcom.app import cli, zmqclients
from gnuradio.semcom.core import pmtwire, zoo
from gnuradio.semcom.core.images import save_png

zmq = pytest.importorskip("zmq")


def free_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def digits(tmp_path):
    images, labels = zoo.load_sample()
    files = []
    for i in range(3):
        files.append(save_png(images[i], tmp_path / f"digit{i}_label{labels[i]}.png"))
    return images[:3], labels[:3], files



def test_send_reaches_a_flowgraph_as_image_pdus(digits):
    gr = pytest.importorskip("gnuradio.gr")
    from gnuradio import blocks, zeromq
    from gnuradio.semcom.phy.pdu import parse_image_pdu

    images, labels, files = digits
    address = free_address()
    tb = gr.top_block()
    source = zeromq.pull_msg_source(address, 100, True)
    store = blocks.message_debug()
    tb.msg_connect(source, "out", store, "store")
    tb.start()
    try:
        summary = zmqclients.send(address, files, first_id=7, print_fn=lambda _: None)
        deadline = time.monotonic() + 10
        while store.num_messages() < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        tb.stop()
        tb.wait()
    assert summary == {"address": address, "images": 3, "first_id": 7, "last_id": 9}
    assert store.num_messages() == 3
    for k in range(3):
        pdu = parse_image_pdu(store.get_message(k))
        assert pdu.image_id == 7 + k
        assert pdu.label == labels[k]
        assert np.array_equal(pdu.image, images[k])


def test_send_converts_to_the_dataset_shape(tmp_path):
    from PIL import Image

    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[:, 25:] = 200
    Image.fromarray(rgb).save(tmp_path / "wide.png")
    address = free_address()
    ctx = zmq.Context.instance()
    pull = ctx.socket(zmq.PULL)
    pull.bind(address)
    try:
        zmqclients.send(address, [tmp_path / "wide.png"], dataset="mnist",
                        print_fn=lambda _: None)
        assert pull.poll(5000)
        meta, image = zmqclients.parse_image_message(pull.recv())
    finally:
        pull.close(linger=0)
    assert meta == {"image_id": zmqclients.FIRST_ID, "shape": (1, 28, 28), "dataset": "mnist"}
    assert image[0, :, :10].max() == 0 and image[0, :, -10:].min() > 100


def test_listen_saves_what_a_flowgraph_publishes(tmp_path):
    gr = pytest.importorskip("gnuradio.gr")
    from gnuradio import semcom, zeromq

    address = free_address()
    tb = gr.top_block()
    source = semcom.image_source(source="sample", num_images=5, initial_delay_s=1.0,
                                 end_flowgraph=False)
    sink = zeromq.pub_msg_sink(address, 100, True)
    tb.msg_connect(source, "out", sink, "in")
    lines, result = [], {}
    listener = threading.Thread(target=lambda: result.update(zmqclients.listen(
        address, out_dir=tmp_path / "got", count=5, timeout_s=30, json_lines=True,
        print_fn=lines.append)))
    listener.start()
    tb.start()   # the subscriber connects during the source's initial delay
    try:
        listener.join(timeout=40)
    finally:
        tb.stop()
        tb.wait()
    assert result["images"] == 5 and result["malformed"] == 0
    images, labels = zoo.load_sample()
    for k, line in enumerate(lines):
        assert '"image_id": %d' % k in line and '"label": %d' % labels[k] in line
    from PIL import Image

    for k in range(5):
        saved = np.asarray(Image.open(tmp_path / "got" / f"image_{k:06d}_label{labels[k]}.png"))
        assert np.array_equal(saved, images[k, 0])


def test_listen_skips_messages_that_are_not_image_pdus(tmp_path):
    address = free_address()
    ctx = zmq.Context.instance()
    pub = ctx.socket(zmq.PUB)
    pub.bind(address)
    good = zmqclients.image_pdu_bytes(np.full((1, 4, 4), 9, np.uint8), 3, label=1)
    bad = [b"\x99garbage", pmtwire.dumps({"image_id": 1}),
           pmtwire.pdu_to_bytes({"image_id": 2, "shape": (1, 4, 4)}, b"\x00" * 15),
           pmtwire.pdu_to_bytes({"shape": (1, 2, 2)}, b"\x00" * 4)]

    def publish():
        time.sleep(0.5)   # the subscription travels first
        for data in bad + [good]:
            pub.send(data)

    threading.Thread(target=publish).start()
    try:
        summary = zmqclients.listen(address, out_dir=tmp_path, count=1, timeout_s=10,
                                    print_fn=lambda _: None)
    finally:
        pub.close(linger=0)
    assert summary["images"] == 1 and summary["malformed"] == 4
    assert [p.rsplit("/", 1)[1] for p in summary["files"]] == ["image_000003_label1.png"]


def test_send_errors_name_the_problem(tmp_path, capsys):
    with pytest.raises(OSError, match="no flowgraph accepted a connection"):
        zmqclients.send(free_address(), [_png(tmp_path)],
                        connect_timeout_s=0.3, print_fn=lambda _: None)
    assert cli.main(["send", "tcp://127.0.0.1:1", str(tmp_path / "missing.png")]) == 2
    assert "missing.png: no such file" in capsys.readouterr().err
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image file"):
        zmqclients.send("tcp://127.0.0.1:1", [tmp_path / "text.png"])
    with pytest.raises(ValueError, match="ZMQ address must look like"):
        zmqclients.send("127.0.0.1:5556", [_png(tmp_path)])
    with pytest.raises(ValueError, match="unknown dataset"):
        zmqclients.send("tcp://127.0.0.1:1", [_png(tmp_path)], dataset="imagenet")


def _png(folder):
    return save_png(np.zeros((1, 8, 8), np.uint8), folder / "blank.png")


def test_show_without_a_window_says_so():
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["MPLBACKEND"] = "agg"
    out = subprocess.run([sys.executable, "-c", "import sys; from gnuradio.semcom.app.cli import "
                          "main; sys.exit(main())", "listen", free_address(), "--show",
                          "--timeout", "0.1"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 2
    assert "cannot open a window" in out.stderr and "--out-dir" in out.stderr
