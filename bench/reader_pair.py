"""The paper reader's speed against an older checkout, paired: the fair comparison on a
machine whose figures swing by a third between runs minutes apart.

    git worktree add /tmp/reader-old 87d34d7
    python -m bench.reader_pair /tmp/reader-old

Two processes, one per checkout, read the same 200 dpi sheets (grey PNG, JPEG, colour
PNG; bench.ballots_bench's generator) in alternating passes, old-new then new-old; each
pass is timed in its own process's CPU time, decoding included. Prints one JSON line per
format: both medians in ms a sheet and old over new.
"""

from __future__ import annotations

import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
KINDS = ("speed_png", "speed_jpeg", "speed_colour_png")
SHEETS, PASSES = 40, 5


def _side(root: str, sheets_file: str) -> None:
    """One checkout's reader: a pass over the sheets for each line read from stdin."""
    sys.path.insert(0, root)
    from paper.inputs import pages_from_bytes
    from paper.reader import SheetReader
    from paper.sheet_plan import build_layout
    from tests.paper.corpus import TEST_FORM_KEY, packaged, sample_cycle

    with open(sheets_file, "rb") as handle:
        sheets = pickle.load(handle)  # written by main() below, never from outside
    reader = SheetReader([build_layout(packaged(sample_cycle()))], TEST_FORM_KEY)
    for _line in sys.stdin:
        started = time.process_time()
        for n, data in enumerate(sheets):
            for page in pages_from_bytes(f"sheet-{n}", data):
                reader.read(page)
        print((time.process_time() - started) / len(sheets) * 1000, flush=True)


def main(old_root: str) -> None:
    from bench.ballots_bench import _corpus

    with tempfile.TemporaryDirectory() as folder:
        for kind in KINDS:
            path = Path(folder, f"{kind}.pickle")
            path.write_bytes(pickle.dumps([data for data, _ in _corpus(kind, SHEETS, 5, (200,))]))
            roots = {"old": old_root, "new": str(HERE)}
            sides = {
                name: subprocess.Popen(
                    [sys.executable, "-m", "bench.reader_pair", "--side", root, str(path)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=HERE,
                )
                for name, root in roots.items()
            }
            times: dict[str, list[float]] = {"old": [], "new": []}
            for n in range(PASSES):
                for name in ("old", "new") if n % 2 == 0 else ("new", "old"):
                    side = sides[name]
                    assert side.stdin is not None and side.stdout is not None
                    side.stdin.write("pass\n")
                    side.stdin.flush()
                    times[name].append(float(side.stdout.readline()))
            for side in sides.values():
                assert side.stdin is not None
                side.stdin.close()
                side.wait()
            old, new = statistics.median(times["old"]), statistics.median(times["new"])
            print(
                json.dumps(
                    {
                        "bench": "ballot_read_speed_paired",
                        "format": kind.removeprefix("speed_"),
                        "old_ms_per_sheet": round(old, 1),
                        "new_ms_per_sheet": round(new, 1),
                        "old_over_new": round(old / new, 3),
                        "cpu_time": True,
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--side"]:
        _side(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])
