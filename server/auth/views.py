"""Sign in and sign out."""

from __future__ import annotations

import secrets
from functools import lru_cache

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from server import db
from server.i18n import _
from server.models import User, utcnow
from server.services import audit

from .access import current_user
from .passwords import hash_password, verify_password
from .throttle import clear_failures, record_failure, too_many_failures

bp = Blueprint("auth", __name__)


# Verifying against a real hash even for an unknown login keeps the response time the
# same, so timing does not reveal which logins exist.
@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        if current_user() is not None:
            return redirect(url_for("console.dashboard"))
        return render_template("auth/login.html", next=request.args.get("next", ""))

    login_name = (request.form.get("login") or "").strip().lower()[:200]
    password = request.form.get("password") or ""
    ip = (request.remote_addr or "")[:64]
    now = utcnow()
    cfg = current_app.config
    s = db.session()
    if too_many_failures(
        s,
        login_name,
        ip,
        now,
        cfg["LOGIN_WINDOW_SECONDS"],
        cfg["LOGIN_MAX_FAILURES_PER_LOGIN"],
        cfg["LOGIN_MAX_FAILURES_PER_IP"],
    ):
        flash(_("Забагато невдалих спроб. Спробуйте знову за 15 хвилин."), "error")
        return render_template("auth/login.html", next=request.form.get("next", "")), 429

    user = s.scalar(select(User).where(func.lower(User.login) == login_name)) if login_name else None
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or not user.active:
        record_failure(s, login_name, ip, now, cfg["LOGIN_WINDOW_SECONDS"])
        s.commit()
        flash(_("Невірний логін або пароль."), "error")
        return render_template("auth/login.html", next=request.form.get("next", "")), 401

    clear_failures(s, login_name)
    session.clear()  # a fresh session on sign-in: no fixation
    session.permanent = True
    session["user_id"] = user.id
    session["user_pw"] = user.password_hash[-16:]
    audit.record(s, "auth.login", user=user, community_id=user.community_id, target=("user", user.id))
    s.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():  # type: ignore[no-untyped-def]
    user = current_user()
    if user is not None:
        s = db.session()
        audit.record(s, "auth.logout", user=user, community_id=user.community_id, target=("user", user.id))
        s.commit()
    session.clear()
    return redirect(url_for("auth.login"))
