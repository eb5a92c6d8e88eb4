"""School voting-code figures (issue: per-student QR codes):

- qr_matrix_encode: one card URL (54 bytes) to a version-6, level-H QR matrix, over
  10 000 different URLs. Budget: well under 200 µs a code.
- school_cards_10k_pdf: 10 000 cards, layout "10" (1000 A4 sheets), to an in-memory
  PDF, in-process on one core, fonts registered on the way as in a fresh worker. Target:
  under 5 s and under 10 MB.

Needs nothing but the fonts (fonts-dejavu-core); no database.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Iterator

from qr_codes.cards import CodeCard, cards_pdf
from qr_codes.codes import code_url, new_code
from qr_codes.matrix import qr_matrix

CARDS = int(os.environ.get("SPILNO_BENCH_CARDS", "10000"))
TARGET_SECONDS = 5
TARGET_MB = 10
BASE_URL = "https://vote.example.gov.ua"


def _cards(count: int) -> list[CodeCard]:
    cards = []
    for n in range(count):
        code = new_code()
        # classes of 28, as in a real school: the class and number change along the way
        class_name = f"{5 + n // 280 % 7}-{'АБВГДЕЖЗИК'[n // 28 % 10]}"
        cards.append(
            CodeCard(code, code_url(BASE_URL, code), "Ліцей № 157 Київської міської ради", class_name,
                     "Шкільний бюджет 2027", n % 28 + 1)
        )  # fmt: skip
    return cards


def bench_encode(urls: list[str]) -> Iterator[dict]:
    qr_matrix(urls[0])  # the version-6 layout is built once per process: not per code
    rounds = []
    for _ in range(3):
        started = time.perf_counter()
        for url in urls:
            qr_matrix(url)
        rounds.append((time.perf_counter() - started) / len(urls))
    yield {
        "bench": "qr_matrix_encode",
        "codes": len(urls),
        "us_per_code": round(statistics.median(rounds) * 1e6, 1),
        "us_per_code_worst_round": round(max(rounds) * 1e6, 1),
        "version": qr_matrix(urls[0]).shape[0] // 4 - 4,
        "level": "H",
        "target_us_per_code": 200,
    }


def bench_pdf(cards: list[CodeCard]) -> Iterator[dict]:
    out = io.BytesIO()
    started = time.perf_counter()
    pages = cards_pdf(cards, out, layout="10", title="Ліцей № 157")
    elapsed = time.perf_counter() - started
    yield {
        "bench": "school_cards_10k_pdf",
        "cards": len(cards),
        "pages": pages,
        "seconds": round(elapsed, 2),
        "pdf_mb": round(len(out.getvalue()) / 1e6, 2),
        "kb_per_card": round(len(out.getvalue()) / 1e3 / len(cards), 2),
        "cores": 1,
        "target_seconds": TARGET_SECONDS,
        "target_mb": TARGET_MB,
    }


def run(wanted: str = "") -> Iterator[dict]:
    cards = _cards(CARDS)
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(affinity)})  # one core, as the targets say
    try:
        if not wanted or "encode" in wanted or "matrix" in wanted:
            yield from bench_encode([card.url for card in cards])
        if not wanted or "pdf" in wanted or "cards" in wanted:
            yield from bench_pdf(cards)
    finally:
        os.sched_setaffinity(0, affinity)
