# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The grid and settings of a sweep: which operating points, and what each one sends.

A sweep is a grid of operating points — channel × SNR × compression ratio × scheme — on
the first ``num_images`` test images (``semcom sweep``). This module says which points a
configuration has (:func:`grid`), how a point is named in the results file
(:func:`point_key`) and which scheme transmits it (:func:`scheme_for`). Running the points
through GNU Radio is the application's part (``gnuradio.semcom.app.sweep``); scoring them
is :mod:`.scoring`; the file they go to is :mod:`.results`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from . import registry, zoo
from .schemes import make_scheme
from .uep import parse_packet_codes

__all__ = ["SweepConfig", "SCHEME_NAMES", "FIXED_SETTINGS", "GRID_SETTINGS", "PREDATING",
           "grid", "point_key", "point_seed", "zdim_for", "scheme_for"]

SCHEME_NAMES = registry.keys(registry.SCHEMES)
# Settings that must agree for a results file to be resumed (the grid itself may grow).
# The link engine is one of them: a file holds the points of one engine, so a resumed
# sweep never mixes the flowgraph's and the batched engine's numbers. The fast engine's
# decoder back end and device are not: they run the same algorithm, and each point
# records the ones it ran on (``link.decoder``, ``link.device``).
FIXED_SETTINGS = ("dataset", "num_images", "seed", "engine", "waveform", "modulation", "code",
                  "packet_codes", "carousel_every", "segment_size", "taps", "freq_offset",
                  "timing_offset", "lpips_size", "models")
GRID_SETTINGS = ("schemes", "crs", "channels", "snrs")
# What a results file written before a fixed setting existed was made with, where that
# differs from today's default: files older than the engine choice ran the flowgraph.
PREDATING = {"engine": "gnuradio"}


@dataclass
class SweepConfig:
    """The grid and the settings of one sweep (the CLI exposes each field)."""

    name: str = "sweep"
    description: str = ""
    dataset: str = "mnist"
    schemes: list = field(default_factory=lambda: list(SCHEME_NAMES))
    crs: list = field(default_factory=lambda: [20])
    channels: list = field(default_factory=lambda: ["awgn"])
    snrs: list = field(default_factory=lambda: [0.0, 5.0, 10.0])
    num_images: int = 2000
    seed: int = 0
    engine: str = "fast"
    decoder: str = "numba"
    device: str = "cpu"
    waveform: str = "symbol"
    modulation: str = "bpsk"
    code: str = registry.DEFAULT_CODE
    # unequal error protection (core.uep): {packet kind: code}; kinds not named use ``code``
    packet_codes: dict = field(default_factory=dict)
    carousel_every: int = 500
    segment_size: int = 1024
    taps: list = field(default_factory=lambda: [1.0])
    freq_offset: float = 0.0
    timing_offset: float = 1.0
    examples_per_class: int = 1
    lpips_backbone: str | None = None
    lpips_size: int = 64
    models: dict = field(default_factory=dict)   # zdim -> AESC-I .pt path ("" = shipped)
    data_root: str | None = None

    def check(self) -> "SweepConfig":
        registry.check(registry.DATASETS, self.dataset, "dataset")
        if not self.schemes:
            raise ValueError(f"give at least one scheme of {', '.join(SCHEME_NAMES)}")
        for scheme in self.schemes:
            registry.check(registry.SCHEMES, scheme, "scheme")
        if not self.channels:
            raise ValueError(f"give at least one channel of "
                             f"{', '.join(registry.keys(registry.CHANNELS))}")
        for channel in self.channels:
            registry.check(registry.CHANNELS, channel, "channel")
        if not self.snrs:
            raise ValueError("give at least one SNR")
        if not self.crs or min(self.crs) <= 1:
            raise ValueError(f"compression ratios must be > 1, got {self.crs}")
        if self.num_images < 1:
            raise ValueError("num_images must be >= 1")
        registry.check(registry.WAVEFORMS, self.waveform, "waveform")
        registry.check(registry.MODULATIONS, self.modulation, "modulation")
        registry.check(registry.LDPC_CODES, self.code, "LDPC code")
        self.packet_codes = parse_packet_codes(self.packet_codes)
        registry.check(registry.ENGINES, self.engine, "engine")
        registry.check(registry.DECODERS, self.decoder, "decoder")
        if self.engine == "fast" and self.waveform != "symbol":
            raise ValueError(f"the fast engine computes the symbol-level link only; the "
                             f"{self.waveform!r} waveform runs on the GNU Radio flowgraph: "
                             "add --engine gnuradio")
        if self.engine == "fast" and self.decoder == "numba" and self.device != "cpu":
            raise ValueError(f"the numba decoder runs on the CPU; for device {self.device!r} "
                             "choose --decoder torch")
        return self

    def fixed(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in FIXED_SETTINGS}

    @classmethod
    def predating_defaults(cls) -> dict:
        """The fixed settings assumed for a results file that does not record them."""
        return {**cls().fixed(), **PREDATING}

    def grid_lists(self) -> dict:
        return {k: list(getattr(self, k)) for k in GRID_SETTINGS}


def zdim_for(dataset: str, cr: float) -> int:
    """AESC-I latent size for a nominal compression ratio.

    The paper's pairs first (MNIST Cr 4/8/20 → zdim 196/98/40, CIFAR-10 Cr 3/6/12 →
    32/12/8, whose exact ratios are 4, 8, 19.6 and 2.67, 7.11, 10.67), else the zdim
    whose eq. (13)/(16) ratio is nearest.
    """
    from .models import PAPER_ZDIMS, compression_ratio

    nominal = {"mnist": (4, 8, 20), "cifar10": (3, 6, 12)}[dataset]
    for c, z in zip(nominal, PAPER_ZDIMS[dataset]):
        if float(cr) == c:
            return z
    return min(range(1, 785), key=lambda z: abs(compression_ratio(dataset, z) - float(cr)))


def point_key(channel: str, snr: float, cr, scheme: str) -> str:
    return f"{channel}|snr={float(snr):g}|cr={cr}|{scheme}"


def point_seed(sweep_seed: int, key: str) -> int:
    """The noise/fading seed of one point: fixed by the sweep's seed and the point's key, so
    a point gives the same result whenever, wherever and in whichever order it runs."""
    import numpy as np

    return int(np.random.SeedSequence([sweep_seed, *map(ord, key)]).generate_state(1)[0] % (2**31))


def grid(cfg: SweepConfig) -> list[dict]:
    """The operating points of a sweep, in the order they run."""
    points = []
    for channel in cfg.channels:
        for snr in cfg.snrs:
            for scheme in cfg.schemes:
                crs = [1] if scheme == "direct" else cfg.crs
                for cr in crs:
                    points.append({"key": point_key(channel, snr, cr, scheme), "channel": channel,
                                   "snr_db": float(snr), "cr": cr, "scheme": scheme})
    return points


def scheme_for(cfg: SweepConfig, point: dict, calibration: dict):
    """``(scheme, extra point fields)`` that transmits ``point`` of the grid."""
    name, cr = point["scheme"], point["cr"]
    if name.startswith("aesc"):
        zdim = zdim_for(cfg.dataset, cr)
        path = cfg.models.get(str(zdim)) or None
        model = zoo.load_aesc(cfg.dataset, zdim, path=path)
        return make_scheme("aesc", model=model, protection=name.split("-", 1)[1],
                           carousel_every=cfg.carousel_every,
                           segment_size=cfg.segment_size), {"zdim": zdim}
    if name.startswith("jpeg"):
        quality = calibration[str(cr)]["quality"]
        return (make_scheme("jpeg", quality=quality, variant=name.split("-", 1)[1]),
                {"quality": quality})
    return make_scheme("direct"), {}
