"""A seeded mix of calls, operator states and tickets, with the pure reference KPI table computed in Python."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from callcenter.domain import kpi
from callcenter.domain.call_summary import CallSummary, summarize
from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.kpi_table import (
    Interval,
    KpiRow,
    TicketTotals,
    bucket_start,
    csat_of,
    resolved_ticket_totals,
)
from callcenter.hotline import KpiConfig
from callcenter.kpi.conventions import for_queue

E = EventType
QUEUES = ("general", "billing", "technical")
OPERATORS = {"anna": "first-level", "bela": "first-level", "cili": "second-level"}


def _event(type_: EventType, call_id: str, ts: float, **kwargs: Any) -> CallEvent:
    return CallEvent(id=uuid.uuid4().hex, type=type_, ts=ts, call_id=call_id, **kwargs)


@dataclass
class Dataset:
    events: list[CallEvent] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)

    def summaries(self) -> list[CallSummary]:
        by_call: dict[str, list[CallEvent]] = defaultdict(list)
        for e in self.events:
            if e.call_id:
                by_call[e.call_id].append(e)
        return [summarize(cid, evs) for cid, evs in by_call.items()]


def one_call(rng: random.Random, call_id: str, t0: float, queue: str, operator: str) -> list[CallEvent]:
    """A call of a random kind: answered (with hold, survey), short or long abandon, timeout, callback, IVR."""
    kind = rng.choices(["answered", "abandon", "timeout", "callback", "ivr"], [70, 15, 5, 5, 5])[0]
    caller = f"+3630{rng.randrange(1000, 1040)}"
    common = {"channel": "twilio"}
    events = [_event(E.CALL_STARTED, call_id, t0, data={"from": caller}, **common)]
    if kind == "ivr":
        return events + [_event(E.IVR_EXIT, call_id, t0 + 20, **common)]
    enq = t0 + rng.choice([3.0, 4.5, 8.25])
    events.append(_event(E.ENTER_QUEUE, call_id, enq, queue=queue, **common))
    wait = rng.choice([0.0, 2.0, 4.999, 5.0, 12.5, 20.0, 20.001, 45.0, 130.0])
    if kind == "abandon":
        return events + [_event(E.ABANDONED, call_id, enq + wait, queue=queue, **common)]
    if kind == "timeout":
        return events + [_event(E.EXIT_TIMEOUT, call_id, enq + 600, queue=queue, **common)]
    if kind == "callback":
        return events + [_event(E.CALLBACK_REQUESTED, call_id, enq + wait, queue=queue, **common)]
    return events + _answered(rng, call_id, enq + wait, queue, operator)


def _answered(rng: random.Random, call_id: str, at: float, queue: str, operator: str) -> list[CallEvent]:
    who = {"channel": "twilio", "queue": queue, "operator": operator}
    talk = rng.choice([30.0, 95.5, 240.0])
    events = [_event(E.CONNECTED, call_id, at, **who)]
    if rng.random() < 0.3:
        events += [_event(E.HOLD, call_id, at + 10, **who), _event(E.UNHOLD, call_id, at + 25, **who)]
    if rng.random() < 0.1:  # still talking: answered but not handled yet
        return events
    end = at + talk
    events.append(_event(E.COMPLETED_BY_OPERATOR, call_id, end, **who))
    events.append(_event(E.WRAPUP_DONE, call_id, end + 20, data={"seconds": 20}, **who))
    if rng.random() < 0.5:
        score = rng.randint(1, 5)
        events.append(
            _event(E.SURVEY_ANSWERED, call_id, end + 5, data={"question": "satisfaction", "answer": score}, **who)
        )
    return events


def operator_states(rng: random.Random, start: float, hours: int) -> list[CallEvent]:
    """Each operator logs in, takes breaks and logs out, every day."""
    events = []
    for name in OPERATORS:
        t = start + rng.randrange(0, 1800)
        for state in ["available", "on_call", "wrap_up", "available", "break", "available", "offline"] * hours:
            events.append(_event(E.OPERATOR_STATE, "", t, operator=name, data={"to": state}))
            t += rng.randrange(300, 1500)
    return events


def make_dataset(seed: int, start: float, calls: int, span_seconds: float) -> Dataset:
    """``calls`` calls spread over [start, start + span), plus operator states and tickets."""
    rng = random.Random(seed)
    data = Dataset()
    for i in range(calls):
        t0 = start + rng.random() * span_seconds
        data.events += one_call(rng, f"c{seed}-{i}", t0, rng.choice(QUEUES), rng.choice(list(OPERATORS)))
    data.events += operator_states(rng, start, max(1, int(span_seconds // 14400)))
    for i in range(calls // 4):
        data.tickets.append(_ticket(rng, i, start, span_seconds))
    return data


def _ticket(rng: random.Random, i: int, start: float, span: float) -> dict[str, Any]:
    created = start + rng.random() * span
    resolved = created + rng.random() * 7200 if rng.random() < 0.7 else None
    closed = resolved + 3600 if resolved is not None and rng.random() < 0.5 else None
    return {
        "caller": f"+3630{rng.randrange(1000, 1040)}" if rng.random() < 0.9 else "",
        "queue": rng.choice(QUEUES),
        "operator": rng.choice(list(OPERATORS)),
        "status": "closed" if closed else ("resolved" if resolved else "open"),
        "escalated": rng.random() < 0.2,
        "created_at": created,
        "resolved_at": resolved,
        "closed_at": closed,
    }


# -- the pure reference -------------------------------------------------------------------------------------


def key_of(by: str, queue: str, operator: str) -> str:
    return {"queue": queue, "operator": operator, "team": OPERATORS.get(operator, ""), "all": ""}[by]


def reference_table(
    data: Dataset,
    config: KpiConfig,
    start: float,
    end: float,
    interval: Interval | None,
    by: str,
    now: float,
    thresholds: dict[str, int] | None = None,
) -> dict[tuple[str, Any], KpiRow]:
    """The KPI table from the pure formulas, keyed by (group, local interval start or None)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(config.timezone)
    rows: dict[tuple[str, Any], KpiRow] = {}

    def slot(ts: float, key: str) -> tuple[str, Any]:
        group = (key, bucket_start(ts, interval, zone) if interval else None)
        rows.setdefault(group, KpiRow(key=group[0], start=group[1]))
        return group

    for s in data.summaries():
        if s.enqueued_at is None or not start <= s.enqueued_at < end:
            continue
        g = slot(s.enqueued_at, key_of(by, s.queue, s.operator))
        row = rows[g]
        rows[g] = KpiRow(
            row.key,
            row.start,
            row.calls + kpi.call_totals(s, for_queue(config, thresholds or {}, s.queue)),
            row.csat + csat_of(s.survey_score, s.answered_at is not None),
            row.tickets,
        )
    _tickets(data, config, start, end, by, slot, rows)
    if by != "queue":
        _staffed(data, start, end, interval, by, now, zone, rows, slot)
    return rows


def _tickets(
    data: Dataset, config: KpiConfig, start: float, end: float, by: str, slot: Any, rows: dict[Any, KpiRow]
) -> None:
    calls_of: dict[str, list[float]] = defaultdict(list)
    for s in data.summaries():
        if s.caller and s.started_at is not None:
            calls_of[s.caller].append(s.started_at)
    for t in data.tickets:
        key = key_of(by, t["queue"], t["operator"])
        extra: list[tuple[float, TicketTotals]] = []
        if t["resolved_at"] is not None and start <= t["resolved_at"] < end:
            repeats = calls_of[t["caller"]] if t["caller"] else []
            extra.append(
                (
                    t["resolved_at"],
                    resolved_ticket_totals(t["escalated"], t["resolved_at"], repeats, config.fcr_window_days),
                )
            )
        if t["closed_at"] is not None and start <= t["closed_at"] < end:
            extra.append((t["closed_at"], TicketTotals(closed=1)))
        for ts, totals in extra:
            g = slot(ts, key)
            r = rows[g]
            rows[g] = KpiRow(r.key, r.start, r.calls, r.csat, r.tickets + totals)


def _staffed(  # noqa: PLR0913
    data: Dataset,
    start: float,
    end: float,
    interval: Interval | None,
    by: str,
    now: float,
    zone: Any,
    rows: dict[Any, KpiRow],
    slot: Any,
) -> None:
    """Logged-in seconds, cut at interval boundaries by walking each span second by second boundaries."""
    from callcenter.domain.kpi_table import bucket_wall, wall_label, wall_seconds

    per_op: dict[str, list[CallEvent]] = defaultdict(list)
    for e in data.events:
        if e.type is E.OPERATOR_STATE and e.ts >= start - 86400 and e.ts < end:
            per_op[e.operator].append(e)
    extra: dict[tuple[str, Any], float] = defaultdict(float)
    for op, evs in per_op.items():
        evs.sort(key=lambda e: e.ts)
        for i, e in enumerate(evs):
            if e.data["to"] in ("offline", "break"):
                continue
            lo, hi = max(e.ts, start), min(evs[i + 1].ts if i + 1 < len(evs) else min(now, end), end)
            while lo < hi:
                cut = hi
                if interval:
                    w = bucket_wall(wall_seconds(lo, zone), interval)
                    nxt = bucket_wall(
                        w + {"15min": 900, "hour": 3600, "day": 90000, "week": 608400, "month": 32 * 86400}[interval],
                        interval,
                    )
                    cut = min(hi, wall_label(nxt, zone).timestamp())
                g = slot(lo, key_of(by, "", op))
                extra[g] += cut - lo
                lo = cut
    for g, seconds in extra.items():
        r = rows[g]
        rows[g] = KpiRow(r.key, r.start, r.calls.with_staffed_time(seconds), r.csat, r.tickets)


def rows_equal(a: KpiRow, b: KpiRow) -> list[str]:
    """Names of the fields that differ (floats compared to 1e-6 relative)."""
    from dataclasses import fields as dc_fields

    diffs = []
    for part in ("calls", "csat", "tickets"):
        x, y = getattr(a, part), getattr(b, part)
        for f in dc_fields(x):
            u, v = getattr(x, f.name), getattr(y, f.name)
            if abs(u - v) > 1e-6 * max(1.0, abs(u), abs(v)) + 1e-3 * (isinstance(u, float)):
                diffs.append(f"{part}.{f.name}: {u} != {v}")
    return diffs


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def ticket_rows(tickets: Sequence[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for t in tickets:
        yield {
            **t,
            "created_at": utc(t["created_at"]),
            "updated_at": utc(t["created_at"]),
            "resolved_at": utc(t["resolved_at"]) if t["resolved_at"] is not None else None,
            "closed_at": utc(t["closed_at"]) if t["closed_at"] is not None else None,
        }


def load_into(container: Any, data: Dataset) -> None:
    """Write the events the way the journal does (call summaries and the KPI rollup with the default
    conventions), and the tickets and operators directly."""
    from sqlalchemy import insert

    from callcenter.hotline import KpiConfig
    from callcenter.kpi.rollup import CallRollup, KpiRollupProjection
    from callcenter.storage.event_store import SqlEventStore
    from callcenter.storage.models import Operator, Ticket

    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with container.sessions.begin() as session:
        new_events = SqlEventStore(container.sessions).store(data.events, session)
        KpiRollupProjection(CallRollup(KpiConfig())).apply(new_events, session)
        operators = [{"username": u, "name": u, "team": t, "created_at": created} for u, t in OPERATORS.items()]
        session.execute(insert(Operator), operators)
        session.execute(insert(Ticket), list(ticket_rows(data.tickets)))
