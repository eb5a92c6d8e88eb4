"""The code cards' and codes' texts in the reader's language: the Ukrainian text is the
key, the English is in qr_codes/translations/en/qr_codes.po (read with the same catalog
reader as every other part)."""

from __future__ import annotations

from pathlib import Path

from voting.po_catalog import Catalogs

TRANSLATIONS = Path(__file__).parent / "translations"
# The texts in each language (`catalog("en")`, any "en…" locale), read once.
catalog = Catalogs(TRANSLATIONS)


def translated(text: str, locale: str) -> str:
    """`text` (Ukrainian) in `locale`, unformatted."""
    return catalog(locale).texts.get(text, text)
