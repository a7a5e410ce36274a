# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""gr-semcom: AESC-I semantic communication of images for GNU Radio.

One block per file, file name = class name: ``semcom.semantic_encoder`` is the class
defined in ``semantic_encoder.py``. Blocks are imported on first use (PEP 562), so that
``gnuradio.semcom.core`` — the PyTorch half, which never imports GNU Radio — loads on
its own.

Layers, each importing only those below it: ``core`` (PyTorch/NumPy) ← ``phy`` (GNU Radio
helpers shared by blocks) ← the blocks (this folder) ← ``app`` (sweep runner, CLI, plots,
demo).

Use blocks as ``from gnuradio import semcom; semcom.<block>(...)`` (what GRC generates) or
``from gnuradio.semcom import <block>``. The first access caches the class here, so a later
``import gnuradio.semcom.<block>`` leaves ``semcom.<block>`` the class. Importing a block
*module* before any such access binds the package attribute to the module, as Python does
for every submodule; ``qa_package`` shows both orders.
"""

import importlib
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _block_names():
    return sorted(p.stem for p in _HERE.glob("*.py")
                  if not p.stem.startswith(("_", "qa_")))


def __getattr__(name):
    if name.startswith("_") or not (_HERE / f"{name}.py").is_file():
        raise AttributeError(f"module 'gnuradio.semcom' has no block {name!r}; "
                             f"the blocks are {', '.join(_block_names())}")
    cls = getattr(importlib.import_module(f".{name}", __name__), name)
    globals()[name] = cls   # later lookups (and later imports of the module) keep the class
    return cls


def __dir__():
    return sorted(set(globals()) | set(_block_names()))
