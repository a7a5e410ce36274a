# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""One definition of every name: the core's users take theirs from the registry."""

import pytest

from gnuradio.semcom.app import cli
from gnuradio.semcom.core import datasets, grid, jpeg, registry


def test_every_registry_has_unique_keys_and_labels():
    for reg in (registry.DATASETS, registry.SPLITS, registry.SCHEMES, registry.BASELINES,
                registry.JPEG_VARIANTS, registry.PROTECTIONS, registry.CHANNELS,
                registry.WAVEFORMS, registry.MODULATIONS, registry.LDPC_CODES):
        assert len(set(registry.keys(reg))) == len(reg)
        assert len(set(registry.labels(reg))) == len(reg)


def test_modulations_are_unit_energy_with_one_bit_per_axis():
    for mod in registry.MODULATIONS:
        assert len(mod.points) == 2 ** mod.bits_per_symbol
        for value, point in enumerate(mod.points):
            assert abs(abs(point) - 1.0) < 1e-12
            assert (point.real > 0) == bool(value & 1)
            if mod.bits_per_symbol == 2:
                assert (point.imag > 0) == bool(value & 2)
            assert abs(abs(point.real) - mod.component_amplitude) < 1e-12


def test_check_names_the_choices():
    assert registry.check(registry.CHANNELS, "rayleigh", "channel") == "rayleigh"
    with pytest.raises(ValueError, match="unknown channel 'rician'; choose one of awgn, "
                                         "rayleigh, multipath"):
        registry.check(registry.CHANNELS, "rician", "channel")
    assert registry.ldpc_code("n0300_r05").n == 300
    assert registry.DEFAULT_CODE in registry.keys(registry.LDPC_CODES)


def test_core_users_take_the_registry_names():
    assert tuple(datasets.DATASETS) == registry.keys(registry.DATASETS)
    assert jpeg.VARIANTS == registry.keys(registry.JPEG_VARIANTS)
    assert tuple(grid.SweepConfig().schemes) == registry.keys(registry.SCHEMES)
    with pytest.raises(ValueError, match="unknown modulation '8psk'; choose one of bpsk, qpsk"):
        grid.SweepConfig(modulation="8psk").check()
    with pytest.raises(ValueError,
                       match="unknown dataset 'imagenet'; choose one of mnist, cifar10"):
        datasets.load("imagenet")


def test_cli_choices_come_from_the_registry():
    sub = next(a for a in cli._parser()._actions if a.dest == "command").choices
    options = {a.dest: a for a in sub["sweep"]._actions}
    assert tuple(options["dataset"].choices) == registry.keys(registry.DATASETS)
    assert tuple(options["modulation"].choices) == registry.keys(registry.MODULATIONS)
    assert tuple(options["code"].choices) == registry.keys(registry.LDPC_CODES)
    assert tuple(options["waveform"].choices) == registry.keys(registry.WAVEFORMS)
    assert options["schemes"].default == ",".join(registry.keys(registry.SCHEMES))
