"""Run every benchmark and print one JSON line per figure.

    python -m bench            # all
    python -m bench tally      # only those whose name contains "tally"

Needs PostgreSQL on 127.0.0.1:5432 (scripts/ensure-postgres.sh); makes a fresh
database `spilno_bench` each run.
"""

from __future__ import annotations

import json
import sys

from . import server_bench


def main(argv: list[str]) -> int:
    wanted = argv[0] if argv else ""
    for figure in server_bench.run(wanted):
        print(json.dumps(figure, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
