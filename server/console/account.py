"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for

from server import db
from server.auth.access import current_user, login_required
from server.auth.throttle import record_failure, too_many_failures
from server.i18n import _
from server.models import utcnow
from server.services.users import WrongPassword, change_password

from .forms import REFUSALS, FormReader, refusal_errors, save
from .views import bp


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_page():  # type: ignore[no-untyped-def]
    user = current_user()
    assert user is not None
    reader = FormReader()
    status = 200
    if request.method == "POST":
        s = db.session()
        cfg = current_app.config
        now = utcnow()
        ip = (request.remote_addr or "")[:64]
        # The current password is a secret worth guessing for whoever finds an unlocked
        # screen, so wrong guesses count against the same limit as sign-in.
        if too_many_failures(
            s,
            user.login,
            ip,
            now,
            cfg["LOGIN_WINDOW_SECONDS"],
            cfg["LOGIN_MAX_FAILURES_PER_LOGIN"],
            cfg["LOGIN_MAX_FAILURES_PER_IP"],
        ):
            reader.add_error("", _("Забагато невдалих спроб. Спробуйте знову за 15 хвилин."))
            status = 429
        else:
            try:
                save(
                    lambda: change_password(
                        s,
                        user,
                        current=reader.text("current"),
                        new=reader.text("new"),
                        repeated=reader.text("repeated"),
                    )
                )
            except REFUSALS as exc:
                if isinstance(exc, WrongPassword):
                    record_failure(s, user.login, ip, now, cfg["LOGIN_WINDOW_SECONDS"])
                    s.commit()
                reader.errors.update(refusal_errors(exc))
                status = 422
            else:
                # The session remembers which password it began with; keep this one valid
                # (every other session of this user ends at its next request).
                session["user_pw"] = user.password_hash[-16:]
                flash(_("Пароль змінено."), "success")
                return redirect(url_for("console.dashboard"))
    return render_template("console/password.html", errors=reader.errors, values={}), status
