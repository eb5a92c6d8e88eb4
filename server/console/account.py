"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from server import db
from server.auth.access import current_user, login_required
from server.auth.sessions import session_fields
from server.auth.throttle import take
from server.auth.views import settle_right_password, sign_in_subjects, too_many_attempts_text
from server.i18n import _
from server.models import utcnow
from server.services.users import WrongPassword, change_password

from .forms import REFUSALS, FormReader, refusal_errors, save
from .views import bp


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_page() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    reader = FormReader()
    status = 200
    if request.method == "POST":
        s = db.session()
        cfg = current_app.config
        ip = request.remote_addr or ""
        # The current password is a secret worth guessing for whoever finds an unlocked
        # screen, so each try counts against the same limits as sign-in, before it is checked.
        verdict = take(s, sign_in_subjects(cfg, user.login, ip), utcnow())
        s.commit()
        if not verdict.allowed:
            reader.add_error("", too_many_attempts_text(verdict.wait_seconds))
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
                if not isinstance(exc, WrongPassword):
                    # The current password was right; only the new one was refused.
                    settle_right_password(cfg, user.login, ip)
                    s.commit()
                reader.errors.update(refusal_errors(exc))
                status = 422
            else:
                settle_right_password(cfg, user.login, ip)
                s.commit()
                # The proof covers the password hash: every other session of this user
                # ends at its next request; this one carries on with a new proof.
                assert current_app.secret_key is not None  # create_app refuses to start without it
                session.update(session_fields(user, current_app.secret_key))
                flash(_("Пароль змінено."), "success")
                return redirect(url_for("console.dashboard"))
    return render_template("console/password.html", errors=reader.errors, values={}), status
