"""The ballot page's cards (kiosk/ballot_page.py): the package parts of a card are
rendered once and kept, the voter's own parts every time. Whatever is kept, every id
on the page is unique, every ARIA reference names an element there, and a new package
or another language shows its own words."""

from __future__ import annotations

from html.parser import HTMLParser

from .terminal_setup import make_package

CARD = "04A1B2C3D4E5F6"
REFERENCES = ("aria-labelledby", "aria-describedby", "aria-controls", "for")


class Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.references: list[tuple[str, str]] = []  # (attribute, id named)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids.append(value)
            elif name in REFERENCES and value:
                self.references += [(name, named) for named in value.split()]


def check_ids(page: str) -> Ids:
    found = Ids()
    found.feed(page)
    assert len(found.ids) == len(set(found.ids)), sorted(i for i in found.ids if found.ids.count(i) > 1)
    missing = [ref for ref in found.references if ref[1] not in found.ids]
    assert not missing, missing
    return found


def post(client, kiosk, path: str, **form):
    return client.post(path, data={"token": kiosk.flow.token, **form})


def test_every_id_is_unique_and_every_aria_reference_names_one(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    kiosk.reader.insert_card(CARD)
    assert client.get("/state").json["step"] == "ballot"
    pages = [client.get("/ballot").get_data(as_text=True)]
    post(client, kiosk, "/ballot/toggle", project="101")  # 104 now costs more than is left
    pages.append(client.get("/ballot").get_data(as_text=True))
    post(client, kiosk, "/ballot/toggle", project="102")  # full: 103 and 104 blocked
    pages.append(client.get("/ballot").get_data(as_text=True))
    post(client, kiosk, "/prefs", choice="locale:en", here="/ballot")
    pages.append(client.get("/ballot").get_data(as_text=True))
    post(client, kiosk, "/ballot/next")
    pages.append(client.get("/ballot").get_data(as_text=True))
    for page in pages:
        found = check_ids(page)
        cards = [i.removeprefix("project-") for i in found.ids if i.startswith("project-")]
        assert cards and all(("aria-labelledby", f"title-{c}") in found.references for c in cards)
        assert all(("aria-describedby", f"title-{c}") in found.references for c in cards)
    over_budget, full, english = pages[1], pages[2], pages[3]
    assert 'id="why-104">Перевищує залишок бюджету<' in over_budget
    assert 'aria-describedby="title-104 why-104"' in over_budget
    assert all('aria-describedby="title-103 why-103"' in page for page in (full, english))
    link = 'href="/ballot/project/101" id="details-101" aria-describedby="title-101">'
    assert f"{link}Детальніше<" in pages[0] and f"{link}More about it<" in english
    assert "UAH 250,000" in english and "250\u00a0000 грн" in pages[0]


def test_kept_card_parts_show_the_package_now_and_escape_its_text(make_kiosk):
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    kiosk.reader.insert_card(CARD)
    client.get("/state")
    assert "Лавки в парку Слави" in client.get("/ballot").get_data(as_text=True)
    client.post("/cancel", data={"token": kiosk.flow.token})
    kiosk.reader.remove_card()
    client.get("/state")

    package = make_package(kiosk.server.public_key, version=2)
    project = package["cycles"][0]["projects"][0]
    project["title"], project["cost"] = 'Лавки <b>"нові"</b> & ліхтарі', 260_000_00
    kiosk.store.store_package(kiosk.server.envelope(package))
    kiosk.reader.insert_card(CARD)
    client.get("/state")
    page = client.get("/ballot").get_data(as_text=True)
    assert "Лавки в парку Слави</h2>" not in page and "250\u00a0000 грн" not in page
    assert "Лавки &lt;b&gt;&#34;нові&#34;&lt;/b&gt; &amp; ліхтарі</h2>" in page
    assert '<p class="cost">260\u00a0000 грн</p>' in page
    check_ids(page)


def test_on_an_english_screen_the_projects_own_ukrainian_texts_say_their_language(make_kiosk):
    """A project's title, district and description come from the package in Ukrainian:
    on an English screen they carry lang="uk" (a screen reader then reads them with a
    Ukrainian voice); a Ukrainian screen needs no mark and gets none."""
    kiosk = make_kiosk()
    client = kiosk.app.test_client()
    kiosk.reader.insert_card(CARD)
    client.get("/state")
    ukrainian = client.get("/ballot").get_data(as_text=True)
    assert 'lang="uk"' not in ukrainian.split("<body", 1)[1]
    post(client, kiosk, "/prefs", choice="locale:en", here="/ballot")
    english = client.get("/ballot").get_data(as_text=True)
    assert '<span lang="uk">Лавки в парку Слави</span></h2>' in english
    assert english.count('<span lang="uk">') == english.count('<h2 id="title-')
    assert "More about it" in english and "Choose" in english  # the screen's own words stay English
    detail = client.get("/ballot/project/101").get_data(as_text=True)
    assert '<span lang="uk">Лавки в парку Слави</span></h1>' in detail
    check_ids(english)
