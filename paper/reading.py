"""What the reader says about one page of a ballot sheet (the paper-ballot contract).

`SheetReading.outcome` is one of:
- accepted: every box read with confidence and the marks keep the rules;
- needs_review: a person must look (an unclear mark, an overvote, a blank sheet...);
- rejected: the page cannot be counted as it is (no QR code, a forged or foreign
  sheet, an unreadable scan, a file that is not an image): rescan or set aside.

`reasons` are message codes (paper.messages), never free text, so the JSON
output, the tests and the later review page agree on them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACCEPTED", "NEEDS_REVIEW", "OUTCOMES", "REJECTED", "VERDICTS", "BoxReading", "SheetReading"]

ACCEPTED, NEEDS_REVIEW, REJECTED = "accepted", "needs_review", "rejected"
OUTCOMES = (ACCEPTED, NEEDS_REVIEW, REJECTED)
MARKED, UNMARKED, MARGINAL = "marked", "unmarked", "marginal"
VERDICTS = (MARKED, UNMARKED, MARGINAL)


@dataclass(frozen=True, slots=True)
class BoxReading:
    project_id: int
    category_id: int
    score: float  # 0..1: the share of the box's inner area covered by ink
    verdict: str  # marked | unmarked | marginal

    def to_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "category_id": self.category_id,
            "score": round(self.score, 4),
            "verdict": self.verdict,
        }


@dataclass(slots=True)
class SheetReading:
    file: str
    page_index: int  # 0-based page of the file (a PDF or TIFF holds many sheets)
    # SHA-256 of the file's bytes, as received: with page_index it names what was read.
    image_sha256: str
    serial: str | None = None
    page: str | None = None  # "k/n": the page of the printed sheet, from its QR code
    cycle_id: int | None = None
    outcome: str = REJECTED
    reasons: list[str] = field(default_factory=list)
    boxes: list[BoxReading] = field(default_factory=list)
    selections: list[int] = field(default_factory=list)  # project ids read as marked
    # A zoomed PNG of every marginal box, by project id, for the person who decides.
    crops: dict[int, bytes] = field(default_factory=dict, repr=False)
    seconds: float = 0.0  # time spent on this page, decoding included

    def boxes_with(self, verdict: str) -> list[BoxReading]:
        return [box for box in self.boxes if box.verdict == verdict]

    def to_json(self, *, with_crops: bool = False) -> dict[str, Any]:
        """JSON-able; crops (base64 PNG) only on request, they are ~5 KB each."""
        data: dict[str, Any] = {
            "file": self.file,
            "page_index": self.page_index,
            "image_sha256": self.image_sha256,
            "serial": self.serial,
            "page": self.page,
            "cycle_id": self.cycle_id,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "selections": list(self.selections),
            "boxes": [box.to_json() for box in self.boxes],
        }
        if with_crops:
            data["crops"] = {
                str(pid): base64.b64encode(png).decode("ascii") for pid, png in self.crops.items()
            }
        return data
