"""What the hardware check and the receipt say, Ukrainian first and English after " / ":
the Ukrainian text is the key, the English is in hardware/translations/en/hardware.po
(read with voting.po_catalog, as every other part)."""

from __future__ import annotations

from pathlib import Path

from voting.po_catalog import Catalogs

TRANSLATIONS = Path(__file__).parent / "translations"
# The texts in each language (`catalog("en")`), read once.
catalog = Catalogs(TRANSLATIONS)
both = catalog.both
