"""``python -m bench [endpoints|peer|schema|migrations|startup|tenants]``: run the benchmarks, print and save the table.

Numbers are measured, never asserted; see bench/README.md for how to read them.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

from bench import endpoints, migrations, peer, schema, startup, tenants

RESULTS = Path(__file__).resolve().parent / "results.md"


def main(argv: list[str]) -> int:
    parts = argv or ["endpoints", "peer", "schema", "migrations", "startup", "tenants"]
    began = time.perf_counter()
    sections = [
        f"# smokeproof benchmarks\n\n{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}\n"
    ]
    for part in parts:
        if part == "endpoints":
            text, _ = endpoints.run()
        elif part == "peer":
            text = peer.run()
        elif part == "schema":
            text = schema.run()
        elif part == "migrations":
            text = migrations.run()
        elif part == "startup":
            text = startup.run()
        elif part == "tenants":
            text = tenants.run()
        else:
            print(f"unknown part {part!r}: endpoints, peer, schema, migrations, startup, tenants", file=sys.stderr)
            return 2
        print(text, flush=True)
        sections.append(text)
    sections.append(f"Whole benchmark: {time.perf_counter() - began:.0f} s\n")
    print(sections[-1])
    if not argv:
        RESULTS.write_text("\n".join(sections))
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
