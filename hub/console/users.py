"""Console users: scrypt password hashes (werkzeug), created or reset with ``ensure_user``."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from hub import clock
from hub.console.models import ConsoleUser
from hub.errors import DeskbridgeError

MIN_PASSWORD = 8
# A hash of a random password: checking an unknown user costs as much as checking a known one (no timing oracle).
_DUMMY_HASH = generate_password_hash("deskbridge-no-such-user", method="scrypt")


class UserError(DeskbridgeError):
    """A console user cannot be created as asked."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def ensure_user(hub, username: str, password: str) -> ConsoleUser:
    """Create ``username`` or set its password (and re-enable it); audited, the password never stored."""
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("username must be 1 to 64 characters")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    from hub.audit import append
    now = clock.now()
    with hub.db.session() as session:
        user = session.execute(select(ConsoleUser).where(ConsoleUser.username == username)).scalar_one_or_none()
        if user is None:
            user = ConsoleUser(username=username, password_hash=hash_password(password), created_at=now,
                               updated_at=now, disabled=False)
            session.add(user)
            action = "console.user.create"
        else:
            user.password_hash = hash_password(password)
            user.updated_at = now
            user.disabled = False
            action = "console.user.password"
        append(hub, session, actor="cli", action=action, target=username, outcome="ok", source="cli")
        session.flush()
        session.expunge(user)
    return user


def check_credentials(session, username: str, password: str) -> ConsoleUser | None:
    """The enabled user if the password matches, else None (same work either way)."""
    user = session.execute(select(ConsoleUser).where(ConsoleUser.username == username)).scalar_one_or_none()
    if user is None or user.disabled:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None
