"""The demo engine (``serve --demo``) on a fast profile: simulated calls go through the Twilio channel and end in
SQL as real calls do (call records, events, tickets with dispositions, survey answers)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from callcenter.bootstrap import Container, build_container
from callcenter.commands.core import prepare
from callcenter.demo.engine import VirtualTwilio, start_demo
from callcenter.demo.profile import DemoOptions, DemoProfile, demo_settings
from callcenter.storage.models import Call, CallEventRecord, SurveyResponse, Ticket
from tests.support.twilio_setup import remove_jobs

RUN_SECONDS = 25


@pytest.fixture
def options() -> DemoOptions:
    return DemoOptions(DemoProfile.fast(calls_per_minute=30), extra_operators=3, seed=7)


@pytest.fixture
def demo(settings: Any, redis_clients: Any, options: DemoOptions) -> Iterator[tuple[Container, VirtualTwilio]]:
    served = dataclasses.replace(demo_settings(settings, options), embedded_worker=True)
    container = build_container(served, redis_clients=redis_clients[0])
    prepare(container)
    container.start_background()
    engine = start_demo(container, options)
    yield container, engine
    engine.stop()
    container._stop.set()
    for thread in container._threads:
        thread.join(timeout=5)
    remove_jobs(container)
    container.engine.dispose()


def counts(container: Container) -> dict[str, int]:
    with container.sessions() as session:
        answered = select(func.count()).select_from(Call).where(Call.answered_at.is_not(None))
        resolved = select(func.count()).select_from(Ticket).where(Ticket.status == "resolved")
        return {
            "calls": session.scalar(select(func.count()).select_from(Call)) or 0,
            "answered": session.scalar(answered) or 0,
            "tickets": session.scalar(select(func.count()).select_from(Ticket)) or 0,
            "resolved": session.scalar(resolved) or 0,
            "surveys": session.scalar(select(func.count()).select_from(SurveyResponse)) or 0,
        }


def test_demo_callers_and_operators_make_real_calls_tickets_and_survey_answers(demo):
    container, engine = demo
    wanted = {"calls": 6, "answered": 3, "tickets": 3, "resolved": 1, "surveys": 1}
    deadline = time.monotonic() + RUN_SECONDS
    seen = counts(container)
    while time.monotonic() < deadline and any(seen[k] < v for k, v in wanted.items()):
        time.sleep(0.5)
        seen = counts(container)
    assert all(seen[k] >= v for k, v in wanted.items()), (seen, dict(engine.stats))
    with container.sessions() as session:
        types = set(session.scalars(select(CallEventRecord.type).distinct()))
        channels = set(session.scalars(select(Call.channel).distinct()))
    assert {"CALL_STARTED", "ENTER_QUEUE", "OFFERED", "CONNECTED", "SURVEY_ANSWERED"} <= types
    assert types & {"COMPLETED_BY_OPERATOR", "COMPLETED_BY_CALLER"}
    assert channels == {"twilio"}
    operators = container.acd.snapshot(container.clock())["operators"]
    assert operators["anna"]["state"] == "offline"  # left for the human in the console
    assert operators["bela"]["state"] != "offline"


def test_demo_stops_cleanly_hanging_up_its_callers_and_logging_its_operators_out(demo):
    container, engine = demo
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline and engine.stats["calls"] < 4:
        time.sleep(0.2)
    engine.stop()
    assert engine._thread is not None and not engine._thread.is_alive()
    snapshot = container.acd.snapshot(container.clock())
    assert all(q["waiting"] == 0 for q in snapshot["queues"].values())
    simulated = {name: o["state"] for name, o in snapshot["operators"].items() if name in engine.operators.names}
    assert set(simulated.values()) == {"offline"}, simulated
    with container.sessions() as session:  # the last events reached SQL: every call has ended
        calls = session.scalar(select(func.count()).select_from(Call)) or 0
        open_calls = session.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None)))
    assert calls >= 4 and open_calls == 0


@pytest.mark.parametrize("options", [DemoOptions(DemoProfile.fast(calls_per_minute=20), extra_operators=6, seed=3)])
def test_the_human_operator_takes_a_demo_call_by_accepting_it_in_the_acd_as_the_console_does(demo):
    container, engine = demo
    acd, clock = container.acd, container.clock
    acd.login("anna", clock())
    deadline, call = time.monotonic() + RUN_SECONDS, None
    while time.monotonic() < deadline and call is None:
        row = acd.snapshot(clock())["operators"]["anna"]
        call = row["call"] if row["state"] == "reserved" else None
        time.sleep(0.05)
    assert call, "no call rang at anna"
    acd.accept(call, "anna", clock())  # what POST /api/v1/operators/me/accept does
    while time.monotonic() < deadline:
        with container.sessions() as session:
            record = session.get(Call, call)
            if record is not None and record.ended_at is not None:
                break
        time.sleep(0.2)
    assert record is not None and record.operator == "anna" and record.answered_at is not None
    assert record.outcome == "answered"
    assert acd.snapshot(clock())["operators"]["anna"]["state"] == "wrap_up"  # her wrap-up is hers to finish


CALLERS_HANG_UP = dataclasses.replace(DemoProfile.fast(calls_per_minute=30), operator_hangs_up=0.0,
                                      sms_reply_probability=1.0)  # fmt: skip


@pytest.mark.parametrize("options", [DemoOptions(CALLERS_HANG_UP, extra_operators=2, seed=5)])
def test_callers_who_hang_up_first_answer_the_sms_survey_through_twilio_sms(demo, monkeypatch):
    import webhooks.waiting

    monkeypatch.setattr(webhooks.waiting, "SMS_SURVEY_DELAY_SECONDS", 0)  # the job retries until SQL has the call
    container, engine = demo
    deadline = time.monotonic() + RUN_SECONDS
    answers: list[tuple[str, int]] = []
    while time.monotonic() < deadline and not answers:
        time.sleep(0.5)
        with container.sessions() as session:
            rows = session.execute(select(SurveyResponse.question_id, SurveyResponse.answer)
                                   .where(SurveyResponse.via == "sms"))  # fmt: skip
            answers = [(str(q), int(a)) for q, a in rows]
    assert answers, dict(engine.stats)
    assert engine.stats["sms_replies"] >= 1


CALLBACKS = dataclasses.replace(DemoProfile.fast(calls_per_minute=60), callback_key_probability=1.0)


@pytest.mark.parametrize("options", [DemoOptions(CALLBACKS, extra_operators=0, seed=11)])
def test_callers_who_press_the_callback_key_are_called_back_by_a_simulated_operator(demo):
    container, engine = demo
    deadline, types = time.monotonic() + RUN_SECONDS, set()
    while time.monotonic() < deadline and "CALLBACK_DIALLED" not in types:
        time.sleep(0.5)
        with container.sessions() as session:
            types = set(session.scalars(select(CallEventRecord.type).distinct()))
    assert {"CALLBACK_REQUESTED", "CALLBACK_DIALLED"} <= types, dict(engine.stats)
