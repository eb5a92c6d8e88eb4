"""Pushing the device log up, exactly once: entries are marked sent only from the
server's answer naming the hash of the last one it stored, so a lost answer just means
the same batch goes again and is acknowledged again. A store behind the server's copy
of its own log resumes from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync import log_batches, log_entries, signing, wire
from sync.crash import crash_point
from sync.http_transport import MAX_REQUEST_BYTES
from sync.signed_exchange import SignedExchange
from sync.store_log import AckMismatch
from sync.sync_errors import LogConflict, SyncError

# Conflicts that mean this store is an older copy of its own log (SyncClient.resume).
RESUMABLE = frozenset({"chain.conflict", "ack.unknown_seq"})


@dataclass(frozen=True, slots=True)
class PushResult:
    sent: int  # entries sent (0: nothing was pending)
    acked_seq: int  # the server's acknowledged position afterwards
    statuses: int  # statuses learned with the answer
    backlog: int  # entries still waiting
    gap: bool = False  # the server is missing entries before the ones we sent
    server_acked_seq: int | None = None  # the server's own position, from its answer


@dataclass(frozen=True, slots=True)
class ResumeResult:
    fetched: int  # entries of our log taken from the server
    moved_aside: int  # local entries that differed, kept in log_diverged
    relogged: int  # of their votes, logged again as new entries


class LogPush(SignedExchange):
    def push_once(
        self, batch_size: int = log_batches.MAX_BATCH_ENTRIES, from_seq: int | None = None
    ) -> PushResult:
        """Send the oldest unsent entries as one signed batch (or, with `from_seq`,
        entries from there on, sent before: to refill a server that lost them)."""
        limit = min(batch_size, log_batches.MAX_BATCH_ENTRIES)
        entries = self.store.pending(limit) if from_seq is None else self.store.entries_from(from_seq, limit)
        if not entries:
            return PushResult(0, self.store.acked_seq(), 0, 0)
        identity, key = self.store.require_identity(), self.store.private_key()
        # Damaged entries go as evidence in their places; the intact ones after them still link.
        self.store.damaged_entries(entries, self.clock())
        body = wire.canonical_json(log_batches.make_batch(key, identity.device, entries))
        while len(body) > MAX_REQUEST_BYTES and len(entries) > 1:  # only with very long votes
            entries = entries[: len(entries) // 2]
            body = wire.canonical_json(log_batches.make_batch(key, identity.device, entries))
        with self._recording_errors():
            answer, data = self._signed("POST", "/log", body)
            # A fault drill may kill the device here: the server committed, nothing is marked.
            crash_point("after_answer_before_mark")
            acked_seq, acked_hash, gap = data.get("acked_seq"), data.get("acked_hash"), data.get("gap")
            statuses = data.get("statuses") or []
            if (
                type(acked_seq) is not int
                or acked_seq < 0
                or type(gap) is not bool
                or not isinstance(statuses, list)
            ):
                raise SyncError("response.shape", f"log answer {data!r:.200}")
            if acked_seq > 0:
                self.store.mark_acked(acked_seq, acked_hash)
            learned = self.store.save_statuses(statuses, self.clock())
            if data.get("revoked") is True:  # signed: votes taken for review, no more may come
                self._note_revoked()
            if data.get("superseded") is True:  # signed: the device was enrolled on another store
                self._note_superseded()
        backlog = self.store.backlog_count()
        if gap:
            # The server lacks entries before the ones we sent: it lost data (restored
            # from a backup), or this store is newer than the server's copy. push_all
            # sends them again from the server's position; until it manages, the gap
            # stays on the maintenance screen.
            self.store.record_sync_error(
                f"sync.gap: the server holds our log up to {acked_seq}, we sent from {entries[0].seq}",
                answer.received_ms,
            )
            return PushResult(len(entries), self.store.acked_seq(), learned, backlog, True, acked_seq)
        self.store.record_sync_success(answer.received_ms)
        return PushResult(len(entries), self.store.acked_seq(), learned, backlog, False, acked_seq)

    def resume(self) -> ResumeResult:
        """This store is behind the server's copy of its own log (restored from an older
        backup, or a copy whose twin sent first): read the server's entries from our
        acknowledged position on, check that they continue our chain and that our own
        key signed their checkpoint, take them in place of what we hold at those seqs,
        and log our diverged votes again after them. Nothing is lost: every vote of
        ours the server lacks is sent as a new entry."""
        identity, key = self.store.require_identity(), self.store.private_key()
        ours = signing.public_key_b64(key)
        from_seq, fetched, moved = self.store.acked_seq() + 1, 0, 0
        others: list[str] = []
        with self._recording_errors():
            for _ in range(100_000 // log_batches.MAX_BATCH_ENTRIES + 1):  # bounded: a million entries
                _, data = self._signed("GET", "/log", query={"from": from_seq})
                raw, checkpoint, server_acked = (
                    data.get("entries"),
                    data.get("checkpoint"),
                    data.get("acked_seq"),
                )
                if not isinstance(raw, list) or type(server_acked) is not int:
                    raise SyncError("response.shape", f"log answer {data!r:.200}")
                # The keys of this device's other enrolments, from the server's signed
                # answer: a store enrolled anew takes back what its predecessor signed.
                others = _device_keys(data.get("device_keys"), ours)
                if not raw:
                    break
                entries = [log_entries.read_any_entry(e) for e in raw]
                previous = (
                    log_entries.genesis_hash(identity.device)
                    if from_seq == 1
                    else self.store.recorded_hash(from_seq - 1)
                )
                log_entries.check_chain(entries, identity.device, from_seq - 1, previous)
                if not isinstance(checkpoint, dict) or type(checkpoint.get("seq")) is not int:
                    raise SyncError("resume.unsigned", f"no checkpoint among entries {from_seq}..")
                at = checkpoint["seq"] - from_seq
                signed = log_batches.checkpoint_bytes(
                    identity.device, checkpoint["seq"], str(checkpoint.get("hash"))
                )
                if not (
                    0 <= at < len(entries)
                    and entries[at].entry_hash() == checkpoint.get("hash")
                    and any(signing.verify(k, signed, checkpoint.get("signature")) for k in [ours, *others])
                ):
                    raise SyncError(
                        "resume.signature", f"entries {from_seq}.. are not vouched for by our key"
                    )
                moved += self.store.adopt_server_entries(entries[: at + 1], self.clock())
                fetched += at + 1
                from_seq = checkpoint["seq"] + 1
                if checkpoint["seq"] >= server_acked:
                    break
            relogged = self.store.relog_diverged()
        self.store.raise_alarm(
            "log.resumed",
            f"this store was behind the server's copy of its log (restored from an older copy?):"
            f" {fetched} entries taken from the server, {moved} moved aside, {relogged} votes logged again",
            self.clock(),
        )
        return ResumeResult(fetched, moved, relogged)

    def catch_up_with_server(self) -> ResumeResult | None:
        """Ask whether the server holds more of our own log than we do (this store was
        restored from an older copy and has nothing new to push, so no push would have
        told us); resume if it does. One small signed request a round."""
        with self._recording_errors():
            _, data = self._signed("GET", "/log", query={"from": self.store.last_seq() + 1})
        if isinstance(data.get("entries"), list) and data["entries"]:
            return self.resume()
        return None

    def push_all(self, batch_size: int = log_batches.MAX_BATCH_ENTRIES) -> PushResult:
        """Push batch after batch until nothing is pending. When the server reports a
        gap, send our log again from the server's position (we keep every entry), which
        fills the hole and lets the server apply what it set aside. Stops when the
        server takes nothing more (errors propagate)."""
        sent = learned = 0
        result = PushResult(0, self.store.acked_seq(), 0, self.store.backlog_count())
        resend_from: int | None = None
        server_was = -1
        resumed = False
        while result.backlog or resend_from is not None:
            try:
                result = self.push_once(batch_size, from_seq=resend_from)
            except (LogConflict, AckMismatch) as conflict:
                # The server holds other entries of our own log at these seqs, signed by
                # our key, or more of it than we have: this store is an older copy. Once
                # per round, resume behind the server and go on; a second conflict is
                # for a person.
                if resumed or getattr(conflict, "code", "") not in RESUMABLE:
                    raise
                resumed = True
                self.resume()
                resend_from, server_was = None, -1
                result = PushResult(0, self.store.acked_seq(), 0, self.store.backlog_count())
                continue
            sent, learned = sent + result.sent, learned + result.statuses
            server_at = result.server_acked_seq
            if result.sent == 0 or server_at is None or server_at <= server_was:
                break  # the server took nothing: do not spin
            server_was = server_at
            behind = result.gap or server_at < self.store.acked_seq()
            resend_from = server_at + 1 if behind else None
        return PushResult(
            sent, result.acked_seq, learned, result.backlog, result.gap, result.server_acked_seq
        )


def _device_keys(raw: Any, ours: str) -> list[str]:
    """The other keys a signed log answer names for this device (at most 21, each a
    well-formed Ed25519 key); anything else in the list is ignored."""
    if not isinstance(raw, list):
        return []
    keys = []
    for item in raw[:21]:
        if isinstance(item, str) and item != ours:
            try:
                keys.append(signing.public_key_b64(signing.load_public_key(item)))
            except (wire.ProtocolError, ValueError, TypeError):
                continue
    return keys
