"""Sign-in throttling, kept in the database so it holds across server processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from server.models import LoginAttempt


def too_many_failures(
    session: Session, login: str, ip: str, now: datetime, window_seconds: int, per_login: int, per_ip: int
) -> bool:
    since = now - timedelta(seconds=window_seconds)
    by_login = session.scalar(
        select(func.count()).where(LoginAttempt.login == login, LoginAttempt.at >= since)
    )
    by_ip = session.scalar(select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at >= since))
    return (by_login or 0) >= per_login or (by_ip or 0) >= per_ip


def record_failure(session: Session, login: str, ip: str, now: datetime, window_seconds: int) -> None:
    session.add(LoginAttempt(login=login[:200], ip=ip[:64], at=now))
    # Old attempts tell nothing any more; keep the table small.
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(seconds=4 * window_seconds)))


def clear_failures(session: Session, login: str) -> None:
    session.execute(delete(LoginAttempt).where(or_(LoginAttempt.login == login)))
