"""gr-semcom: AESC-I semantic communication of images for GNU Radio.

One block per file, file name = class name: ``semcom.semantic_encoder`` is the class
defined in ``semantic_encoder.py``. Blocks are imported on first use, so that
``gnuradio.semcom.core`` — the PyTorch half, which never imports GNU Radio — loads on
its own.
"""

import importlib
import sys
import types
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _block_names():
    return sorted(p.stem for p in _HERE.glob("*.py")
                  if not p.stem.startswith(("_", "qa_")))


class _Package(types.ModuleType):
    """Keeps ``semcom.<block>`` the block class even after ``import gnuradio.semcom.<block>``
    (the import system would otherwise bind the package attribute to the module)."""

    def __setattr__(self, name, value):
        if (isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
                and isinstance(getattr(value, name, None), type)):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name):
    if name.startswith("_") or not (_HERE / f"{name}.py").is_file():
        raise AttributeError(f"module 'gnuradio.semcom' has no block {name!r}")
    return getattr(importlib.import_module(f".{name}", __name__), name)


def __dir__():
    return sorted(set(globals()) | set(_block_names()))
