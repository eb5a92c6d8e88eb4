"""Scan files read page by page: a folder stands for its files, each page gives one reading.

`read_files` gives the readings alone (the reader's command without a store, the
tests); `read_with_previews` gives each with its page's downscaled JPEG, what the sheet
store keeps for the review page.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from paper.inputs import Limits, read_pages
from paper.reader import SheetReader
from paper.reading import SheetReading

__all__ = ["PREVIEW_HEIGHT_PX", "listed_files", "preview_jpeg", "read_files", "read_with_previews"]

PREVIEW_HEIGHT_PX = 1000


def listed_files(paths: Iterable[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    """The files `paths` stand for, in reading order: a folder stands for the files in it
    (sorted, not recursive); anything else is itself (the reader says what is wrong)."""
    files: list[str | os.PathLike[str]] = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(entry.path for entry in os.scandir(path) if entry.is_file())
        else:
            files.append(path)
    return files


def read_files(
    paths: Iterable[str | os.PathLike[str]],
    reader: SheetReader,
    limits: Limits = Limits(),
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[SheetReading]:
    """Every page of every file, in order; a folder stands for the files in it (sorted,
    not recursive). Each page gives exactly one reading, whatever is wrong with it.
    `on_progress(files_read, files)` is told after each file, the folders listed first."""
    if on_progress is not None:
        files = listed_files(paths)
        on_progress(0, len(files))
        for done, path in enumerate(files, 1):
            yield from read_files([path], reader, limits)
            on_progress(done, len(files))
        return
    for path in paths:
        if os.path.isdir(path):
            inside = sorted(entry.path for entry in os.scandir(path) if entry.is_file())
            yield from read_files(inside, reader, limits)
            continue
        for page in read_pages(path, limits):
            yield reader.read(page)


def preview_jpeg(gray: np.ndarray) -> bytes | None:
    """The page, ~PREVIEW_HEIGHT_PX tall, as a JPEG: enough to see the whole sheet on the
    review page at a tenth of the scan's bytes."""
    from PIL import Image

    if gray.ndim != 2 or gray.size == 0:
        return None
    image = Image.fromarray(np.ascontiguousarray(gray, dtype=np.uint8), mode="L")
    if image.height > PREVIEW_HEIGHT_PX:
        width = max(1, round(image.width * PREVIEW_HEIGHT_PX / image.height))
        # reducing_gap: halve the page first, then resize (15 ms -> 10 ms a sheet, the
        # same picture within a grey level on average)
        image = image.resize((width, PREVIEW_HEIGHT_PX), Image.Resampling.BILINEAR, reducing_gap=1.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    return out.getvalue()


def read_with_previews(
    paths: Iterable[str | os.PathLike[str]],
    reader: SheetReader,
    limits: Limits = Limits(),
    skip_pages: int = 0,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[tuple[SheetReading, bytes | None]]:
    """Like read_files, each reading with its page's preview (None when the page
    could not be decoded): the picture exists only here, while the page is read. The
    first `skip_pages` pages, across the files, are passed over unread (a job resumed
    after a crash has kept them already). `on_progress(files_read, files)` is told
    after each file, the folders listed first."""
    left = [skip_pages]
    if on_progress is None:
        yield from _read_with_previews(paths, reader, limits, left)
        return
    files = listed_files(paths)
    on_progress(0, len(files))
    for done, path in enumerate(files, 1):
        yield from _read_with_previews([path], reader, limits, left)
        on_progress(done, len(files))


def _read_with_previews(
    paths: Iterable[str | os.PathLike[str]], reader: SheetReader, limits: Limits, left: list[int]
) -> Iterator[tuple[SheetReading, bytes | None]]:
    for path in paths:
        if os.path.isdir(path):
            inside = sorted(entry.path for entry in os.scandir(path) if entry.is_file())
            yield from _read_with_previews(inside, reader, limits, left)
            continue
        for page in read_pages(path, limits):
            if left[0] > 0:
                left[0] -= 1
                continue
            reading = reader.read(page)
            preview = preview_jpeg(page.gray) if page.gray is not None else None
            yield reading, preview
