"""«Імпорт голосів з носія»: a community moderator uploads the bundle files a terminal
without a network exported to a USB stick, and sees what each one brought. The import
itself, with every check a push gets, is server.sync.bundle_import."""

from __future__ import annotations

import os
import shutil
import tempfile

from flask import current_app, render_template, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.auth.access import COMMUNITY_MANAGERS, current_user, roles_required, visible_community_ids
from server.i18n import _
from server.sync.bundle_import import DEFAULT_MAX_BYTES, BundleReport, bundle_text, import_bundle

from .views import bp, menu_item_after

ENDPOINT = "console.bundle_import"
MENU_LABEL = "Імпорт голосів з носія"
FIELD = "bundle"
MAX_FILES = 20  # sticks from a day's round of terminals; more is a mistake, not a job
# Room for the multipart boundaries, headers and the CSRF field around the files.
FORM_OVERHEAD_BYTES = 64 * 1024
COPY_CHUNK_BYTES = 1024 * 1024


def upload_limit() -> int:
    """The most a bundle may weigh (BUNDLE_MAX_BYTES, SPILNO_BUNDLE_MAX_BYTES)."""
    return int(current_app.config.get("BUNDLE_MAX_BYTES", DEFAULT_MAX_BYTES))


class BundleTooLarge(RequestEntityTooLarge):
    """An upload larger than the bundle limit, refused before a byte of it is read."""


@bp.url_value_preprocessor
def allow_bundle_upload(endpoint: str | None, _values: dict | None) -> None:
    # The app's 2 MB request limit would refuse any real bundle. Flask runs URL value
    # preprocessors before every before_request hook, and the CSRF check among those is
    # the first to read the form, so this is the one place to raise the limit for this
    # page alone. A declared size over it is refused here without reading anything.
    if endpoint != ENDPOINT or request.method != "POST":
        return
    limit = upload_limit() + FORM_OVERHEAD_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise BundleTooLarge()


@bp.errorhandler(BundleTooLarge)
def bundle_too_large(_error: BundleTooLarge):  # type: ignore[no-untyped-def]
    detail = bundle_text("bundle.too_large", limit_mb=upload_limit() // (1024 * 1024))
    return render_template("error.html", code=413, title=_("Завеликий запит"), detail=detail), 413


@bp.route("/bundles/import", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def bundle_import():  # type: ignore[no-untyped-def]
    errors: list[str] = []
    reports: list[BundleReport] = []
    if request.method == "POST":
        uploads = [f for f in request.files.getlist(FIELD) if f.filename]
        if not uploads:
            errors.append(bundle_text("bundle.no_file"))
        elif len(uploads) > MAX_FILES:
            errors.append(_("Не більше {count} файлів за раз.", count=MAX_FILES))
        else:
            reports = [_import_upload(upload) for upload in uploads]
    refused = bool(errors) or any(not r.ok for r in reports)
    return render_template(
        "console/bundle_import.html",
        errors=errors,
        reports=reports,
        limit_mb=upload_limit() // (1024 * 1024),
        max_files=MAX_FILES,
    ), (422 if refused else 200)


def _import_upload(upload: FileStorage) -> BundleReport:
    """Copy the upload to a file of its own (SQLite reads files, not streams) and import it."""
    user = current_user()
    assert user is not None
    name = " ".join((upload.filename or "").split())[:200]
    handle, temp_name = tempfile.mkstemp(prefix="spilno-bundle-", suffix=".sqlite")
    try:
        with os.fdopen(handle, "wb") as temp:
            shutil.copyfileobj(upload.stream, temp, COPY_CHUNK_BYTES)
        return import_bundle(
            db.session(),
            temp_name,
            scope=visible_community_ids(user),
            user=user,
            file_name=name,
            max_bytes=upload_limit(),
        )
    finally:
        os.unlink(temp_name)


# After the fleet page, where a moderator looks for a terminal's votes.
bp.record(menu_item_after(("console.fleet", "console.devices"), ENDPOINT, MENU_LABEL, COMMUNITY_MANAGERS))
