"""Helpers shared by the integration API tests: a platform with its token, votes as the
platform would push them, and checking bodies against the OpenAPI schemas.

(Named test_api_* to stay inside the API's test files; it holds no tests itself.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jsonschema
from sqlalchemy import func, select

from server.api.openapi import build_openapi
from server.models import ApiClient, Community, Cycle, Project, Vote
from server.services.api_clients import create_api_client
from voting.identity import rnokpp_check_digit

DOCUMENT = build_openapi()


@dataclass
class Platform:
    """An e-democracy platform holding a token for one community."""

    client: ApiClient
    token: str
    community: Community

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def push(self, http: Any, votes: list[dict], **headers: str) -> Any:
        return http.post("/api/v1/votes", json={"votes": votes}, headers=self.headers(**headers))


def make_platform(session: Any, make: Any, community: Community | None = None) -> Platform:
    community = community or make.community()
    client, token = create_api_client(session, community_id=community.id, name="Е-демократія")
    session.commit()
    return Platform(client, token, community)


def project_ids(session: Any, cycle: Cycle) -> list[int]:
    """Small-category projects first (ids alternate small, large in ballot_cycle)."""
    ids = list(session.scalars(select(Project.id).where(Project.cycle_id == cycle.id).order_by(Project.id)))
    return ids[0::2] + ids[1::2]


def web_vote(cycle: Cycle, selections: list[int], *, voter: int = 1, minutes: int = 0, **fields: Any) -> dict:
    """A vote as the platform sends it: its own UUID, a cast time with an offset."""
    cast_at = cycle.voting_starts_at + timedelta(hours=1, minutes=minutes)
    body = {
        "id": str(uuid.uuid4()),
        "cycle_id": cycle.id,
        "voter_key": f"{voter:064x}",
        "selections": selections,
        "cast_at": cast_at.isoformat().replace("+00:00", "Z"),
    }
    body.update(fields)
    return body


def rnokpp(first_nine: str) -> str:
    """A taxpayer number with a correct check digit."""
    return first_nine + str(rnokpp_check_digit(first_nine))


def vote_count(session: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Vote))


def assert_matches(schema_name: str, body: Any) -> None:
    """`body` is valid against the OpenAPI document's schema of that name."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOCUMENT["components"]}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(body)


def identity_vote(cycle: Cycle, selections: list[int], kind: str, number: str, **kw: Any) -> dict:
    """A vote carrying the resident's document instead of a voter key."""
    vote = web_vote(cycle, selections, identity={"kind": kind, "number": number}, **kw)
    del vote["voter_key"]
    return vote


def wait_until_blocked(engine: Any, seconds: float = 10) -> None:
    """Until a request of the app waits on a row lock another connection holds (a push
    racing an insert of the same id), or AssertionError after `seconds`."""
    import time

    from sqlalchemy import text

    deadline = time.monotonic() + seconds
    waiting = 0
    while not waiting and time.monotonic() < deadline:
        time.sleep(0.02)
        with engine.connect() as probe:
            waiting = probe.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
    assert waiting, "the push never reached the insert"
