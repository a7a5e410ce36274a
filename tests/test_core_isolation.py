# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The core never imports GNU Radio or pmt, not even lazily.

Each core module is imported in a fresh interpreter, which must then hold no gnuradio module
but the packages ``gnuradio``, ``gnuradio.semcom`` and ``gnuradio.semcom.core*`` (and no
pmt); and no import statement of a core module, at the top or inside a function, names
GNU Radio, pmt or a layer above the core.
"""

import ast
import json
import pkgutil
import subprocess
import sys

import pytest

import gnuradio.semcom.core as core

CORE_MODULES = sorted(m.name for m in pkgutil.iter_modules(core.__path__, "gnuradio.semcom.core."))

_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules
                        if m == "pmt" or m.startswith(("pmt.", "gnuradio")))))
"""


def loaded_gnuradio_modules(module: str) -> list:
    """The gnuradio and pmt modules loaded by importing ``module`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _PROBE, module], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, f"importing {module} failed:\n{out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def forbidden(modules) -> list:
    return [m for m in modules if m not in ("gnuradio", "gnuradio.semcom")
            and not m.startswith("gnuradio.semcom.core")]


def forbidden_imports(source: str) -> list:
    """Import statements anywhere in ``source`` that leave the core."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level >= 2:                      # from .. (a layer above the core)
                bad.append("." * node.level + (node.module or ""))
                continue
            names = [node.module or ""] if node.level == 0 else []
        else:
            continue
        bad += [n for n in names if n == "pmt" or n.startswith("pmt.")
                or (n.startswith("gnuradio") and not n.startswith("gnuradio.semcom.core"))]
    return bad


def test_core_modules_are_found():
    assert "gnuradio.semcom.core.registry" in CORE_MODULES and len(CORE_MODULES) >= 15


@pytest.mark.parametrize("module", CORE_MODULES)
def test_importing_a_core_module_loads_no_gnuradio(module):
    assert forbidden(loaded_gnuradio_modules(module)) == []


@pytest.mark.parametrize("module", CORE_MODULES)
def test_no_core_module_imports_gnuradio_even_lazily(module):
    source = pkgutil.get_loader(module).get_source(module)
    assert forbidden_imports(source) == []


def test_the_checks_catch_a_gnuradio_import():
    """Both checks see what they look for: the message glue of phy loads
    gnuradio.gr and pmt; lazy and upward imports are found in a source."""
    assert {"gnuradio.gr", "pmt"} <= set(
        forbidden(loaded_gnuradio_modules("gnuradio.semcom.phy.glue")))
    lazy = "def f():\n    from gnuradio import gr\n    import pmt\n    from ..phy import fec\n"
    assert forbidden_imports(lazy) == ["gnuradio", "pmt", "..phy"]
    assert forbidden_imports("from . import registry\nfrom gnuradio.semcom.core import zoo\n") == []
