"""The sync API's paths in the OpenAPI document: what each device request sends, how it
is signed, and what it is answered (server.sync.openapi_schemas has the schemas;
server.api.openapi builds the whole)."""

from __future__ import annotations

from typing import Any

from server.api.openapi import EXTRA_PATHS
from server.api.openapi_parts import error_response, json_response, schema_ref

from .openapi_schemas import EPOCH_MS
from .statuses import MAX_STATUSES

SIGNED = (
    "Signed by the device: the X-Spilno-* headers come from sync.signed_requests.sign_request over "
    "the method, the path with `?query` when there is one, the SHA-256 of the body (empty for "
    "GET), the device code, the device's clock and its request counter. Device clocks may be hours off; the "
    "offset is recorded, not refused. 401 `device.signature` for an unknown device or a wrong "
    "signature, 403 `device.revoked` for a revoked one."
)


def _header(name: str, description: str, required: bool = True, pattern: str | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema}


SIGNATURE_HEADERS = [
    _header("X-Spilno-Device", "The device code, e.g. T-0001.", pattern="^[A-Z]-[0-9]{4,8}$"),
    _header("X-Spilno-Time", "The device's clock, epoch milliseconds.", pattern="^-?[0-9]{1,15}$"),
    _header("X-Spilno-Signature", "Base64 Ed25519 signature of the request."),
    _header(
        "X-Spilno-Request",
        "A counter that grows with every request the device sends, signed with it. A request "
        "whose counter is not above the newest seen is answered but does not update the "
        "device's recorded clock, last contact or backlog (a replay).",
        required=False,
        pattern="^[0-9]{1,18}$",
    ),
    _header(
        "X-Spilno-Last-Seq",
        "The newest entry in the device's log, signed with the request; with what the server "
        "holds it gives the backlog shown on the fleet page.",
        required=False,
        pattern="^[0-9]{1,18}$",
    ),
]
SERVER_TIME = {
    "X-Spilno-Server-Time": {"description": "The server's clock, epoch ms.", "schema": EPOCH_MS},
    "X-Spilno-Answer-Signature": {
        "description": "Ed25519 signature (base64) by the server's signing key over the canonical"
        ' JSON {"answer": 1, "request": H, "status": S, "body_sha256": B, "time_ms": T}, where H binds'
        " the answer to its request (sync.signed_answers.request_binding). A device acts on no answer"
        " without a valid one.",
        "schema": {"type": "string"},
    },
    "X-Spilno-Answer-Key": {
        "description": "The public key that signed the answer (base64), to tell a host with"
        " another signing key from a forgery.",
        "schema": {"type": "string"},
    },
}


def _ok(schema_name: str, description: str) -> dict:
    return json_response(schema_ref(schema_name), description, headers=SERVER_TIME)


def _signed_errors() -> dict:
    return {
        "401": error_response("`device.signature`: unknown device or wrong signature."),
        "403": error_response("`device.revoked`: the device is revoked."),
    }


EXTRA_PATHS.update(
    {
        "/api/v1/sync/enrol": {
            "post": {
                "operationId": "syncEnrol",
                "summary": "A device trades a one-time enrolment code for being known by its key",
                "description": "Not signed: the code is the credential. Codes expire after 24 hours "
                "and work once; enrolling again with a new code replaces the device's key.",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema_ref("SyncEnrolRequest")}},
                },
                "responses": {
                    "200": _ok("SyncEnrolment", "Enrolled."),
                    "400": error_response("The body is not JSON."),
                    "401": error_response("`enrolment.code_required`: no code given."),
                    "403": error_response(
                        "`enrolment.invalid`: unknown, used or expired code, or a revoked device."
                    ),
                    "415": error_response("The body is not sent as application/json."),
                    "422": error_response(
                        "Malformed request (`enrolment.malformed`, `.public_key`, `.software`)."
                    ),
                    "429": error_response(
                        "`enrolment.too_many_attempts`: too many codes tried from this address; "
                        "wait `retry_after` seconds (also the Retry-After header)."
                    ),
                },
            }
        },
        "/api/v1/sync/package": {
            "get": {
                "operationId": "syncPackage",
                "summary": "The community's newest package, signed by the server",
                "description": SIGNED + " The version grows whenever the community's cycles, "
                "categories or projects change.",
                "security": [],
                "parameters": [
                    *SIGNATURE_HEADERS,
                    {
                        "name": "have",
                        "in": "query",
                        "required": False,
                        "description": "The version the device has; 0 if none.",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
                "responses": {
                    "200": _ok("SyncPackageAnswer", "The newest version, and its envelope if newer."),
                    "400": error_response("`package.have` is not a whole number."),
                    **_signed_errors(),
                },
            }
        },
        "/api/v1/sync/log": {
            "get": {
                "operationId": "syncReadLog",
                "summary": "The device's own log as the server holds it",
                "description": SIGNED
                + " Entries from `from` on (at most 500), each as the device sent it (a damaged one as"
                " its evidence), with the newest stored checkpoint inside the page and the server's"
                " position. A store restored from an older copy learns what it lost, checks it"
                " against its own signatures and resumes.",
                "security": [],
                "parameters": [
                    *SIGNATURE_HEADERS,
                    {
                        "name": "from",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    },
                ],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "required": ["entries", "checkpoint", "acked_seq"],
                            "properties": {
                                "entries": {"type": "array", "maxItems": 500, "items": {"type": "object"}},
                                "checkpoint": {"type": ["object", "null"]},
                                "acked_seq": {"type": "integer", "minimum": 0},
                                "device_keys": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "description": "Every key the device enrolled with, the current "
                                    "one first: a store enrolled anew checks earlier checkpoints with them.",
                                },
                                "superseded": {"type": "boolean"},
                                "server_time_ms": {"type": "integer"},
                            },
                        },
                        "A page of the device's log.",
                        headers=SERVER_TIME,
                    ),
                    "400": error_response("`log.from` is not a whole number of at least 1."),
                    **_signed_errors(),
                },
            },
            "post": {
                "operationId": "syncPushLog",
                "summary": "Push consecutive entries of the device's hash-chained log",
                "description": SIGNED + " Entries are stored with their votes in one transaction "
                "and acknowledged only after it commits; the same batch again gets the same "
                "answer. A batch past a gap waits (`gap`: true) until the gap is filled. Every "
                "refusal below but 400/413/415/429 also raises an alarm for the moderators.",
                "security": [],
                "parameters": SIGNATURE_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema_ref("SyncLogBatch")}},
                },
                "responses": {
                    "200": _ok("SyncPushAnswer", "Stored (or already stored), or kept past a gap."),
                    "400": error_response("The body is not JSON."),
                    **_signed_errors(),
                    "409": error_response(
                        "`chain.conflict` (`seq`): an entry the server has, with other content; "
                        "`vote.conflict` (`conflicting_ids`): a vote id stored with other content."
                    ),
                    "413": error_response("The body is too large."),
                    "415": error_response("The body is not sent as application/json."),
                    "422": error_response(
                        "`batch.invalid` (`rule`), `entry.invalid` (`seq`, `rule`), `chain.broken` "
                        "(`seq`), `checkpoint.signature`. Nothing stored."
                    ),
                    "429": error_response("`sync.too_many_pending`: too many batches wait past a gap."),
                    "503": error_response("`sync.busy`: a concurrent delivery of the same vote; send again."),
                },
            },
        },
        "/api/v1/sync/statuses": {
            "get": {
                "operationId": "syncStatuses",
                "summary": "The current standing of the device's stored votes",
                "description": SIGNED + f" At most {MAX_STATUSES}, by seq; ask again from the last.",
                "security": [],
                "parameters": [
                    *SIGNATURE_HEADERS,
                    {
                        "name": "since_seq",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
                "responses": {
                    "200": _ok("SyncStatuses", "Statuses of vote entries after since_seq."),
                    "400": error_response("`statuses.since_seq` is not a whole number."),
                    **_signed_errors(),
                },
            }
        },
        "/api/v1/sync/voters": {
            "get": {
                "operationId": "syncVoters",
                "summary": "Who already has a counted vote in the community's open cycles",
                "description": SIGNED
                + " Increments by arrival; repeats are possible (keep them as a set). A terminal "
                "refuses a resident whose key is listed: they voted online or elsewhere.",
                "security": [],
                "parameters": [
                    *SIGNATURE_HEADERS,
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 60},
                    },
                ],
                "responses": {
                    "200": _ok("SyncVoted", "Voter keys and school codes with a counted vote."),
                    "400": error_response("`voters.since` is not a cursor this server gave."),
                    **_signed_errors(),
                },
            }
        },
        "/api/v1/sync/eligibility": {
            "get": {
                "operationId": "syncEligibility",
                "summary": "The community's list of residents who may vote, in increments",
                "description": SIGNED
                + " A device that holds nothing sends no `since` and gets the listed keys; "
                "afterwards it gets every change after its cursor. It applies the list only "
                "once it has read to the end (`more` false) with `enabled` true.",
                "security": [],
                "parameters": [
                    *SIGNATURE_HEADERS,
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 90},
                    },
                ],
                "responses": {
                    "200": _ok("SyncEligibility", "Changes of the eligibility list."),
                    "400": error_response("`eligibility.since` is not a cursor this server gave."),
                    **_signed_errors(),
                },
            }
        },
    }
)
