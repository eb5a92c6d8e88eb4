"""The sync API under /api/v1/sync: terminals and support points enrol, pull signed
packages, push their signed logs and read their votes' standings.

Views only parse, call a service and render; every answer is JSON, errors too, and
carries X-Spilno-Server-Time so a device can learn its clock's offset even from a refusal,
and every answer is signed (sync.signed_answers.sign_answer) and bound to its request.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from server import db
from server.api.responses import use_request_locale
from server.auth.throttle import refund, take
from server.errors import TITLES
from server.i18n import _
from server.models import Community, Device, utcnow
from server.services import eligibility
from sync import signed_answers, wire

from . import alarms
from .alarm_texts import text_of
from .auth import Contact, authenticate_device, epoch_ms, is_revoked, note_contact, signed_path
from .device_keys import device_keys
from .enrolment import enrol_limit, read_enrol_request, redeem_code
from .ingest import accept_batch, refuse_revoked_push, refuse_superseded
from .keys import load_signing_key, server_public_key, signing_key
from .log_copy import MAX_ENTRIES as MAX_LOG_ENTRIES
from .log_copy import entries_page
from .packages import body_hash, current_package, package_photos
from .refusals import SyncRefused, sync_text
from .statuses import statuses_since
from .voters import BadCursor, voted_since

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync")
_COUNTER = re.compile(r"[0-9]{1,18}")


@bp.before_request
def choose_language() -> None:
    use_request_locale()


@bp.after_request
def sign_answer(response: Response) -> Response:
    """Every answer, errors included, carries the server's clock and the server's
    signature over it, its status and its body, bound to the request it answers: a
    device acts on nothing else (a proxy's forged acknowledgement or clock is refused)."""
    body = response.get_data()
    request_signature = request.headers.get("X-Spilno-Signature")
    try:
        sent = b"" if request_signature else request.get_data(cache=True)
    except RequestEntityTooLarge:
        sent = b""  # an oversized enrolment: its refusal binds to nothing the device sent
    binding = signed_answers.request_binding(request_signature, sent)
    response.headers.update(
        signed_answers.sign_answer(signing_key(), binding, response.status_code, body, epoch_ms(utcnow()))
    )
    return response


def _error(
    status: int, code: str, message: str, extra: dict | None = None, headers: dict | None = None
) -> Response:
    response = jsonify(error={"status": status, "code": code, "message": message, **(extra or {})})
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(SyncRefused)
def refused(error: SyncRefused) -> Response:
    return _error(error.status, error.code, sync_text(error.code), error.extra, error.headers)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error_: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return _error(413, "request_entity_too_large", sync_text("request_entity_too_large", limit=limit))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    code = error.code or 400
    return _error(code, error.name.lower().replace(" ", "_"), _(TITLES.get(code, error.name)))


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"seq": 1, "seq": 2} reads differently in different parsers; the hash would not
    # say which one the device meant. Called for every object of a batch (a thousand a
    # push), so the check is dict() and a length comparison, both in C.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_body(raw: bytes) -> Any:
    if request.mimetype != "application/json":
        raise SyncRefused(415, "unsupported_media_type")
    try:
        return json.loads(raw, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    # ValueError: bad syntax or UTF-8, huge integers; RecursionError: hostile nesting.
    except (ValueError, RecursionError):
        raise SyncRefused(400, "malformed_json") from None


def _counter_arg(name: str, code: str) -> int:
    raw = request.args.get(name, "0")
    if not _COUNTER.fullmatch(raw):
        raise SyncRefused(400, code)
    return int(raw)


def _signed_device() -> tuple[Device, Contact]:
    session = db.session()
    try:
        return authenticate_device(
            session,
            request.headers,
            method=request.method,
            path=signed_path(request.script_root + request.path, request.query_string),
            body=request.get_data(cache=True),
            now=utcnow(),
        )
    except SyncRefused:
        session.rollback()
        _note_forged_request(session)
        raise


def _note_forged_request(session: Any) -> None:
    """A request in a device's name that its key did not sign: a log line always, and
    an alarm for the device's community when the code names a device (counted up on
    one open alarm per device and route, so a flood cannot bury the fleet page)."""
    code = request.headers.get("X-Spilno-Device", "")[:20]
    named = wire.DEVICE_CODE.fullmatch(code) is not None
    current_app.logger.warning(
        "sync: refused a request not signed by a device key (device %r, %s %s, from %s)",
        code if named else "?",
        request.method,
        request.path[:100],
        request.remote_addr,
    )
    device = session.scalar(select(Device).where(Device.code == code)) if named else None
    if device is None:
        return
    alarms.raise_alarm(
        session,
        community_id=device.community_id,
        source=device.code,
        kind=alarms.FORGED_REQUEST,
        text=text_of("device.forged_request", code=device.code),
        details={"route": f"{request.method} {request.path[:100]}"},
        now=utcnow(),
    )
    session.commit()


def _refuse_if_revoked(device: Device, contact: Contact) -> None:
    # Any request from a revoked device is refused with an alarm, not only pushes: a
    # revoked terminal's ordinary sync round starts by asking for the package.
    if is_revoked(device):
        refuse_revoked_push(db.session(), device, contact)
    if contact.superseded:
        # A store the device was enrolled past: it may deliver what it holds and read
        # its log back, nothing more; the refusal tells it to take no more votes.
        refuse_superseded(db.session(), device, contact)


@bp.post("/enrol")
def enrol() -> Response:
    enrol_request = read_enrol_request(_json_body(request.get_data(cache=True)))
    session = db.session()
    now = utcnow()
    # Counted before the code is looked at, committed at once: simultaneous guesses
    # cannot slip past the limit. A code that works is given back to the address.
    rule, address = enrol_limit(current_app.config, request.remote_addr or "")
    verdict = take(session, [(rule, address)], now)
    session.commit()
    if not verdict.allowed:
        wait = str(verdict.wait_seconds)
        raise SyncRefused(
            429,
            "enrolment.too_many_attempts",
            extra={"retry_after": verdict.wait_seconds},
            headers={"Retry-After": wait},
        )
    try:
        enrolled = redeem_code(session, enrol_request, now)
        refund(session, rule, address, now)
        answer = {
            "device": enrolled.device.code,
            "kind": enrolled.device.kind,
            "community": {
                "id": enrolled.community.id,
                "slug": enrolled.community.slug,
                "name": enrolled.community.name,
            },
            "server_key": server_public_key(),
        }
        session.commit()
    except SyncRefused:
        session.rollback()
        raise
    return jsonify(**answer, server_time_ms=epoch_ms(utcnow()))


@bp.get("/package")
def package() -> Response:
    device, contact = _signed_device()
    _refuse_if_revoked(device, contact)
    have = _counter_arg("have", "package.have")
    if have >= 2**31 - 1:  # versions are 32-bit in the database; no honest device gets near
        raise SyncRefused(400, "package.have")
    digest = request.args.get("digest", "")
    if digest and not wire.HEX64.fullmatch(digest):
        raise SyncRefused(400, "package.digest")
    session = db.session()
    community = session.get(Community, device.community_id)
    assert community is not None
    options = {
        "signing_key": signing_key(),
        "master_secret": current_app.config["VOTER_KEY_SECRET_BYTES"],
        "now": contact.now,
    }
    newest = current_package(session, community, **options)
    if have > newest.version or (have == newest.version and digest and digest != body_hash(newest.body)):
        # The device holds a version this server never issued (or other content under
        # this number): the server was restored from a backup. The device refuses
        # anything not newer than what it holds, so the current content goes out under
        # a number above it, and the moderators are told.
        newest = current_package(session, community, above=have, **options)
        alarms.raise_alarm(
            session,
            community_id=device.community_id,
            source=device.code,
            kind=alarms.PACKAGE_AHEAD,
            text=text_of("package.ahead", code=device.code, have=have, issued=newest.version),
            details={"device_version": have, "issued_version": newest.version},
            now=contact.now,
        )
    # What the device holds now; its next request says whether it took the newer one.
    device.package_version = have
    note_contact(device, contact)
    session.commit()
    envelope = None if have == newest.version else newest.envelope(signing_key())
    # The photos the package names, by digest, beside it (server.sync.packages).
    photos = package_photos(session, newest.body) if envelope is not None else {}
    return jsonify(
        envelope=envelope, photos=photos, version=newest.version, server_time_ms=epoch_ms(utcnow())
    )


@bp.get("/voters")
def voters() -> Response:
    device, contact = _signed_device()
    _refuse_if_revoked(device, contact)
    session = db.session()
    try:
        page = voted_since(session, device.community_id, request.args.get("since", ""), contact.now)
    except BadCursor:
        raise SyncRefused(400, "voters.since") from None
    note_contact(device, contact)
    session.commit()
    return jsonify(
        voted=[{"cycle_id": c, "voter_keys": keys} for c, keys in sorted(page.cycle_voters.items())],
        voted_codes=[{"cycle_id": c, "code_ids": ids} for c, ids in sorted(page.cycle_codes.items())],
        cursor=page.cursor,
        more=page.more,
        server_time_ms=epoch_ms(utcnow()),
    )


@bp.get("/eligibility")
def eligibility_changes() -> Response:
    device, contact = _signed_device()
    _refuse_if_revoked(device, contact)
    session = db.session()
    try:
        page = eligibility.changes_since(session, device.community_id, request.args.get("since", ""))
    except eligibility.BadCursor:
        raise SyncRefused(400, "eligibility.since") from None
    note_contact(device, contact)
    session.commit()
    return jsonify(
        enabled=page.enabled,
        version=page.version,
        listed=page.listed,
        unlisted=page.unlisted,
        districts=page.districts,
        cursor=page.cursor,
        more=page.more,
        server_time_ms=epoch_ms(utcnow()),
    )


@bp.post("/log")
def push_log() -> Response:
    device, contact = _signed_device()
    session = db.session()
    # A revoked device's votes are still taken (verified, then held for a moderator):
    # refusing them lost the honest votes it had thanked residents for. Its answer
    # says it is revoked, so it takes no more.
    batch = _json_body(request.get_data(cache=True))
    answer = accept_batch(session, device, batch, contact)
    return jsonify(**answer.as_dict(), server_time_ms=epoch_ms(utcnow()))


@bp.get("/log")
def read_log() -> Response:
    """The device's own log as stored here, from `from` on: for a store restored from an
    older copy to learn what it lost (sync.resume). Open to a revoked device as well:
    it holds nothing the device did not send."""
    device, contact = _signed_device()
    from_seq = _counter_arg("from", "log.from")
    if from_seq < 1:
        raise SyncRefused(400, "log.from")
    session = db.session()
    page = entries_page(session, device.id, device.code, from_seq, MAX_LOG_ENTRIES)
    # Every key this device has signed with: a store enrolled anew takes back entries an
    # earlier key signed, on the strength of this signed answer.
    keys = [key.public_key for key in device_keys(session, device)]
    note_contact(device, contact)
    session.commit()
    return jsonify(
        **page,
        acked_seq=device.acked_seq,
        device_keys=keys,
        superseded=contact.superseded,
        server_time_ms=epoch_ms(utcnow()),
    )


@bp.get("/statuses")
def statuses() -> Response:
    # Open to a revoked device too: it must learn what became of its held votes.
    device, contact = _signed_device()
    since_seq = _counter_arg("since_seq", "statuses.since_seq")
    session = db.session()
    found = statuses_since(session, device.id, since_seq)
    note_contact(device, contact)
    session.commit()
    return jsonify(statuses=[s.as_dict() for s in found], server_time_ms=epoch_ms(utcnow()))


def init_app(app: Flask) -> None:
    load_signing_key(app)
    app.register_blueprint(bp)


# The OpenAPI description of these routes joins the API's document when imported.
from . import openapi as _openapi  # noqa: E402,F401
from . import openapi_schemas as _openapi_schemas  # noqa: E402,F401
