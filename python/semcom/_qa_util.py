# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for the QA tests: post PDUs into a running flowgraph and read what came out."""

from __future__ import annotations

import threading
import time

import numpy as np
import pmt

from gnuradio.semcom.phy.pdu import make_pdu, parse_pdu


def post(block, port: str, msg) -> None:
    """Deliver ``msg`` to ``block``'s input ``port`` as a connected upstream block would."""
    block.to_basic_block()._post(pmt.intern(port), msg)


def wait_for(predicate, timeout: float = 10.0, period: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return predicate()


def run_to_completion(tb, timeout: float = 15.0) -> None:
    """``tb.run()`` in a thread; fail (and stop the flowgraph) if it does not return in time."""
    runner = threading.Thread(target=tb.run, daemon=True)
    runner.start()
    runner.join(timeout)
    if runner.is_alive():
        tb.stop()
        runner.join(5.0)
        raise AssertionError(f"tb.run() did not return within {timeout} s")


def messages(debug) -> list:
    """All PDUs a ``blocks.message_debug`` stored, as (metadata dict, uint8 array)."""
    return [parse_pdu(debug.get_message(i)) for i in range(debug.num_messages())]


def image_pdu(image: np.ndarray, image_id: int, label=None):
    meta = {"image_id": image_id, "shape": tuple(image.shape)}
    if label is not None:
        meta["label"] = int(label)
    return make_pdu(meta, image.reshape(-1))
