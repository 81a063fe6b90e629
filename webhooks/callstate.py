"""The Twilio channel's state per call leg, in Redis: IVR context, pending node, Twilio queue, cached replies.

The ACD owns routing state; this hash only holds what the channel needs between webhooks. Every write renews
the TTL, so abandoned entries disappear by themselves.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from ivr.steps import CallContext
from queueing.keys import Keys

TTL_SECONDS = 24 * 3600


class CallState(dict[str, str]):
    """One leg's fields (all strings, as Redis returns them)."""

    @property
    def context(self) -> CallContext | None:
        raw = self.get("ctx")
        return CallContext.from_dict(json.loads(raw)) if raw else None

    @property
    def language(self) -> str:
        context = self.context
        return context.language if context else self.get("lang", "")

    @property
    def step(self) -> int:
        return int(self.get("step") or 0)


class CallStore:
    """Read and write the channel state of call legs (one round trip each)."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.redis, self.keys = client, keys

    def get(self, sid: str) -> CallState:
        return CallState(self.redis.hgetall(self.keys.twilio_call(sid)))  # type: ignore[arg-type]

    def create(self, sid: str, fields: dict[str, Any]) -> bool:
        """Store a new leg; False (and nothing written) when it exists already (a repeated webhook)."""
        key = self.keys.twilio_call(sid)
        if not self.redis.hsetnx(key, "created", "1"):
            return False
        self.update(sid, **fields)
        return True

    def update(self, sid: str, **fields: Any) -> None:
        key = self.keys.twilio_call(sid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, mapping={k: _text(v) for k, v in fields.items()})
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()

    def set_context(self, sid: str, context: CallContext, **fields: Any) -> None:
        self.update(sid, ctx=json.dumps(context.to_dict(), ensure_ascii=False), **fields)

    def remember_reply(self, sid: str, step: int, body: str, **fields: Any) -> None:
        """The reply to IVR step ``step``, replayed verbatim if Twilio repeats that request."""
        self.update(sid, step=step + 1, reply_step=step, reply=body, **fields)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value)
