"""«Імпорт голосів з носія»: a community moderator uploads the bundle files a terminal
without a network exported to a USB stick, and sees what each one brought. Each bundle
is a background job (server.jobs.kinds.bundle_import) whose page shows the batches
read; a file that is no bundle of the user's communities is refused at once. The
import itself, with every check a push gets, is server.sync.bundle_import."""

from __future__ import annotations

import os
import shutil
import tempfile

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.auth.access import COMMUNITY_MANAGERS, current_user, roles_required, visible_community_ids
from server.console.job_status import progress_text, state_label
from server.i18n import _, ngettext
from server.jobs.kinds.bundle_import import start_bundle_import
from server.jobs.queue import enqueue
from server.models import Community, Job, utcnow
from server.sync.bundle_import import DEFAULT_MAX_BYTES, BundleReport, bundle_text, import_bundle
from sync.bundle import BundleError
from sync.bundle_reader import open_bundle

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
def bundle_too_large(_error: BundleTooLarge) -> ResponseReturnValue:
    detail = bundle_text("bundle.too_large", limit_mb=upload_limit() // (1024 * 1024))
    return render_template("error.html", code=413, title=_("Завеликий запит"), detail=detail), 413


@bp.route("/bundles/import", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def bundle_import() -> ResponseReturnValue:
    errors: list[str] = []
    reports: list[BundleReport] = []
    jobs: list[Job] = []
    if request.method == "POST":
        uploads = [f for f in request.files.getlist(FIELD) if f.filename]
        if not uploads:
            errors.append(bundle_text("bundle.no_file"))
        elif len(uploads) > MAX_FILES:
            errors.append(
                ngettext(
                    "Не більше {count} файлу за раз.",
                    "Не більше {count} файлів за раз.",
                    MAX_FILES,
                    count=MAX_FILES,
                )
            )
        else:
            for upload in uploads:
                started = _start_upload(upload)
                if isinstance(started, Job):
                    jobs.append(started)
                else:
                    reports.append(started)
            db.session().commit()
            app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as the app
            for job in jobs:
                enqueue(app, job.id)
            if len(jobs) == 1 and not reports:
                return redirect(url_for("console.job_page", job_id=jobs[0].id), 303)
    refused = bool(errors) or any(not r.ok for r in reports)
    return render_template(
        "console/bundle_import.html",
        errors=errors,
        reports=reports,
        jobs=[db.session().get(Job, job.id, populate_existing=True) for job in jobs],  # as they stand now
        job_state_label=state_label,
        job_progress_text=progress_text,
        limit_mb=upload_limit() // (1024 * 1024),
        max_files=MAX_FILES,
    ), (422 if refused else 200)


def _start_upload(upload: FileStorage) -> Job | BundleReport:
    """A job for the bundle (the import waits for a job worker), or, for a file that is
    no bundle of the user's communities, its refusal at once: there is nothing to
    import, and no community to file a job under."""
    user = current_user()
    assert user is not None
    name = " ".join((upload.filename or "").split())[:200]
    scope = visible_community_ids(user)
    handle, temp_name = tempfile.mkstemp(prefix="spilno-bundle-", suffix=".sqlite")
    try:
        with os.fdopen(handle, "wb") as temp:
            shutil.copyfileobj(upload.stream, temp, COPY_CHUNK_BYTES)
        community_id, batches = _bundle_community(temp_name, scope)
        if community_id is None or os.path.getsize(temp_name) > upload_limit():
            # Refused in a moment, with its audit record, exactly as the job would.
            return import_bundle(
                db.session(), temp_name, scope=scope, user=user, file_name=name, max_bytes=upload_limit()
            )
        with open(temp_name, "rb") as handle_in:
            data = handle_in.read()
        return start_bundle_import(
            db.session(),
            community_id,
            name,
            data,
            batches=batches,
            max_bytes=upload_limit(),
            user=user,
            now=utcnow(),
        )
    finally:
        os.unlink(temp_name)


def _bundle_community(path: str, scope: list[int] | None) -> tuple[int | None, int]:
    """The community a bundle says it is from, when it is one the user manages (and
    exists), and its number of batches; (None, 0) for anything else."""
    try:
        with open_bundle(path) as bundle:
            community_id, batches = bundle.meta.community_id, bundle.batch_count
    except BundleError:
        return None, 0
    if not isinstance(community_id, int) or (scope is not None and community_id not in scope):
        return None, 0
    if db.session().get(Community, community_id) is None:
        return None, 0
    return community_id, batches


# After the fleet page, where a moderator looks for a terminal's votes.
bp.record(menu_item_after(("console.fleet", "console.devices"), ENDPOINT, MENU_LABEL, COMMUNITY_MANAGERS))
