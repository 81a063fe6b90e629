"""The Twilio channel's state per call leg, in Redis: IVR context, pending node, Twilio queue, cached replies.

The ACD owns routing state; this hash only holds what the channel needs between webhooks. Every write renews
the TTL, so abandoned entries disappear by themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis

from callcenter.domain.events import CallEvent
from ivr.steps import CallContext
from queueing.keys import Keys
from queueing.script_call import run_script

TTL_SECONDS = 24 * 3600
_json = json.JSONEncoder(ensure_ascii=False).encode  # built once: every incoming call uses it


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


# A new leg in one round trip: claim it, store its fields, journal its events; a repeat gets its stored reply.
# Fields and events travel as two JSON arrays: redis-py encodes every argument on its own in Python, and a call's
# forty-odd strings cost more than the rest of the webhook's own work; cjson decodes them in C.
_CREATE = """
if redis.call('HSETNX', KEYS[1], 'created', '1') == 0 then
  return {0, redis.call('HGET', KEYS[1], 'reply') or ''}
end
local fields = cjson.decode(ARGV[2])
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
for _, event in ipairs(cjson.decode(ARGV[3])) do
  redis.call('XADD', KEYS[2], '*', unpack(event))
end
return {1, ''}
"""


class CallStore:
    """Read and write the channel state of call legs (one round trip each)."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.redis, self.keys = client, keys
        self._create = client.register_script(_CREATE)

    def create_with(self, sid: str, fields: dict[str, Any], events: Sequence[CallEvent]) -> str | None:
        """Claim a new leg with its fields and journal events, atomically: None when it was new, else the reply
        it got before (a repeated webhook; nothing is written)."""
        pairs = [part for name, value in fields.items() for part in (name, _text(value))]
        flat = [[part for pair in event.to_fields().items() for part in pair] for event in events]
        args: list[str | int] = [TTL_SECONDS, _json(pairs), _json(flat)]
        created, reply = run_script(self._create, [self.keys.twilio_call(sid), self.keys.journal], args)
        return None if int(created) else str(reply)

    def get(self, sid: str) -> CallState:
        return CallState(self.redis.hgetall(self.keys.twilio_call(sid)))  # type: ignore[arg-type]

    def claim(self, sid: str) -> str | None:
        """Mark a new leg as ours in one round trip: None when it is new, else the reply it got (a repeat)."""
        key = self.keys.twilio_call(sid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hsetnx(key, "created", "1")
        pipe.hget(key, "reply")
        created, reply = pipe.execute()
        return None if created else str(reply or "")

    def save(self, sid: str, fields: dict[str, Any], events: Sequence[CallEvent] = ()) -> None:
        """Write fields and append journal events atomically in one round trip (MULTI/EXEC).

        The events go to the same stream as ``RedisJournal.append``, in the same format; doing it here saves
        the webhook a round trip."""
        key = self.keys.twilio_call(sid)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={k: _text(v) for k, v in fields.items()})
        pipe.expire(key, TTL_SECONDS)
        for event in events:
            pipe.xadd(self.keys.journal, event.to_fields())  # type: ignore[arg-type]
        pipe.execute()

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
