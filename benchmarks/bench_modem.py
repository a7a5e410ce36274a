#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Throughput of the packet modem through the full waveform: TX -> channel -> RX.

``semcom.packet_modem_tx`` -> ``channels.channel_model`` (AWGN at the given Es/N0,
frequency offset, timing offset) -> ``semcom.packet_modem_rx``, no throttle: the
flowgraph runs as fast as the CPU allows. PDUs of ``--payload`` random bytes are kept
``--window`` in flight for ``--duration`` seconds; then it prints

* packets/s: PDUs received byte-exact per second of run time;
* information bits/s: payload bits of those PDUs per second (CRC, header, padding,
  parity, preamble and zero padding excluded);
* channel samples/s and symbols/s of the bursts received, lost and corrupted packets,
  and the process CPU time per packet (both cores' worth, all threads).

Usage::

    .venv/bin/python benchmarks/bench_modem.py \\
        [--payload 1000] [--modulation qpsk] [--code n1800_r05] [--sps 2] \\
        [--esn0 10] [--freq 0.002] [--epsilon 1.0001] [--decoder stock|fast]
        [--equalizer auto|on|off] [--duration 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import pmt
from gnuradio import channels, gr

from gnuradio import semcom
from gnuradio.semcom.phy import fec as semfec


class _pdu_source(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, name="bench_pdu_source", in_sig=None, out_sig=None)
        self.message_port_register_out(pmt.intern("out"))

    def send(self, data: np.ndarray):
        self.message_port_pub(pmt.intern("out"),
                              pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(data), data)))


class _pdu_counter(gr.basic_block):
    """Counts received PDUs and checks them against what was sent (by packet counter)."""

    def __init__(self, sent: dict):
        gr.basic_block.__init__(self, name="bench_pdu_counter", in_sig=None, out_sig=None)
        self.sent = sent
        self.ok = self.bad = self.bits = 0
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        meta = pmt.car(msg)
        seq = pmt.to_long(pmt.dict_ref(meta, pmt.intern("seq"), pmt.from_long(-1)))
        data = bytes(pmt.u8vector_elements(pmt.cdr(msg)))
        if self.sent.pop(seq, None) == data:
            self.ok += 1
            self.bits += 8 * len(data)
        else:
            self.bad += 1


def run(args) -> dict:
    rng = np.random.default_rng(args.seed)
    amplitude = 0.5
    noise = amplitude * np.sqrt(args.sps / 10 ** (args.esn0 / 10))
    tb = gr.top_block()
    src = _pdu_source()
    tx = semcom.packet_modem_tx(args.modulation, code=args.code, sps=args.sps,
                                amplitude=amplitude, mtu=max(args.payload, 1))
    chan = channels.channel_model(noise_voltage=noise, frequency_offset=args.freq,
                                  epsilon=args.epsilon, taps=[1.0], noise_seed=args.seed,
                                  block_tags=False)
    rx = semcom.packet_modem_rx(args.modulation, code=args.code, sps=args.sps,
                                mtu=max(args.payload, 1), decoder=args.decoder,
                                equalizer=args.equalizer)
    sent: dict = {}
    counter = _pdu_counter(sent)
    tb.msg_connect(src, "out", tx, "in")
    tb.connect(tx, chan, rx)
    tb.msg_connect(rx, "out", counter, "in")

    n_sent = lost = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    tb.start()
    deadline = t0 + args.duration
    answered, last_answer = 0, t0
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        if counter.ok + counter.bad != answered:
            answered, last_answer = counter.ok + counter.bad, now
        elif now - last_answer > 2.0 and n_sent > answered + lost:
            lost = n_sent - answered          # nothing for 2 s: the rest never comes
            last_answer = now
        while n_sent - answered - lost < args.window:
            data = rng.integers(0, 256, args.payload, dtype=np.uint8)
            sent[n_sent % 4096] = data.tobytes()
            src.send(data)
            n_sent += 1
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    ok, bad, bits = counter.ok, counter.bad, counter.bits
    cpu = time.process_time() - cpu0
    tb.stop()
    tb.wait()
    burst = tx.burst_samples(args.payload)
    return {
        "payload_bytes": args.payload, "modulation": args.modulation, "code": args.code,
        "sps": args.sps, "esn0_db": args.esn0, "decoder": args.decoder, "freq_offset": args.freq,
        "epsilon": args.epsilon, "seconds": round(elapsed, 3),
        "packets_sent": n_sent, "packets_ok": ok, "packets_corrupted": bad,
        "packets_lost": n_sent - ok - bad,
        "packets_per_s": round(ok / elapsed, 2),
        "info_bits_per_s": round(bits / elapsed, 1),
        "channel_samples_per_s": round(ok * burst / elapsed, 1),
        "channel_symbols_per_s": round(ok * burst / args.sps / elapsed, 1),
        "burst_samples": burst,
        "cpu_s_per_packet": round(cpu / max(ok, 1), 5),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--payload", type=int, default=1000, help="payload bytes per PDU")
    ap.add_argument("--modulation", default="qpsk", choices=["bpsk", "qpsk"])
    ap.add_argument("--code", default=semfec.DEFAULT_CODE, choices=semfec.CODES,
                    help="stock LDPC code")
    ap.add_argument("--sps", type=int, default=2, help="samples per symbol")
    ap.add_argument("--esn0", type=float, default=10.0, help="Es/N0 in dB")
    ap.add_argument("--freq", type=float, default=0.002,
                    help="frequency offset, cycles/sample")
    ap.add_argument("--epsilon", type=float, default=1.0001,
                    help="timing offset (resampling ratio)")
    ap.add_argument("--decoder", default="fast", choices=["stock", "fast"],
                    help="LDPC decoder of the receiver")
    ap.add_argument("--equalizer", default="auto", choices=["auto", "on", "off"])
    ap.add_argument("--duration", type=float, default=20.0, help="seconds to run")
    ap.add_argument("--window", type=int, default=8, help="PDUs kept in flight")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the result to this JSON file")
    args = ap.parse_args(argv)
    if not 1 <= args.payload <= 4091:
        ap.error("--payload must be in 1..4091")
    result = run(args)
    print(f"packet modem {args.modulation} {args.code} sps={args.sps} decoder={args.decoder}, "
          f"payload "
          f"{args.payload} B, Es/N0 {args.esn0} dB, f={args.freq}, eps={args.epsilon}: "
          f"{result['packets_per_s']:.1f} packets/s, "
          f"{result['info_bits_per_s'] / 1e3:.1f} kbit/s information "
          f"({result['packets_ok']} ok, {result['packets_corrupted']} corrupted, "
          f"{result['packets_lost']} lost or in flight of {result['packets_sent']} sent in "
          f"{result['seconds']:.1f} s; "
          f"{result['channel_samples_per_s'] / 1e6:.3f} Msample/s through the receiver, "
          f"{result['cpu_s_per_packet'] * 1e3:.1f} ms CPU/packet)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
