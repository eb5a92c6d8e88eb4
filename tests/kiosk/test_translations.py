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


def test_the_ballot_counts_the_projects_a_voter_may_choose(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    kiosk.reader.insert_card("04A1B2C3D4E5F6")
    assert client.get("/state").json["step"] == "ballot"
    assert "Можна обрати до 2 проєктів." in client.get("/ballot").get_data(as_text=True)
    client.post("/ballot/next", data={"token": kiosk.flow.token})
    # «Великі проєкти» allows one: «до 1 проєкту», not «до 1 проєктів».
    assert "Можна обрати до 1 проєкту." in client.get("/ballot").get_data(as_text=True)


def test_a_counted_kiosk_text_takes_the_form_for_its_number():
    from kiosk.i18n import ntranslate

    one, many = "Можна обрати до {max} проєкту.", "Можна обрати до {max} проєктів."
    assert ntranslate(one, many, 21, "uk", max=21) == "Можна обрати до 21 проєкту."
    assert ntranslate(one, many, 3, "uk", max=3) == "Можна обрати до 3 проєктів."
    assert ntranslate(one, many, 1, "en", max=1) == "You may choose up to 1 project."
    assert ntranslate(one, many, 3, "en", max=3) == "You may choose up to 3 projects."
