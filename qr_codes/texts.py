"""The code cards' and codes' texts in the reader's language: the Ukrainian text is the
key, the English is in qr_codes/translations/en/qr_codes.po (read with the same catalog
reader as every other part)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from voting.po_catalog import Catalog, read_translations

TRANSLATIONS = Path(__file__).parent / "translations"


@cache
def catalog(locale: str) -> Catalog:
    """The texts for `locale`; any "en…" locale reads English, everything else Ukrainian."""
    return read_translations(TRANSLATIONS, "en" if locale.lower().startswith("en") else "uk")


def translated(text: str, locale: str) -> str:
    """`text` (Ukrainian) in `locale`, unformatted."""
    return catalog(locale).texts.get(text, text)
