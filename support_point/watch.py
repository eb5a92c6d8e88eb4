"""A scanner's output folder, watched: each new file is read once it is complete.

A network scanner writes a multi-page file over several seconds, so a file is taken
only when its size and modification time stayed the same over one whole interval.
Hidden and temporary names (".x", "*.tmp", "*.part") are what scanners and copy tools
write before renaming, and are left alone. Files already there when watching starts are
read too: the sheet store keeps each image once, so a file read before changes nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

DEFAULT_INTERVAL_S = 2.0  # a sheet a second from a feeder; a file settles within two polls
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".crdownload")


def _candidate(entry: os.DirEntry[str]) -> bool:
    name = entry.name.lower()
    return not name.startswith(".") and not name.endswith(_TEMPORARY_SUFFIXES) and entry.is_file()


def settled_files(
    folders: Iterable[str | os.PathLike[str]],
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Path]:
    """Each file that appears in `folders` (not recursive), once, when it has settled;
    until `stop()` says so. A folder that disappears is looked for again next poll."""
    folders = [Path(f) for f in folders]
    last_seen: dict[Path, tuple[int, int]] = {}
    done: set[Path] = set()
    while not stop():
        for folder in folders:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue  # an unmounted share comes back; the operator sees no new pages
            for entry in entries:
                path = Path(entry.path)
                if path in done or not _candidate(entry):
                    continue
                try:
                    info = entry.stat()
                except OSError:
                    continue  # renamed or removed between the listing and now
                signature = (info.st_size, info.st_mtime_ns)
                if info.st_size > 0 and last_seen.get(path) == signature:
                    done.add(path)
                    last_seen.pop(path, None)
                    yield path
                else:
                    last_seen[path] = signature
        sleep(interval_s)
