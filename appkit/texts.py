"""What the command-line progress bar says, Ukrainian first and English after " / ":
the Ukrainian text is the key, the English is in appkit/translations/en/appkit.po (read
with voting.po_catalog, as every other part). The bar's labels are appkit's own (the
server's and the support point's commands share them), so they live here and not in
each caller's catalog."""

from __future__ import annotations

from pathlib import Path

from voting.po_catalog import Catalogs

TRANSLATIONS = Path(__file__).parent / "translations"
# The texts in each language (`catalog("en")`), read once.
catalog = Catalogs(TRANSLATIONS)
both = catalog.both


def N_(text: str) -> str:
    """Mark a Ukrainian text kept in Python for translation when it is shown."""
    return text
