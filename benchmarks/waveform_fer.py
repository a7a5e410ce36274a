#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Frame error rate of the full waveform against the symbol-level link, and where packets go.

For each modulation and payload size, at each Es/N0 of a grid, in one run:

* **full waveform**: random payloads through ``semcom.packet_modem_tx`` (bursts spaced
  ``--gap`` symbols apart) -> ``semcom.channel_model`` (AWGN at Es/N0, ``--freq-offset``
  cycles/sample, sample-clock ratio ``--timing-offset``) -> ``semcom.packet_modem_rx``;
  a packet counts as received when its payload comes out byte-exact with ``crc_ok``;
  the losses are split by the receiver's counters into *missed* (no burst detected /
  no sync word), *header* (burst found, header rejected) and *payload* (header accepted,
  LDPC + CRC-32 failed);
* **symbol-level link**: the same payloads through ``semcom.symbol_link`` (ideal timing
  and carrier, ``--reference symbol``) or the batched engine ``core.fastlink`` that is
  validated against it (``--reference fast``);

then the Es/N0 at FER 1 % of each (log-linear interpolation between the grid points that
bracket it) and the implementation loss (their difference). ``--silence`` adds a line per
case with bursts that each follow a long stretch of noise only (the first burst after
silence). ``--dynamic`` adds the fraction of packets delivered through GNU Radio's
``channels.dynamic_channel_model`` (1 Msps, paths at 0, 1.0, 2.5, 4.0 samples with
magnitudes 1, 0.5, 0.3, 0.15 normalised, Rician K = 2, Doppler 2 Hz, carrier drift up to
5 kHz, clock drift up to 50 Hz) at ``--dynamic-esn0``.

Usage::

    python3 benchmarks/waveform_fer.py [--packets 200] [--modulations bpsk,qpsk]
        [--payloads 64,1000] [--freq-offset 0.002] [--timing-offset 1.0001] [--gap 500]
        [--grid-bpsk=-2:8:1] [--silence 20] [--dynamic 200] [--json out.json]

Es/N0 is per channel symbol; the channel's noise voltage is ``amplitude * sqrt(sps /
10**(Es/N0 / 10))`` with ``amplitude`` the RMS amplitude of the transmitted burst.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import math
import sys
import threading
import time

import numpy as np
import pmt
from gnuradio import channels, gr

# the block classes from their modules: app.link imports the block modules, after which the
# package attributes semcom.<block> are those modules (python/semcom/__init__.py)
from gnuradio.semcom.app.link import run_packets
from gnuradio.semcom.channel_model import channel_model
from gnuradio.semcom.packet_modem_rx import packet_modem_rx
from gnuradio.semcom.packet_modem_tx import packet_modem_tx

AMPLITUDE = 0.5


class _source(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, name="fer_source", in_sig=None, out_sig=None)
        self.message_port_register_out(pmt.intern("out"))

    def send(self, data: bytes):
        arr = np.frombuffer(data, dtype=np.uint8)
        self.message_port_pub(pmt.intern("out"),
                              pmt.cons(pmt.make_dict(), pmt.init_u8vector(len(arr), arr)))


class _collector(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, name="fer_collector", in_sig=None, out_sig=None)
        self.items = []
        self.lock = threading.Lock()
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        meta = pmt.to_python(pmt.car(msg))
        data = bytes(pmt.u8vector_elements(pmt.cdr(msg)))
        with self.lock:
            self.items.append((meta, data))


def _wait_idle(state, done, idle_s, timeout_s):
    """Wait until ``done(state())`` or ``state()`` has not changed for ``idle_s`` seconds."""
    t0 = last_t = time.time()
    last = state()
    while time.time() - t0 < timeout_s:
        time.sleep(0.05)
        now = state()
        if done(now):
            return
        if now != last:
            last, last_t = now, time.time()
        elif time.time() - last_t > idle_s:
            return


def full_waveform(payloads, esn0_db, **kwargs):
    """:func:`run_full_waveform` in a child process: each flowgraph leaves shared-memory
    buffers behind until its process ends (reference cycles through the hier blocks'
    message handlers), and a sweep builds many. Spawned, not forked: the batched
    decoder's OpenMP threads in this process make a forked child abort."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(run_full_waveform, (payloads, esn0_db), kwargs)


class _GenieHeader:
    """A diagnostic, not a receiver: the header parser with a genie behind it. A header that
    fails its CRC-8 is replaced by the true one (every payload has the same length, and the
    packet counter is the last one seen plus one), so the payload of a burst whose header
    was lost is still decoded: how many of those would have arrived measures what the
    header costs."""

    def __init__(self, nbytes):
        from gnuradio.semcom.phy.waveform import parse_header
        self.parse, self.nbytes, self.last, self.replaced = parse_header, nbytes, -1, 0

    def __call__(self, bits):
        parsed = self.parse(bits)
        if parsed is None:
            parsed = (self.nbytes, (self.last + 1) % 4096, 0)
            self.replaced += 1
        self.last = parsed[1]
        return parsed


def run_full_waveform(payloads, esn0_db, *, modulation, sps, freq_offset, timing_offset, gap,
                      seed, channel="awgn", rx_kwargs=None, dynamic=None, genie=False):
    """Send ``payloads`` through TX -> channel -> RX; returns a dict of counts.

    ``channel``: ``'awgn'`` (the module's ``channel_model`` with the given offsets) or
    ``'dynamic'`` (:func:`dynamic_channel`). ``gap``: silence (zero symbols, noise added by
    the channel) between bursts."""
    mtu = max(len(p) for p in payloads)
    tb = gr.top_block()
    src, sink = _source(), _collector()
    half = max(gap // 2, 16)
    tx = packet_modem_tx(modulation, sps=sps, amplitude=AMPLITUDE, mtu=mtu,
                                pre_pad=half, post_pad=max(gap - half, 128))
    if channel == "dynamic":
        channel = dynamic_channel(esn0_db, sps, seed, **(dynamic or {}))
    else:
        channel = channel_model("awgn", esn0_db, signal_power=AMPLITUDE ** 2, sps=sps,
                                       freq_offset=freq_offset, timing_offset=timing_offset,
                                       seed=seed)
    rx = packet_modem_rx(modulation, sps=sps, drop_bad_crc=False, mtu=mtu,
                                **(rx_kwargs or {}))
    genie_parser = None
    if genie:
        from gnuradio.semcom.phy.waveform import CRC_BYTES
        genie_parser = rx.sync._parse = _GenieHeader(mtu + CRC_BYTES)
    tb.msg_connect(src, "out", tx, "in")
    tb.connect(tx, channel, rx)
    tb.msg_connect(rx, "out", sink, "in")
    tb.keep = (src, sink, tx, channel, rx)
    t0 = time.time()
    tb.start()
    try:
        # the TX stream only advances with packets: all of them go in at once and the
        # bursts come out back to back (with their gaps) as fast as the receiver takes them
        for data in payloads:
            src.send(data)
        # progress: packets out, headers, and the samples the receiver has taken in, so
        # that a receiver starved of CPU time (a shared machine) is not taken for one that
        # has lost the rest; the wait ends when every packet is out or nothing has moved
        # for 15 s (the bursts that were lost)
        progress = lambda: (len(sink.items), rx.stats.get("headers", 0),  # noqa: E731
                            rx.stats.get("bad_headers", 0), rx.sync.nitems_read(0))
        _wait_idle(progress, lambda v: v[0] >= len(payloads), 15.0, 300 + 5.0 * len(payloads))
    finally:
        tb.stop()
        tb.wait()
    wall = time.time() - t0
    stats = dict(rx.stats)
    samples = sum(tx.burst_samples(len(p)) for p in payloads)
    items = list(sink.items)
    tb.disconnect_all()
    sent_by_seq = {i % 4096: p for i, p in enumerate(payloads)} if len(payloads) <= 4096 else None
    ok = 0
    crc_fail = 0
    for meta, data in items:
        if not meta.get("crc_ok", True):
            crc_fail += 1
            continue
        seq = meta.get("seq")
        if sent_by_seq is not None and sent_by_seq.get(seq) == data:
            ok += 1
    headers = stats.get("headers", 0)
    bad_headers = stats.get("bad_headers", 0)
    # headers accepted but whose payload failed or came out wrong
    payload_fail = max(headers - ok, 0)
    missed = max(len(payloads) - headers - bad_headers, 0)
    return {"sent": len(payloads), "ok": ok, "fer": 1 - ok / len(payloads),
            "missed": missed, "header": min(bad_headers, len(payloads) - ok - payload_fail),
            "payload": payload_fail, "crc_fail": crc_fail, "wall_s": wall,
            "samples": samples, "stats": stats,
            "genie_headers": None if genie_parser is None else genie_parser.replaced}


def symbol_level(payloads, esn0_db, *, modulation, seed, reference):
    if reference == "fast":
        from gnuradio.semcom.core import fastlink
        from gnuradio.semcom.phy import fec as semfec
        run = fastlink.transmit(payloads, snr_db=esn0_db, channel="awgn", modulation=modulation,
                                code_alist=semfec.alist_path(semfec.DEFAULT_CODE), seed=seed)
    else:
        run = run_packets(payloads, snr_db=esn0_db, channel="awgn", modulation=modulation,
                          seed=seed, waveform="symbol")
    ok = sum(1 for (data, good), sent in zip(run.received, payloads) if good and data == sent)
    return {"sent": len(payloads), "ok": ok, "fer": 1 - ok / len(payloads)}


def esn0_at(points, target=0.01):
    """Es/N0 where FER crosses ``target``: log-linear interpolation between the last point
    above and the first point at or below it (FER 0 counted as half an error)."""
    pts = sorted(points)
    for (x0, f0, n0), (x1, f1, n1) in zip(pts, pts[1:]):
        if f0 > target >= f1:
            l0 = math.log10(f0)
            l1 = math.log10(max(f1, 0.5 / n1))
            if l1 >= l0:
                return x1
            return x0 + (math.log10(target) - l0) * (x1 - x0) / (l1 - l0)
    if pts and pts[0][1] <= target:
        return None   # already below at the first point: the grid starts too high
    return None


def _grid(spec):
    lo, hi, step = (float(v) for v in spec.split(":"))
    return [round(lo + i * step, 3) for i in range(int(round((hi - lo) / step)) + 1)]


def _dynamic_settings(spec):
    """``'k_factor=0;delays=0,1.5,3'`` -> ``{'k_factor': 0.0, 'delays': (0.0, 1.5, 3.0)}``."""
    known = ("samp_rate", "delays", "mags", "k_factor", "doppler", "cfo_max", "sro_max",
             "cfo_std", "sro_std")
    out = {}
    for item in filter(None, (v.strip() for v in spec.split(";"))):
        key, _, value = item.partition("=")
        key = key.strip()
        if key not in known:
            raise SystemExit(f"--dynamic-channel: unknown setting {key!r}; choose from "
                             f"{', '.join(known)}")
        values = tuple(float(v) for v in value.split(","))
        out[key] = values if key in ("delays", "mags") else values[0]
    return out


def _interval(k, n):
    """95 % Wilson interval of k errors in n."""
    if n == 0:
        return (0.0, 1.0)
    p, z = k / n, 1.96
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(c - h, 0.0), min(c + h, 1.0))


def dynamic_channel(esn0_db, sps, seed, *, samp_rate=1e6, delays=(0.0, 1.0, 2.5, 4.0),
                    mags=(1.0, 0.5, 0.3, 0.15), k_factor=2.0, doppler=2.0, cfo_max=5000.0,
                    sro_max=50.0, cfo_std=1.0, sro_std=0.01):
    """GNU Radio's stock dynamic channel with the issue's settings (the drifts are random
    walks bounded by ``cfo_max`` / ``sro_max`` Hz with the given step deviations per sample)."""
    mags = np.asarray(mags, dtype=float)
    mags = mags / np.sqrt(np.sum(mags ** 2))
    noise = AMPLITUDE * math.sqrt(sps / 10 ** (esn0_db / 10))
    return channels.dynamic_channel_model(samp_rate, sro_std, sro_max, cfo_std, cfo_max, 8,
                                          doppler, True, k_factor, list(delays), list(mags),
                                          8, noise, seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modulations", default="bpsk,qpsk")
    ap.add_argument("--payloads", default="64,1000", help="payload sizes in bytes")
    ap.add_argument("--packets", type=int, default=200, help="packets per point")
    ap.add_argument("--grid-bpsk", default="-2:8:1", help="Es/N0 lo:hi:step (dB) for BPSK")
    ap.add_argument("--grid-qpsk", default="1:11:1", help="Es/N0 lo:hi:step (dB) for QPSK")
    ap.add_argument("--grid-case", action="append", default=[], metavar="MOD/BYTES=LO:HI:STEP",
                    help="Es/N0 grid of one case, e.g. qpsk/1000=1.75:2.75:0.25 (repeatable; "
                         "overrides --grid-bpsk / --grid-qpsk for that case)")
    ap.add_argument("--sps", type=int, default=2)
    ap.add_argument("--freq-offset", type=float, default=0.002, help="cycles/sample")
    ap.add_argument("--timing-offset", type=float, default=1.0001,
                    help="sample-clock ratio epsilon (1.0001 = 100 ppm)")
    ap.add_argument("--gap", type=int, default=500, help="symbols of silence between bursts")
    ap.add_argument("--reference", choices=("symbol", "fast"), default="symbol",
                    help="symbol-level link: symbol_link flowgraph or the batched engine")
    ap.add_argument("--silence", type=int, default=0,
                    help="bursts per case, each after 20000 symbols of noise (0: skip)")
    ap.add_argument("--dynamic", type=int, default=0,
                    help="packets per case through dynamic_channel_model (0: skip)")
    ap.add_argument("--dynamic-esn0", default="10,15")
    ap.add_argument("--dynamic-channel", default="", metavar="KEY=VALUE;...",
                    help="other settings of the dynamic channel than the issue's, e.g. "
                         "'k_factor=0;doppler=10;delays=0,1.5,3,5;mags=1,0.7,0.5,0.3' "
                         "(keywords of dynamic_channel())")
    ap.add_argument("--dynamic-gap", type=int, default=10000,
                    help="symbols between bursts in the dynamic channel (spreads the packets "
                         "over more fades: 2 Hz Doppler fades last a few hundred ms)")
    ap.add_argument("--stop-after-zero", type=int, default=2,
                    help="stop a sweep after this many points without a frame error")
    ap.add_argument("--decoder", choices=("stock", "fast"), default="fast",
                    help="LDPC decoder of packet_modem_rx")
    ap.add_argument("--equalizer", choices=("auto", "on", "off"), default="auto",
                    help="packet_modem_rx's equaliser mode")
    ap.add_argument("--genie-header", action="store_true",
                    help="diagnostic: run the dynamic channel a second time with the true "
                         "header put in where the received one fails its CRC, to show "
                         "how many of the header losses the payload would have survived")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default="")
    args = ap.parse_args(argv)

    gr.logging().set_default_level(gr.log_levels.err) if hasattr(gr, "logging") else None
    results = {"config": vars(args), "cases": []}
    # the baseline receiver (before the burst synchroniser) had no decoder choice
    rx_kwargs = {"decoder": args.decoder, "equalizer": args.equalizer}
    dynamic_settings = _dynamic_settings(args.dynamic_channel)
    case_grids = {}
    for spec in args.grid_case:
        name, _, grid_spec = spec.partition("=")
        case_grids[name.strip().lower()] = _grid(grid_spec)
    rng = np.random.default_rng(args.seed)
    for modulation in args.modulations.split(","):
        for size in (int(s) for s in args.payloads.split(",")):
            grid = case_grids.get(f"{modulation}/{size}",
                                  _grid(getattr(args, f"grid_{modulation}")))
            payloads = [rng.integers(0, 256, size, dtype=np.uint8).tobytes()
                        for _ in range(args.packets)]
            case = {"modulation": modulation, "payload": size, "full": [], "symbol": []}
            print(f"\n== {modulation.upper()}, {size} B, {args.packets} packets/point, "
                  f"freq offset {args.freq_offset}, timing {args.timing_offset}, "
                  f"gap {args.gap} symbols")
            print(f"{'Es/N0':>6} | {'full FER':>9} {'95% interval':>15} | missed header payload"
                  f" | {'symbol FER':>10} | Msample/s")
            zeros_full = zeros_sym = 0
            for i, esn0 in enumerate(grid):
                seed = args.seed * 1000 + i
                full = sym = None
                if zeros_full < args.stop_after_zero:
                    full = full_waveform(payloads, esn0, modulation=modulation, sps=args.sps,
                                         freq_offset=args.freq_offset,
                                         timing_offset=args.timing_offset, gap=args.gap,
                                         seed=seed, rx_kwargs=rx_kwargs)
                    zeros_full = zeros_full + 1 if full["ok"] == full["sent"] else 0
                    case["full"].append({"esn0_db": esn0, **{k: v for k, v in full.items()
                                                              if k != "stats"}})
                if zeros_sym < args.stop_after_zero:
                    sym = symbol_level(payloads, esn0, modulation=modulation, seed=seed,
                                       reference=args.reference)
                    zeros_sym = zeros_sym + 1 if sym["ok"] == sym["sent"] else 0
                    case["symbol"].append({"esn0_db": esn0, **sym})
                if full is None and sym is None:
                    break
                if full:
                    lo, hi = _interval(full['sent'] - full['ok'], full['sent'])
                    f_txt = (f"{full['fer']:9.4f} [{lo:.4f},{hi:.4f}] | "
                             f"{full['missed']:6d} {full['header']:6d} {full['payload']:7d}")
                else:
                    f_txt = f"{'-':>9} {'':>15} | {'':>6} {'':>6} {'':>7}"
                s_txt = f"{sym['fer']:10.4f}" if sym else f"{'-':>10}"
                rate = (f"{full['samples'] / full['wall_s'] / 1e6:.2f}" if full else "")
                print(f"{esn0:6.2f} | {f_txt} | {s_txt} | {rate}", flush=True)
            e_full = esn0_at([(p["esn0_db"], p["fer"], p["sent"]) for p in case["full"]])
            e_sym = esn0_at([(p["esn0_db"], p["fer"], p["sent"]) for p in case["symbol"]])
            case["esn0_1pct_full"], case["esn0_1pct_symbol"] = e_full, e_sym
            loss = None if e_full is None or e_sym is None else e_full - e_sym
            case["implementation_loss_db"] = loss
            fmt = lambda v: "n/a" if v is None else f"{v:.2f} dB"  # noqa: E731
            print(f"Es/N0 at FER 1 %: full {fmt(e_full)}, symbol-level {fmt(e_sym)}; "
                  f"implementation loss {fmt(loss)}")
            if args.silence:
                at = (e_sym if e_sym is not None else grid[0]) + 1.0
                res = full_waveform(payloads[:args.silence], at, modulation=modulation,
                                    sps=args.sps, freq_offset=args.freq_offset,
                                    timing_offset=args.timing_offset, gap=20000,
                                    seed=args.seed + 77, rx_kwargs=rx_kwargs)
                case["after_silence"] = {"esn0_db": at, **{k: v for k, v in res.items()
                                                            if k != "stats"}}
                print(f"after 20000 symbols of silence, Es/N0 {at:.2f} dB: "
                      f"{res['ok']}/{res['sent']} received (missed {res['missed']}, "
                      f"header {res['header']}, payload {res['payload']})")
            if args.dynamic:
                case["dynamic"] = []
                for esn0 in (float(v) for v in args.dynamic_esn0.split(",")):
                    res = full_waveform(payloads[:args.dynamic], esn0, modulation=modulation,
                                        sps=args.sps, freq_offset=0, timing_offset=1,
                                        gap=args.dynamic_gap, seed=args.seed + int(esn0),
                                        channel="dynamic", rx_kwargs=rx_kwargs,
                                        dynamic=dynamic_settings)
                    case["dynamic"].append({"esn0_db": esn0, **{k: v for k, v in res.items()
                                                                 if k != "stats"}})
                    print(f"dynamic channel, Es/N0 {esn0:.1f} dB: {res['ok']}/{res['sent']} "
                          f"delivered ({res['ok'] / res['sent']:.1%}; missed {res['missed']}, "
                          f"header {res['header']}, payload {res['payload']})", flush=True)
                    if args.genie_header:
                        gen = full_waveform(payloads[:args.dynamic], esn0, modulation=modulation,
                                            sps=args.sps, freq_offset=0, timing_offset=1,
                                            gap=args.dynamic_gap, seed=args.seed + int(esn0),
                                            channel="dynamic", rx_kwargs=rx_kwargs,
                                            dynamic=dynamic_settings, genie=True)
                        case["dynamic"][-1]["genie"] = {k: v for k, v in gen.items()
                                                        if k != "stats"}
                        print(f"  the same with a genie header: {gen['ok']}/{gen['sent']} "
                              f"delivered ({gen['genie_headers']} headers replaced)",
                              flush=True)
            results["cases"].append(case)
            if args.json:     # after each case: a long run that is stopped keeps what it had
                with open(args.json, "w") as fh:
                    json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
