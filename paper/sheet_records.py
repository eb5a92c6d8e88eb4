"""The sheet store's records: a kept page reading, a sheet's row, a decision.

What the review core (paper.review, paper.sheet_state) reads from a store, whichever
keeps it: paper.sheet_store.SheetStore at a support point, server.paper.scan_store on
the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from paper.reading import BoxReading

__all__ = ["Decision", "SheetRow", "StoredPage"]


@dataclass(frozen=True, slots=True)
class StoredPage:
    id: int
    image_sha256: str
    page_index: int
    file: str
    read_at_ms: int
    serial: str | None
    page_no: int | None
    pages_total: int | None
    cycle_id: int | None
    outcome: str
    reasons: tuple[str, ...]
    boxes: tuple[BoxReading, ...]
    has_preview: bool

    def box(self, project_id: int) -> BoxReading | None:
        return next((b for b in self.boxes if b.project_id == project_id), None)


@dataclass(frozen=True, slots=True)
class SheetRow:
    cycle_id: int
    serial: str
    pages_total: int
    first_seen_ms: int
    state: str
    reasons: tuple[str, ...]
    selections: tuple[int, ...]
    ready_at_ms: int | None
    vote_id: str | None
    committed_at_ms: int | None


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    cycle_id: int
    serial: str
    kind: str
    page_id: int | None
    page_no: int | None
    project_id: int | None
    verdict: str | None
    reason: str | None
    operator: str
    decided_at_ms: int
    replaces: int | None
