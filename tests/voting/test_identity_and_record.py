"""Voter keys and the canonical vote record."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, timezone

import pytest

from voting import Channel, IdentityError, VoteRecord, VoterKey, community_voter_secret, normalise_identifier

SECRET = community_voter_secret(b"m" * 32, "community-key-id")


@pytest.mark.parametrize(
    ("kind", "raw", "canonical"),
    [
        ("rnokpp", "3184710691", "3184710691"),
        ("rnokpp", " 31847 10691 ", "3184710691"),
        ("passport", "ab 123456", "АВ123456"),  # Latin look-alikes become Cyrillic
        ("passport", "АВ-123456", "АВ123456"),
        ("id_card", "001234567", "001234567"),
        ("unzr", "19900101-01234", "19900101-01234"),
        ("unzr", "1990010101234", "19900101-01234"),
        ("card", "04a1b2c3d4e5f6", "04A1B2C3D4E5F6"),
    ],
)
def test_identifiers_are_normalised(kind, raw, canonical):
    assert normalise_identifier(kind, raw) == canonical


@pytest.mark.parametrize(
    ("kind", "raw", "code"),
    [
        ("rnokpp", "3184710692", "identity.rnokpp_checksum"),
        ("rnokpp", "318471069", "identity.rnokpp_format"),
        ("rnokpp", "31847106९1", "identity.rnokpp_format"),  # a non-ASCII digit
        ("passport", "QZ123456", "identity.passport_format"),
        ("passport", "АВ12345", "identity.passport_format"),
        ("id_card", "12345678A", "identity.id_card_format"),
        ("unzr", "19901301-01234", "identity.unzr_format"),
        ("card", "zz", "identity.card_format"),
        ("rnokpp", "", "identity.empty"),
        ("rnokpp", "1" * 65, "identity.too_long"),
        ("driving_licence", "123", "identity.unknown_kind"),
        ("rnokpp", "'; DROP TABLE vote; --", "identity.rnokpp_format"),
    ],
)
def test_bad_identifiers_are_refused_with_a_message_code(kind, raw, code):
    with pytest.raises(IdentityError) as caught:
        normalise_identifier(kind, raw)
    assert caught.value.code == code


def test_a_voter_key_is_the_same_for_the_same_person_and_reveals_nothing():
    a = VoterKey.derive(SECRET, "passport", "ab 123456")
    b = VoterKey.derive(SECRET, "passport", "АВ123456")
    assert a == b and "123456" not in a.hex and len(a.hex) == 64
    other_community = community_voter_secret(b"m" * 32, "another-community")
    assert VoterKey.derive(other_community, "passport", "АВ123456") != a


def test_the_master_secret_must_be_long_enough():
    with pytest.raises(ValueError):
        community_voter_secret(b"short", "x")


def record(**kw):
    base = dict(
        vote_id="6f1c1e9e-2b7a-4a51-9f0e-1b2c3d4e5f60",
        cycle_id=7,
        selections=[3, 1],
        channel=Channel.KIOSK,
        cast_at=datetime(2027, 5, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3))),
        voter_key="a" * 64,
        device_id="T-0001",
    )
    base.update(kw)
    return VoteRecord.create(**base)


def test_the_content_hash_is_stable_across_equivalent_forms():
    a = record()
    b = record(
        vote_id="6F1C1E9E-2B7A-4A51-9F0E-1B2C3D4E5F60",
        selections=[1, 3],
        cast_at=datetime(2027, 5, 1, 9, 0, 0, 123999, tzinfo=UTC),
    )
    assert a.content_hash() == b.content_hash()
    assert b'"cast_at":"2027-05-01T09:00:00.123Z"' in a.canonical_bytes()


@pytest.mark.parametrize(
    "change",
    [
        {"selections": [1]},
        {"device_id": "T-0002"},
        {"cycle_id": 8},
        {"voter_key": "b" * 64},
        {"channel": Channel.PAPER},
    ],
)
def test_any_change_of_meaning_changes_the_hash(change):
    assert record(**change).content_hash() != record().content_hash()


@pytest.mark.parametrize(
    "bad",
    [
        {"vote_id": "not-a-uuid"},
        {"cast_at": datetime(2027, 5, 1, 12, 0)},  # naive time
        {"voter_key": "A" * 64},
        {"voter_key": None},  # neither key nor code
        {"code_id": "X"},  # both key and code
        {"code_id": "bad code!", "voter_key": None},
        {"channel": "fax"},
    ],
)
def test_malformed_records_are_refused(bad):
    with pytest.raises(ValueError):
        record(**bad)


def test_a_record_gets_an_id_where_it_is_cast():
    made = VoteRecord.create(
        cycle_id=1, selections=[1], channel="web", cast_at=datetime.now(UTC), code_id=secrets.token_hex(8)
    )
    assert len(made.vote_id) == 36
