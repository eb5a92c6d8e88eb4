"""Every text a person reads has its English: the marked texts of the server and the
kiosk, in Python (`_`, `_l`, `N_`, counted `ngettext`/`_nl`) and in templates, are in
their app's `translations/en/*.po`. A text missing there would show in Ukrainian on an
English page without anyone noticing.

The command-line tools print «Ukrainian / English» through `both(text)` and, for a
count, `both_counted(one, many, n)`: those are markers too, so every CLI's text is
checked against its package's catalog (sync/, hardware/, appkit/ have their own;
spilno/ prints from the server's), and a counted one has all its Ukrainian forms."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.pofile import read_po

from voting.messages import COUNTED as DOMAIN_COUNTED
from voting.messages import MESSAGES as DOMAIN_MESSAGES
from voting.messages import catalog as domain_catalog
from voting.messages import message
from voting.po_catalog import Catalog, read_translations

ROOT = Path(__file__).resolve().parent.parent
PLAIN = {"_", "gettext", "N_", "_l", "lazy_gettext", "both"}
COUNTED = {"ngettext", "_nl", "lazy_ngettext", "both_counted"}
# Markers whose text is not the first argument: gettext_in(locale, text).
SECOND = {"gettext_in": False, "ngettext_in": True}
# Each package with texts, and the folder of the catalog its texts are in.
APPS = {
    "server": "server",
    "kiosk": "kiosk",
    "sync": "sync",
    "hardware": "hardware",
    "appkit": "appkit",
    "spilno": "server",
    "support_point": "support_point",
}
# Every catalog folder, English and Ukrainian.
CATALOG_FOLDERS = [
    "server/translations/en",
    "server/translations/uk",
    "kiosk/translations/en",
    "voting/translations/en",
    "paper/translations/en",
    "support_point/translations/en",
    "qr_codes/translations/en",
    "kiosk/translations/uk",
    "sync/translations/en",
    "sync/translations/uk",
    "hardware/translations/en",
    "appkit/translations/en",
]
TEMPLATE_TEXT = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def marked_texts(source: str) -> list[tuple[int, str, bool]]:
    """(line, text, counted) of every literal passed to a marker in Python `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
            continue
        name = node.func.id
        if name in SECOND:
            first, counted = node.args[1] if len(node.args) > 1 else None, SECOND[name]
        elif name in PLAIN or name in COUNTED:
            first, counted = node.args[0], name in COUNTED
        else:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((node.lineno, first.value, counted))
    return sorted(found)


def missing(catalog: Catalog, texts: list[tuple[int, str, bool]]) -> list[tuple[int, str]]:
    return [
        (line, text)
        for line, text, counted in texts
        if text not in (catalog.counted if counted else catalog.texts)
    ]


def python_files(app: str) -> list[Path]:
    return [path for path in sorted((ROOT / app).rglob("*.py")) if "migrations" not in path.parts]


@pytest.mark.parametrize("app", APPS)
def test_every_marked_python_text_has_english(app):
    catalog = read_translations(ROOT / APPS[app] / "translations", "en")
    problems = []
    for path in python_files(app):
        for line, text in missing(catalog, marked_texts(path.read_text(encoding="utf-8"))):
            problems.append(f"{path.relative_to(ROOT)}:{line}: {text[:70]}")
    assert problems == []


@pytest.mark.parametrize("app", APPS)
def test_every_counted_text_has_its_two_english_and_three_ukrainian_forms(app):
    """«1 запис, 2 записи, 5 записів»: a counted text without its Ukrainian "few" form
    would print «2 записів»."""
    folder = ROOT / APPS[app] / "translations"
    english, ukrainian = read_translations(folder, "en"), read_translations(folder, "uk")
    problems = []
    for path in python_files(app):
        for line, text, counted in marked_texts(path.read_text(encoding="utf-8")):
            if counted and (
                len(english.counted.get(text, ())) != 2 or len(ukrainian.counted.get(text, ())) != 3
            ):
                problems.append(f"{path.relative_to(ROOT)}:{line}: {text[:70]}")
    assert problems == []


def test_every_cli_package_is_scanned_and_its_texts_are_seen():
    """The CLIs' packages are in APPS, and the scan finds their `both` texts."""
    seen = {
        app: {text for path in python_files(app) for _, text, _ in marked_texts(path.read_text())}
        for app in APPS
    }
    assert "Файлу пристрою немає: {path}" in seen["sync"] and "має бути текстом" in seen["sync"]
    assert "Журнал цілий: {n} запис" in seen["sync"]
    assert "НЕ ПРАЦЮЄ" in seen["hardware"] and "Голоси" in seen["appkit"]
    assert "Демо готове" in seen["spilno"] and "Профінансовано" in seen["spilno"]
    assert "ВІДМОВА" in seen["server"] and "Термінал не запущено" in seen["kiosk"]
    assert "Файл не записано" in seen["support_point"] and "позначено" in seen["support_point"]


@pytest.mark.parametrize("app", ["server", "kiosk"])
def test_every_template_text_has_english(app):
    catalog = read_translations(ROOT / app / "translations", "en")
    problems = []
    for path in sorted((ROOT / app).rglob("*.html")):
        for match in TEMPLATE_TEXT.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if text not in catalog.texts:
                problems.append(f"{path.relative_to(ROOT)}: {text[:70]}")
    assert problems == []


def test_every_domain_message_has_english_and_every_counted_one_all_its_forms():
    english, ukrainian = domain_catalog("en"), domain_catalog("uk")
    general_forms = {many for _count, _one, many in DOMAIN_COUNTED.values()}
    assert [
        code
        for code, text in DOMAIN_MESSAGES.items()
        if text not in english.texts and text not in general_forms
    ] == []
    counted = {one for _count, one, _many in DOMAIN_COUNTED.values()}
    assert [one for one in counted if len(english.counted.get(one, ())) != 2] == []
    assert [one for one in counted if len(ukrainian.counted.get(one, ())) != 3] == []
    read_alike = []
    for code, text in DOMAIN_MESSAGES.items():
        params = dict.fromkeys(placeholders(text), 3)
        if message(code, "en", **params) == message(code, "uk", **params):
            read_alike.append(code)
    assert read_alike == []


def test_the_scan_sees_a_missing_text_in_every_marker_so_the_checks_above_can_fail():
    catalog = read_translations(ROOT / "server" / "translations", "en")
    source = (
        'raise Refused(_l("Немає такого тексту ніде.", n=1), field="x")\n'
        'x = _("Ще один невідомий текст.")\n'
        'y = _nl("Невідомий {n} рядок.", "Невідомих {n} рядків.", 3)\n'
        'z = _l("Заповніть це поле.")\n'  # known: not reported
        'click.echo(both("Невідома відповідь команди.") + f": {x}")\n'
        "click.echo(f\"  {both('Невідома мітка')}: {y}\")\n"
        'click.echo(both_counted("Невідомий {n} запис.", "Невідомих {n} записів.", 5))\n'
        'click.echo(gettext_in(lang, "Невідоме слово.") + both("Консоль"))\n'  # known: not reported
    )
    assert [text for _, text in missing(catalog, marked_texts(source))] == [
        "Немає такого тексту ніде.",
        "Ще один невідомий текст.",
        "Невідомий {n} рядок.",
        "Невідома відповідь команди.",
        "Невідома мітка",
        "Невідомий {n} запис.",
        "Невідоме слово.",
    ]
    assert TEMPLATE_TEXT.findall("""{{ _("Один") }} {{ _('Два') }}""") == [("Один", ""), ("", "Два")]


@pytest.mark.parametrize("folder", CATALOG_FOLDERS)
def test_no_text_is_translated_two_ways_in_one_catalog(folder):
    """An app's .po files merge into one catalog: a text given two translations in two
    files would silently show whichever file sorts last."""
    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    for path in sorted((ROOT / folder).glob("*.po")):
        with path.open("rb") as handle:
            for entry in read_po(handle):
                key = entry.id if isinstance(entry.id, str) else entry.id[0]
                if not key:
                    continue
                if key in seen and seen[key][1] != entry.string:
                    clashes.append(f"{key[:60]} ({seen[key][0]}, {path.name})")
                seen.setdefault(key, (path.name, entry.string))
    assert clashes == []


@pytest.mark.parametrize("folder", CATALOG_FOLDERS)
def test_no_english_text_asks_for_a_parameter_the_ukrainian_does_not_have(folder):
    """The code fills in the Ukrainian text's parameters; an English placeholder beyond
    them would fail only when someone reads the page in English."""
    extra = []
    for path in sorted((ROOT / folder).glob("*.po")):
        with path.open("rb") as handle:
            for entry in read_po(handle):
                ids = [entry.id] if isinstance(entry.id, str) else list(entry.id)
                if not ids[0]:
                    continue
                allowed = set().union(*(placeholders(text) for text in ids)) | {"n"}
                strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
                for text in strings:
                    if text and not placeholders(text) <= allowed:
                        extra.append(f"{path.name}: {ids[0][:60]} -> {text[:60]}")
    assert extra == []
