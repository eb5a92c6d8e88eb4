"""Ukrainian first, English available: every text marked for translation has English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from server.i18n import load_catalog

ROOT = Path(__file__).resolve().parent.parent
# Python packages whose pages are served by the server and mark texts with server.i18n's _().
SERVER_PACKAGES = ("server",)
# `_("...")` or `_('...')` in templates (first argument, a plain literal).
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?P<q>["'])(?P<text>.*?)(?P=q)\s*[,)]""", re.S)


def marked_in_python() -> set[tuple[str, str]]:
    found = set()
    for path in (p for package in SERVER_PACKAGES for p in (ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"_", "gettext"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add((node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return found


def marked_in_templates() -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / "server" / "templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        for match in TEMPLATE_CALL.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            found.add((match.group("text"), f"{path.relative_to(ROOT)}:{line}"))
    return found


def test_every_marked_text_has_an_english_translation():
    english = load_catalog("en")
    missing = sorted(
        f"{where}: {text!r}"
        for text, where in marked_in_python() | marked_in_templates()
        if text not in english
    )
    assert not missing, "no English for:\n" + "\n".join(missing)


def test_the_scan_finds_texts_so_the_check_above_can_fail():
    texts = {text for text, _where in marked_in_python() | marked_in_templates()}
    assert "Вхід до консолі" in texts and "Невірний логін або пароль." in texts
    # The students' pages: their Python (server/school/) and their templates.
    assert "Обрано забагато проєктів." in texts and "Дякуємо! Ваш голос зараховано." in texts


def test_switching_language_changes_the_page(client):
    assert "Вхід до консолі" in client.get("/login").get_data(as_text=True)
    english = client.get("/login?lang=en")
    assert "Sign in to the console" in english.get_data(as_text=True)
    # The choice is remembered.
    assert "Sign in to the console" in client.get("/login").get_data(as_text=True)
