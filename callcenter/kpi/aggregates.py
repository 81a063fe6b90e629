"""The SQL twins of ``KpiTotals`` and ``CsatTotals`` over the ``calls`` table, shared by the KPI engine and the
rollup that pre-aggregates them (``callcenter.kpi.rollup``): one definition, so both paths count alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, case, func

from callcenter.hotline import KpiConfig
from callcenter.storage.models import Call

# Additive fields (summed when buckets merge); max_wait_seconds merges with MAX.
SUMMED = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "answered_within",
    "answered_wait_seconds",
    "handled",
    "handle_seconds",
    "csat_responses",
    "csat_satisfied",
)


def call_aggregates(config: KpiConfig, thresholds: Mapping[str, int]) -> list[ColumnElement[Any]]:
    """COUNT/SUM/MAX of every ``KpiTotals`` and ``CsatTotals`` field, labelled with the field's name."""
    wait = func.coalesce(Call.wait_seconds, 0.0)
    answered, abandoned = Call.answered_at.is_not(None), Call.outcome == "abandoned"
    handled = answered & Call.talk_seconds.is_not(None)
    handle = Call.talk_seconds + func.coalesce(Call.hold_seconds, 0.0) + func.coalesce(Call.wrapup_seconds, 0.0)
    return [
        func.count().label("offered"),
        count_if(answered).label("answered"),
        count_if(abandoned).label("abandoned"),
        count_if(abandoned & (wait < config.short_abandon_seconds)).label("short_abandoned"),
        count_if(answered & (wait <= threshold(config, thresholds, Call.queue))).label("answered_within"),
        func.sum(case((answered, wait), else_=0.0)).label("answered_wait_seconds"),
        count_if(handled).label("handled"),
        func.sum(case((handled, handle), else_=0.0)).label("handle_seconds"),
        func.max(wait).label("max_wait_seconds"),
        func.count(Call.survey_score).label("csat_responses"),
        count_if(Call.survey_score >= 4).label("csat_satisfied"),
    ]


def threshold(config: KpiConfig, thresholds: Mapping[str, int], queue: Any) -> ColumnElement[Any] | int:
    """T of each call's queue (see ``callcenter.kpi.conventions``)."""
    if not thresholds:
        return config.service_level_threshold_seconds
    whens = [(queue == name, seconds) for name, seconds in sorted(thresholds.items())]
    return case(*whens, else_=config.service_level_threshold_seconds)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))
