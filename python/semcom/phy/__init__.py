"""GNU Radio helpers for the physical layer (stock gr-fec, gr-digital, gr-channels)."""
