"""A terminal that never gets a network: staff export its votes to a USB stick as a
signed bundle file, and whatever is wrong with a file is named before anything is used."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tracemalloc
import uuid
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from kiosk.cli import kiosk_group
from sync import bundle as bundle_module
from sync import log_batches, log_entries, signing
from sync.bundle import MAX_BATCH_BYTES, BundleError, export_bundle
from sync.bundle_reader import open_bundle
from sync.cli import device_group
from voting import VoteRecord

from .conftest import cast_votes


def read_back(path):
    with open_bundle(path) as bundle:
        return bundle.meta, list(bundle.batches())


def quick_votes(store, count):
    """`count` plain kiosk votes, faster to make in bulk than simulated residents."""
    identity, now = store.require_identity(), datetime.now(UTC)
    store.append_votes(
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=11,
            selections=[101],
            channel="kiosk",
            cast_at=now,
            voter_key=f"{n:064x}",
            device_id=identity.device,
        )
        for n in range(count)
    )


def test_the_bundle_holds_every_unacknowledged_vote_in_signed_consecutive_batches(enrolled, tmp_path):
    cast_votes(enrolled, 7)
    acked = enrolled.entries_from(2, 1)[0]
    enrolled.mark_acked(2, acked.entry_hash())  # the server confirmed the first two over a network

    exported = export_bundle(enrolled, tmp_path / "T.spilno", clock=lambda: 1_800_000_000_000, batch_size=2)
    meta, batches = read_back(tmp_path / "T.spilno")

    identity = enrolled.require_identity()
    public_key = signing.public_key_b64(enrolled.private_key())
    assert exported.meta == meta and exported.batch_count == 3
    assert (meta.device, meta.kind, meta.community_id, meta.community_slug) == (
        identity.device,
        "terminal",
        identity.community_id,
        identity.community_slug,
    )
    assert (meta.first_seq, meta.last_seq, meta.entry_count) == (3, 7, 5)
    assert meta.created_at == "2027-01-15T08:00:00Z"  # by the device's own clock
    assert signing.verify(public_key, meta.signed_bytes(), meta.signature)
    assert [(b.number, b.first_seq, b.last_seq) for b in batches] == [(1, 3, 4), (2, 5, 6), (3, 7, 7)]

    previous_hash = acked.entry_hash()
    for stored in batches:
        batch = log_batches.read_batch(stored.data)
        signed = log_batches.checkpoint_bytes(identity.device, batch.checkpoint_seq, batch.checkpoint_hash)
        assert signing.verify(public_key, signed, batch.signature)
        previous_hash = log_entries.check_chain(
            batch.entries, identity.device, stored.first_seq - 1, previous_hash
        )
    assert previous_hash == meta.last_hash == enrolled.entries_from(7, 1)[0].entry_hash()


def test_a_device_never_learns_what_a_bundle_delivered_so_the_next_bundle_repeats_it(enrolled, tmp_path):
    cast_votes(enrolled, 3)
    export_bundle(enrolled, tmp_path / "first.spilno")
    cast_votes(enrolled, 2, seed=2)
    export_bundle(enrolled, tmp_path / "second.spilno")
    first, _ = read_back(tmp_path / "first.spilno")
    second, _ = read_back(tmp_path / "second.spilno")
    assert (first.first_seq, first.last_seq) == (1, 3)
    assert (second.first_seq, second.last_seq) == (1, 5)
    assert enrolled.acked_seq() == 0


def test_with_every_vote_acknowledged_there_is_nothing_to_export(enrolled, tmp_path):
    cast_votes(enrolled, 2)
    enrolled.mark_acked(2, enrolled.entries_from(2, 1)[0].entry_hash())
    with pytest.raises(BundleError) as refused:
        export_bundle(enrolled, tmp_path / "T.spilno")
    assert refused.value.code == "bundle.nothing_to_export"
    assert list(tmp_path.glob("*.spilno*")) == []


def test_a_write_cut_short_leaves_the_earlier_bundle_and_no_half_file(enrolled, tmp_path, monkeypatch):
    cast_votes(enrolled, 6)
    out = tmp_path / "T.spilno"
    export_bundle(enrolled, out, batch_size=2)
    before = out.read_bytes()
    cast_votes(enrolled, 2, seed=2)

    real_entries_from, calls = enrolled.entries_from, []

    def stick_pulled_out(seq, limit):
        calls.append(seq)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        return real_entries_from(seq, limit)

    monkeypatch.setattr(enrolled, "entries_from", stick_pulled_out)
    with pytest.raises(OSError):
        export_bundle(enrolled, out, batch_size=2)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if "spilno" in p.name) == ["T.spilno"]


def test_exporting_a_large_backlog_keeps_one_batch_in_memory_at_a_time(enrolled, tmp_path, monkeypatch):
    quick_votes(enrolled, 20_000)
    real_entries_from, asked = enrolled.entries_from, []

    def counting(seq, limit):
        asked.append(limit)
        return real_entries_from(seq, limit)

    monkeypatch.setattr(enrolled, "entries_from", counting)
    tracemalloc.start()
    try:
        exported = export_bundle(enrolled, tmp_path / "T.spilno")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exported.meta.entry_count == 20_000 and exported.batch_count == 40
    assert max(asked) == log_batches.MAX_BATCH_ENTRIES and len(asked) == 40
    # The entries alone, as written, are several times the most Python ever held at once.
    assert exported.size_bytes > 8_000_000
    assert peak < exported.size_bytes / 3, (peak, exported.size_bytes)


def run(group, *args):
    return CliRunner().invoke(group, [str(a) for a in args])


@pytest.mark.parametrize("group", [kiosk_group, device_group], ids=["kiosk", "device"])
def test_staff_export_a_bundle_from_the_command_line(enrolled, tmp_path, group):
    cast_votes(enrolled, 3)
    out = tmp_path / "stick" / "T.spilno"
    out.parent.mkdir()
    result = run(group, "export-bundle", "--store", enrolled.path, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    line = json.loads(result.output)
    assert (line["entries"], line["first_seq"], line["last_seq"], line["batches"]) == (3, 1, 3, 1)
    assert line["file"] == str(out) and line["size_bytes"] == out.stat().st_size

    text = run(group, "export-bundle", "--store", enrolled.path, "--out", out)
    assert "Записано 3 записи (№1–3)" in text.output and " / wrote 3 entries (1–3)" in text.output


def test_the_command_line_says_when_there_is_nothing_to_export(enrolled, tmp_path):
    result = run(kiosk_group, "export-bundle", "--store", enrolled.path, "--out", tmp_path / "T.spilno")
    assert result.exit_code == 1
    assert "переносити нічого / the server has every vote already" in result.output


def test_a_stick_that_is_not_there_is_named_in_both_languages(enrolled, tmp_path):
    cast_votes(enrolled, 1)
    missing = tmp_path / "media" / "usb" / "T.spilno"
    result = run(kiosk_group, "export-bundle", "--store", enrolled.path, "--out", missing)
    assert result.exit_code == 1
    assert f"Не вдалося записати файл {missing}" in result.output and "/ cannot write" in result.output


def test_the_kiosk_group_offers_the_same_export_command():
    assert kiosk_group.name == "kiosk"
    assert kiosk_group.commands["export-bundle"] is device_group.commands["export-bundle"]
    assert (kiosk_group.commands["export-bundle"].help or "").strip()


# --- files from anywhere --------------------------------------------------------------


def _sql(*statements):
    def change(path):
        db = sqlite3.connect(path)
        for statement in statements:
            db.execute(statement)
        db.commit()
        db.close()

    return change


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _row_of(size):
    def change(path):
        db = sqlite3.connect(path)
        db.execute("UPDATE batch SET batch_json = ? WHERE number = 2", ("x" * size,))
        db.commit()
        db.close()

    return change


@pytest.mark.parametrize(
    ("change", "code", "batch"),
    [
        (lambda p: p.write_bytes(b""), "bundle.not_sqlite", None),
        (lambda p: p.write_bytes(b"PK\x03\x04 a zip file, not a bundle" * 50), "bundle.not_sqlite", None),
        (_truncate, "bundle.damaged", None),
        (_sql("PRAGMA application_id = 0"), "bundle.not_a_bundle", None),
        (_sql("DROP TABLE batch"), "bundle.not_a_bundle", None),
        (
            _sql("ALTER TABLE batch RENAME TO b", "CREATE VIEW batch AS SELECT * FROM b"),
            "bundle.not_a_bundle",
            None,
        ),
        (_sql("INSERT INTO meta SELECT * FROM meta"), "bundle.meta", None),
        (_sql("UPDATE meta SET format = 2"), "bundle.format", None),
        (_sql("UPDATE meta SET entry_count = 99"), "bundle.meta", None),
        (_sql("DELETE FROM batch WHERE number = 2"), "bundle.index", 3),
        (_row_of(MAX_BATCH_BYTES + 1024), "bundle.row_too_large", 2),
        (_row_of(20 * MAX_BATCH_BYTES), "bundle.row_too_large", None),  # SQLite itself refuses to read it
        (_sql("UPDATE batch SET batch_json = '{\"protocol\": 1' WHERE number = 2"), "bundle.batch_json", 2),
        (
            _sql("""UPDATE batch SET batch_json = '{"a": 1, "a": 2}' WHERE number = 2"""),
            "bundle.batch_json",
            2,
        ),
        (_sql("UPDATE batch SET first_seq = 4, last_seq = 5 WHERE number = 2"), "bundle.index", 2),
    ],
    ids=[
        "empty",
        "not-sqlite",
        "truncated",
        "other-sqlite-file",
        "no-batch-table",
        "view-instead-of-table",
        "two-meta-rows",
        "newer-format",
        "meta-inconsistent",
        "batch-missing",
        "row-over-a-batch",
        "enormous-row",
        "not-json",
        "duplicate-json-key",
        "index-lies",
    ],
)
def test_a_file_that_is_not_a_whole_bundle_is_named_for_what_it_is(enrolled, tmp_path, change, code, batch):
    cast_votes(enrolled, 6)
    good = tmp_path / "good.spilno"
    export_bundle(enrolled, good, batch_size=2)
    hostile = tmp_path / "hostile.spilno"
    shutil.copy(good, hostile)
    change(hostile)
    with pytest.raises(BundleError) as refused:
        read_back(hostile)
    assert (refused.value.code, refused.value.batch) == (code, batch)


def test_the_reader_never_writes_to_the_file(enrolled, tmp_path):
    cast_votes(enrolled, 3)
    path = tmp_path / "T.spilno"
    export_bundle(enrolled, path)
    path.chmod(0o444)  # a write-protected stick
    before = path.read_bytes()
    meta, batches = read_back(path)
    assert meta.entry_count == 3 and len(batches) == 1
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("T.spilno-*"))  # no journal or WAL left beside it
    assert bundle_module.APPLICATION_ID == 0x53504C42


def test_votes_of_a_thousand_choices_are_split_into_batches_a_reader_takes(enrolled, tmp_path):
    identity, now = enrolled.require_identity(), datetime.now(UTC)
    enrolled.append_votes(
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=11,
            selections=list(range(1_000_000_000, 1_000_001_000)),  # the most a vote may hold
            channel="kiosk",
            cast_at=now,
            voter_key=f"{n:064x}",
            device_id=identity.device,
        )
        for n in range(400)
    )
    exported = export_bundle(enrolled, tmp_path / "T.spilno")
    meta, batches = read_back(tmp_path / "T.spilno")
    assert exported.batch_count > 1 and meta.entry_count == 400
    assert all(len(json.dumps(b.data)) <= MAX_BATCH_BYTES for b in batches)
    assert [b.first_seq for b in batches] == [1] + [b.last_seq + 1 for b in batches[:-1]]
