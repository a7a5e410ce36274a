# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every source file carries the license line (scripts/check-spdx), and the check notices a
file that does not."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check-spdx"
HEADER = "# Copyright 2026 The gr-semcom authors\n# SPDX-License-Identifier: GPL-3.0-or-later\n"


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(root)], capture_output=True,
                          text=True)


def test_every_source_file_has_the_license_line():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def _tree(root: Path):
    """A small tree: source files with and without the line, and files that are not source."""
    (root / "pkg").mkdir()
    (root / "pkg" / "good.py").write_text("#!/usr/bin/env python3\n" + HEADER + '"""Doc."""\n')
    (root / "pkg" / "bad.py").write_text('"""No license line."""\nx = 1\n')
    (root / "tool").write_text("#!/bin/sh\necho no license line\n")
    (root / "CMakeLists.txt").write_text("install(FILES x DESTINATION y)\n")
    (root / "grc").mkdir()
    (root / "grc" / "x.block.yml").write_text("id: x\n")
    (root / "grc" / "y.block.yml").write_text(HEADER + "id: y\n")
    (root / "docs").mkdir()
    (root / "docs" / "snippet.py").write_text("x = 1\n")         # documentation
    (root / "README.md").write_text("# readme\n")
    (root / "flow.grc").write_text("options:\n")


def _flagged(result) -> set:
    return {line.split(":")[0] for line in result.stderr.splitlines() if ": no '" in line}


EXPECTED = {"pkg/bad.py", "tool", "CMakeLists.txt", "grc/x.block.yml"}


def test_a_file_without_the_line_fails(tmp_path):
    _tree(tmp_path)
    result = check(tmp_path)
    assert result.returncode == 1
    assert _flagged(result) == EXPECTED


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_new_file_in_a_git_checkout_fails_and_ignored_files_do_not(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _tree(tmp_path)
    (tmp_path / ".gitignore").write_text("/build/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "generated.py").write_text("x = 1\n")
    result = check(tmp_path)
    assert result.returncode == 1
    assert _flagged(result) == EXPECTED
