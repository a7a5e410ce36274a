#!/usr/bin/env python3
# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""QA for the package itself: blocks load on first use and stay classes.

GRC-generated code does ``from gnuradio import semcom`` and calls ``semcom.<block>(...)``.
Each check runs in a fresh interpreter, so that the order of the imports is the one shown.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

from gnuradio import gr_unittest

from gnuradio import semcom

BLOCKS = sorted(p.stem for p in Path(semcom.__file__).parent.glob("*.py")
                if not p.stem.startswith(("_", "qa_")))


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300)
    if out.returncode != 0:
        raise AssertionError(out.stderr[-3000:])
    return out.stdout


class qa_package(gr_unittest.TestCase):
    def test_importing_the_package_loads_no_block(self):
        out = run("""
            import sys
            from gnuradio import semcom
            print(sorted(m for m in sys.modules if m.startswith("gnuradio.")))
            """)
        self.assertEqual(out.strip(), "['gnuradio.semcom']")

    def test_every_block_is_its_class_whatever_was_loaded_before(self):
        """Blocks never import another block's module: loading one block (and what it
        imports) leaves every other ``semcom.<block>`` a class."""
        for first in BLOCKS:
            with self.subTest(first=first):
                run(f"""
                    from gnuradio import semcom
                    semcom.{first}
                    for name in {BLOCKS!r}:
                        cls = getattr(semcom, name)
                        assert isinstance(cls, type) and cls.__name__ == name, (name, cls)
                    """)

    def test_a_block_stays_its_class_after_its_module_is_imported(self):
        run("""
            from gnuradio import semcom
            cls = semcom.symbol_link
            import gnuradio.semcom.symbol_link
            from gnuradio.semcom.symbol_link import symbol_link
            from gnuradio.semcom import symbol_link as again
            assert semcom.symbol_link is cls is symbol_link is again, semcom.symbol_link
            link = semcom.symbol_link("bpsk")            # what GRC-generated code does
            assert type(link).__name__ == "symbol_link"
            """)

    def test_from_package_import_block_gives_the_class_first(self):
        run("""
            from gnuradio.semcom import channel_model
            from gnuradio import semcom
            assert isinstance(channel_model, type) and semcom.channel_model is channel_model
            """)

    def test_an_unknown_name_says_which_blocks_there_are(self):
        with self.assertRaisesRegex(AttributeError, "symbol_link"):
            semcom.no_such_block


if __name__ == "__main__":
    gr_unittest.run(qa_package)
