"""Password hashing (scrypt via Werkzeug) and the minimum a password must be."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from server.texts import Text, _l

MIN_LENGTH = 10
MAX_LENGTH = 200  # hashing a megabyte "password" is a denial of service, not a login


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    if not password or len(password) > MAX_LENGTH:
        return False
    return check_password_hash(password_hash, password)


def password_problem(password: str) -> Text | None:
    """Why the password cannot be used (too short or too long), or None."""
    if len(password) < MIN_LENGTH:
        return _l("Пароль має містити щонайменше 10 символів.")
    if len(password) > MAX_LENGTH:
        return _l("Пароль задовгий.")
    return None
