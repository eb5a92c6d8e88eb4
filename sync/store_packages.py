"""The signed packages a device received (every one kept: entries name the one they
were cast under) and the project photos the newest names."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sync.clock import system_clock_ms
from sync.package_parser import parse_package
from sync.packages import StoredPackage, accept_package, verified_photos
from sync.store_identity import StoreIdentity


class StorePackages(StoreIdentity):
    def store_package(self, envelope: Any, now_ms: int | None = None, photos: Any = None) -> StoredPackage:
        """Keep a package only if the server's key signed it, it is for our community and
        it is newer than ours (ProtocolError otherwise, and the current one stays), with
        the photos sent beside it that it names by digest (sync.packages.verified_photos).
        A signed package that does not follow the package contract is refused too
        (sync.package_parser.PackageError), before anything is written."""
        identity = self.require_identity()
        with self._write() as db:
            current = self._current_package(db)
            package = accept_package(
                envelope, server_key=identity.server_key, community_id=identity.community_id, current=current
            )
            if package is None:
                assert current is not None
                return current
            content = parse_package(package)
            db.execute(
                "INSERT INTO package VALUES (?, ?, ?, ?)",
                (
                    content.version,
                    json.dumps(envelope),
                    envelope["package"],
                    system_clock_ms() if now_ms is None else now_ms,
                ),
            )
            kept = verified_photos(content, photos)
            db.executemany(
                "INSERT OR IGNORE INTO photo (sha256, data) VALUES (?, ?)",
                [(digest, data) for digest, data in kept.items()],
            )
            db.execute("CREATE TEMP TABLE IF NOT EXISTS photo_named (sha256 TEXT PRIMARY KEY)")
            db.execute("DELETE FROM photo_named")
            db.executemany(
                "INSERT OR IGNORE INTO photo_named VALUES (?)", [(d,) for d in content.photo_digests()]
            )
            db.execute("DELETE FROM photo WHERE sha256 NOT IN (SELECT sha256 FROM photo_named)")
        return StoredPackage(content.version, envelope, package, content)

    def photo(self, sha256: str) -> bytes | None:
        """A project photo the current package names, as the server made it (a JPEG)."""
        row = self._db().execute("SELECT data FROM photo WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row else None

    _package_read: tuple[tuple[int, int], StoredPackage] | None

    def package(self) -> StoredPackage | None:
        """The newest package. A terminal asks on every request, so the JSON is read,
        checked and parsed again only when the newest row changed (this process or the
        sync worker stored a newer one): a package of a few hundred projects costs
        milliseconds to parse, a row's version and time a lookup."""
        db = self._db()
        row = db.execute("SELECT version, stored_at_ms FROM package ORDER BY version DESC LIMIT 1").fetchone()
        if row is None:
            return None
        read = self._package_read
        if read is not None and read[0] == (row[0], row[1]):
            return read[1]
        stored = self._current_package(db)
        if stored is not None and stored.version == row[0]:
            self._package_read = ((row[0], row[1]), stored)
        return stored

    @staticmethod
    def _current_package(db: sqlite3.Connection) -> StoredPackage | None:
        row = db.execute(
            "SELECT version, envelope_json, package_json FROM package ORDER BY version DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        # Kept as the server signed it; read again on every load, so a package stored by
        # a release before the reader was is refused here, not on a page.
        package = json.loads(row[2])
        return StoredPackage(row[0], json.loads(row[1]), package, parse_package(package))

    def package_version(self) -> int:
        return self._number("SELECT COALESCE(MAX(version), 0) FROM package")
