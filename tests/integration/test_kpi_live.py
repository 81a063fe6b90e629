"""Live windows from the Redis counters agree with the SQL history and the pure formulas on the same calls."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict
from zoneinfo import ZoneInfo

import pytest

from callcenter.bootstrap import Container
from callcenter.domain import kpi
from callcenter.domain.events import CallEvent
from callcenter.domain.kpi_table import CsatTotals, csat_of
from callcenter.kpi.history import KpiQuery, SqlKpi
from callcenter.kpi.live import WINDOWS, LiveKpi, Window, combined
from tests.support.kpi_data import Dataset, make_dataset

ZONE = ZoneInfo("Europe/Budapest")
NOW = dt.datetime(2026, 10, 25, 10, 7, 30, tzinfo=ZONE).timestamp()


def journal_in_batches(container: Container, events: list[CallEvent], seed: int = 3) -> None:
    """Events reach the journal out of order, in batches, some twice (replays), each batch drained."""
    rng = random.Random(seed)
    shuffled = events[:]
    rng.shuffle(shuffled)
    shuffled += rng.sample(events, len(events) // 5)
    for i in range(0, len(shuffled), 211):
        container.journal.append_many(shuffled[i : i + 211])
        container.journal_writer.drain_all()


def flat(per_queue: dict[str, tuple[kpi.KpiTotals, CsatTotals]]) -> dict[str, float]:
    """Every total of every queue, by "queue.field" (floats compared approximately)."""
    return {
        f"{queue}.{part}.{name}": value
        for queue, pair in per_queue.items()
        for part, totals in zip(("calls", "csat"), pair, strict=True)
        for name, value in asdict(totals).items()  # type: ignore[call-overload]
    }


@pytest.fixture
def live_calls(container: Container) -> tuple[Container, Dataset]:
    data = make_dataset(11, NOW - 3 * 3600, 160, 3 * 3600 - 40)
    journal_in_batches(container, [e for e in data.events if e.call_id])
    return container, data


def test_live_windows_equal_sql_history_over_the_same_periods(live_calls: tuple[Container, Dataset]) -> None:
    container, _ = live_calls
    config = container.hotline.kpi
    live = LiveKpi(container.redis.live, container.keys, config)
    for window in WINDOWS:
        assert_window_matches_history(container, live, window)


def assert_window_matches_history(container: Container, live: LiveKpi, window: Window) -> None:
    start, end = live.buckets.window_bounds(window, NOW)
    history = SqlKpi(container.engine, container.hotline.kpi).table(KpiQuery(start, end, None, "queue"), NOW)
    assert history, f"the {window} window holds calls"
    assert flat(live.window(window, NOW)) == pytest.approx(flat({r.key: (r.calls, r.csat) for r in history}))


def test_live_today_equals_pure_formulas_and_the_quarter_hours_sum_to_it(live_calls: tuple[Container, Dataset]) -> None:
    container, data = live_calls
    config = container.hotline.kpi
    live = LiveKpi(container.redis.live, container.keys, config)
    midnight = dt.datetime(2026, 10, 25, tzinfo=ZONE).timestamp()
    expected: dict[str, tuple[kpi.KpiTotals, CsatTotals]] = {}
    for s in data.summaries():
        if s.enqueued_at is not None and s.enqueued_at >= midnight:
            totals, csat = expected.get(s.queue, (kpi.KpiTotals(), CsatTotals()))
            expected[s.queue] = (
                totals + kpi.call_totals(s, config),
                csat + csat_of(s.survey_score, s.answered_at is not None),
            )
    today = live.window("today", NOW)
    assert {q: (t.offered, t.answered, t.abandoned, t.handled, c.responses) for q, (t, c) in today.items()} == {
        q: (t.offered, t.answered, t.abandoned, t.handled, c.responses) for q, (t, c) in expected.items()
    }
    for queue, (totals, _) in today.items():
        assert totals.handle_seconds == pytest.approx(expected[queue][0].handle_seconds)
    quarters = [combined(per_queue)[0] for _, per_queue in live.quarters(NOW)]
    assert sum(q.offered for q in quarters) == combined(today)[0].offered


def test_replayed_journal_changes_no_live_counter(live_calls: tuple[Container, Dataset]) -> None:
    container, data = live_calls
    live = LiveKpi(container.redis.live, container.keys, container.hotline.kpi)
    before, version = live.window("today", NOW), live.version()
    container.journal.append_many([e for e in data.events if e.call_id][:300])
    container.journal_writer.drain_all()
    assert live.window("today", NOW) == before
    assert live.version() == version
