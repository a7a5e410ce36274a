# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""GNU Radio helpers for the physical layer (stock gr-fec, gr-digital, gr-channels)."""
