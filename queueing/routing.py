"""Pure routing rules of the ACD and a small reference model of its semantics (no I/O).

The Lua scripts are the production implementation; :class:`ReferenceAcd` states the same semantics in plain
Python so that a hypothesis state machine can drive both and compare them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from callcenter.domain.operator import (
    BREAK_MISSED_CALLS,
    CallAlreadyQueuedError,
    CallNotConnectedError,
    CallNotOfferedError,
    CallNotWaitingError,
    IllegalTransitionError,
    NoSuchCallError,
    NoSuchOperatorError,
    NoSuchQueueError,
    NotACallbackError,
    OperatorState,
    check_manual,
    check_transition,
)
from callcenter.hotline import QueueConfig
from queueing.routing_state import Candidate, ModelCall, ModelOperator, f6, ordered, working

S = OperatorState

PRIOR_HANDLE_SECONDS = 180.0
"""Handle time assumed for a queue until its first call has been handled (then the live average is used)."""


def estimated_wait(position: int, handle_time: float | None, working: int, available: int) -> float | None:
    """Expected wait of the caller at ``position``: the calls ahead that no idle operator can take now,
    served by ``working`` operators at the queue's recent handle time. None when nobody works the queue."""
    if position <= 0:
        return 0.0
    if working <= 0:
        return None
    ahead = max(0, position - available)
    aht = PRIOR_HANDLE_SECONDS if handle_time is None else handle_time
    return math.ceil(ahead * aht / working)


# -- the reference model -------------------------------------------------------------------------------------
# Mirrors queueing/lua (same order of operations, same tie-breaks: sorted sets order by score then member).

LOOKAHEAD = 16
_STRICT_PRIORITY = 1e10


class ReferenceAcd:
    """The ACD's semantics in memory: same operations, results, errors and journaled event types as ``Acd``
    (random strategy excepted: its draws come from the script's generator)."""

    def __init__(self, queues: Mapping[str, QueueConfig], operators: Mapping[str, ModelOperator]) -> None:
        self.queues = dict(queues)
        self.operators = dict(operators)
        self.calls: dict[str, ModelCall] = {}
        self.waiting: dict[str, dict[str, float]] = {q: {} for q in queues}
        self.available: dict[str, dict[str, float]] = {q: {} for q in queues}
        self.staffed: dict[str, set[str]] = {q: set() for q in queues}
        self.timers: dict[str, float] = {}
        self.handle_time: dict[str, float] = {}
        self.events: list[tuple[str, str, str, str]] = []
        self.counters: dict[str, Counter[str]] = {q: Counter() for q in queues}
        self.rr = 0

    # -- lookups and the journal ---------------------------------------------------------------------------
    def _journal(self, kind: str, call_id: str, queue: str, operator: str) -> None:
        self.events.append((kind, call_id, queue, operator))
        if queue:
            self.counters[queue][kind.lower()] += 1

    def _cfg(self, queue: str) -> QueueConfig:
        if queue not in self.queues:
            raise NoSuchQueueError(queue)
        return self.queues[queue]

    def _op(self, name: str) -> ModelOperator:
        if name not in self.operators:
            raise NoSuchOperatorError(name)
        return self.operators[name]

    def _call(self, call_id: str) -> ModelCall:
        call = self.calls.get(call_id)
        if call is None or call.state == "ended":
            raise NoSuchCallError(call_id)
        return call

    # -- operators -----------------------------------------------------------------------------------------
    def _avail_score(self, o: ModelOperator, queue: str) -> float:
        strategy = self.queues[queue].strategy
        if strategy == "round_robin":
            return float(o.rr)
        if strategy == "fewest_calls":
            return o.calls * 1e10 + o.idle
        if strategy == "least_talk_time":
            return o.talk * 1e10 + o.idle
        return o.idle

    def _move(self, name: str, to: OperatorState, reason: str, implied: bool, now: float) -> None:
        o = self.operators[name]
        check_transition(name, o.state, to)
        before = o.state
        if before is S.AVAILABLE:
            for q in o.serving:
                self.available[q].pop(name, None)
        if working(before) and not working(to):
            for q in o.serving:
                self.staffed[q].discard(name)
        o.state, o.reason = to, reason
        if to is S.AVAILABLE:
            o.idle, o.call = now, ""
            for q in o.serving:
                self.available[q][name] = f6(self._avail_score(o, q))
        if working(to) and not working(before):
            for q in o.serving:
                self.staffed[q].add(name)
        if not implied:
            self._journal("OPERATOR_STATE", "", "", name)

    def _record_handle(self, queue: str, seconds: float) -> None:
        old = self.handle_time.get(queue)
        self.handle_time[queue] = f6(seconds if old is None else old + 0.2 * (seconds - old))

    def _wrap_done(self, name: str, to: OperatorState, reason: str, now: float, limit: float | None = None) -> None:
        o = self.operators[name]
        wrap = now - o.wrap_started
        if limit is not None and wrap > limit:
            wrap = limit
        self._record_handle(o.last_queue, o.handled + wrap)
        self._journal("WRAPUP_DONE", o.call, o.last_queue, name)
        self.timers.pop(f"u|{name}", None)
        o.call = ""
        self._move(name, to, reason, to is S.AVAILABLE, now)

    def _finish(self, name: str, call_id: str, queue: str, talk: float, now: float) -> None:
        o = self.operators[name]
        o.talk += talk
        wrap = self.queues[queue].wrap_up_seconds
        if wrap > 0:
            self._move(name, S.WRAP_UP, "", True, now)
            o.wrap_started, o.handled, o.last_queue = now, talk, queue
            self.timers[f"u|{name}"] = f6(now + wrap)
        else:
            self._record_handle(queue, talk)
            self._journal("WRAPUP_DONE", call_id, queue, name)
            self._move(name, S.AVAILABLE, "", True, now)

    def _release(self, name: str, call_id: str, reason: str, now: float) -> None:
        self.timers.pop(f"r|{call_id}|{name}", None)
        self._move(name, S.AVAILABLE, reason, False, now)

    def set_state(self, name: str, to: OperatorState, now: float, reason: str = "", queues: str = "") -> None:
        """Login, logout, break, available (as ``Acd.set_state``/``login``/``logout``)."""
        o = self._op(name)
        check_manual(name, o.state, to)
        if o.state is S.OFFLINE:
            serving = tuple(q for q in (queues or ",".join(o.configured)).split(",") if q)
            for q in serving:
                self._cfg(q)
            o.serving, o.missed = serving, 0
        if o.state is S.WRAP_UP:
            self._wrap_done(name, to, reason, now)
        else:
            self._move(name, to, reason, False, now)

    def wrap_up_done(self, name: str, now: float) -> None:
        """As ``Acd.wrap_up_done``."""
        if self._op(name).state is not S.WRAP_UP:
            raise IllegalTransitionError(name)
        self._wrap_done(name, S.AVAILABLE, "", now)

    # -- calls ---------------------------------------------------------------------------------------------
    def _required(self, queue: str, call: ModelCall) -> dict[str, int]:
        required = dict(self.queues[queue].skills)
        for skill, level in call.skills.items():
            required[skill] = max(level, required.get(skill, 0))
        return required

    def _eligible(self, name: str, required: Mapping[str, int]) -> tuple[bool, int]:
        skills = self.operators[name].skills
        if any(skills.get(s, 0) < level for s, level in required.items()):
            return False, 0
        return True, sum(skills.get(s, 0) for s in required)

    def _staffed_for(self, queue: str, call: ModelCall) -> bool:
        required = self._required(queue, call)
        return any(self._eligible(name, required)[0] for name in self.staffed[queue])

    def _enter(self, call_id: str, call: ModelCall, queue: str, now: float) -> int:
        config = self._cfg(queue)
        weight = config.priority_aging_seconds or _STRICT_PRIORITY
        call.queue, call.entered, call.state, call.ringing, call.operator = queue, now, "waiting", [], ""
        call.score = f6(call.first_entered - call.priority * weight)
        self.waiting[queue][call_id] = call.score
        if not call.callback:
            call.deadline = now + config.max_wait_seconds
            self.timers[f"w|{call_id}"] = f6(call.deadline)
        self._journal("ENTER_QUEUE", call_id, queue, "")
        return ordered(self.waiting[queue]).index(call_id) + 1

    def _end(self, call_id: str, call: ModelCall) -> None:
        call.state = "ended"
        self.timers.pop(f"w|{call_id}", None)

    def _requeue(self, call_id: str, call: ModelCall) -> None:
        call.state, call.ringing = "waiting", []
        self.waiting[call.queue][call_id] = call.score
        if not call.callback and call.deadline is not None:
            self.timers[f"w|{call_id}"] = f6(call.deadline)

    def _set_callback(self, call_id: str, call: ModelCall, number: str) -> None:
        call.callback = number or "unknown"
        self.timers.pop(f"w|{call_id}", None)
        self._journal("CALLBACK_REQUESTED", call_id, call.queue, "")

    def enqueue(
        self,
        call_id: str,
        queue: str,
        now: float,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        caller: str = "",
    ) -> tuple[int, str, str]:
        """As ``Acd.enqueue``: (position, action, queue)."""
        if call_id in self.calls:
            raise CallAlreadyQueuedError(call_id)
        call = ModelCall(queue=queue, priority=priority, skills=dict(skills or {}), caller=caller, first_entered=now)
        action = "queued"
        for _ in range(8):
            config = self._cfg(queue)
            if config.when_empty == "wait" or self._staffed_for(queue, call):
                break
            if config.when_empty == "voicemail":
                self._journal("EXIT_EMPTY", call_id, queue, "")
                return 0, "voicemail", queue
            if config.when_empty == "callback":
                action = "callback"
                break
            self._journal("EXIT_EMPTY", call_id, queue, "")
            action, queue = "overflow", str(config.overflow_queue)
        self.calls[call_id] = call
        position = self._enter(call_id, call, queue, now)
        if action == "callback":
            self._set_callback(call_id, call, caller)
        return position, action, queue

    def abandon(self, call_id: str, now: float) -> bool:
        """As ``Acd.abandon``."""
        call = self._call(call_id)
        if call.callback:
            return False
        if call.state == "waiting":
            self.waiting[call.queue].pop(call_id)
        elif call.state == "ringing":
            for name in call.ringing:
                self._release(name, call_id, "caller_abandoned", now)
        else:
            raise CallNotWaitingError(call_id)
        self._journal("ABANDONED", call_id, call.queue, "")
        self._end(call_id, call)
        return True

    def no_answer(self, call_id: str, name: str, now: float) -> None:
        """As ``Acd.no_answer``."""
        call = self._call(call_id)
        if call.state != "ringing" or name not in call.ringing:
            raise CallNotOfferedError(call_id)
        o = self._op(name)
        self.timers.pop(f"r|{call_id}|{name}", None)
        self._journal("RING_NO_ANSWER", call_id, call.queue, name)
        o.missed += 1
        o.call = ""
        if o.missed >= self.queues[call.queue].max_missed:
            o.missed = 0
            self._move(name, S.BREAK, BREAK_MISSED_CALLS, False, now)
        else:
            self._move(name, S.AVAILABLE, "", True, now)
        call.ringing = [n for n in call.ringing if n != name]
        if not call.ringing:
            self._requeue(call_id, call)

    def _timeout(self, call_id: str, call: ModelCall, now: float) -> str:
        config = self.queues[call.queue]
        action = config.on_max_wait
        self._journal("EXIT_TIMEOUT", call_id, call.queue, "")
        if action == "callback":
            self._set_callback(call_id, call, call.caller)
            return action
        self.waiting[call.queue].pop(call_id)
        if action == "overflow":
            self._enter(call_id, call, str(config.overflow_queue), now)
        else:
            self._end(call_id, call)
        return action

    # -- offers --------------------------------------------------------------------------------------------
    def _pick(self, queue: str, call: ModelCall) -> list[str]:
        config = self.queues[queue]
        required = self._required(queue, call)
        ranked = ordered(self.available[queue])
        if config.strategy == "random":
            raise NotImplementedError("random draws come from the script's generator")
        if config.strategy != "ring_all" and not config.prefer_higher_skill:
            return next(([name] for name in ranked if self._eligible(name, required)[0]), [])
        prefer = config.prefer_higher_skill and config.strategy != "ring_all"
        chosen, best = [], -1
        for name in ranked:
            ok, level = self._eligible(name, required)
            if ok and prefer and level > best:
                chosen, best = [name], level
            elif ok and (not prefer or level == best):
                chosen.append(name)
        return chosen if config.strategy == "ring_all" else chosen[:1]

    def _reserve(self, call_id: str, call: ModelCall, queue: str, names: list[str], now: float) -> None:
        for name in names:
            o = self.operators[name]
            self._move(name, S.RESERVED, "", True, now)
            self.rr += 1
            o.rr, o.call, o.last_queue = self.rr, call_id, queue
            self.timers[f"r|{call_id}|{name}"] = f6(now + self.queues[queue].ring_timeout_seconds)
            self._journal("OFFERED", call_id, queue, name)
        self.waiting[queue].pop(call_id)
        call.state, call.ringing = "ringing", list(names)

    def offer(self, now: float, queue: str | None = None, limit: int = 1000) -> list[tuple[str, str]]:
        """As ``Acd.offer``: (call, operator) pairs in the order they were reserved."""
        names = [queue] if queue else sorted(self.queues)
        cands = [Candidate(q, self._cfg(q).priority) for q in names if self.waiting[q]]
        out: list[tuple[str, str]] = []
        while len(out) < limit:
            best: Candidate | None = None
            for cand in cands:
                if cand.done:
                    continue
                if not self.available[cand.queue] or (cand.call is None and not self._head(cand)):
                    cand.done = True
                elif cand.better_than(best):
                    best = cand
            if best is None or best.call is None:
                break
            call = self.calls[best.call]
            picked = self._pick(best.queue, call)
            if picked:
                self._reserve(best.call, call, best.queue, picked, now)
                out += [(best.call, name) for name in picked]
            else:
                best.skip += 1
            best.call = None
        return out

    def _head(self, cand: Candidate) -> bool:
        ranked = ordered(self.waiting[cand.queue])
        if cand.skip >= min(LOOKAHEAD, len(ranked)):
            return False
        cand.call = ranked[cand.skip]
        cand.score = self.waiting[cand.queue][cand.call]
        return True

    # -- conversations -------------------------------------------------------------------------------------
    def accept(self, call_id: str, name: str, now: float) -> None:
        """As ``Acd.accept``."""
        call = self._call(call_id)
        o = self._op(name)
        if call.state != "ringing" or name not in call.ringing:
            raise CallNotOfferedError(call_id)
        self._move(name, S.ON_CALL, "", True, now)
        self.timers.pop(f"r|{call_id}|{name}", None)
        for other in call.ringing:
            if other != name:
                self._release(other, call_id, "answered_elsewhere", now)
        o.calls, o.missed, o.call, o.last_queue = o.calls + 1, 0, call_id, call.queue
        call.state, call.operator, call.ringing, call.connected_at = "connected", name, [], now
        self._journal("CONNECTED", call_id, call.queue, name)

    def hangup(self, call_id: str, now: float, by: str = "caller") -> str:
        """As ``Acd.hangup``."""
        call = self._call(call_id)
        if call.state != "connected":
            if by != "caller":
                raise CallNotConnectedError(call_id)
            return "ABANDONED" if self.abandon(call_id, now) else ""
        kind = "COMPLETED_BY_OPERATOR" if by == "operator" else "COMPLETED_BY_CALLER"
        self._op(call.operator)
        self._journal(kind, call_id, call.queue, call.operator)
        self._finish(call.operator, call_id, call.queue, now - call.connected_at, now)
        self._end(call_id, call)
        return kind

    def transfer(self, call_id: str, to_queue: str, now: float, escalate: bool = False) -> int:
        """As ``Acd.transfer``."""
        call = self._call(call_id)
        kind = "ESCALATED" if escalate else "TRANSFERRED"
        self._cfg(to_queue)
        source = call.queue
        if call.state == "connected":
            self._journal(kind, call_id, source, call.operator)
            self._finish(call.operator, call_id, source, now - call.connected_at, now)
        else:
            for name in call.ringing if call.state == "ringing" else []:
                self._release(name, call_id, "transferred", now)
            self.waiting[source].pop(call_id, None)
            self._journal(kind, call_id, source, "")
        self.timers.pop(f"w|{call_id}", None)
        return self._enter(call_id, call, to_queue, now)

    def request_callback(self, call_id: str, number: str, now: float) -> int:
        """As ``Acd.request_callback``."""
        call = self._call(call_id)
        if call.state != "waiting":
            raise CallNotWaitingError(call_id)
        self._set_callback(call_id, call, number)
        return self.position(call_id)

    def callback_dialled(self, call_id: str, now: float) -> None:
        """As ``Acd.callback_dialled``."""
        call = self._call(call_id)
        if not call.callback:
            raise NotACallbackError(call_id)
        if call.state not in ("ringing", "connected"):
            raise CallNotOfferedError(call_id)
        self._journal("CALLBACK_DIALLED", call_id, call.queue, call.operator)

    # -- housekeeping and reading --------------------------------------------------------------------------
    def tick(self, now: float, limit: int = 1000) -> list[tuple[str, str, str, str, str]]:
        """As ``Acd.tick``: (kind, call, operator, queue, action) per deadline handled."""
        due = sorted((score, member) for member, score in self.timers.items() if score <= now)[:limit]
        out: list[tuple[str, str, str, str, str]] = []
        for _, member in due:
            self.timers.pop(member, None)
            kind, a, b = (member.split("|") + [""])[:3]
            call = self.calls.get(a)
            if kind == "r" and call and call.state == "ringing" and b in call.ringing:
                self.no_answer(a, b, now)
                out.append(("ring_timeout", a, b, call.queue, ""))
            elif kind == "u" and self.operators[a].state is S.WRAP_UP:
                o = self.operators[a]
                call_id, queue = o.call, o.last_queue
                self._wrap_done(a, S.AVAILABLE, "", now, float(self.queues[queue].wrap_up_seconds))
                out.append(("wrap_up_expired", call_id, a, queue, ""))
            elif kind == "w" and call and call.state == "waiting" and not call.callback:
                queue = call.queue
                out.append(("max_wait", a, "", queue, self._timeout(a, call, now)))
        return out

    def position(self, call_id: str) -> int:
        """Place in its queue (1 = next), 0 when not waiting."""
        call = self._call(call_id)
        if call.state != "waiting":
            return 0
        return ordered(self.waiting[call.queue]).index(call_id) + 1
