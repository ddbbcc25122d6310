"""A ``[start]`` command that counts its starts: ``python start_counter.py MARKER ARGS...`` appends a line to
MARKER, then becomes ``python -m demo ARGS...`` (same process: its stdin and stdout are the run's).

A self-test reads MARKER to know how many targets a run started (``-n 2`` must start one, not one per worker).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    marker, *args = sys.argv[1:]
    with open(marker, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    os.execv(sys.executable, [sys.executable, "-m", "demo", *args])
