#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for the GRC block YAML (grc/*.block.yml) against the blocks and the registry.

For every file: the block exists under the file's name, each parameter is an argument of
the block's constructor, and every parameter with options follows the one style of this
module — the value's own dtype (``string`` for names, ``bool`` for switches, never
``dtype: enum``, whose GRC resets a value that is not an option, such as a flowgraph
parameter, to the default without a word), bare options with ``option_labels``, the
template passing ``${param}`` unquoted — and its options and labels are exactly those of
``gnuradio.semcom.core.registry`` (or of the block's own constant), in the same order.
"""

import importlib
import inspect
import re
from pathlib import Path

import yaml
from gnuradio import gr_unittest

from gnuradio import semcom
from gnuradio.semcom.core import registry

GRC_DIR = Path(__file__).resolve().parents[2] / "grc"

# Parameter id -> the registry its options come from (options and labels).
REGISTRIES = {
    "modulation": registry.MODULATIONS,
    "code": registry.LDPC_CODES,
    "channel": registry.CHANNELS,
    "dataset": registry.DATASETS,
    "split": registry.SPLITS,
    "model_protection": registry.PROTECTIONS,
    "scheme": registry.BASELINES,
    "variant": registry.JPEG_VARIANTS,
}
# Names only one block knows: (block, parameter) -> the constant of its module that lists
# them. Those override REGISTRIES.
BLOCK_CONSTANTS = {
    ("image_source", "source"): "SOURCES",
    ("metrics_sink", "classifier"): "CLASSIFIERS",
    ("semantic_encoder", "dataset"): "DATASET_CHOICES",
    ("packet_modem_rx", "equalizer"): "EQUALIZERS",
    ("packet_modem_rx", "decoder"): "DECODERS",
}
BOOL_OPTIONS = ["True", "False"]


def _yaml_files():
    return sorted(GRC_DIR.glob("*.block.yml"))


def check_block_yaml(path: Path) -> list:
    """Every rule this module keeps, for one YAML file: the list of broken ones (text)."""
    doc = yaml.safe_load(path.read_text())
    name = path.name[len("semcom_"):-len(".block.yml")]
    problems = []
    if doc.get("id") != f"semcom_{name}":
        problems.append(f"id {doc.get('id')!r} is not semcom_{name}")
    try:
        cls = getattr(semcom, name)
    except AttributeError:
        return problems + [f"no block semcom.{name} for {path.name}"]
    args = set(inspect.signature(cls.__init__).parameters) - {"self"}
    make = doc.get("templates", {}).get("make", "")
    if re.search(r"""['"]\$\{""", make):
        problems.append("make quotes a ${param}: give the parameter a string dtype instead")
    for param in doc.get("parameters", []):
        pid = param["id"]
        where = f"parameter {pid!r}"
        if param.get("dtype") == "gui_hint":    # GRC's own widget placement, not an argument
            continue
        if pid not in args:
            problems.append(f"{where} is not an argument of {name}() ({', '.join(sorted(args))})")
        if param.get("dtype") == "enum":
            problems.append(f"{where}: dtype enum; use string (names) or bool (switches)")
        if "options" not in param:
            continue
        options = [str(o) for o in param["options"]]
        labels = [str(o) for o in param.get("option_labels", [])]
        if len(labels) != len(options):
            problems.append(f"{where}: {len(options)} options but {len(labels)} option_labels")
        if any(o[:1] in "'\"" for o in options):
            problems.append(f"{where}: quoted options {options}; write the bare values")
        if str(param.get("default")) not in options:
            problems.append(f"{where}: default {param.get('default')!r} is not an option")
        if param.get("dtype") == "bool":
            if options != BOOL_OPTIONS:
                problems.append(f"{where}: a bool's options are {BOOL_OPTIONS}, not {options}")
            continue
        if param.get("dtype") not in ("string", "enum"):   # enum is reported above
            problems.append(f"{where}: options on dtype {param.get('dtype')!r}; use string or bool")
        if (name, pid) in BLOCK_CONSTANTS:
            constant = BLOCK_CONSTANTS[(name, pid)]
            module = importlib.import_module(f"gnuradio.semcom.{name}")
            want, want_labels = list(getattr(module, constant)), None
            source = f"{name}.{constant}"
        elif pid in REGISTRIES:
            want = list(registry.keys(REGISTRIES[pid]))
            want_labels = list(registry.labels(REGISTRIES[pid]))
            source = f"the registry ({', '.join(want)})"
        else:
            problems.append(f"{where}: options without a registry; add it to the registry "
                            "and to REGISTRIES in qa_grc_yaml")
            continue
        if options != want:
            problems.append(f"{where}: options {options} are not those of {source}")
        if want_labels is not None and labels != want_labels:
            problems.append(f"{where}: option_labels {labels} are not the registry's "
                            f"{want_labels}")
    return problems


class qa_grc_yaml(gr_unittest.TestCase):
    def test_every_block_has_its_yaml(self):
        files = {p.name for p in _yaml_files()}
        blocks = {p.stem for p in Path(semcom.__file__).parent.glob("*.py")
                  if not p.stem.startswith(("_", "qa_"))}
        self.assertEqual(files, {f"semcom_{b}.block.yml" for b in blocks})

    def test_every_yaml_follows_the_blocks_and_the_registry(self):
        for path in _yaml_files():
            with self.subTest(path.name):
                self.assertEqual(check_block_yaml(path), [])

    def test_a_broken_file_is_reported(self):
        """The rules catch each kind of drift (a copy of a real file, broken on purpose)."""
        import tempfile

        text = (GRC_DIR / "semcom_symbol_link.block.yml").read_text()
        cases = {
            "not an argument": text.replace("- id: seed\n", "- id: seed_value\n"),
            "dtype enum": text.replace("  dtype: string\n  default: bpsk",
                                       "  dtype: enum\n  default: bpsk"),
            "are not those of the registry": text.replace(
                "[n1800_r05, n1100_r04,", "[n1100_r04, n1800_r05,"),
            "not the registry's": text.replace("Slow Rayleigh fading", "Rayleigh"),
            "quoted options": text.replace("[awgn, rayleigh, multipath]",
                                           "[\"'awgn'\", \"'rayleigh'\", \"'multipath'\"]"),
        }
        with tempfile.TemporaryDirectory() as tmp:
            for expected, broken in cases.items():
                self.assertNotEqual(broken, text, expected)
                path = Path(tmp) / "semcom_symbol_link.block.yml"
                path.write_text(broken)
                with self.subTest(expected):
                    self.assertTrue(any(expected in p for p in check_block_yaml(path)),
                                    check_block_yaml(path))


if __name__ == "__main__":
    gr_unittest.run(qa_grc_yaml)
