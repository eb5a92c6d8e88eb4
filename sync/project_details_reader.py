"""A packaged project's details (address, budget lines, photos), read leniently: a
detail missing (an older package) or not of the expected shape reads as absent, never
as an error, because the ballot must still work without it (sync.package_parser reads
everything else strictly)."""

from __future__ import annotations

from collections.abc import Mapping

from sync.cycle_package import BudgetItem, PhotoRef, ProjectDetails
from sync.wire import HEX64


def _detail_text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _digest(value: object) -> str | None:
    return value if isinstance(value, str) and HEX64.fullmatch(value) else None


def project_details(project: Mapping[str, object]) -> ProjectDetails:
    """A packaged project's details; what is missing (an older package) or not of the
    expected shape reads as absent, never as an error: the ballot must still work."""
    budget = []
    for line in _list(project.get("budget")):
        if isinstance(line, dict) and type(line.get("amount")) is int and line["amount"] > 0:
            budget.append(BudgetItem(_detail_text(line.get("item"), 200), line["amount"]))
    photos = []
    for photo in _list(project.get("photos")):
        if not isinstance(photo, dict) or (sha256 := _digest(photo.get("sha256"))) is None:
            continue
        alt = photo.get("alt")
        if not isinstance(alt, dict):
            alt = {}
        width, height = photo.get("width"), photo.get("height")
        if (
            type(width) is not int
            or type(height) is not int
            or not (0 < width <= 4096 and 0 < height <= 4096)
        ):
            continue
        photos.append(
            PhotoRef(
                sha256, width, height, _detail_text(alt.get("uk"), 300), _detail_text(alt.get("en"), 300)
            )
        )
    return ProjectDetails(_detail_text(project.get("address"), 300), tuple(budget), tuple(photos))


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
