"""Class names as schools write them: a grade and a letter, "6-А", "10-Б", "11"."""

from __future__ import annotations

import re

from server.services.validation import Refused
from server.texts import _l

MIN_GRADE, MAX_GRADE = 1, 12
# Latin letters a hurried typist puts in place of their Cyrillic twins.
_TO_CYRILLIC = str.maketrans("ABCEHIKMOPTX", "АВСЕНІКМОРТХ")
_CLASS = re.compile(r"(?P<grade>[0-9]{1,2})\s*[-–—]?\s*(?P<letter>[А-ЯҐЄІЇ])?")


def normalise_class_name(raw: str | None, *, field: str = "class_name") -> tuple[str, int]:
    """("6-А", 6) from "6а", "6 А", "6-a"...; Refused for anything else."""
    text = (raw or "").strip().upper().translate(_TO_CYRILLIC)
    match = _CLASS.fullmatch(text) if len(text) <= 8 else None
    grade = int(match["grade"]) if match else 0
    if match is None or not MIN_GRADE <= grade <= MAX_GRADE:
        raise Refused(
            _l("Клас: номер від 1 до 12 і, за потреби, літера — наприклад, 6-А."),
            field=field,
        )
    return (f"{grade}-{match['letter']}" if match["letter"] else str(grade)), grade


def parse_grades(raw: str | None, *, field: str = "grades") -> list[int]:
    """Grades from "5-11", "5, 6, 7" or "5-7, 9"; Refused when empty or out of range."""
    grades: set[int] = set()
    text = (raw or "").replace(" ", "")
    refusal = Refused(
        _l("Класи, що голосують: числа від 1 до 12, наприклад 5-11 або 5, 6, 7."),
        field=field,
    )
    if not text or len(text) > 60:
        raise refusal
    for part in text.split(","):
        bounds = part.split("-")
        if len(bounds) > 2 or not all(b.isdigit() and len(b) <= 2 for b in bounds):
            raise refusal
        low, high = int(bounds[0]), int(bounds[-1])
        if not MIN_GRADE <= low <= high <= MAX_GRADE:
            raise refusal
        grades.update(range(low, high + 1))
    return sorted(grades)


def grades_text(grades: list[int]) -> str:
    """[5, 6, 7, 9] -> "5-7, 9" (how the form shows them back)."""
    runs: list[list[int]] = []
    for grade in sorted(set(grades)):
        if runs and runs[-1][-1] == grade - 1:
            runs[-1].append(grade)
        else:
            runs.append([grade])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
