"""Sign in and sign out."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from server import db
from server.i18n import _
from server.models import User, utcnow
from server.services import audit

from .access import current_user
from .next_page import safe_next
from .passwords import hash_password, verify_password
from .sessions import end_all_sessions, session_fields
from .throttle import Rule, address_subject, forget, refund, take

bp = Blueprint("auth", __name__)


# Verifying against a real hash even for an unknown login keeps the response time the
# same, so timing does not reveal which logins exist.
@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def sign_in_rules(config: Mapping[str, Any]) -> tuple[Rule, Rule]:
    """Wrong passwords count per (login, address) and per address: never per login
    alone, so nobody elsewhere can lock a moderator out of their account."""
    return (
        Rule.from_config("login.account", config, "LOGIN", "LOGIN_MAX_FAILURES_PER_LOGIN"),
        Rule.from_config("login.address", config, "LOGIN", "LOGIN_MAX_FAILURES_PER_IP"),
    )


def sign_in_subjects(config: Mapping[str, Any], login_name: str, ip: str) -> list[tuple[Rule, str]]:
    account, address = sign_in_rules(config)
    where = address_subject(ip)
    return [(account, f"{login_name}\n{where}"), (address, where)]


def settle_right_password(config: Mapping[str, Any], login_name: str, ip: str) -> None:
    """The attempt was right: the login starts afresh at this address, and the address
    is not charged for it. The caller commits."""
    (account, account_subject), (address, where) = sign_in_subjects(config, login_name, ip)
    s = db.session()
    forget(s, account, account_subject)
    refund(s, address, where, utcnow())


def too_many_attempts_text(wait_seconds: int) -> str:
    if wait_seconds < 120:
        return _("Забагато невдалих спроб. Спробуйте знову через {seconds} с.", seconds=wait_seconds)
    return _("Забагато невдалих спроб. Спробуйте знову через {minutes} хв.", minutes=-(-wait_seconds // 60))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        if current_user() is not None:
            return redirect(url_for("console.dashboard"))
        return render_template("auth/login.html", next=safe_next(request.args.get("next")) or "")

    # Decided before anything else: no `next` can make the answer fail after sign-in.
    target = safe_next(request.form.get("next")) or url_for("console.dashboard")
    shown_next = "" if target == url_for("console.dashboard") else target
    login_name = (request.form.get("login") or "").strip().lower()[:200]
    password = request.form.get("password") or ""
    ip = request.remote_addr or ""
    cfg = current_app.config
    s = db.session()
    # Counted before the password is checked, and committed at once: simultaneous
    # guesses cannot all slip in before the first one is counted.
    verdict = take(s, sign_in_subjects(cfg, login_name, ip), utcnow())
    s.commit()
    if not verdict.allowed:
        flash(too_many_attempts_text(verdict.wait_seconds), "error")
        page = render_template("auth/login.html", next=shown_next)
        return page, 429, {"Retry-After": str(verdict.wait_seconds)}

    user = s.scalar(select(User).where(func.lower(User.login) == login_name)) if login_name else None
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or not user.active:
        flash(_("Невірний логін або пароль."), "error")
        return render_template("auth/login.html", next=shown_next), 401

    settle_right_password(cfg, login_name, ip)
    session.clear()  # a fresh session on sign-in: no fixation
    session.permanent = True
    assert current_app.secret_key is not None  # create_app refuses to start without it
    session.update(session_fields(user, current_app.secret_key))
    audit.record(s, "auth.login", user=user, community_id=user.community_id, target=("user", user.id))
    s.commit()
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    user = current_user()
    if user is not None:
        s = db.session()
        # Every session of this user ends, a copy of this cookie kept anywhere included.
        end_all_sessions(s, user)
        audit.record(s, "auth.logout", user=user, community_id=user.community_id, target=("user", user.id))
        s.commit()
    session.clear()
    return redirect(url_for("auth.login"))
