"""What a device reads from the server: the newest package, its votes' statuses, who
has voted elsewhere, and the community's eligibility list."""

from __future__ import annotations

from sync.packages import package_digest
from sync.signed_exchange import SignedExchange
from sync.sync_errors import SyncError

STATUS_PAGE = 1000  # the server answers at most this many statuses per request


class ServerPulls(SignedExchange):
    def pull_package(self) -> int | None:
        """Fetch and store a newer package; its version, or None when ours is newest."""
        held = self.store.package()
        query: dict[str, int | str] = {"have": held.version if held else 0}
        if held is not None:
            # With the version, what it holds: a server restored from a backup can then
            # see a number it issued again with other content, and issue a newer one.
            query["digest"] = package_digest(held.package)
        with self._recording_errors():
            _, data = self._signed("GET", "/package", query=query)
            envelope = data.get("envelope")
            if envelope is None:
                return None
            # Photos come beside the envelope, checked against the digests it signs.
            return self.store.store_package(envelope, photos=data.get("photos")).version

    def refresh_statuses(self, since_seq: int | None = None) -> int:
        """Ask for statuses of acknowledged votes after `since_seq` (default: from the
        oldest one we do not know yet); returns how many were stored."""
        if since_seq is None:
            first_unknown = self.store.first_unknown_status_seq()
            if first_unknown is None:
                return 0
            since_seq = first_unknown - 1
        learned = 0
        with self._recording_errors():
            while True:
                _, data = self._signed("GET", "/statuses", query={"since_seq": since_seq})
                page = data.get("statuses")
                if not isinstance(page, list):
                    raise SyncError("response.shape", f"statuses answer {data!r:.200}")
                learned += self.store.save_statuses(page, self.clock())
                if len(page) < STATUS_PAGE or page[-1]["seq"] <= since_seq:
                    return learned
                since_seq = page[-1]["seq"]

    def pull_voters(self, max_pages: int = 100) -> int:
        """Learn who has voted elsewhere since the last time; how many pairs arrived.
        Pages are bounded so one round never holds more than a page in memory."""
        learned = 0
        with self._recording_errors():
            for _ in range(max_pages):
                _, data = self._signed("GET", "/voters", query={"since": self.store.voters_cursor()})
                cursor, more = data.get("cursor"), data.get("more")
                groups, code_groups = data.get("voted") or [], data.get("voted_codes") or []
                if not isinstance(cursor, str) or type(more) is not bool:
                    raise SyncError("response.shape", f"voters answer {data!r:.200}")
                pairs = [(g["cycle_id"], f"key:{k}") for g in groups for k in g["voter_keys"]]
                pairs += [(g["cycle_id"], f"code:{c}") for g in code_groups for c in g["code_ids"]]
                self.store.add_voted_elsewhere(pairs, cursor)
                learned += len(pairs)
                if not more:
                    break
        return learned

    def pull_eligibility(self, max_pages: int = 200) -> int:
        """Read the community's eligibility list's changes since the last time; how many
        keys changed. A page is taken whole or not at all; a list the server started
        again (its version is behind our cursor, as after a restore) is read anew."""
        changed = 0
        eligibility = self.store.eligibility
        with self._recording_errors():
            for _ in range(max_pages):
                cursor = eligibility.state().cursor
                _, data = self._signed("GET", "/eligibility", query={"since": cursor})
                enabled, version = data.get("enabled"), data.get("version")
                listed, unlisted = data.get("listed"), data.get("unlisted")
                districts = data.get("districts", {})
                next_cursor, more = data.get("cursor"), data.get("more")
                if (
                    type(enabled) is not bool
                    or type(version) is not int
                    or not isinstance(listed, list)
                    or not isinstance(unlisted, list)
                    or not isinstance(districts, dict)
                    or not isinstance(next_cursor, str)
                    or type(more) is not bool
                ):
                    raise SyncError("response.shape", f"eligibility answer {data!r:.200}")
                if version < _cursor_version(cursor):
                    eligibility.reset()
                    continue
                try:
                    eligibility.apply_page(
                        enabled=enabled,
                        version=version,
                        listed=listed,
                        unlisted=unlisted,
                        cursor=next_cursor,
                        more=more,
                        districts=districts,
                    )
                except ValueError as exc:
                    raise SyncError("response.shape", str(exc)) from None
                changed += len(listed) + len(unlisted)
                if not more:
                    break
        return changed


def _cursor_version(cursor: str) -> int:
    """The list version an eligibility cursor ("<version>:<key>") stands at; 0 for none."""
    head = cursor.split(":", 1)[0]
    return int(head) if head.isdigit() and len(head) <= 18 else 0
