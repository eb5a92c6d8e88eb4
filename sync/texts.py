"""What the device commands and the sync library say to staff, Ukrainian first and
English after " / ": the Ukrainian text is the key, the English is in
sync/translations/en/sync.po and the Ukrainian forms of counted texts in
sync/translations/uk/sync.po (read with voting.po_catalog, as every other part)."""

from __future__ import annotations

from pathlib import Path

from voting.po_catalog import Catalogs

TRANSLATIONS = Path(__file__).parent / "translations"
# The texts in each language (`catalog("en")`), read once.
catalog = Catalogs(TRANSLATIONS)
# «Ukrainian / English» of a text, and of a counted one («5 записів / 5 entries»).
both = catalog.both
both_counted = catalog.both_counted


def N_(text: str) -> str:
    """Mark a Ukrainian text kept in Python for translation when it is shown."""
    return text
