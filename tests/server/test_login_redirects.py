"""After signing in the console goes where `next` says, but only to a page of this
server: no `next` can send the moderator elsewhere, or make the answer fail."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from server.auth.next_page import safe_next
from tests.factories import PASSWORD, csrf

HOST = "http://localhost"

# Each of these, handed to a browser as a Location, must not leave this server.
HOSTILE = [
    "https://evil.example/phish",
    "HTTPS://evil.example",
    "http:/evil.example",
    "http:evil.example",
    "//evil.example/phish",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\r\nSet-Cookie: a=b",
    "/console/\r\nLocation: https://evil.example",
    "\t//evil.example",
    " //evil.example",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%00",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "mailto:someone@evil.example",
    "evil.example",
    "console/cycles",
    "./console",
    "?next=//evil.example",
    "#//evil.example",
    "/\u2028/evil.example",
    "/\u00a0/evil.example",
    "/\u3000/evil.example",
    "/\ufeff/evil.example",
    "/\u202e/evil.example",
    "\uff0f\uff0fevil.example",  # fullwidth solidus
    "/" + "a" * 5000,
    "/" * 3000,
    "",
]


def sign_in_with_next(app, user, target):
    client = app.test_client()
    response = client.post(
        "/login", data={"login": user.login, "password": PASSWORD, "next": target, "csrf_token": csrf(client)}
    )
    return client, response


def stays_here(location: str) -> bool:
    resolved = urlsplit(urljoin(HOST + "/login", location))
    return (
        resolved.scheme == "http"
        and resolved.netloc == "localhost"
        and not location.startswith(("//", "\\\\", "/\\"))
        and all(0x20 < ord(c) < 0x7F and c != "\\" for c in location)
    )


@pytest.mark.parametrize("target", HOSTILE, ids=[repr(t)[:40] for t in HOSTILE])
def test_a_hostile_next_never_leads_away_and_never_fails(app, make, target):
    user = make.user()
    client, response = sign_in_with_next(app, user, target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert stays_here(location), location
    if safe_next(target) is None:
        assert location == "/console/"
    # Signed in, whatever `next` was: no half-done sign-in behind an error page.
    assert client.get("/console/").status_code == 200


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/console/cycles", "/console/cycles"),
        ("/console/cycles?page=2&q=x", "/console/cycles?page=2&q=x"),
        ("/console/projects/%D1%88", "/console/projects/%D1%88"),
        ("/console/пошук", "/console/%D0%BF%D0%BE%D1%88%D1%83%D0%BA"),
    ],
)
def test_a_local_next_is_honoured_and_letters_beyond_ascii_are_encoded(app, make, target, location):
    _client, response = sign_in_with_next(app, make.user(), target)
    assert response.headers["Location"] == location


@pytest.mark.parametrize("target", HOSTILE[:20], ids=[repr(t)[:40] for t in HOSTILE[:20]])
def test_the_sign_in_page_does_not_carry_a_hostile_next_into_its_form(client, target):
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="next" value=""' in page
    assert "evil.example" not in page


def test_the_sign_in_page_keeps_a_local_next(client):
    page = client.get("/login?next=%2Fconsole%2Fcycles").get_data(as_text=True)
    assert 'name="next" value="/console/cycles"' in page


def test_the_console_sends_a_signed_out_visitor_back_to_the_page_after_sign_in(app, make):
    client = app.test_client()
    bounced = client.get("/console/cycles")
    assert bounced.status_code == 302
    page = client.get(bounced.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/console/cycles?"' in page


@pytest.mark.parametrize("target", [*HOSTILE, "/\ud800", None])
def test_safe_next_refuses_each_hostile_value(target):
    assert safe_next(target) is None or stays_here(safe_next(target))
