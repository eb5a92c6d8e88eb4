"""The scanner's folder: a file is taken once, and only when it has stopped growing."""

from __future__ import annotations

from support_point.watch import settled_files


def test_a_file_still_being_written_waits_until_it_stops_growing(tmp_path):
    folder = tmp_path / "scanner"
    folder.mkdir()
    growing = folder / "batch.pdf"
    polls: list[int] = []
    writes = iter([b"%PDF-part-1", b"part-2", b"part-3"])

    def sleep(_seconds: float) -> None:
        polls.append(len(polls))
        chunk = next(writes, None)
        if chunk is not None:  # the scanner is still writing between our looks
            with open(growing, "ab") as f:
                f.write(chunk)
        if len(polls) == 2:
            (folder / ".hidden").write_bytes(b"x")
            (folder / "copy.tmp").write_bytes(b"x")
            (folder / "empty.png").write_bytes(b"")

    taken = list(settled_files([folder, tmp_path / "unplugged-share"], interval_s=0, sleep=sleep,
                               stop=lambda: len(polls) >= 8))  # fmt: skip
    assert taken == [growing]
    # Taken on the first look after the last write, with all of it there.
    assert growing.read_bytes() == b"%PDF-part-1part-2part-3"
