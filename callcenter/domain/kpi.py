"""KPI definitions over call summaries (DESIGN.md, "Surveys and KPIs"); the reference the SQL engine must match.

Two steps, so that live windows, history and the simulator share one definition:

1. :func:`tally` adds calls into :class:`KpiTotals`, which holds only counts, sums and a maximum. Totals of
   disjoint sets of calls merge with ``+``; a SQL engine produces the same fields with COUNT/SUM/MAX over the
   ``calls`` table (the column named beside each field below).
2. :func:`report` turns totals into the ratios of :class:`KpiReport`.

Which call counts where (``w`` is ``wait_seconds``: from entering the queue to being answered, or to leaving):

- offered: ``enqueued_at`` is set (the call entered a queue).
- answered: offered and ``answered_at`` is set (an operator connected).
- abandoned: offered and ``outcome == "abandoned"`` (the caller hung up while waiting). Every abandon counts;
  short abandons (``w < short_abandon_seconds``) are a subset reported apart, long abandons the rest.
  Overflows, voicemail and callbacks are offered but neither answered nor abandoned.
- answered within T: answered and ``w <= T`` (T = ``service_level_threshold_seconds``).
- handled: answered and ``talk_seconds`` is set (the conversation ended); its handle time is
  ``talk + hold + wrapup`` (a missing hold or wrap-up counts 0).
- max wait: the largest ``w`` of any offered call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Literal, Protocol

from callcenter.domain.events import CallEvent, EventType

ServiceLevelVariant = Literal["answered_and_long_abandoned", "offered", "answered_only"]
ABANDONED = "abandoned"
NOT_STAFFED = frozenset({"offline", "break"})


class KpiConventions(Protocol):
    """The KPI settings of the hotline file (``callcenter.hotline.KpiConfig`` satisfies it)."""

    @property
    def service_level_threshold_seconds(self) -> int: ...

    @property
    def short_abandon_seconds(self) -> int: ...

    @property
    def service_level_variant(self) -> ServiceLevelVariant: ...


class CallRecord(Protocol):
    """What the KPIs read from a call summary (the ``calls`` table and ``CallSummary`` both have it)."""

    @property
    def queue(self) -> str: ...

    @property
    def outcome(self) -> str: ...

    @property
    def enqueued_at(self) -> object: ...

    @property
    def answered_at(self) -> object: ...

    @property
    def wait_seconds(self) -> float | None: ...

    @property
    def talk_seconds(self) -> float | None: ...

    @property
    def hold_seconds(self) -> float | None: ...

    @property
    def wrapup_seconds(self) -> float | None: ...


@dataclass(frozen=True)
class KpiTotals:
    """Additive counts and sums of a set of calls; the SQL aggregate that produces each is noted."""

    offered: int = 0  # COUNT(enqueued_at)
    answered: int = 0  # COUNT(answered_at) among offered
    abandoned: int = 0  # SUM(outcome = 'abandoned')
    short_abandoned: int = 0  # SUM(outcome = 'abandoned' AND wait_seconds < short)
    answered_within: int = 0  # SUM(answered_at IS NOT NULL AND wait_seconds <= T)
    answered_wait_seconds: float = 0.0  # SUM(wait_seconds) over answered
    handled: int = 0  # COUNT(talk_seconds) over answered
    handle_seconds: float = 0.0  # SUM(talk + COALESCE(hold, 0) + COALESCE(wrapup, 0)) over handled
    max_wait_seconds: float = 0.0  # MAX(wait_seconds) over offered
    logged_in_seconds: float = 0.0  # operators' staffed time (not from calls; see with_staffed_time)

    def __add__(self, other: KpiTotals) -> KpiTotals:
        merged = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        merged["max_wait_seconds"] = max(self.max_wait_seconds, other.max_wait_seconds)
        return KpiTotals(**merged)

    def with_staffed_time(self, seconds: float) -> KpiTotals:
        """The same totals with the operators' logged-in time (excluding breaks) the occupancy divides by."""
        return KpiTotals(**{**{f.name: getattr(self, f.name) for f in fields(self)}, "logged_in_seconds": seconds})


@dataclass(frozen=True)
class KpiReport:
    """The ratios of DESIGN.md, each ``None`` when its denominator is zero."""

    totals: KpiTotals
    answer_rate: float | None  # answered / offered
    abandonment_rate: float | None  # abandoned / offered (short abandons included; see short_abandon_rate)
    short_abandon_rate: float | None  # short_abandoned / offered
    asa_seconds: float | None  # answered_wait_seconds / answered
    aht_seconds: float | None  # handle_seconds / handled
    service_level: float | None  # see service_level()
    occupancy: float | None  # handle_seconds / logged_in_seconds

    @property
    def max_wait_seconds(self) -> float:
        return self.totals.max_wait_seconds


def call_totals(call: CallRecord, conventions: KpiConventions) -> KpiTotals:
    """The totals of one call (all zero when it never entered a queue)."""
    if call.enqueued_at is None:
        return KpiTotals()
    wait = call.wait_seconds or 0.0
    answered = call.answered_at is not None
    abandoned = call.outcome == ABANDONED
    handle = _handle_seconds(call) if answered else None
    return KpiTotals(
        offered=1,
        answered=int(answered),
        abandoned=int(abandoned),
        short_abandoned=int(abandoned and wait < conventions.short_abandon_seconds),
        answered_within=int(answered and wait <= conventions.service_level_threshold_seconds),
        answered_wait_seconds=wait if answered else 0.0,
        handled=int(handle is not None),
        handle_seconds=handle or 0.0,
        max_wait_seconds=wait,
    )


def tally(calls: Iterable[CallRecord], conventions: KpiConventions) -> KpiTotals:
    """Sum the totals of every call."""
    total = KpiTotals()
    for call in calls:
        total = total + call_totals(call, conventions)
    return total


def tally_by_queue(calls: Iterable[CallRecord], conventions: KpiConventions) -> dict[str, KpiTotals]:
    """Totals per queue (the queue the call first entered)."""
    per_queue: dict[str, KpiTotals] = {}
    for call in calls:
        per_queue[call.queue] = per_queue.get(call.queue, KpiTotals()) + call_totals(call, conventions)
    return per_queue


def service_level(totals: KpiTotals, variant: ServiceLevelVariant) -> float | None:
    """Answered within T divided by, per variant:

    - ``answered_and_long_abandoned`` (default): answered + long abandons (short abandons are not held
      against the hotline, nor are overflows, voicemail and callbacks);
    - ``offered``: every offered call;
    - ``answered_only``: answered calls.
    """
    denominators: Mapping[ServiceLevelVariant, int] = {
        "answered_and_long_abandoned": totals.answered + totals.abandoned - totals.short_abandoned,
        "offered": totals.offered,
        "answered_only": totals.answered,
    }
    return _ratio(totals.answered_within, denominators[variant])


def report(totals: KpiTotals, conventions: KpiConventions) -> KpiReport:
    """The KPI ratios of a set of calls."""
    return KpiReport(
        totals=totals,
        answer_rate=_ratio(totals.answered, totals.offered),
        abandonment_rate=_ratio(totals.abandoned, totals.offered),
        short_abandon_rate=_ratio(totals.short_abandoned, totals.offered),
        asa_seconds=_ratio(totals.answered_wait_seconds, totals.answered),
        aht_seconds=_ratio(totals.handle_seconds, totals.handled),
        service_level=service_level(totals, conventions.service_level_variant),
        occupancy=_ratio(totals.handle_seconds, totals.logged_in_seconds),
    )


def staffed_seconds(events: Iterable[CallEvent], start: float, end: float) -> float:
    """Operators' logged-in time outside breaks within [start, end], from their OPERATOR_STATE events.

    An operator is staffed from an event whose ``data["to"]`` is neither ``offline`` nor ``break`` until the
    next event that is; a stretch still open at ``end`` counts until ``end``. Pass the events from before
    ``start`` too, so that operators who logged in earlier are counted. Other events are ignored.
    """
    since: dict[str, float | None] = {}
    total = 0.0
    ordered = sorted((e for e in events if e.type is EventType.OPERATOR_STATE), key=lambda e: (e.ts, e.id))
    for event in ordered:
        opened = since.get(event.operator)
        staffed = str(event.data.get("to", "")) not in NOT_STAFFED
        if opened is not None and not staffed:
            total += _overlap(opened, event.ts, start, end)
            since[event.operator] = None
        elif opened is None and staffed:
            since[event.operator] = event.ts
    return total + sum(_overlap(opened, end, start, end) for opened in since.values() if opened is not None)


def _overlap(begin: float, finish: float, start: float, end: float) -> float:
    return max(0.0, min(finish, end) - max(begin, start))


def _handle_seconds(call: CallRecord) -> float | None:
    if call.talk_seconds is None:
        return None
    return call.talk_seconds + (call.hold_seconds or 0.0) + (call.wrapup_seconds or 0.0)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None
