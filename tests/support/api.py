"""Operators and API tokens for API and console tests, written straight to SQL (no slow password hashing
unless a password is asked for)."""

from __future__ import annotations

import datetime as dt

from callcenter.auth import hash_token
from callcenter.operators import hash_password
from callcenter.storage.models import ApiToken, Operator


def seed_operators(container, passwords: dict[str, str] | None = None) -> dict[str, int]:
    """The hotline file's operators (demo: anna, bela operators; csilla lead of second-level; admin)."""
    now = dt.datetime.now(dt.UTC)
    ids = {}
    with container.sessions.begin() as session:
        for seed in container.hotline.operators:
            password = (passwords or {}).get(seed.username)
            operator = Operator(
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
            session.add(operator)
            session.flush()
            ids[seed.username] = operator.id
    return ids


def make_token(container, operator_id: int, token: str) -> int:
    now = dt.datetime.now(dt.UTC)
    with container.sessions.begin() as session:
        row = ApiToken(
            operator_id=operator_id,
            token_hash=hash_token(token),
            name="test",
            created_at=now,
            expires_at=now + dt.timedelta(days=1),
        )
        session.add(row)
        session.flush()
        return row.id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
