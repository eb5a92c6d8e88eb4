"""A project's photos in the console: add one with its description, or remove one.

Moderators of the project's community (the roles of the project pages) do both, with
the session's CSRF token; a refused upload shows the project page again with the
reason beside the file field and changes nothing.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from server import db
from server.auth.access import COMMUNITY_MANAGERS, roles_required, scoped_or_404
from server.i18n import _
from server.models import Cycle, Project
from server.services.photo_images import UPLOAD_BYTES
from server.services.project_details import add_photo, remove_photo

from .forms import FormReader, confirmed, submit
from .projects import _project_form, project_values
from .views import bp

UPLOAD_ENDPOINT = "console.project_photo_add"
FORM_OVERHEAD_BYTES = 64 * 1024  # the descriptions and the token around the file


class PhotoTooLarge(RequestEntityTooLarge):
    """An upload over the photo limit, refused before a byte of it is read."""


@bp.url_value_preprocessor
def allow_photo_upload(endpoint: str | None, _values: dict | None) -> None:
    # The app's request limit (2 MB) is below a phone's photo. URL value preprocessors
    # run before the CSRF check reads the form: this page's own limit is set here.
    if endpoint != UPLOAD_ENDPOINT or request.method != "POST":
        return
    limit = UPLOAD_BYTES + FORM_OVERHEAD_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise PhotoTooLarge()


@bp.errorhandler(PhotoTooLarge)
def photo_too_large(_error: PhotoTooLarge) -> ResponseReturnValue:
    detail = _("Файл більший за {mb} МБ. Нічого не збережено.", mb=UPLOAD_BYTES // 2**20)
    return render_template("error.html", code=413, title=_("Завеликий запит"), detail=detail), 413


@bp.route("/projects/<int:project_id>/photos", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def project_photo_add(project_id: int) -> ResponseReturnValue:
    project = scoped_or_404(Project, project_id)
    reader = FormReader()
    upload = request.files.get("photo")
    data = upload.read(UPLOAD_BYTES + 1) if upload is not None else b""
    if not data:
        reader.add_error("photo", _("Оберіть файл фотографії."))
        return _page_again(project, reader)
    return submit(
        reader,
        lambda: add_photo(db.session(), project, data, reader.text("alt_uk"), reader.text("alt_en")),
        done=_("Фотографію додано."),
        redirect_to=url_for("console.project_edit", project_id=project.id) + "#photos",
    ) or _page_again(project, reader)


@bp.route("/projects/<int:project_id>/photos/<int:photo_id>/remove", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def project_photo_remove(project_id: int, photo_id: int) -> ResponseReturnValue:
    project = scoped_or_404(Project, project_id)
    if not confirmed():
        return redirect(url_for("console.project_edit", project_id=project.id) + "#photos")
    reader = FormReader()
    return submit(
        reader,
        lambda: remove_photo(db.session(), project, photo_id),
        done=_("Фотографію видалено."),
        redirect_to=url_for("console.project_edit", project_id=project.id) + "#photos",
    ) or _page_again(project, reader)


@bp.route("/projects/<int:project_id>/photos/<int:photo_id>.jpg")
@roles_required(*COMMUNITY_MANAGERS)
def project_photo_file(project_id: int, photo_id: int) -> ResponseReturnValue:
    from server.public.projects import photo_response

    scoped_or_404(Project, project_id)
    return photo_response(project_id, photo_id)


def _page_again(project: Project, reader: FormReader) -> tuple[str, int]:
    cycle = db.session().get(Cycle, project.cycle_id) or abort(404)
    photo_values = {k: reader.text(k) for k in ("alt_uk", "alt_en")}
    return _project_form(cycle, project, project_values(project), FormReader({}), photo_values, reader.errors)
