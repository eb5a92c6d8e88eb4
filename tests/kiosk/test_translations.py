"""Ukrainian first, English on request: every kiosk text has its English translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from kiosk.i18n import load_catalog, translate

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
# `_("...")` or `_('...')` in templates: the first argument, a plain literal.
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?P<q>["'])(?P<text>.*?)(?P=q)\s*[,)]""", re.S)
MARKERS = {"_", "N_", "gettext", "translate"}


def marked_in_python() -> dict[str, str]:
    found = {}
    for path in KIOSK.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in MARKERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found[node.args[0].value] = f"{path.relative_to(KIOSK)}:{node.lineno}"
    return found


def marked_in_templates() -> dict[str, str]:
    found = {}
    for path in (KIOSK / "templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        for match in TEMPLATE_CALL.finditer(source):
            found[match.group("text")] = (
                f"{path.relative_to(KIOSK)}:{source.count(chr(10), 0, match.start()) + 1}"
            )
    return found


def test_every_ukrainian_text_of_the_kiosk_has_english():
    english = load_catalog("en")
    texts = marked_in_python() | marked_in_templates()
    missing = sorted(f"{where}: {text!r}" for text, where in texts.items() if text not in english)
    assert not missing, "no English for:\n" + "\n".join(missing)


def test_english_keeps_every_placeholder_of_the_ukrainian():
    for ukrainian, english in load_catalog("en").items():
        assert set(re.findall(r"{\w+}", ukrainian)) == set(re.findall(r"{\w+}", english)), ukrainian


def test_the_scan_finds_texts_in_code_and_templates_so_the_check_can_fail():
    assert "Цей QR-код не для голосування тут" in marked_in_python()
    assert "Проголосуйте за проєкти громадського бюджету" in marked_in_templates()
    assert "Голосування на цьому терміналі закрито" in marked_in_python()


def test_translate_picks_the_voters_language():
    assert translate("Цей QR-код не для голосування тут", "en") == "This QR code is not for voting here"
    assert translate("Цей QR-код не для голосування тут", "uk") == "Цей QR-код не для голосування тут"
