"""Paper-ballot reading figures (issue: reading scanned and photographed sheets):

- ballot_read_scans / ballot_read_photos: sheets from tests/paper/corpus.py (our
  forms, filled in with ticks, crosses, filled boxes, faint pencil and scribbled-out
  boxes, stray marks, then distorted like a scanner or a phone), read from their file
  bytes (PNG or JPEG) to a verdict on one core. Figures:
    silent_errors: boxes read wrong on a sheet that was accepted. Target 0.
    review_rate_reader: sheets the reader sent to a person although their known answer
      did not call for one (no scribbled-out box), for an unclear mark or an unreadable
      page; rule breaks the voter made (overvote, blank...) are not the reader's doing
      and are left out. Targets: under 2 % for scans, under 10 % for photos.
    review_rate_ordinary: the same for ordinary sheets only (every box empty or a clear
      pen tick, cross or fill). A faint pencil line goes to a person by rule (an eraser
      leaves the same), so a sheet with one is reviewed by design. Targets: at most 2 %
      for scans, 6 % for photos.
    review_rate_all: every sheet not accepted, whatever the reason (for context).
- ballot_read_speed_200dpi: 200 dpi PNG and JPEG scans, QR to verdict, decoding included,
  one core. Targets (issue 13): 40 sheets/s for grayscale PNG, 80 for JPEG. Each line
  splits the time into the file's hash, decoding and the reader, and for a PNG gives
  zlib's inflate alone, the floor under any PNG decoder.
- ballot_read_speed_200dpi_colour_png: the same for colour PNG scans with each channel's
  own sensor noise (bench._colour_scan_png), the hardest of the three to decode.
- camera_frames_per_s (1280x720): a session at the support point's camera (each sheet
  slid in, held still, slid out, the empty table between) through the camera path's
  gate (support_point.camera_input: thumbnail, frame difference, and the reader on each
  still scene), one core, frames already in memory. gate_ms_per_frame is the thumbnail
  and difference alone, what every frame costs. Sheets laid flat (scanner distortions):
  a phone-photographed A4 page does not read at 720p (its QR modules are ~1.3 px).
- camera_sheets_1080p: the same session at 1920x1080 with photographed sheets; figures
  for the whole stream, and sheets_per_s for reading a sheet once it is still (the
  sharpest frame, the reader, the hash, the sheet store with its preview).

- ballot_read_hostile: damaged and unusual sheets from tests/paper/hostile.py (stains,
  coffee rings, specks, erasures, smudges, a phone's shadow, a lamp's gradient, folds,
  staple and punch holes, highlighter, pencil, red/blue/black ink, photocopies, a crumpled
  page, a corner mark cut off the picture), one line per kind and a total ("kind": "all").
  Made and read in a process pool. Figures: silent_errors (boxes outside their acceptable
  verdicts on an accepted sheet; target 0), silent_false_marks (of those, empty boxes read
  marked), errors_caught_by_review (such boxes on sheets not accepted), review_rate (sheets
  not accepted: the voter's marks on these sheets break no rule, so every one is the
  reader's doing), rejected, rejected_readable (rejected although the QR code and every box
  were in the picture). SPILNO_BENCH_HOSTILE sheets per kind (default 24, ~2 minutes on
  2 cores); alone: `python -m bench ballots hostile`.

The US Voluntary Voting System Guidelines (VVSG 2.0) allow at most one error in 500 000
ballot positions; `vvsg` states how far the positions read here can show that: with zero
errors in N positions, the 95 % upper bound on the error rate is 3/N (the "rule of three"),
so N must reach 1 500 000 before the bound is under 1 in 500 000.

The corpus is generated first (in a process pool, ~0.2 s a sheet), then read and timed.
SPILNO_BENCH_SCANS / SPILNO_BENCH_PHOTOS change the corpus size (default 300 and 200, to stay
under 3 minutes on 2 cores; 400 scans measured the same figures); SPILNO_BENCH_CAMERA_SHEETS
the camera sessions' (default 20 sheets each).
"""

from __future__ import annotations

import functools
import os
import random
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

SCANS = int(os.environ.get("SPILNO_BENCH_SCANS", "300"))  # 400 took 117 s to generate on 2 cores
PHOTOS = int(os.environ.get("SPILNO_BENCH_PHOTOS", "200"))
SPEED_SHEETS = 60
CAMERA_SHEETS = int(os.environ.get("SPILNO_BENCH_CAMERA_SHEETS", "20"))
HOSTILE_SHEETS = int(os.environ.get("SPILNO_BENCH_HOSTILE", "24"))  # per kind: 360 sheets, ~2 minutes
BY_NAME_ONLY: set[str] = set()
VVSG_POSITIONS_PER_ERROR = 500_000


def _kinds():
    from tests.paper.corpus import MarkKind

    # as corpus.make_corpus: mostly empty boxes, ticks and crosses, some filled, faint, cancelled
    return [MarkKind.NONE] * 13 + [MarkKind.TICK] * 3 + [MarkKind.CROSS] * 2 + [
        MarkKind.FILLED, MarkKind.FAINT, MarkKind.CANCELLED]  # fmt: skip


def _make_batch(args: tuple[str, int, int, tuple[int, ...] | None]) -> list[tuple[bytes, object]]:
    """Sheets `seed`... of one kind, as file bytes with their known answers. Eight serials
    are reused so that each printed page is rendered once per worker, not per sheet."""
    from tests.paper.corpus import (
        Distortion,
        MarkKind,
        encode,
        make_sheet,
        random_distortion,
        sample_cycle,
    )

    kind, count, seed, dpis = args
    rng = random.Random(seed)
    cycle = sample_cycle()
    kinds = _kinds()
    sheets = []
    for number in range(count):
        blank = rng.random() < 0.1
        marks = {p["id"]: (MarkKind.NONE if blank else rng.choice(kinds)) for p in cycle["projects"]}
        dpi = rng.choice(dpis or ((150, 200, 300) if kind == "scan" else (150, 200)))
        distortion = random_distortion(rng, "photo" if kind == "photo" else "scan")
        if kind == "speed_png":
            distortion = Distortion(**{**distortion.__dict__, "jpeg_quality": None})
        elif kind == "speed_jpeg" and distortion.jpeg_quality is None:
            distortion = Distortion(**{**distortion.__dict__, "jpeg_quality": 85})
        image, answer = make_sheet(
            cycle, marks, distortion, dpi, rng.randrange(2**31),
            serial=f"S0001-{number % 8 + 1:06d}", stray_marks=rng.choice((0, 0, 1, 2, 3)),
        )  # fmt: skip
        data = encode(image, answer)
        if kind == "speed_png":  # as a scanner in grayscale mode writes it: 1 byte a pixel
            from paper import image_codec

            data = image_codec.encode_png(image_codec.decode_image(data))
        elif kind == "speed_colour_png":
            data = _colour_scan_png(image, rng.randrange(2**32))
        sheets.append((data, answer))
    return sheets


def _colour_scan_png(bgr, seed: int) -> bytes:
    """The sheet as a scanner in colour mode writes it: each colour channel with its own
    sensor noise (σ 2 grey levels, on top of the corpus's noise, which is the same in all
    three), saved by libpng's defaults (zlib level 6, a filter chosen per row: Paeth and
    Average rows too, the slow ones to undo). That makes ~6.7 MB at 200 dpi, as big as the
    corpus's own colour PNG and slower to decode: an identical-channel picture would
    compress to half that, an easier input than a real scan."""
    import io

    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(seed).normal(0.0, 2.0, bgr.shape).round()
    rgb = np.clip(bgr[..., ::-1] + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(out, "PNG")
    return out.getvalue()


def _corpus(kind: str, count: int, seed: int, dpis: tuple[int, ...] | None = None) -> list:
    workers = max(1, min(4, os.cpu_count() or 1))
    chunk = max(1, -(-count // (workers * 2)))
    jobs = [(kind, min(chunk, count - start), seed * 1000 + start, dpis) for start in range(0, count, chunk)]
    with ProcessPoolExecutor(workers) as pool:
        return [sheet for batch in pool.map(_make_batch, jobs) for sheet in batch]


def _reader():
    from paper.reader import SheetReader
    from paper.sheet_plan import build_layout
    from tests.paper.corpus import TEST_FORM_KEY, packaged, sample_cycle

    return SheetReader([build_layout(packaged(sample_cycle()))], TEST_FORM_KEY)


def _read_all(sheets: list) -> tuple[list, float]:
    from paper.inputs import pages_from_bytes

    reader = _reader()
    readings = []
    started = time.perf_counter()
    for n, (data, _answer) in enumerate(sheets):
        for page in pages_from_bytes(f"sheet-{n}", data):
            readings.append(reader.read(page))
    return readings, time.perf_counter() - started


def _vvsg(positions: int, errors: int) -> dict:
    bound = 3 / positions if positions and not errors else None
    return {
        "guideline": "VVSG 2.0: at most 1 error in 500 000 ballot positions",
        "positions_read": positions,
        "errors_seen": errors,
        "upper_bound_95": f"1 in {round(1 / bound):,}" if bound else None,
        "positions_needed_to_show_it": 3 * VVSG_POSITIONS_PER_ERROR,
        "shown": bool(bound and bound <= 1 / VVSG_POSITIONS_PER_ERROR),
    }


def bench_accuracy(kind: str, count: int, seed: int, target_review: float) -> Iterator[dict]:
    made = time.perf_counter()
    sheets = _corpus(kind, count, seed)
    generated = time.perf_counter() - made
    readings, seconds = _read_all(sheets)
    positions = silent = wrong_boxes = reader_reviews = clean = not_accepted = rejected = 0
    ordinary = ordinary_reviews = 0
    for reading, (_data, answer) in zip(readings, sheets, strict=True):
        verdicts = {box.project_id: box.verdict for box in reading.boxes}
        positions += len(answer.boxes)
        wrong = [p for p, v in verdicts.items() if v not in answer.boxes[p].acceptable]
        wrong_boxes += len(wrong)
        if reading.outcome == "accepted":
            silent += len(wrong)
        not_accepted += reading.outcome != "accepted"
        rejected += reading.outcome == "rejected"
        unsure = reading.outcome == "rejected" or "marginal" in verdicts.values()
        if not answer.needs_review:
            clean += 1
            reader_reviews += unsure
        # Ordinary: every box empty or a clear pen mark (tick, cross, fill). A faint pencil
        # line goes to a person by rule (an eraser leaves the same), so it is not the
        # reader's doubt; the review-rate targets are for ordinary sheets.
        if all(a.kind in ("none", "tick", "cross", "filled") for a in answer.boxes.values()):
            ordinary += 1
            ordinary_reviews += unsure
    yield {
        "bench": f"ballot_read_{kind}s",
        "sheets": len(readings),
        "positions_read": positions,
        "silent_errors": silent,
        "boxes_not_as_known_but_sent_to_review": wrong_boxes - silent,
        "rejected": rejected,
        "review_rate_ordinary": round(ordinary_reviews / ordinary, 4) if ordinary else None,
        "ordinary_sheets": ordinary,
        "review_rate_reader": round(reader_reviews / clean, 4) if clean else None,
        "sheets_without_a_cancelled_box": clean,
        "review_rate_all": round(not_accepted / len(readings), 4),
        "sheets_per_s": round(len(readings) / seconds, 1),
        "target_silent_errors": 0,
        "target_review_rate": target_review,
        "corpus_seconds": round(generated, 1),
        "vvsg": _vvsg(positions, silent),
    }


@functools.cache
def _hostile_reader():
    from paper.reader import SheetReader
    from paper.sheet_plan import build_layout
    from tests.paper.corpus import TEST_FORM_KEY, packaged
    from tests.paper.hostile import hostile_cycle

    return SheetReader([build_layout(packaged(hostile_cycle()))], TEST_FORM_KEY)


def _read_hostile_batch(args: tuple[str, int, int]) -> list[tuple[object, str, dict[int, str]]]:
    """Hostile sheets `first`... of one kind, made and read in a worker (the figures count
    errors, not time): (known answer, outcome, verdict per project id) per sheet. The
    dpi follows the seed, so each worker renders a printed page once per dpi."""
    from paper.inputs import pages_from_bytes
    from tests.paper.corpus import encode
    from tests.paper.hostile import CAPTURES, make_hostile

    kind, count, first = args
    captures = CAPTURES.get(kind, ("scan", "photo"))
    read = []
    for seed in range(first, first + count):
        capture = captures[seed % len(captures)]
        dpis = (150, 200, 300) if capture == "scan" else (150, 200)
        image, answer = make_hostile(kind, seed, dpis[seed // 8 % len(dpis)], capture)
        for page in pages_from_bytes(f"{kind}-{seed}", encode(image, answer)):
            reading = _hostile_reader().read(page)
            read.append((answer, reading.outcome, {box.project_id: box.verdict for box in reading.boxes}))
    return read


def _hostile_figure(kind: str, scores: list) -> dict:
    sheets = len(scores)
    return {
        "bench": "ballot_read_hostile",
        "kind": kind,
        "sheets": sheets,
        "positions": sum(s.positions for s in scores),
        "silent_errors": sum(s.silent_errors for s in scores),
        "silent_false_marks": sum(s.silent_false_marks for s in scores),
        "errors_caught_by_review": sum(s.caught_by_review for s in scores),
        "review_rate": round(sum(not s.accepted for s in scores) / sheets, 4) if sheets else None,
        "rejected": sum(s.rejected for s in scores),
        "rejected_readable": sum(s.rejected_readable for s in scores),
        "target_silent_errors": 0,
    }


def bench_hostile() -> Iterator[dict]:
    from tests.paper.hostile import HOSTILE_KINDS, score_sheet

    started = time.perf_counter()
    chunk = 10
    jobs = [(kind, min(chunk, HOSTILE_SHEETS - start), start)
            for kind in HOSTILE_KINDS for start in range(0, HOSTILE_SHEETS, chunk)]  # fmt: skip
    with ProcessPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        batches = list(pool.map(_read_hostile_batch, jobs))
    scores: dict[str, list] = {kind: [] for kind in HOSTILE_KINDS}
    for (kind, _count, _first), batch in zip(jobs, batches, strict=True):
        scores[kind] += [score_sheet(answer, outcome, verdicts) for answer, outcome, verdicts in batch]
    for kind in HOSTILE_KINDS:
        yield _hostile_figure(kind, scores[kind])
    total = _hostile_figure("all", [s for kind in HOSTILE_KINDS for s in scores[kind]])
    yield {**total, "seconds": round(time.perf_counter() - started, 1)}


def long_run_sheets(first: int, count: int, only: int | None = None) -> Iterator[tuple]:
    """Sheets `first`... of the long run's batch starting at `first`, made exactly as the
    run makes them: (number, capture, dpi, file bytes, answer). `only`: just that sheet
    (the ones before it are skipped without being drawn), to look at one again."""
    from tests.paper.corpus import encode, make_sheet, random_distortion
    from tests.paper.hostile import hostile_cycle

    rng = random.Random(f"long:{first}")
    cycle = hostile_cycle()
    kinds = _kinds()
    for number in range(first, first + count):
        capture = "photo" if number % 3 == 0 else "scan"
        marks = {p["id"]: rng.choice(kinds) for p in cycle["projects"]}
        dpi = rng.choice((150, 200, 300) if capture == "scan" else (150, 200))
        distortion, seed = random_distortion(rng, capture), rng.randrange(2**31)
        strays = rng.choice((0, 0, 1, 2))
        if only is not None and number != only:
            continue
        image, answer = make_sheet(
            cycle, marks, distortion, dpi, seed, serial=f"S0001-{number % 8 + 1:06d}", stray_marks=strays
        )
        yield number, capture, dpi, encode(image, answer), answer


def _read_long_batch(args: tuple[int, int]) -> tuple[list[int], list[dict]]:
    """Sheets `first`... of the long run, made and read in a worker: ([sheets, positions,
    silent errors, errors caught by review, ordinary sheets sent to review, ordinary
    sheets], one line per silent error, so that it can be made again). Eighteen boxes a
    page, ordinary marks (pen ticks, crosses, fills, and a share of faint pencil and
    cancelled boxes), scans and photos mixed."""
    from paper.inputs import pages_from_bytes

    first, count = args
    sheets = positions = silent = caught = ordinary_reviews = ordinary = 0
    found: list[dict] = []
    for number, capture, dpi, data, answer in long_run_sheets(first, count):
        for page in pages_from_bytes(f"long-{number}", data):
            reading = _hostile_reader().read(page)
            verdicts = {box.project_id: box.verdict for box in reading.boxes}
            sheets += 1
            positions += len(answer.boxes)
            wrong = sum(v not in answer.boxes[p].acceptable for p, v in verdicts.items())
            if reading.outcome == "accepted":
                silent += wrong
                found += [
                    {"sheet": number, "batch": first, "box": box.project_id,
                     "read": box.verdict, "drawn": answer.boxes[box.project_id].kind,
                     "score": round(box.score, 4),
                     "capture": capture, "dpi": dpi}
                    for box in reading.boxes
                    if box.verdict not in answer.boxes[box.project_id].acceptable
                ]  # fmt: skip
            else:
                caught += wrong
            unsure = reading.outcome == "rejected" or "marginal" in verdicts.values()
            if all(a.kind in ("none", "tick", "cross", "filled") for a in answer.boxes.values()):
                ordinary += 1
                ordinary_reviews += unsure
    return [sheets, positions, silent, caught, ordinary_reviews, ordinary], found


def bench_long() -> Iterator[dict]:
    """The long accuracy run: SPILNO_BENCH_LONG positions (default 18 000; the issue's
    figure is 300 000, which takes ~40 minutes on 2 cores: run it by name with the
    variable set)."""
    wanted = int(os.environ.get("SPILNO_BENCH_LONG", "18000"))
    sheets_wanted = -(-wanted // 18)
    chunk = 25
    jobs = [(start, min(chunk, sheets_wanted - start)) for start in range(0, sheets_wanted, chunk)]
    started = time.perf_counter()
    totals = [0] * 6
    found: list[dict] = []
    with ProcessPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        for result, errors in pool.map(_read_long_batch, jobs):
            totals = [a + b for a, b in zip(totals, result, strict=True)]
            found += errors
    sheets, positions, silent, caught, ordinary_reviews, ordinary = totals
    yield {
        "bench": "ballot_read_long_run",
        "sheets": sheets,
        "positions_read": positions,
        "silent_errors": silent,
        "errors_caught_by_review": caught,
        "review_rate_ordinary": round(ordinary_reviews / ordinary, 4) if ordinary else None,
        "ordinary_sheets": ordinary,
        "seconds": round(time.perf_counter() - started, 1),
        "target_silent_errors": 0,
        "vvsg": _vvsg(positions, silent),
        "silent_error_boxes": found,
    }


def bench_speed() -> Iterator[dict]:
    formats = {  # issue 13: 40 grey PNG and 80 JPEG sheets a second on one core
        "speed_png": ("ballot_read_speed_200dpi", "grayscale png", 40),
        "speed_jpeg": ("ballot_read_speed_200dpi", "jpeg (colour)", 80),
        "speed_colour_png": ("ballot_read_speed_200dpi_colour_png", "colour png", 15),
    }
    for kind, (name, label, target) in formats.items():
        sheets = _corpus(kind, SPEED_SHEETS, 5, (200,))
        readings, seconds = _read_all(sheets)
        figure = {
            "bench": name,
            "format": label,
            "sheets": len(readings),
            "sheets_per_s": round(len(readings) / seconds, 1),
            "ms_per_sheet": round(seconds / len(readings) * 1000, 1),
            "cores": 1,
            "target_sheets_per_s": target,
            "mean_file_mb": round(sum(len(data) for data, _ in sheets) / len(sheets) / 1e6, 2),
        }
        figure.update(_speed_parts(sheets))
        yield figure


def _speed_parts(sheets: list) -> dict:
    """Where a sheet's time goes, per sheet, each step timed alone: the file's SHA-256
    (the sheet store's key), decoding to grey, the reader (QR code to verdicts, and the
    zoomed crops of a page in review); for a PNG, inflating the file's zlib stream
    alone, in one call, no filters undone, no colour turned to grey: with the standard
    library's zlib (what libpng's inflate costs) and with ISA-L (what the decoder now
    uses, paper/png_inflate.py)."""
    import hashlib
    import struct
    import zlib

    from isal import isal_zlib

    from paper import image_codec

    reader = _reader()
    sha = decode = read = inflate = isal = 0.0
    for data, _answer in sheets:
        started = time.perf_counter()
        hashlib.sha256(data).hexdigest()
        sha += time.perf_counter() - started
        started = time.perf_counter()
        gray = image_codec.decode_image(data)
        decode += time.perf_counter() - started
        started = time.perf_counter()
        reader.read_gray(gray)
        read += time.perf_counter() - started
        if not data.startswith(b"\x89PNG"):
            continue
        stream, at = [], 8
        while at < len(data):
            (length,) = struct.unpack(">I", data[at : at + 4])
            if data[at + 4 : at + 8] == b"IDAT":
                stream.append(data[at + 8 : at + 8 + length])
            at += 12 + length
        joined = b"".join(stream)
        started = time.perf_counter()
        zlib.decompress(joined)
        inflate += time.perf_counter() - started
        started = time.perf_counter()
        isal_zlib.decompress(joined)
        isal += time.perf_counter() - started
    per_sheet = 1000 / len(sheets)
    parts = {
        "ms_sha256": round(sha * per_sheet, 1),
        "ms_decode": round(decode * per_sheet, 1),
        "ms_reader": round(read * per_sheet, 1),
    }
    if inflate:
        parts["ms_zlib_inflate_alone"] = round(inflate * per_sheet, 1)
        parts["ms_isal_inflate_alone"] = round(isal * per_sheet, 1)
    return parts


def _camera_session(kind: str, size: tuple[int, int]) -> Iterator[tuple[object, object]]:
    """(frame, the known answer of the sheet shown) of a session at the camera, made
    lazily: 32 frames (~1 s at 30 frames/s) per sheet: slid in, held still, slid out, the
    empty table."""
    import cv2

    from hardware.sheet_camera import Frame
    from tests.support_point import camera_frames as cam

    rng = random.Random(11)
    kinds = _kinds()
    cycle_projects = [101, 102, 103, 104, 105, 106]
    number = 0
    for n in range(CAMERA_SHEETS):
        marks = {p: rng.choice(kinds) for p in cycle_projects}
        marks[105 + n % 2] = rng.choice(kinds[13:18])  # a mark in the category that needs one
        page, answer = cam.sheet(marks, f"S0001-{n + 1:06d}", seed=100 + n, kind=kind)
        for picture in cam.presentation(page, start=n * 40):
            number += 1
            if size != (cam.WIDTH, cam.HEIGHT):
                picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
            yield Frame(number, (number - 1) / 30, picture), answer


def bench_camera() -> Iterator[dict]:
    import tempfile
    from pathlib import Path

    from paper.sheet_store import SheetStore
    from support_point.camera_input import CameraSheetInput, frame_difference, keep_camera_sheet, thumbnail
    from tests.paper.corpus import packaged, sample_cycle

    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(affinity)})  # one core, as the reading figures
    try:
        for label, kind, size in (("720p", "scan", (1280, 720)), ("1080p", "photo", (1920, 1080))):
            sheets = CameraSheetInput(_reader(), "bench camera")
            feed_s = gate_s = read_s = 0.0
            found, right, silent, previous = [], 0, 0, None
            cycles = {31: packaged(sample_cycle())}
            with tempfile.TemporaryDirectory(prefix="spilno-bench-") as folder:
                store = SheetStore(Path(folder) / "sheets.db")
                for frame, answer in _camera_session(kind, size):
                    started = time.perf_counter()
                    small = thumbnail(frame.gray)
                    frame_difference(previous, small)
                    previous = small
                    gate_s += time.perf_counter() - started
                    started = time.perf_counter()
                    sheet = sheets.feed(frame)
                    took = time.perf_counter() - started
                    feed_s += took
                    if sheet is None:
                        continue
                    # A sheet's read: the feed() call that returned it (the sharpest still
                    # frame, the reader, the hash) and keeping it (the store, its preview).
                    started = time.perf_counter()
                    keep_camera_sheet(store, sheet, cycles=cycles, serial_prefix="S0001", now_ms=1)
                    read_s += took + time.perf_counter() - started
                    found.append(sheet)
                    verdicts = {box.project_id: box.verdict for box in sheet.reading.boxes}
                    right += sheet.reading.serial == answer.serial and answer.accepts(verdicts)
                    if sheet.reading.outcome == "accepted":
                        silent += sum(v not in answer.boxes[p].acceptable for p, v in verdicts.items())
                store.close()
            frames = sheets.frames_seen
            figure = {
                "bench": "camera_frames_per_s" if label == "720p" else "camera_sheets_1080p",
                "frame_size": f"{size[0]}x{size[1]}",
                "sheet_kind": "laid flat (scan distortions)" if kind == "scan" else "photographed",
                "frames": frames,
                "frames_per_s": round(frames / feed_s, 1),
                "gate_ms_per_frame": round(gate_s / frames * 1000, 2),
                "reader_calls": sheets.reads,
                "sheets_shown": CAMERA_SHEETS,
                "sheets_read": len(found),
                "sheets_read_as_known": right,
                "silent_errors": silent,
                "cores": 1,
            }
            if found:
                figure["sheets_per_s"] = round(len(found) / read_s, 1)
                figure["ms_per_sheet"] = round(read_s / len(found) * 1000, 1)
            yield figure
    finally:
        os.sched_setaffinity(0, affinity)


def run(wanted: str = "") -> Iterator[dict]:
    parts = {
        "scans": lambda: bench_accuracy("scan", SCANS, 1, 0.02),
        "photos": lambda: bench_accuracy("photo", PHOTOS, 2, 0.10),
        "speed": bench_speed,
        "camera": bench_camera,
        "hostile": bench_hostile,
        "long": bench_long,
    }
    for name, part in parts.items():
        if (not wanted and name not in BY_NAME_ONLY) or (wanted and wanted in name):
            yield from part()
