"""Every Ukrainian text of the results area has its English translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2] / "server"
SOURCES = [
    *sorted((ROOT / "results").glob("*.py")),
    ROOT / "services" / "results.py",
    *sorted((ROOT / "templates" / "results").glob("*.html")),
]
# _("...") with the text possibly split over adjacent string literals.
CALL = re.compile(r'\b_\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def texts_in(path: Path) -> list[str]:
    return ["".join(LITERAL.findall(m.group(1))) for m in CALL.finditer(path.read_text(encoding="utf-8"))]


def test_every_results_text_has_an_english_translation():
    with (ROOT / "translations" / "en" / "results.po").open("rb") as handle:
        catalog = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    texts = {text for path in SOURCES for text in texts_in(path)}
    assert len(texts) > 50  # the pattern still finds the texts
    missing = sorted(t for t in texts if not catalog.get(t))
    assert missing == []
    for text in texts:  # the same {placeholders} in both languages
        assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", catalog[text]))
