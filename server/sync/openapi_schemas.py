"""The sync API's schemas in the OpenAPI document: enrolment, packages, a device's log
and its answers, statuses, voters and the eligibility list (server.sync.openapi has the
paths; server.api.openapi builds the whole)."""

from __future__ import annotations

from typing import Any

from server.api.openapi import EXTRA_SCHEMAS
from server.api.openapi_parts import schema_ref
from sync.log_batches import MAX_BATCH_ENTRIES

from .statuses import MAX_STATUSES

HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
SEQ = {"type": "integer", "minimum": 1}
EPOCH_MS = {"type": "integer", "description": "Milliseconds since 1970-01-01 UTC, by the server's clock."}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties, **extra}


COMMUNITY = _object({"id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"}})
STATUS = _object(
    {
        "seq": SEQ,
        "vote_id": {"type": ["string", "null"], "format": "uuid"},
        "status": {"type": ["string", "null"], "enum": ["counted", "duplicate", "invalid", None]},
        "reason": {"type": ["string", "null"]},
        "counted_vote_id": {"type": ["string", "null"], "format": "uuid"},
    }
)

EXTRA_SCHEMAS.update(
    {
        "SyncEnrolRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "public_key"],
            "properties": {
                "code": {
                    "type": "string",
                    "maxLength": 64,
                    "description": "The one-time code from the console, as typed: K7QM-2XPD-9RTA; "
                    "case, spaces and dashes are ignored. Without it: 401.",
                },
                "public_key": {"type": "string", "description": "Base64 of the raw 32-byte Ed25519 key."},
                "software": {"type": "string", "maxLength": 100},
            },
        },
        "SyncEnrolment": _object(
            {
                "device": {"type": "string", "examples": ["T-0001"]},
                "kind": {"type": "string", "enum": ["terminal", "support_point"]},
                "community": COMMUNITY,
                "server_key": {"type": "string", "description": "Base64 Ed25519 key that signs packages."},
                "server_time_ms": EPOCH_MS,
            }
        ),
        "SyncEnvelope": _object(
            {
                "package": {
                    "type": "string",
                    "description": "The package as the exact canonical JSON text that was signed: "
                    "format, version, issued_at, community, server_key, voter_key_secret and the "
                    "cycles whose voting has not ended, with categories and admitted projects (with "
                    "their address, budget breakdown and photos' digests and descriptions, when given).",
                },
                "signature": {"type": "string"},
                "key": {"type": "string"},
            }
        ),
        "SyncPackageAnswer": _object(
            {
                "envelope": {
                    "oneOf": [schema_ref("SyncEnvelope"), {"type": "null"}],
                    "description": "null when `have` is already the newest version.",
                },
                "photos": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "contentEncoding": "base64"},
                    "description": "The project photos the package names (its projects' "
                    "`photos[].sha256`), SHA-256 hex -> base64 JPEG; empty without an envelope. "
                    "A device keeps a photo only when its bytes have the digest the signed "
                    "package gives. All of one package's photos are at most 6 MB.",
                },
                "version": {"type": "integer", "minimum": 1},
                "server_time_ms": EPOCH_MS,
            }
        ),
        "SyncLogEntry": _object(
            {
                "device": {"type": "string"},
                "seq": SEQ,
                "kind": {"type": "string", "enum": ["vote", "poll_answer"]},
                "payload": {
                    "type": "object",
                    "description": "A vote: VoteRecord.canonical_body(). A poll answer: "
                    "PollAnswerRecord.canonical_body() (docs/polls.md).",
                },
                "package_version": {"type": "integer", "minimum": 0},
                "clock_offset_ms": {"type": "integer"},
                "prev_hash": HEX64,
            },
            additionalProperties=False,
        ),
        "SyncLogBatch": _object(
            {
                "protocol": {"const": 1},
                "device": {"type": "string"},
                "entries": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_BATCH_ENTRIES,
                    "items": schema_ref("SyncLogEntry"),
                },
                "checkpoint": _object({"seq": SEQ, "hash": HEX64, "signature": {"type": "string"}}),
            },
            additionalProperties=False,
        ),
        "SyncEntryStatus": STATUS,
        "SyncPushAnswer": _object(
            {
                "acked_seq": {"type": "integer", "minimum": 0},
                "acked_hash": HEX64,
                "gap": {
                    "type": "boolean",
                    "description": "true: the batch starts after a gap; it is kept and applied "
                    "when the missing entries arrive. acked_seq is unchanged.",
                },
                "statuses": {"type": "array", "items": schema_ref("SyncEntryStatus")},
                "revoked": {
                    "type": "boolean",
                    "description": "true: the device is revoked; its votes are held, it must take no more.",
                },
                "superseded": {
                    "type": "boolean",
                    "description": "true: signed by an earlier enrolment's key; this store's new votes "
                    "are held and it must take no more (the device was enrolled again).",
                },
                "server_time_ms": EPOCH_MS,
            }
        ),
        "SyncStatuses": _object(
            {
                "statuses": {
                    "type": "array",
                    "maxItems": MAX_STATUSES,
                    "items": schema_ref("SyncEntryStatus"),
                },
                "server_time_ms": EPOCH_MS,
            }
        ),
        "SyncEligibility": _object(
            {
                "enabled": {
                    "type": "boolean",
                    "description": "Whether the community's list applies: only listed keys may vote.",
                },
                "version": {"type": "integer", "description": "The list's newest change."},
                "listed": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "description": "Voter keys put on the list.",
                },
                "unlisted": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "description": "Voter keys taken off the list.",
                },
                "districts": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "maxLength": 100},
                    "description": (
                        "Where the list places this page's listed residents (voter key: district),"
                        " for district categories; a listed key not named here lives in none."
                    ),
                },
                "cursor": {
                    "type": "string",
                    "description": "Send it back as `since` for the next increment.",
                },
                "more": {"type": "boolean", "description": "true: ask again at once, there is more."},
                "server_time_ms": EPOCH_MS,
            }
        ),
        "SyncVoted": _object(
            {
                "voted": {
                    "type": "array",
                    "items": _object(
                        {
                            "cycle_id": {"type": "integer"},
                            "voter_keys": {
                                "type": "array",
                                "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            },
                        }
                    ),
                },
                "voted_codes": {
                    "type": "array",
                    "items": _object(
                        {
                            "cycle_id": {"type": "integer"},
                            "code_ids": {"type": "array", "items": {"type": "string"}},
                        }
                    ),
                },
                "cursor": {
                    "type": "string",
                    "description": "Send it back as `since` for the next increment.",
                },
                "more": {"type": "boolean", "description": "true: ask again at once, there is more."},
                "server_time_ms": EPOCH_MS,
            }
        ),
    }
)
