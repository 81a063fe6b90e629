"""The services the API and the console use, built once per app from its container."""

from __future__ import annotations

from typing import Any

from flask import current_app

from callcenter.auth import AuthService
from callcenter.kb import KbService
from callcenter.tickets import TicketService
from callcenter.web.app import container
from callcenter.web.throttle import RedisLoginThrottle

_KEY = "callcenter.tickets_kb"


class ContainerTransfer:
    """The channels' ``container.call_transfer``, looked up at each escalation (they wire it when their
    blueprint starts, which may be after the tickets service was built)."""

    def __init__(self, owner: Any):
        self._owner = owner

    def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
        transfer = getattr(self._owner, "call_transfer", None)
        return bool(transfer is not None and transfer.transfer_to_queue(call_id, queue, reason))


def _cache() -> dict[str, Any]:
    return current_app.extensions.setdefault(_KEY, {})  # type: ignore[no-any-return]


def tickets() -> TicketService:
    cache = _cache()
    if "tickets" not in cache:
        c = container()
        cache["tickets"] = TicketService(c.sessions, c.hotline, c.clock, transfer=ContainerTransfer(c))
    return cache["tickets"]  # type: ignore[no-any-return]


def kb() -> KbService:
    cache = _cache()
    if "kb" not in cache:
        c = container()
        cache["kb"] = KbService(c.sessions, c.hotline, c.clock)
    return cache["kb"]  # type: ignore[no-any-return]


def auth() -> AuthService:
    cache = _cache()
    if "auth" not in cache:
        c = container()
        cache["auth"] = AuthService(c.sessions, RedisLoginThrottle(c.redis.live, c.keys), c.clock)
    return cache["auth"]  # type: ignore[no-any-return]


def acd() -> Any | None:
    """The ACD: the container's when it has one, else one built here over the same Redis (None if the ACD
    package is not installed)."""
    c = container()
    existing = getattr(c, "acd", None)
    if existing is not None:
        return existing
    cache = _cache()
    if "acd" not in cache:
        try:
            from queueing.acd import Acd
        except ImportError:
            return None
        built = Acd(c.redis.live, c.keys, c.hotline)
        built.sync_config(c.clock())
        cache["acd"] = built
    return cache["acd"]
