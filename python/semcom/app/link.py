# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Push a list of packets through a GNU Radio link and collect what comes out.

This is the physical layer of ``semcom sweep``: one operating point is one flowgraph,

* ``waveform="symbol"`` (default): PDU source → :class:`semcom.symbol_link` (CRC-32, stock
  LDPC, BPSK/QPSK, AWGN / slow Rayleigh / multipath at Es/N0 ``snr_db``) → collector;
* ``waveform="full"``: PDU source → :class:`semcom.packet_modem_tx` →
  :class:`semcom.channel_model` (with the given frequency and timing offsets) →
  :class:`semcom.packet_modem_rx` → collector: the whole burst modem with its
  synchronisation, so packets can also be lost outright.

Corrupted packets are passed on with ``crc_ok`` False (the schemes decide what to do with
them). Packets are kept ``window`` in flight; the run ends when every packet has come out,
or (full waveform) when nothing has come out and the receiver has taken in no sample for
``idle_s`` seconds after the last one was sent. In the symbol path the transmit index
travels in the metadata, so the bit errors of each packet are counted exactly
(``bit_errors``); the full waveform carries no such genie.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pmt
from gnuradio import gr

# The block classes from their modules (not ``semcom.<block>``): once any code has imported
# a block's module, the package attribute of that name is the module, not the class.
from ..channel_model import channel_model
from ..packet_modem_rx import packet_modem_rx
from ..packet_modem_tx import packet_modem_tx
from ..symbol_link import symbol_link

from ..core import registry
from ..core.fastlink import LinkRun  # one result type for both engines
from ..phy import fec as semfec

__all__ = ["LinkRun", "run_packets", "WAVEFORMS"]

WAVEFORMS = registry.keys(registry.WAVEFORMS)
_TX_INDEX = pmt.intern("semcom_tx_index")
_CRC_OK = pmt.intern("crc_ok")


class _source(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, name="semcom_runner_source", in_sig=None, out_sig=None)
        self.message_port_register_out(pmt.intern("out"))

    def send(self, index: int, data: bytes):
        meta = pmt.dict_add(pmt.make_dict(), _TX_INDEX, pmt.from_long(index))
        arr = np.frombuffer(data, dtype=np.uint8)
        self.message_port_pub(pmt.intern("out"), pmt.cons(meta, pmt.init_u8vector(len(arr), arr)))


class _collector(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, name="semcom_runner_collector", in_sig=None, out_sig=None)
        self.items = []
        self.lock = threading.Lock()
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        if not pmt.is_pair(msg) or not pmt.is_u8vector(pmt.cdr(msg)):
            return
        meta = pmt.car(msg)
        idx = pmt.dict_ref(meta, _TX_INDEX, pmt.PMT_NIL)
        ok = pmt.dict_ref(meta, _CRC_OK, pmt.PMT_T)
        with self.lock:
            self.items.append((None if pmt.is_null(idx) else pmt.to_long(idx),
                               bytes(pmt.u8vector_elements(pmt.cdr(msg))),
                               bool(pmt.to_bool(ok)) if pmt.is_bool(ok) else True))


def _flowgraph(waveform, *, snr_db, channel, modulation, code, taps, seed, mtu,
               freq_offset, timing_offset, sps, packet_codes):
    tb = gr.top_block("semcom_sweep_point")
    src, sink = _source(), _collector()
    if waveform == "symbol":
        link = symbol_link(modulation, code, channel, snr_db, taps=taps, seed=seed,
                           drop_bad_crc=False, mtu=mtu, packet_codes=packet_codes)
        tb.msg_connect(src, "out", link, "in")
        tb.msg_connect(link, "out", sink, "in")
        symbols = link.symbols_of_packet
    else:
        amplitude = 0.5
        tx = packet_modem_tx(modulation, code=code, sps=sps, amplitude=amplitude, mtu=mtu,
                             packet_codes=packet_codes)
        chan = channel_model(channel, snr_db, signal_power=amplitude ** 2, sps=sps,
                                    freq_offset=freq_offset, timing_offset=timing_offset,
                                    taps=taps, seed=seed)
        rx = packet_modem_rx(modulation, code=code, sps=sps, drop_bad_crc=False, mtu=mtu,
                             packet_codes=packet_codes)
        tb.msg_connect(src, "out", tx, "in")
        tb.connect(tx, chan, rx)
        tb.msg_connect(rx, "out", sink, "in")
        symbols = lambda p: tx.burst_samples_of(p) // sps  # noqa: E731 (incl. preamble)
        link = (tx, chan, rx)
    # Python hier blocks must outlive the run: a collected wrapper crashes the scheduler.
    tb.semcom_keep = (src, sink, link)
    return tb, src, sink, symbols


def run_packets(packets, *, snr_db: float, channel: str = "awgn", modulation: str = "bpsk",
                code: str = semfec.DEFAULT_CODE, taps=(1.0,), seed: int | None = 0,
                waveform: str = "symbol", window: int = 32, idle_s: float = 5.0,
                freq_offset: float = 0.0, timing_offset: float = 1.0, sps: int = 2,
                timeout_s: float = 3600.0, progress=None, packet_codes=None) -> LinkRun:
    """Send ``packets`` (a list of ``bytes``) through one link; see the module docstring.

    ``packet_codes``: unequal error protection, ``{packet kind: code}`` (``core.uep``;
    on the full waveform the burst header names each burst's code); kinds it does not name
    use ``code``.

    ``progress``: optional callable ``progress(n_out)`` called as packets come out.
    """
    registry.check(registry.WAVEFORMS, waveform, "waveform")
    if not packets:
        raise ValueError("no packets to send")
    mtu = max(len(p) for p in packets)
    tb, src, sink, symbols_of = _flowgraph(
        waveform, snr_db=snr_db, channel=channel, modulation=modulation, code=code, taps=list(taps),
        seed=seed, mtu=mtu, freq_offset=freq_offset, timing_offset=timing_offset, sps=sps,
        packet_codes=packet_codes or {})
    run = LinkRun(sent=len(packets), symbols=int(sum(symbols_of(p) for p in packets)))
    # full waveform: the samples the receiver has taken in count as activity too, so that a
    # receiver starved of CPU time (a loaded machine) is not taken for one that lost bursts
    sync = tb.semcom_keep[2][2].sync if waveform == "full" else None
    t0 = time.perf_counter()
    tb.start()
    try:
        sent, written_off, last_out, last_change = 0, 0, 0, time.perf_counter()
        last_taken = 0
        while True:
            with sink.lock:
                out = len(sink.items)
            now = time.perf_counter()
            if out != last_out:
                last_out, last_change = out, now
                if progress is not None:
                    progress(out)
            if sync is not None:
                taken = sync.nitems_read(0)
                if taken != last_taken:
                    last_taken, last_change = taken, now
            if out >= len(packets) or (sent == len(packets) and out + written_off >= sent):
                break
            while sent < len(packets) and sent - out - written_off < window:
                src.send(sent, packets[sent])
                sent += 1
            if now - last_change > idle_s:
                # nothing came out for idle_s: what is in flight is lost (full waveform)
                written_off, last_change = sent - out, now
            if now - t0 > timeout_s:
                raise TimeoutError(
                    f"link run: {out} of {len(packets)} packets out after {timeout_s} s")
            time.sleep(0.0005)
    finally:
        tb.stop()
        tb.wait()
    run.wall_s = time.perf_counter() - t0
    items = list(sink.items)
    if packet_codes and waveform == "symbol":
        # each code has its own decoder, so packets of different codes can overtake each
        # other: hand them on in the order sent, as the fast engine does
        items.sort(key=lambda item: -1 if item[0] is None else item[0])
    run.received = [(data, ok) for _, data, ok in items]
    run.crc_failures = sum(not ok for _, _, ok in items)
    if waveform == "symbol":
        errors = compared = 0
        for idx, data, _ in items:
            if idx is None or not 0 <= idx < len(packets) or len(packets[idx]) != len(data):
                continue
            a = np.frombuffer(packets[idx], dtype=np.uint8)
            b = np.frombuffer(data, dtype=np.uint8)
            errors += int(np.unpackbits(a ^ b).sum())
            compared += 8 * len(a)
        run.bit_errors, run.bits_compared = errors, compared
    return run
