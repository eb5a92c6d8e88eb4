"""Reading translations: every `*.po` file of a language folder, merged into one
{Ukrainian text: translation} dict. The server and the kiosk each keep their own
folders (one file per area), and both read them this way."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po


def read_catalog(folder: Path, locale: str) -> dict[str, str]:
    catalog: dict[str, str] = {}
    for po_file in sorted((folder / locale).glob("*.po")):
        with po_file.open("rb") as handle:
            for entry in read_po(handle, locale=locale):
                if entry.id and entry.string:
                    catalog[str(entry.id)] = str(entry.string)
    return catalog
