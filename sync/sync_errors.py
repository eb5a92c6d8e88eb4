"""Why a sync exchange did not complete: the server unreachable, or a refusal typed by
its HTTP status."""

from __future__ import annotations


class SyncError(Exception):
    """Sync did not complete. `code` names why, for logs and the maintenance screen."""

    def __init__(self, code: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status


class SyncUnavailable(SyncError):
    """No usable answer from the server after every retry: try again later."""


class SyncRefused(SyncError):
    """The server answered 4xx. Sending the same request again would be refused again."""


class DeviceRefused(SyncRefused):
    """401/403: the server does not accept this device (unknown, revoked, bad enrolment code)."""


class LogConflict(SyncRefused):
    """409: our log or a vote id disagrees with what the server stored. An alarm for a person."""


class LogRejected(SyncRefused):
    """422: the server found our chain broken or an entry invalid."""


REFUSALS: dict[int, type[SyncRefused]] = {
    401: DeviceRefused,
    403: DeviceRefused,
    409: LogConflict,
    422: LogRejected,
}
