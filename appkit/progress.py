"""A progress bar for long commands, or nothing at all.

On a terminal (stderr is a TTY) a long command shows click's progress bar on stderr:
items done of the total, the rate and the time left. With `--json`, or when stderr is
a file or a pipe (a script, a cron job, a test), not one character of it is written,
so what the command prints is exactly what it printed before there was a bar.

The work itself knows nothing of this module: a core function takes a plain callback,
`on_progress(done, total)` (total None while unknown), and the command passes
`bar.on_progress`, which is None when no bar is shown.

    with progress_bar(FILES, quiet=as_json) as bar:
        result = import_scans(..., on_progress=bar.on_progress)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO, cast

import click

from appkit.texts import N_, both

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

__all__ = ["CARDS", "FILES", "ROWS", "VOTES", "Progress", "progress_bar", "stderr_is_terminal"]

# What the bar counts: the Ukrainian text, shown «Ukrainian / English» like every
# message of the command line (the English in appkit/translations/en/).
FILES = N_("Файли")
CARDS = N_("Картки")
ROWS = N_("Рядки")
VOTES = N_("Голоси")

OnProgress = Callable[[int, "int | None"], None]


def stderr_is_terminal() -> bool:
    """Whether a person is watching stderr (the one place that decides it)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _Terminal:
    """stderr as the bar sees it: a terminal, since stderr_is_terminal() said so (click
    asks the stream itself, and a test forces the answer in one place only). It keeps
    the bar's last line, to draw it again after text printed above it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text.startswith("\r"):
            self.last = text
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


class Progress:
    """The bar of one command; every method does nothing when no bar is shown."""

    def __init__(self, label: str, shown: bool) -> None:
        self.shown = shown
        self._started = time.monotonic()
        self._terminal: _Terminal | None = None
        self._bar: ProgressBar[int] | None = None
        if shown:
            self._terminal = _Terminal(sys.stderr)
            self._bar = click.progressbar(
                length=0,
                label=both(label),
                show_pos=True,
                show_eta=True,
                item_show_func=self._rate,
                file=cast(TextIO, self._terminal),  # has what click uses of a stream
            )
            self._bar.length = None  # until the work tells its total

    @property
    def on_progress(self) -> OnProgress | None:
        """The callback to hand to the work; None when there is no bar, so the work
        does nothing extra (a count up front, a folder listed early) for nobody."""
        return self.update if self.shown else None

    def update(self, done: int, total: int | None) -> None:
        """`done` items of `total` (None: not known yet) are finished."""
        if self._bar is None:
            return
        if total is not None:
            total = max(total, done)
        if total != self._bar.length:
            self._bar.length = total
            self._bar.finished = total is not None and done >= total
        self._bar.update(max(done - self._bar.pos, 0))

    @contextmanager
    def above(self) -> Iterator[None]:
        """Print lines above the bar: its line is cleared, then drawn again below them
        (stdout and stderr are often the same terminal)."""
        if self._terminal is None:
            yield
            return
        self._terminal.stream.write("\r\033[K")
        self._terminal.stream.flush()
        try:
            yield
        finally:
            sys.stdout.flush()
            self._terminal.stream.write(self._terminal.last)
            self._terminal.stream.flush()

    def _rate(self, _item: object) -> str | None:
        if self._bar is None or not self._bar.pos:
            return None
        rate = self._bar.pos / max(time.monotonic() - self._started, 1e-6)
        shown = f"{rate:.1f}" if rate < 100 else f"{rate:.0f}"
        return both("{rate} за с", rate=shown)


@contextmanager
def progress_bar(label: str, *, quiet: bool = False) -> Iterator[Progress]:
    """A bar on stderr while the block runs, when stderr is a terminal and not `quiet`
    (`--json`); otherwise a Progress that prints nothing. `label`: what it counts, in
    Ukrainian (FILES, CARDS, ROWS, VOTES), shown with its English."""
    progress = Progress(label, shown=not quiet and stderr_is_terminal())
    if progress._bar is None:
        yield progress
        return
    with progress._bar:
        yield progress
