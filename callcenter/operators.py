"""Operator accounts: created from the hotline file on first start, managed from the CLI and the API."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from callcenter.hotline import Hotline, OperatorSeed
from callcenter.storage.event_store_sql import upsert
from callcenter.storage.models import Operator, QueueRecord

logger = logging.getLogger(__name__)

ROLES = ("operator", "lead", "admin")
MIN_PASSWORD_LENGTH = 8


class OperatorExistsError(Exception):
    """An operator with this username already exists."""


class NoSuchOperatorError(LookupError):
    """No operator with this username."""


class WeakPasswordError(ValueError):
    """The password is too short to protect an account that can read callers' data."""


@dataclass(frozen=True)
class OperatorView:
    username: str
    name: str
    role: str
    team: str
    queues: tuple[str, ...]
    skills: dict[str, int]
    softphone: str
    active: bool


def hash_password(password: str) -> str:
    """scrypt via Werkzeug (memory-hard KDF, salted)."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    return bool(password_hash) and check_password_hash(password_hash or "", password)


class OperatorService:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    ):
        self._sessions = sessions
        self._clock = clock

    def add(self, seed: OperatorSeed, password: str | None) -> OperatorView:
        """Create an operator; usernames are unique and passwords at least 8 characters."""
        if password is not None:
            _check_password(password)
        with self._sessions.begin() as session:
            if _find(session, seed.username) is not None:
                raise OperatorExistsError(seed.username)
            operator = _new_operator(seed, password, self._clock())
            session.add(operator)
            return _view(operator)

    def list(self) -> list[OperatorView]:
        with self._sessions() as session:
            return [_view(o) for o in session.scalars(select(Operator).order_by(Operator.username))]

    def get(self, username: str) -> OperatorView:
        with self._sessions() as session:
            return _view(_require(session, username))

    def set_password(self, username: str, password: str) -> None:
        """Replace an operator's password (hashed; the old one stops working at once)."""
        _check_password(password)
        with self._sessions.begin() as session:
            _require(session, username).password_hash = hash_password(password)

    def authenticate(self, username: str, password: str) -> OperatorView | None:
        with self._sessions() as session:
            operator = _find(session, username)
            if operator is None or not operator.active or not verify_password(operator.password_hash, password):
                return None
            return _view(operator)

    def seed_from_hotline(self, hotline: Hotline) -> int:
        """Create the hotline file's operators that do not exist yet and record its queues; returns created.

        Safe when several processes start at once on an empty database (web workers without preload): each row
        is ``INSERT ... ON CONFLICT``, so a row another process wrote first is kept, never a duplicate-key error.
        """
        now = self._clock()
        with self._sessions.begin() as session:
            connection = session.connection()
            created = _insert_missing_operators(connection, hotline, now)
            queues = upsert(connection.engine, QueueRecord.__table__)
            for name, queue in sorted(hotline.queues.items()):  # one order: concurrent seeders never deadlock
                row = {"name": name, "title": dict(queue.title), "config": queue.model_dump(mode="json"),
                       "updated_at": now}  # fmt: skip
                connection.execute(
                    queues.values(row).on_conflict_do_update(
                        index_elements=["name"], set_={c: row[c] for c in ("title", "config", "updated_at")}
                    )
                )
        logger.info("seeded %d operators and %d queues from the hotline file", created, len(hotline.queues))
        return created


def _insert_missing_operators(connection: Connection, hotline: Hotline, now: dt.datetime) -> int:
    table = Operator.__table__
    created = 0
    for seed in sorted(hotline.operators, key=lambda s: s.username):
        if connection.scalar(select(Operator.id).where(Operator.username == seed.username)) is not None:
            continue  # the usual restart: no password hashed for nothing
        row = {c.key: getattr(_new_operator(seed, seed.password, now), c.key) for c in table.columns if c.key != "id"}
        stmt = upsert(connection.engine, table).values(row).on_conflict_do_nothing(index_elements=["username"])
        created += len(connection.execute(stmt.returning(table.c.id)).all())
    return created


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _find(session: Session, username: str) -> Operator | None:
    return session.scalars(select(Operator).where(Operator.username == username)).first()


def _require(session: Session, username: str) -> Operator:
    operator = _find(session, username)
    if operator is None:
        raise NoSuchOperatorError(username)
    return operator


def _new_operator(seed: OperatorSeed, password: str | None, now: dt.datetime) -> Operator:
    return Operator(
        username=seed.username,
        name=seed.name,
        role=seed.role,
        team=seed.team,
        password_hash=hash_password(password) if password else None,
        softphone=seed.softphone or f"client:{seed.username}",
        languages=list(seed.languages),
        skills=dict(seed.skills),
        queues=list(seed.queues),
        active=True,
        created_at=now,
    )


def _view(operator: Operator) -> OperatorView:
    return OperatorView(
        username=operator.username,
        name=operator.name,
        role=operator.role,
        team=operator.team,
        queues=tuple(operator.queues or ()),
        skills=dict(operator.skills or {}),
        softphone=operator.softphone,
        active=operator.active,
    )


def softphone_directory(
    sessions: Callable[[], Session], hotline: Hotline, ttl: float = 30.0
) -> Callable[[str], str | None]:
    """Operator -> softphone address (``client:<identity>`` or ``sip:<uri>``) from the operators table, the
    hotline file's seeds as a fallback (SQL unreachable, or the account not created yet); cached ``ttl`` s."""
    seeds = {op.username: op.softphone for op in hotline.operators}
    cache: dict[str, tuple[float, str | None]] = {}

    def lookup(username: str) -> str | None:
        hit = cache.get(username)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
        try:
            with sessions() as session:
                address = session.scalars(select(Operator.softphone).where(Operator.username == username)).first()
        except Exception:
            logger.exception("operator %s: softphone lookup failed", username)
            address = None
        found = address or seeds.get(username) or None
        cache[username] = (time.monotonic(), found)
        return found

    return lookup
