"""Retention: calls older than ``privacy.retention_days`` lose the caller's number and name (call, legs, ticket,
logged events) and their recordings (URLs and files), each purge journalled once as DATA_PURGED; what KPIs
count stays; newer calls are untouched; a second run and a late event change nothing."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from callcenter import retention, ticket_jobs
from callcenter.domain.events import EventType
from callcenter.retention import RetentionService
from callcenter.storage.models import Call, CallEventRecord, CallLeg, Ticket
from tests.support.events import answered_call, event

T0 = 1_800_000_000.0
DAY = 86400.0
CALLER = "+36301234567"
URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def recorded_call(call_id: str, t0: float) -> list:
    started, *rest = answered_call(call_id, t0, caller=CALLER)
    started = event(EventType.CALL_STARTED, call_id, t0, channel="twilio",
                    data={"from": CALLER, "to": "+3612345678", "caller_name": "Kiss Péter"})  # fmt: skip
    recording = event(EventType.RECORDING, call_id, t0 + 90, channel="twilio",
                      data={"recording_sid": "RE" + call_id, "recording_url": URL})  # fmt: skip
    survey = event(EventType.SURVEY_ANSWERED, call_id, t0 + 120, channel="twilio",
                   data={"question": "satisfaction", "answer": 4, "via": "voice"})  # fmt: skip
    return [started, *rest, recording, survey]


@pytest.fixture
def calls(container):
    """An old call (T0) and a recent one (300 days later), both recorded, with their caller legs in SQL."""
    container.clock = Clock(T0 + 366 * DAY)
    for call_id, t0 in (("old", T0), ("new", T0 + 300 * DAY)):
        container.journal.append_many(recorded_call(call_id, t0))
        with container.sessions.begin() as session:
            session.add(CallLeg(call_id=call_id, leg_sid=f"CA{call_id}", from_addr=CALLER, to_addr="+3612345678",
                                recording_sid=f"RE{call_id}", recording_url=URL))  # fmt: skip
    container.journal_writer.drain_all()
    return container


def personal_data(container, call_id: str) -> list[str]:
    with container.sessions() as session:
        call = session.get(Call, call_id)
        ticket = session.get(Ticket, call.ticket_id)
        legs = session.scalars(select(CallLeg).where(CallLeg.call_id == call_id)).all()
        events = session.scalars(select(CallEventRecord).where(CallEventRecord.call_id == call_id)).all()
        values = [call.caller, call.caller_name, call.recording_url, ticket.caller, ticket.caller_name,
                  ticket.recording_url, *(v for leg in legs for v in (leg.from_addr, leg.recording_sid)),
                  *(str(e.data) for e in events)]  # fmt: skip
    return [v for v in values if CALLER in v or "Kiss" in v or "RE" + call_id in v or URL in v]


def test_calls_past_the_retention_period_lose_personal_data_and_recordings_once(calls):
    deleted: list[str] = []
    service = RetentionService(calls.sessions, calls.clock, 365, deleted.append)
    assert personal_data(calls, "old") and personal_data(calls, "new")
    assert service.purge() == 1
    assert personal_data(calls, "old") == [] and personal_data(calls, "new") != []
    assert deleted == ["REold"]
    with calls.sessions() as session:
        old = session.get(Call, "old")
        assert (old.outcome, old.operator, old.talk_seconds, old.survey_score) == ("answered", "anna", 60, 4)
        [purge] = session.scalars(select(CallEventRecord).where(CallEventRecord.type == "DATA_PURGED")).all()
        assert (purge.call_id, purge.data) == ("old", {"retention_days": 365, "recordings": 1})
    assert service.purge() == 0 and deleted == ["REold"]


def test_a_late_event_of_a_purged_call_does_not_bring_its_personal_data_back(calls):
    RetentionService(calls.sessions, calls.clock, 365).purge()
    calls.journal.append_many([event(EventType.CALL_ENDED, "old", T0 + 200, channel="twilio")])
    calls.journal_writer.drain_all()
    assert personal_data(calls, "old") == []


def test_purge_job_runs_on_the_worker_and_schedules_its_next_daily_run(calls):
    ticket_jobs.register(calls)
    calls.jobs.enqueue(retention.JOB, calls.keys.tag, int(DAY))
    SimpleWorker([calls.jobs.queue], connection=calls.redis.raw).work(burst=True)
    assert personal_data(calls, "old") == []
    slot = (int(calls.clock()) // int(DAY) + 1) * int(DAY)
    assert calls.jobs.queue.scheduled_job_registry.get_job_ids() == [f"privacy-purge-{calls.keys.tag}-{slot}"]
    retention.schedule_purge(calls)
    assert len(calls.jobs.queue.scheduled_job_registry.get_job_ids()) == 1


def test_privacy_purge_command_erases_what_is_past_the_period_and_says_how_much(calls, monkeypatch):
    from click.testing import CliRunner

    from callcenter.cli import main
    from callcenter.commands import privacy

    monkeypatch.setattr(privacy, "settings_or_exit", lambda: calls.settings)
    monkeypatch.setattr(privacy, "build_container", lambda settings: calls)
    result = CliRunner().invoke(main, ["privacy", "purge"])
    assert result.exit_code == 0 and result.output == "1 calls purged (older than 365 days)\n"
    assert personal_data(calls, "old") == [] and personal_data(calls, "new") != []
    result = CliRunner().invoke(main, ["privacy", "purge", "--days", "30"])
    assert result.output == "1 calls purged (older than 30 days)\n"
    assert personal_data(calls, "new") == []
