"""Voting open or closed on this terminal, as staff set it on the maintenance screen.

Kept in a small file beside the store so a restart (a power cut, a technician
rebooting) does not reopen a terminal that staff closed. Written to a temporary file
and renamed, so a crash mid-write leaves the old setting, never a half-written one.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class VotingSwitch:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._open = self._read()

    def _read(self) -> bool:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return True  # a new terminal votes once it holds a package
        except (OSError, ValueError):
            return False  # unreadable: fail closed, staff can open it again
        return data.get("voting_open") is True

    def is_open(self) -> bool:
        return self._open

    def set_open(self, value: bool) -> None:
        with self._lock:
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps({"voting_open": bool(value)}), encoding="utf-8")
            os.replace(temporary, self.path)
            self._open = bool(value)
