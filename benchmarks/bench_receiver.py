#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Throughput of ``packet_modem_rx`` alone, LDPC included: samples per second it takes in.

The bursts of ``--packets`` random payloads are made first (``packet_modem_tx`` ->
``channel_model`` with AWGN at ``--esn0``, carrier and clock offsets) and kept in memory;
then a second flowgraph feeds them from a ``vector_source_c`` (no throttle) into the
receiver and the clock runs from its start until the last packet has come out (or
nothing has come out for 2 s). Printed: input samples per second of wall time, packets
received byte-exact, process CPU seconds per second of wall time (2 means both cores), and
the CPU seconds per Msample of input in all threads and in the busiest two (from
``/proc/self/task``; GNU Radio runs each block in its own thread): on a machine shared
with other work the wall-clock rate is a lower bound, while CPU seconds per Msample say
what two free cores would take (real time at 1 Msample/s needs the busiest thread below
1 CPU-s per Msample and the sum below 2).

Usage::

    python3 benchmarks/bench_receiver.py [--modulation qpsk] [--payload 1000] [--sps 2]
        [--esn0 6] [--freq 0.002] [--epsilon 1.0001] [--packets 200]
        [--decoder stock|fast] [--equalizer auto|on|off] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np
import pmt
from gnuradio import blocks, gr

from gnuradio import semcom


class _source(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, name="bench_rx_source", in_sig=None, out_sig=None)
        self.message_port_register_out(pmt.intern("out"))

    def send(self, data):
        self.message_port_pub(pmt.intern("out"),
                              pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(data), data)))


class _counter(gr.basic_block):
    def __init__(self, sent):
        gr.basic_block.__init__(self, name="bench_rx_counter", in_sig=None, out_sig=None)
        self.sent, self.ok, self.out = sent, 0, 0
        self.last = time.perf_counter()
        self.lock = threading.Lock()
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        meta = pmt.to_python(pmt.car(msg))
        data = bytes(pmt.u8vector_elements(pmt.cdr(msg)))
        with self.lock:
            self.out += 1
            self.ok += int(self.sent.get(meta.get("seq")) == data)
            self.last = time.perf_counter()


def make_samples(args, payloads) -> np.ndarray:
    tb = gr.top_block()
    src = _source()
    tx = semcom.packet_modem_tx(args.modulation, sps=args.sps, amplitude=0.5,
                                mtu=args.payload)
    chan = semcom.channel_model("awgn", args.esn0, signal_power=0.25, sps=args.sps,
                                freq_offset=args.freq, timing_offset=args.epsilon,
                                seed=args.seed)
    snk = blocks.vector_sink_c()
    tb.msg_connect(src, "out", tx, "in")
    tb.connect(tx, chan, snk)
    tb.start()
    for p in payloads:
        src.send(np.frombuffer(p, dtype=np.uint8))
    total = sum(tx.burst_samples(len(p)) for p in payloads)
    deadline = time.time() + 120
    while len(snk.data()) < total - 64 and time.time() < deadline:
        time.sleep(0.2)
    tb.stop()
    tb.wait()
    return np.asarray(snk.data(), dtype=np.complex64)


def _thread_cpu() -> dict:
    """CPU seconds of each thread of this process: ``{tid: (name, seconds)}`` (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/self/task/{tid}/comm") as fh:
                name = fh.read().strip()
        except OSError:      # the thread ended meanwhile
            continue
        out[tid] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def receive(args, samples, sent) -> dict:
    tb = gr.top_block()
    vs = blocks.vector_source_c(samples, False)
    rx = semcom.packet_modem_rx(args.modulation, sps=args.sps, mtu=args.payload,
                                decoder=args.decoder, equalizer=args.equalizer)
    cnt = _counter(sent)
    tb.connect(vs, rx)
    tb.msg_connect(rx, "out", cnt, "in")
    cpu0, t0 = time.process_time(), time.perf_counter()
    threads0 = _thread_cpu()
    tb.start()
    seen, polled = dict(threads0), 0.0
    while True:
        time.sleep(0.01)
        if time.perf_counter() - polled > 0.1:   # block threads end with the finite source
            seen.update(_thread_cpu())
            polled = time.perf_counter()
        with cnt.lock:
            if cnt.out >= len(sent) or time.perf_counter() - cnt.last > 5.0:
                end = cnt.last if cnt.out else time.perf_counter()
                break
    cpu = time.process_time() - cpu0
    seen.update(_thread_cpu())
    tb.stop()
    tb.wait()
    wall = max(end - t0, 1e-9)
    msamples = len(samples) / 1e6
    used = sorted(((secs - threads0.get(tid, ("", 0.0))[1], name)
                   for tid, (name, secs) in seen.items()), reverse=True)
    return {"msps": msamples / wall, "ok": cnt.ok, "wall_s": wall,
            "cpu_per_wall": cpu / (time.perf_counter() - t0),
            "cpu_per_msample": cpu / msamples,
            "busiest": [(name, secs / msamples) for secs, name in used[:2]]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modulation", default="qpsk", choices=["bpsk", "qpsk"])
    ap.add_argument("--payload", type=int, default=1000)
    ap.add_argument("--sps", type=int, default=2)
    ap.add_argument("--esn0", type=float, default=6.0, help="Es/N0 in dB")
    ap.add_argument("--freq", type=float, default=0.002, help="cycles/sample")
    ap.add_argument("--epsilon", type=float, default=1.0001, help="sample-clock ratio")
    ap.add_argument("--packets", type=int, default=200)
    ap.add_argument("--decoder", default="fast", choices=["stock", "fast"])
    ap.add_argument("--equalizer", default="auto", choices=["auto", "on", "off"])
    ap.add_argument("--repeat", type=int, default=3, help="runs over the same samples")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    payloads = [rng.integers(0, 256, args.payload, dtype=np.uint8).tobytes()
                for _ in range(args.packets)]
    sent = {i % 4096: p for i, p in enumerate(payloads)}
    samples = make_samples(args, payloads)
    if args.decoder == "fast":     # compile the Numba decoder before the clock runs
        from gnuradio.semcom.core import fastlink
        from gnuradio.semcom.phy import fec as semfec
        code = fastlink.load_code(semfec.alist_path(semfec.DEFAULT_CODE))
        fastlink.decode(code, np.zeros((1, code.n), dtype=np.float32))
    print(f"{len(samples)} samples, {args.packets} packets of {args.payload} B, "
          f"{args.modulation} sps {args.sps}, Es/N0 {args.esn0} dB, decoder {args.decoder}")
    for _ in range(args.repeat):
        r = receive(args, samples, sent)
        busiest = ", ".join(f"{name} {v:.2f}" for name, v in r["busiest"])
        print(f"  {r['msps']:.2f} Msample/s ({r['wall_s']:.2f} s), {r['ok']}/{args.packets} "
              f"byte-exact, {r['cpu_per_wall']:.2f} CPU s per s; CPU s per Msample: "
              f"{r['cpu_per_msample']:.2f} in all threads, busiest threads {busiest}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
