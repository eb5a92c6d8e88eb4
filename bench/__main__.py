"""Run the benchmarks and print one JSON line per figure.

    python -m bench                 # everything
    python -m bench server          # the central server's figures
    python -m bench server console  # ...only those after loading votes that match "console"
    python -m bench sync            # the sync figures
    python -m bench qr_codes        # school voting codes: QR encoding, 10 000 cards to PDF
    python -m bench camera          # code cards read from camera frames: read rates, frames/s
    python -m bench camera zxing    # ...without the old zbar path for comparison
    python -m bench school check    # school codes: checking a code among 1 000 000
    python -m bench ballots         # paper sheets read: silent errors, review rate, speed
    python -m bench ballots camera  # ...only sheets read from camera frames
    python -m bench kiosk           # the terminal's ballot screen with 200 projects
    python -m bench kiosk card      # card tap to ballot in Chromium over the real PC/SC stack
    python -m bench eligibility     # the voter list: upload, a terminal's catch-up, a lookup
    python -m bench paper_scans     # scanned sheets read on the server into PostgreSQL, committed
    python -m bench counting        # real elections (Pabulib): greedy and Equal Shares on Łódź 2022
    python -m bench polls           # a poll of 20 options with 1 000 000 answers counted on PostgreSQL
    python -m bench polls sync      # ...only poll answers pushed by terminals through device sync
    python -m bench jobs            # scan upload and voter list as jobs: Redis queue, a real worker
    python -m bench jobs scan       # ...only the scan upload

Needs PostgreSQL on 127.0.0.1:5432 (scripts/ensure-postgres.sh); each suite makes a
fresh database of its own. The jobs suite needs Redis too (scripts/ensure-redis.sh).
"""

from __future__ import annotations

import json
import sys

from . import (
    ballots_bench,
    camera_bench,
    counting_bench,
    eligibility_bench,
    hardware_bench,
    jobs_bench,
    kiosk_bench,
    paper_scans_bench,
    polls_bench,
    qr_codes_bench,
    school_bench,
    server_bench,
    sync_bench,
)

SUITES = {
    "server": server_bench,
    "sync": sync_bench,
    "hardware": hardware_bench,
    "camera": camera_bench,
    "school": school_bench,
    "kiosk": kiosk_bench,
    "qr_codes": qr_codes_bench,
    "ballots": ballots_bench,
    "eligibility": eligibility_bench,
    "paper_scans": paper_scans_bench,
    "counting": counting_bench,
    "polls": polls_bench,
    "jobs": jobs_bench,
}


def main(argv: list[str]) -> int:
    chosen = argv[:1] or list(SUITES)
    unknown = [name for name in chosen if name not in SUITES]
    if unknown:
        print(f"unknown suite {unknown[0]!r}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    for name in chosen:
        for figure in SUITES[name].run(argv[1] if len(argv) > 1 else ""):
            print(json.dumps(figure, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
