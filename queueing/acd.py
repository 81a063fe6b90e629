"""The ACD's Redis adapter: every routing decision is one Lua script call (one round trip), ``now`` injected.

Live state (waiting calls, operator states, reservations, today's counters) changes only inside the scripts of
``queueing/lua``, and every transition appends its call events to the journal stream in the same script, so
the live state and the event log cannot disagree. See the README's ACD chapter for the semantics.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import redis

from callcenter.domain.operator import ERRORS, AcdError, OperatorState
from callcenter.hotline import Hotline, OperatorSeed, QueueConfig
from queueing.acd_types import EnqueueResult, Offer, Position, TickAction
from queueing.keys import Keys
from queueing.routing import estimated_wait
from queueing.scripts import Scripts

logger = logging.getLogger(__name__)

# Real Redis cuts a script's error message at a NUL byte (a hostile call id), so the detail may be cut short.
_ERROR = re.compile(r"ACD:([A-Z_]+)(?:\|([^|]*))?")


def _skills(skills: Mapping[str, int]) -> str:
    return ",".join(f"{name}={int(level)}" for name, level in sorted(skills.items()))


def unreachable(softphone: str) -> str:
    """The channels whose calls an operator's softphone cannot take (the operator hash's ``cannot``): the SIP
    gateway rings only SIP softphones, so a browser softphone (``client:``, the default) cannot take SIP calls;
    Twilio rings both (``<Client>`` or ``<Dial><Sip>``). Other channels (the simulator's) are never limited."""
    return "" if softphone.startswith("sip:") else "sip"


def queue_fields(config: QueueConfig) -> dict[str, str | int]:
    """The hash a queue's configuration is stored as (read by the Lua ``cfg``)."""
    return {
        "priority": config.priority,
        "strategy": config.strategy,
        "skills": _skills(config.skills),
        "prefer": int(config.prefer_higher_skill),
        "ring": config.ring_timeout_seconds,
        "wrap": config.wrap_up_seconds,
        "max_wait": config.max_wait_seconds,
        "on_max_wait": config.on_max_wait,
        "max_waiting": config.max_waiting,
        "when_empty": config.when_empty,
        "overflow": config.overflow_queue or "",
        "max_missed": config.max_missed,
        "aging": config.priority_aging_seconds,
    }


class Acd:
    """Automatic call distribution over Redis for one hotline (``keys`` carries its hash tag)."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        hotline: Hotline | Mapping[str, QueueConfig],
        *,
        timezone: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.redis, self.keys = client, keys
        if isinstance(hotline, Hotline):
            self.queues = dict(hotline.queues)
            self.operators: tuple[OperatorSeed, ...] = hotline.operators
            timezone = timezone or hotline.hotline.timezone
        else:
            self.queues, self.operators = dict(hotline), ()
        bad = [name for name in self.queues if not name or "," in name or "|" in name]
        if bad:
            raise ValueError(f"queue names must be non-empty without ',' or '|': {bad}")
        self.zone = ZoneInfo(timezone or "UTC")
        self._random = random.Random(seed)
        self._scripts = Scripts(client)

    # -- plumbing ------------------------------------------------------------------------------------------
    def _run(self, operation: str, now: float, *args: Any) -> Any:
        day = dt.datetime.fromtimestamp(now, self.zone).date().isoformat()
        head = [repr(float(now)), uuid.uuid4().hex, day, self._random.randrange(1, 2**31 - 1)]
        try:
            return self._scripts.run(operation, self.keys, head + list(args))
        except redis.ResponseError as exc:
            raise _domain_error(exc) from None

    # -- configuration -------------------------------------------------------------------------------------
    def sync_config(self, now: float) -> None:
        """Write the queues and operators of the hotline file; idempotent, live state is kept."""
        pipe = self.redis.pipeline(transaction=True)
        stale = set(self.redis.smembers(self.keys.queues)) - set(self.queues)
        if stale:
            pipe.srem(self.keys.queues, *stale)
        for name, config in self.queues.items():
            pipe.delete(self.keys.queue_config(name))
            pipe.hset(self.keys.queue_config(name), mapping=queue_fields(config))  # type: ignore[arg-type]
            pipe.sadd(self.keys.queues, name)
            pipe.delete(self.keys.queue_operators(name))
        for seed in self.operators:
            if seed.queues:  # accounts serving no queue (admins) never take calls
                self._configure(pipe, seed.username, seed.queues, seed.skills, seed.softphone, now)
        pipe.execute()

    def configure_operator(
        self, operator: str, queues: Iterable[str], skills: Mapping[str, int], now: float, *, softphone: str
    ) -> None:
        """Create or update an operator's queue membership, skill levels (effective at their next login) and
        the channels their softphone cannot take (at once)."""
        pipe = self.redis.pipeline(transaction=True)
        self._configure(pipe, operator, tuple(queues), skills, softphone, now)
        pipe.execute()

    def _configure(
        self, pipe: Any, operator: str, queues: tuple[str, ...], skills: Mapping[str, int], softphone: str, now: float
    ) -> None:
        pipe.hsetnx(self.keys.operator(operator), "st", OperatorState.OFFLINE.value)
        pipe.hsetnx(self.keys.operator(operator), "since", repr(float(now)))
        pipe.hset(self.keys.operator(operator), mapping={"cq": ",".join(queues), "cannot": unreachable(softphone)})
        pipe.delete(self.keys.operator_skills(operator))
        if skills:
            pipe.hset(self.keys.operator_skills(operator), mapping=dict(skills))
        pipe.sadd(self.keys.operators, operator)
        for queue in queues:
            pipe.sadd(self.keys.queue_operators(queue), operator)

    # -- operators -----------------------------------------------------------------------------------------
    def login(self, operator: str, now: float, queues: Iterable[str] | None = None) -> None:
        """An offline operator starts serving their queues (or the given ones) and is available."""
        self._set(operator, OperatorState.AVAILABLE, now, "", ",".join(queues or ()))

    def logout(self, operator: str, now: float) -> None:
        """An operator who is not ringing or talking goes offline (an open wrap-up is closed)."""
        self._set(operator, OperatorState.OFFLINE, now, "", "")

    def set_state(self, operator: str, state: OperatorState | str, now: float, reason: str | None = None) -> None:
        """Manual state change: available, break (with a reason) or offline, along the transition table."""
        self._set(operator, OperatorState(state), now, reason or "", "")

    def wrap_up_done(self, operator: str, now: float) -> None:
        """The operator finished after-call work early; they are available again."""
        self._run("wrap_up_done", now, operator)

    def _set(self, operator: str, state: OperatorState, now: float, reason: str, queues: str) -> None:
        self._run("set_state", now, operator, state.value, reason, queues)
        logger.info("operator %s -> %s %s", operator, state.value, reason)

    # -- calls ---------------------------------------------------------------------------------------------
    def enqueue(
        self,
        call_id: str,
        queue: str,
        now: float,
        *,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        channel: str = "",
        caller: str = "",
        language: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> EnqueueResult:
        """A call enters a queue; with nobody working who could take it, the queue's ``when_empty`` applies."""
        if not call_id or "|" in call_id or "," in call_id:
            raise ValueError(f"call id {call_id!r} must be non-empty without '|' or ','")
        extra = json.dumps(dict(data or {}), separators=(",", ":"), ensure_ascii=False)[1:-1]
        raw = self._run(
            "enqueue", now, call_id, queue, int(priority), _skills(skills or {}), channel, caller, language, extra
        )
        return EnqueueResult(position=int(raw[0]), action=raw[1], queue=raw[2])

    def offer(self, now: float, queue: str | None = None, limit: int = 1000) -> list[Offer]:
        """Reserve the best available operator for the best waiting call, as often as possible (ring_all:
        every eligible operator rings for the call and the first accept wins)."""
        return [Offer.from_row(row) for row in self._run("offer", now, queue or "", limit)]

    def accept(self, call_id: str, operator: str, now: float) -> None:
        """The ringing operator answers: CONNECTED; a late ring_all accept raises CallNotOfferedError."""
        self._run("accept", now, call_id, operator)

    def no_answer(self, call_id: str, operator: str, now: float) -> None:
        """RONA: the call returns to its original place; max_missed misses in a row put the operator on break."""
        self._run("no_answer", now, call_id, operator)

    def hangup(self, call_id: str, now: float, by: str = "caller") -> str:
        """End of a conversation (operator to wrap-up); a caller hanging up before being connected abandons.
        Returns the event journaled ('' when a pending callback's caller hung up)."""
        if by not in ("caller", "operator"):
            raise ValueError(f"by must be 'caller' or 'operator', not {by!r}")
        return str(self._run("hangup", now, call_id, by))

    def abandon(self, call_id: str, now: float) -> bool:
        """The caller hung up while waiting or ringing; False when the call is a pending callback (kept)."""
        return bool(self._run("abandon", now, call_id))

    def transfer(self, call_id: str, to_queue: str, now: float, escalate: bool = False) -> int:
        """Move a call to another queue (TRANSFERRED or ESCALATED), keeping its first-entered time; the
        connected operator goes to wrap-up. Returns the position in the new queue."""
        return int(self._run("transfer", now, call_id, to_queue, "1" if escalate else "0"))

    def request_callback(self, call_id: str, number: str, now: float) -> int:
        """A waiting caller asks to be called back at ``number``; the call keeps its place (its position)."""
        return int(self._run("request_callback", now, call_id, number))

    def callback_dialled(self, call_id: str, now: float) -> None:
        """The callback of an offered callback call is being dialled (CALLBACK_DIALLED)."""
        self._run("callback_dialled", now, call_id)

    def tick(self, now: float, limit: int = 1000) -> list[TickAction]:
        """Housekeeping of due deadlines: ring timeout (RONA), wrap-up expiry, max wait (timeout action).
        Call it about once a second; a deadline that cannot be handled is logged and dropped, never retried."""
        actions = [TickAction(*row) for row in self._run("tick", now, limit)]
        for action in actions:
            if action.kind == "error":
                logger.error(
                    "tick: deadline of call %s operator %s failed: %s", action.call_id, action.operator, action.action
                )
        return [a for a in actions if a.kind != "error"]

    # -- reading -------------------------------------------------------------------------------------------
    def position(self, call_id: str, now: float) -> Position:
        """Place in queue and estimated wait from the queue's live handle time and working operators."""
        rank, state, queue, aht, staffed, available = self._run("position", now, call_id)
        wait = estimated_wait(int(rank), float(aht) if aht else None, int(staffed), int(available))
        return Position(position=int(rank), estimated_wait=wait, state=state, queue=queue)

    def snapshot(self, now: float) -> dict[str, Any]:
        """Queues (waiting, longest wait, counters, staffing) and operators (state, since, call, reason)."""
        queues, operators = self._run("snapshot", now)
        return {
            "queues": {row[0]: _queue_row(row) for row in queues},
            "operators": {row[0]: _operator_row(row) for row in operators},
        }


def _queue_row(row: list[Any]) -> dict[str, Any]:
    flat = row[3]
    counters = {flat[i]: float(flat[i + 1]) for i in range(0, len(flat), 2) if flat[i] not in ("day",)}
    aht = counters.pop("aht", None)
    return {
        "waiting": int(row[1]),
        "longest_wait": float(row[2]),
        "counters": {name: int(value) for name, value in counters.items()},
        "offered": int(counters.get("enter_queue", 0)),
        "answered": int(counters.get("connected", 0)),
        "abandoned": int(counters.get("abandoned", 0)),
        "handle_time": aht,
        "working": int(row[4]),
        "available": int(row[5]),
    }


def _operator_row(row: list[Any]) -> dict[str, Any]:
    return {
        "state": row[1],
        "since": float(row[2]) if row[2] else None,
        "reason": row[3] or None,
        "call": row[4] or None,
        "queues": [q for q in row[5].split(",") if q],
        "calls_today": int(float(row[6])),
        "talk_today": float(row[7]),
    }


def _domain_error(exc: redis.ResponseError) -> Exception:
    match = _ERROR.search(str(exc))
    if match is None:
        return exc
    return ERRORS.get(match.group(1), AcdError)(match.group(2) or "")
