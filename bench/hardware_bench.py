"""Terminal hardware figures (issue: kiosk, part 7):

- qr_decode_720p: QR codes decoded from 1280x720 camera frames, read from a Motion-JPEG
  video through the scanner's own path (read the video, grey, zxing-cpp at full size
  via hardware.qr_reading), on one core. Target: at least 20 frames/s. Read rates
  per condition (small, blurred, tilted cards...) are `python -m bench camera`.
- card_state_ms: a card tap to CardPresent from `state()` through the real PC/SC stack
  (a private pcscd + vsmartcard's vpcd + the tests' emulated card), polling every 10 ms.
  Most of it is pcscd polling a reader without card events every ~400 ms: USB CCID
  readers report cards by interrupt and are faster.
- card_poll_ms: the cost of one `state()` call, the kiosk polling every 300 ms.

Needs pcscd and vsmartcard-vpcd for the card figures (skipped with the reason otherwise).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

FRAMES = int(os.environ.get("SPILNO_BENCH_QR_FRAMES", "240"))
TAPS = int(os.environ.get("SPILNO_BENCH_CARD_TAPS", "15"))
QR_TARGET_FPS = 20


def _video_720p(path: Path, frames: int) -> Path:
    """Four codes in turn, each held for a quarter of the video, over mild sensor noise."""
    from tests.hardware.videos import blank_frame, frame_with, noisy, write_video

    texts = [f"https://spilno.example.ua/s/BENCH-{n:04d}" for n in range(4)]
    positions = [(200, 150), (700, 300), (450, 100), (900, 380)]
    per_code = max(frames // 4, 1)
    stills = [
        noisy(frame_with(t, 1280, 720, at=p), sigma=6, seed=n)
        for n, (t, p) in enumerate(zip(texts, positions, strict=True))
    ]
    sequence = [stills[min(n // per_code, 3)] for n in range(frames)]
    sequence[per_code // 2] = noisy(blank_frame(1280, 720), sigma=6)  # one frame with nothing on it
    return write_video(path, sequence, fps=30)


def bench_qr_decode() -> Iterator[dict]:
    import cv2

    from hardware.camera_scanner import CameraQrScanner

    with tempfile.TemporaryDirectory(prefix="spilno-bench-") as folder:
        video = _video_720p(Path(folder) / "720p.avi", FRAMES)
        affinity = os.sched_getaffinity(0)
        threads = cv2.getNumThreads()
        os.sched_setaffinity(0, {min(affinity)})  # one core, as the target says
        cv2.setNumThreads(1)
        try:
            reported: list[str] = []
            scanner = CameraQrScanner(video, pace=False, on_code=reported.append)
            started = time.perf_counter()
            scanner.start()
            scanner.wait_finished(300)
            elapsed = time.perf_counter() - started
        finally:
            cv2.setNumThreads(threads)
            os.sched_setaffinity(0, affinity)
    yield {
        "bench": "qr_decode_720p",
        "frames": scanner.frames_read,
        "frames_per_second": round(scanner.frames_read / elapsed, 1),
        "codes_reported": len(reported),
        "decoder": scanner.decoder_name,
        "cores": 1,
        "target_frames_per_second": QR_TARGET_FPS,
    }


def bench_card() -> Iterator[dict]:
    from tests.hardware.pcscd_daemon import PrivatePcscd, missing_parts

    problem = missing_parts()
    if problem:
        yield {"bench": "card_state_ms", "skipped": problem}
        return
    folder = Path(tempfile.mkdtemp(prefix="spilno-bench-pcscd-"))
    daemon = PrivatePcscd(folder)
    daemon.use_in_this_process()  # before the first PC/SC call of this process
    try:
        daemon.start()
    except RuntimeError as exc:
        yield {"bench": "card_state_ms", "skipped": f"cannot start a private pcscd: {exc}"}
        return
    try:
        yield from _measure_taps(daemon)
    finally:
        daemon.stop()


def _measure_taps(daemon) -> Iterator[dict]:
    from hardware import CardPresent, NoCard
    from hardware.pcsc_reader import PcscCardReader
    from tests.hardware.vpcd_card import VirtualCard

    reader = PcscCardReader()
    # A voter's tap falls anywhere in pcscd's ~400 ms polling cycle; a seeded random
    # pause keeps the taps from lining up with it (back-to-back taps would all land
    # just after a poll, the worst case).
    pauses = random.Random(7)
    tap_ms: list[float] = []
    poll_present_ms: list[float] = []
    poll_empty_ms: list[float] = []
    for n in range(TAPS):
        card = VirtualCard(uid=f"04{n:012X}", port=daemon.port)
        time.sleep(pauses.uniform(0, 0.4))
        card.insert()
        tapped = time.perf_counter()
        while not isinstance(reader.state(), CardPresent):
            if time.perf_counter() - tapped > 5:
                yield {"bench": "card_state_ms", "skipped": f"tap {n} not seen in 5 s"}
                return
            time.sleep(0.01)
        tap_ms.append((time.perf_counter() - tapped) * 1000)
        poll_present_ms += _time_polls(reader, 20)
        card.remove()
        while not isinstance(reader.state(), NoCard):
            time.sleep(0.01)
        poll_empty_ms += _time_polls(reader, 20)
    reader.close()
    yield {
        "bench": "card_state_ms",
        "taps": len(tap_ms),
        "p95_ms": round(_p95(tap_ms), 1),
        "median_ms": round(statistics.median(tap_ms), 1),
        "note": "tap to CardPresent; pcscd polls vpcd every ~400 ms",
    }
    yield {
        "bench": "card_poll_ms",
        "card_present_p95_ms": round(_p95(poll_present_ms), 3),
        "no_card_p95_ms": round(_p95(poll_empty_ms), 3),
        "poll_interval_ms": 300,
    }


def _time_polls(reader, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        reader.state()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def run(wanted: str = "") -> Iterator[dict]:
    if not wanted or "qr" in wanted:
        yield from bench_qr_decode()
    if not wanted or "card" in wanted:
        yield from bench_card()
