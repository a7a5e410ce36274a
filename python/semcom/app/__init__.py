# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The application layer: the ``semcom`` command-line tool (:mod:`.cli`), the sweep runner
(:mod:`.sweep`, :mod:`.link`), the figures (:mod:`.plots`) and the noiseless demo
(:mod:`.demo`). It alone may import every layer: the core, ``phy`` and the blocks."""
