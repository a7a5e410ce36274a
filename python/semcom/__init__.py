"""gr-semcom: AESC-I semantic communication of images for GNU Radio.

One block per file, file name = class name: ``semcom.semantic_encoder`` comes from
``semantic_encoder.py``. Blocks are imported on first use, so that
``gnuradio.semcom.core`` — the PyTorch half, which never imports GNU Radio — loads on
its own.
"""

import importlib
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _block_names():
    return sorted(p.stem for p in _HERE.glob("*.py")
                  if not p.stem.startswith(("_", "qa_")))


def __getattr__(name):
    if name.startswith("_") or not (_HERE / f"{name}.py").is_file():
        raise AttributeError(f"module 'gnuradio.semcom' has no block {name!r}")
    value = getattr(importlib.import_module(f".{name}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_block_names()))
