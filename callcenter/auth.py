"""AuthService: password logins (rate-limited per username and address), API tokens stored hashed, revocable.

A token is 32 random bytes shown once; only its SHA-256 is stored (a fast hash is enough for a secret of that
entropy, unlike passwords, which are scrypt-hashed by callcenter.operators). Tokens expire after
``TOKEN_DAYS`` and stop working at once when revoked or when the operator is deactivated.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.access import PermissionDeniedError, Principal
from callcenter.operators import hash_password, verify_password
from callcenter.storage.models import ApiToken, Operator
from callcenter.ticket_views import aware

logger = logging.getLogger(__name__)

TOKEN_DAYS = 30
TOKEN_PREFIX = "cc_"
_TOUCH_EVERY = dt.timedelta(minutes=5)


class NotAuthenticatedError(Exception):
    """No valid credentials came with the request."""


class InvalidCredentialsError(Exception):
    """Unknown username, wrong password or inactive operator (deliberately not told apart)."""


class TooManyLoginAttemptsError(Exception):
    """Too many failed logins for this username from this address; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


class NoSuchTokenError(LookupError):
    """No API token with this id."""


class LoginThrottle(Protocol):
    """Counts failed logins per (username, address); Redis in production."""

    def retry_after(self, username: str, address: str) -> int: ...
    def failed(self, username: str, address: str) -> None: ...
    def succeeded(self, username: str, address: str) -> None: ...


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str
    expires_at: dt.datetime
    principal: Principal


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    created_at: dt.datetime | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_of(operator: Operator) -> Principal:
    return Principal(
        username=operator.username,
        role=operator.role,
        team=operator.team,
        queues=tuple(operator.queues or ()),
        name=operator.name,
    )


class AuthService:
    def __init__(self, sessions: sessionmaker[Session], throttle: LoginThrottle, clock: Callable[[], float]):
        self._sessions = sessions
        self._throttle = throttle
        self._clock = clock

    def check_password(self, username: str, password: str, address: str) -> Principal:
        """The operator behind a username and password; refused while the (username, address) is throttled."""
        wait = self._throttle.retry_after(username, address)
        if wait > 0:
            raise TooManyLoginAttemptsError(wait)
        with self._sessions() as session:
            operator = _operator(session, username)
            stored = operator.password_hash if operator is not None else _dummy_hash()
            if not verify_password(stored, password) or operator is None or not operator.active:
                self._throttle.failed(username, address)
                logger.warning("failed login for %r from %s", username, address)
                raise InvalidCredentialsError("wrong username or password")
            self._throttle.succeeded(username, address)
            return principal_of(operator)

    def login(self, username: str, password: str, address: str, name: str = "") -> IssuedToken:
        """Check the password and issue a new API token (shown once, stored hashed)."""
        principal = self.check_password(username, password, address)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._now()
        expires = now + dt.timedelta(days=TOKEN_DAYS)
        with self._sessions.begin() as session:
            operator = _operator(session, username)
            assert operator is not None
            row = ApiToken(
                operator_id=operator.id,
                token_hash=hash_token(token),
                name=name[:100],
                created_at=now,
                expires_at=expires,
            )
            session.add(row)
            session.flush()
            logger.info("token %s issued to %s", row.id, username)
            return IssuedToken(row.id, token, expires, principal)

    def principal_for_token(self, token: str) -> Principal:
        """The operator of a valid (known, unrevoked, unexpired) token of an active operator."""
        now = self._now()
        with self._sessions.begin() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
            operator = session.get(Operator, row.operator_id) if row is not None else None
            if row is None or operator is None or not _usable(row, operator, now):
                raise NotAuthenticatedError("invalid, expired or revoked token")
            last_used = aware(row.last_used_at)
            if last_used is None or now - last_used > _TOUCH_EVERY:
                row.last_used_at = now
            return principal_of(operator)

    def principal_for_username(self, username: str) -> Principal:
        """The operator of a console session (refused once deactivated)."""
        with self._sessions() as session:
            operator = _operator(session, username)
            if operator is None or not operator.active:
                raise NotAuthenticatedError("session of an unknown or inactive operator")
            return principal_of(operator)

    def tokens(self, who: Principal) -> list[TokenInfo]:
        """The principal's own tokens, newest first."""
        with self._sessions() as session:
            operator = _operator(session, who.username)
            if operator is None:
                return []
            rows = session.scalars(
                select(ApiToken).where(ApiToken.operator_id == operator.id).order_by(ApiToken.id.desc())
            )
            return [_info(row) for row in rows]

    def revoke(self, who: Principal, token_id: int) -> None:
        """Revoke a token at once: one's own, or anybody's for an admin."""
        with self._sessions.begin() as session:
            row = session.get(ApiToken, token_id)
            owner = session.get(Operator, row.operator_id) if row is not None else None
            if row is None or owner is None:
                raise NoSuchTokenError(f"no token {token_id}")
            if owner.username != who.username and not who.is_admin:
                raise PermissionDeniedError("only admins revoke other operators' tokens")
            row.revoked_at = row.revoked_at or self._now()
            logger.info("token %s of %s revoked by %s", token_id, owner.username, who.username)

    def revoke_token(self, token: str) -> None:
        """Logout: revoke the token the request came with."""
        with self._sessions.begin() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
            if row is not None and row.revoked_at is None:
                row.revoked_at = self._now()

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)


@functools.cache
def _dummy_hash() -> str:
    """Checked for unknown usernames too, so that timing does not tell which usernames exist."""
    return hash_password(secrets.token_urlsafe(16))


def _operator(session: Session, username: str) -> Operator | None:
    return session.scalars(select(Operator).where(Operator.username == username)).first()


def _usable(row: ApiToken, operator: Operator, now: dt.datetime) -> bool:
    expires = aware(row.expires_at)
    return row.revoked_at is None and operator.active and (expires is None or expires > now)


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        aware(row.created_at),
        aware(row.expires_at),
        aware(row.last_used_at),
        row.revoked_at is not None,
    )
