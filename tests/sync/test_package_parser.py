"""The cycle package is read once, where it arrives: every field a device needs is there
and of its type, or the whole package is refused with where and what, in both languages.
Nothing malformed gets as far as a page (where it used to be a KeyError)."""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import package_envelope, signing
from sync.cycle_package import NO_DETAILS, CyclePackage, Funding
from sync.package_fields import PackageError
from sync.package_parser import parse_package
from sync.packages import PACKAGE_REFUSALS
from sync.wire import ProtocolError
from tests.kiosk.terminal_setup import CODE_VERIFIER_KEY, VOTER_KEY_SECRET, make_package, school_contest_cycle
from voting import Ballot, BallotProject, CategoryRule

from .fake_server import make_package as bare_package

SERVER_KEY = "server-key"


def full_package() -> dict:
    """The richest package the tests make: a residents' cycle with a minimum age, and a
    school contest with its school and code verifiers; one project with details and a
    category with a funding rule, as the server sends them."""
    made = make_package(SERVER_KEY, 3, min_age=16)
    made["cycles"].append(school_contest_cycle(61, []))
    package = copy.deepcopy(made)  # the fixtures share COMMUNITY and SCHOOL: never change those
    package["cycles"][1]["code_verifiers"] = ["ab" * 32]
    cycle = package["cycles"][0]
    cycle["categories"][0]["funding"] = {
        "method": "equal_shares",
        "tie_break": "lot",
        "lot_seed": "seed",
        "min_votes_share": 1000,
        "min_project_cost": 100,
        "leftover_to": 22,
        "exclusive_groups": [[101, 102]],
        "completion_step": 50,
    }
    cycle["categories"][0]["district"] = None
    cycle["projects"][0]["address"] = "вул. Шевченка, 12"
    cycle["projects"][0]["budget"] = [{"item": "Лавки", "amount": 100}]
    cycle["projects"][0]["photos"] = [
        {"sha256": "cd" * 32, "width": 800, "height": 600, "size": 1, "alt": {"uk": "Сквер", "en": "Square"}}
    ]
    return package


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]


def _parent(package: dict, path: str) -> tuple[dict | list, str | int]:
    *head, last = _steps(path)
    node = package
    for step in head:
        node = node[step]
    return node, last


def without(path: str) -> dict:
    package = full_package()
    node, last = _parent(package, path)
    del node[last]
    return package


def with_value(path: str, value: object) -> dict:
    package = full_package()
    node, last = _parent(package, path)
    node[last] = value
    return package


def refusal(package: object) -> PackageError:
    with pytest.raises(PackageError) as caught:
        parse_package(package)
    return caught.value


REQUIRED = [
    "format",
    "version",
    "community",
    "community.id",
    "server_key",
    "voter_key_secret",
    "cycles[0].id",
    "cycles[0].title",
    "cycles[0].voting_starts_at",
    "cycles[0].voting_ends_at",
    "cycles[0].min_total",
    "cycles[0].max_total",
    "cycles[0].categories",
    "cycles[0].projects",
    "cycles[1].categories",
    *(
        f"cycles[0].categories[1].{key}"
        for key in (
            "id",
            "name",
            "budget",
            "min_choices",
            "max_choices",
            "budget_limited",
            "max_project_cost",
            "min_votes_to_fund",
            "position",
        )
    ),
    *(f"cycles[0].projects[2].{key}" for key in ("id", "title", "cost", "category_id")),
    "cycles[1].school.id",
]

OPTIONAL = [
    "issued_at",
    "community.slug",
    "community.name",
    "code_verifier_key",
    "cycles",
    "cycles[0].slug",
    "cycles[0].kind",
    "cycles[0].timezone",
    "cycles[0].min_age",
    "cycles[1].school",
    "cycles[1].code_verifiers",
    "cycles[0].categories[0].funding",
    "cycles[0].categories[0].district",
    *(
        f"cycles[0].categories[0].funding.{key}"
        for key in (
            "method",
            "tie_break",
            "lot_seed",
            "min_votes_share",
            "min_project_cost",
            "leftover_to",
            "exclusive_groups",
            "completion_step",
        )
    ),
    *(
        f"cycles[0].projects[0].{key}"
        for key in ("number", "description", "district", "address", "budget", "photos")
    ),
]


def test_the_richest_package_reads_into_its_types():
    package = parse_package(full_package())
    assert isinstance(package, CyclePackage)
    assert (package.version, package.community.id, package.server_key) == (3, 3, SERVER_KEY)
    assert package.voter_key_secret == bytes.fromhex(VOTER_KEY_SECRET)
    assert package.code_verifier_key == bytes.fromhex(CODE_VERIFIER_KEY)
    residents, contest = package.cycles
    assert residents.min_age == 16 and residents.voting_starts_at.tzinfo is not None
    assert residents.for_residents and not contest.for_residents and contest.is_school_contest
    assert contest.school is not None and contest.school.id == 7
    assert package.contest_of_code("ab" * 32) is contest and package.contest_of_code("cd" * 32) is None
    small = residents.categories[0]
    assert small.funding == Funding("equal_shares", "lot", "seed", 1000, 100, 22, ((101, 102),), 50)
    benches = residents.projects[0]
    assert benches.details.address == "вул. Шевченка, 12" and benches.details.photos[0].alt("en") == "Square"
    assert residents.projects[1].details == NO_DETAILS
    assert package.photo_digests() == {"cd" * 32}


def _ballot_read_by_key(cycle: dict) -> Ballot:
    """The ballot of a raw packaged cycle, read key by key as devices did before the
    typed package (the funding defaults are those of a package from before the rules)."""
    categories = []
    for c in sorted(cycle["categories"], key=lambda c: (c["position"], c["id"])):
        funding = c.get("funding") or {}
        categories.append(
            CategoryRule(
                category_id=c["id"],
                name=c["name"],
                budget=c["budget"],
                min_choices=c["min_choices"],
                max_choices=c["max_choices"],
                budget_limited=c["budget_limited"],
                max_project_cost=c["max_project_cost"],
                min_votes_to_fund=c["min_votes_to_fund"],
                method=funding.get("method", "greedy"),
                tie_break=funding.get("tie_break", "cheaper"),
                lot_seed=funding.get("lot_seed", ""),
                min_votes_share=funding.get("min_votes_share", 0),
                min_project_cost=funding.get("min_project_cost"),
                leftover_to=funding.get("leftover_to"),
                exclusive_groups=tuple(tuple(g) for g in funding.get("exclusive_groups", ())),
                completion_step=funding.get("completion_step", 100),
            )
        )
    projects = [
        BallotProject(p["id"], p["category_id"], p["cost"], p["title"], p.get("number"))
        for p in cycle["projects"]
    ]
    return Ballot(categories, projects, min_total=cycle["min_total"], max_total=cycle["max_total"])


@pytest.mark.parametrize("raw", [full_package(), bare_package("key", 1)], ids=["full", "bare"])
def test_the_typed_ballot_is_the_one_read_key_by_key(raw):
    for cycle, typed in zip(raw["cycles"], parse_package(raw).cycles, strict=True):
        assert typed.ballot() == _ballot_read_by_key(cycle)


def test_the_fake_servers_bare_package_reads_too():
    # No code verifier key, minimum age, funding rule or district: an older server's package.
    package = parse_package(bare_package("key", 1))
    assert package.code_verifier_key is None and package.cycles[0].min_age is None
    assert all(c.funding == Funding() and c.district is None for c in package.cycles[0].categories)


@pytest.mark.parametrize("path", REQUIRED)
def test_every_required_field_is_refused_when_missing(path):
    error = refusal(without(path))
    assert error.code == "package.malformed" and error.where == path
    expected = f"пакет пошкоджено: {path} поля немає / malformed package: {path} the field is missing"
    assert error.detail == expected


@pytest.mark.parametrize("path", OPTIONAL)
def test_an_optional_field_may_be_missing_or_null(path):
    assert isinstance(parse_package(without(path)), CyclePackage)
    assert isinstance(parse_package(with_value(path, None)), CyclePackage)


WRONG = [
    ("format", "1"),
    ("format", True),
    ("format", 2),
    ("version", 0),
    ("version", True),
    ("version", 1.0),
    ("community", []),
    ("community", "Біла Церква"),
    ("community.id", "7"),
    ("community.name", ["Біла Церква"]),
    ("server_key", None),
    ("server_key", 5),
    ("voter_key_secret", "not hex"),
    ("voter_key_secret", ""),
    ("voter_key_secret", 12),
    ("code_verifier_key", "zz"),
    ("code_verifier_key", 5),
    ("issued_at", "yesterday"),
    ("cycles", {}),
    ("cycles", "all"),
    ("cycles", [None]),
    ("cycles", [[]]),
    ("cycles[0].id", None),
    ("cycles[0].id", "31"),
    ("cycles[0].id", 31.0),
    ("cycles[0].id", True),
    ("cycles[0].id", 2**63),
    ("cycles[0].id", -(2**63) - 1),
    ("cycles[0].title", None),
    ("cycles[0].title", 2027),
    ("cycles[0].kind", 1),
    ("cycles[0].voting_starts_at", "2027-05-01T06:00:00"),  # no time zone
    ("cycles[0].voting_starts_at", "2027-13-01T06:00:00Z"),
    ("cycles[0].voting_ends_at", 1_800_000_000),
    ("cycles[0].timezone", 3),
    ("cycles[0].min_total", "1"),
    ("cycles[0].max_total", "3"),
    ("cycles[0].min_age", "18"),
    ("cycles[0].min_age", True),
    ("cycles[0].categories", {}),
    ("cycles[0].categories", [None]),
    ("cycles[0].categories", [1, 2]),
    ("cycles[0].projects", None),
    ("cycles[0].projects", {"101": {}}),
    ("cycles[0].categories[1].budget", "3000000"),
    ("cycles[0].categories[1].budget", True),
    ("cycles[0].categories[1].budget", 1.5),
    ("cycles[0].categories[1].budget", 10**30),
    ("cycles[0].categories[1].budget_limited", "false"),
    ("cycles[0].categories[1].budget_limited", 0),
    ("cycles[0].categories[1].max_choices", None),
    ("cycles[0].categories[1].name", None),
    ("cycles[0].categories[1].district", 5),
    ("cycles[0].categories[0].funding", []),
    ("cycles[0].categories[0].funding", "greedy"),
    ("cycles[0].categories[0].funding.method", 1),
    ("cycles[0].categories[0].funding.min_votes_share", "10%"),
    ("cycles[0].categories[0].funding.exclusive_groups", [[101, None]]),
    ("cycles[0].categories[0].funding.exclusive_groups", [101, 102]),
    ("cycles[0].categories[0].funding.exclusive_groups", {"a": [1]}),
    ("cycles[0].projects[2].cost", "100000"),
    ("cycles[0].projects[2].cost", None),
    ("cycles[0].projects[2].category_id", [21]),
    ("cycles[0].projects[2].number", "3"),
    ("cycles[0].projects[2].description", 7),
    ("cycles[1].school", "Ліцей № 3"),
    ("cycles[1].school", []),
    ("cycles[1].school.id", None),
    ("cycles[1].code_verifiers", "ab"),
    ("cycles[1].code_verifiers", [None]),
    ("cycles[1].code_verifiers", [{"v": "ab"}]),
]


@pytest.mark.parametrize(("path", "value"), WRONG, ids=[f"{p}={v!r:.20}" for p, v in WRONG])
def test_a_field_of_another_type_is_refused_with_where_it_is(path, value):
    error = refusal(with_value(path, value))
    assert error.code == "package.malformed"
    assert error.where.startswith(path), (error.where, path)
    uk, en = error.detail.split(" / ")
    assert uk.startswith("пакет пошкоджено:") and en.startswith("malformed package:")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_allows_but_no_server_sends_are_refused(text):
    raw = json.dumps(full_package()).replace('"budget": 300000000', f'"budget": {text}', 1)
    value = json.loads(raw)["cycles"][0]["categories"][1]["budget"]
    assert isinstance(value, float) and (math.isnan(value) or math.isinf(value))
    assert refusal(json.loads(raw)).where == "cycles[0].categories[1].budget"


def test_the_message_says_where_and_what_in_both_languages():
    error = refusal(with_value("cycles[0].categories[1].budget", "lots"))
    assert str(error) == (
        "package.malformed: пакет пошкоджено: cycles[0].categories[1].budget має бути цілим числом"
        " / malformed package: cycles[0].categories[1].budget must be a whole number"
    )
    assert PACKAGE_REFUSALS["package.malformed"].count(" / ") == 1


@pytest.mark.parametrize("package", [{}, [], None, "package", 1, [full_package()]])
def test_an_empty_package_or_none_at_all_is_refused(package):
    error = refusal(package)
    assert error.where in ("", "format")


def test_fields_this_device_does_not_know_are_ignored_at_every_level():
    package = full_package()
    package["future"] = {"anything": [1, 2, {"deep": None}]}
    package["community"]["emblem"] = "🏛"
    package["cycles"][0]["quorum"] = 0.5
    package["cycles"][0]["categories"][0]["colour"] = "#fff"
    package["cycles"][0]["categories"][0]["funding"]["new_rule"] = True
    package["cycles"][0]["projects"][0]["video"] = {"sha256": None}
    package["cycles"][1]["school"]["address"] = ["вул. Шкільна, 1"]
    assert parse_package(package) == parse_package(full_package())


def test_deep_nesting_in_an_unknown_field_is_not_walked():
    deep: object = "bottom"
    for _ in range(5_000):
        deep = [deep]
    package = full_package()
    package["future"] = deep
    assert parse_package(package) == parse_package(full_package())


def test_a_signed_package_nested_deeper_than_json_reads_is_refused_as_no_package():
    key = signing.generate_private_key()
    text = '{"format":1,"future":' + "[" * 200_000 + "]" * 200_000 + "}"
    envelope = {"package": text, "signature": signing.sign(key, text.encode()), "key": "k"}
    with pytest.raises(ProtocolError) as caught:
        package_envelope.open_package(envelope, signing.public_key_b64(key))
    assert caught.value.code == "package.format"


def test_a_signed_text_that_is_not_json_is_refused_as_no_package():
    key = signing.generate_private_key()
    text = '{"format":1,'
    envelope = {"package": text, "signature": signing.sign(key, text.encode()), "key": "k"}
    with pytest.raises(ProtocolError) as caught:
        package_envelope.open_package(envelope, signing.public_key_b64(key))
    assert caught.value.code == "package.format"


def test_a_minimum_age_no_server_would_send_reads_as_no_limit_as_before():
    for value in (0, -3, 121, 10**6):
        assert parse_package(with_value("cycles[0].min_age", value)).cycles[0].min_age is None


def test_details_not_of_their_shape_read_as_absent_not_as_a_refusal():
    package = full_package()
    benches = package["cycles"][0]["projects"][0]
    benches.update(address=12, budget="lots", photos=[{"sha256": "x"}, 7, None, {"sha256": "cd" * 32}])
    assert parse_package(package).cycles[0].projects[0].details == NO_DETAILS


def test_a_malformed_signed_package_is_refused_by_the_store_and_the_held_one_stays(tmp_path):
    from tests.kiosk.terminal_setup import PackageSigner, enrolled_store

    signer = PackageSigner()
    store = enrolled_store(tmp_path / "device.sqlite", signer, with_package=False)
    held = store.store_package(signer.envelope(make_package(signer.public_key, 1)))
    broken = make_package(signer.public_key, 2)
    del broken["cycles"][0]["categories"][0]["budget"]
    with pytest.raises(PackageError) as caught:
        store.store_package(signer.envelope(broken))
    assert caught.value.where == "cycles[0].categories[0].budget"
    assert store.package() == held and store.package_version() == 1


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
_PATHS = REQUIRED + OPTIONAL + sorted({p for p, _ in WRONG})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(_PATHS), value=_JSON)
def test_any_json_anywhere_reads_or_is_refused_never_anything_else(path, value):
    try:
        package = parse_package(with_value(path, copy.deepcopy(value)))
    except PackageError as error:
        assert error.code == "package.malformed" and " / malformed package:" in error.detail
        return
    # What reads is usable: its ballots and windows work without a KeyError or TypeError.
    now = datetime.now(UTC)
    for cycle in package.cycles:
        cycle.ballot()
        cycle.window_state(now + timedelta(days=1))
        assert cycle.zone is not None


@settings(max_examples=200, deadline=None)
@given(value=_JSON)
def test_any_json_at_all_reads_or_is_refused(value):
    try:
        parse_package(value)
    except PackageError:
        pass
