"""The support point's texts: the Ukrainian text is the key, the English (and a counted
text's forms) is in support_point/translations/*/support_point.po. The CLIs say a text
as «Ukrainian / English» through `both`."""

from __future__ import annotations

from pathlib import Path

from voting.po_catalog import Catalogs

TRANSLATIONS = Path(__file__).parent / "translations"
# The texts in each language (`catalog("en")`), read once.
catalog = Catalogs(TRANSLATIONS)
both = catalog.both
