# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later
