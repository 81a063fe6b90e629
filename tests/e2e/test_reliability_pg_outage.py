"""PostgreSQL unreachable under traffic (a TCP proxy in front of it is cut): calls keep being answered and routed
through Twilio's webhooks, the journal keeps their events, and when the database returns the backlog drains:
the calls, events, tickets and legs in SQL are exactly those the driver placed, none twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from rq.job import Job
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from callcenter.bootstrap import Container, build_container
from callcenter.config import Settings
from callcenter.storage.models import Call, CallEventRecord, CallLeg, Ticket
from callcenter.web.app import create_app
from tests.support.tcpproxy import TcpProxy
from tests.support.twilio_driver import Clock, TwilioDriver
from tests.support.twilio_fake import FakeTwilio
from tests.support.twilio_setup import AUTH_TOKEN, OPEN, fake_twilio, twilio_settings  # noqa: F401

pytestmark = [pytest.mark.real, pytest.mark.parametrize("backend", ["real"], indirect=True)]


@pytest.fixture
def cut_db(
    settings: Settings,
    redis_clients: Any,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> Iterator[tuple[TwilioDriver, Container, TcpProxy]]:
    url = urlsplit(settings.database_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    proxied = settings.database_url.replace(f"{url.hostname}:{url.port}", f"127.0.0.1:{proxy.port}")
    container = build_container(replace(twilio_settings(settings, fake_twilio.base_url), database_url=proxied),
                                redis_clients=redis_clients[0])  # fmt: skip
    container.clock = Clock(OPEN)
    app = create_app(container=container)
    driver = TwilioDriver(app.test_client(), container, fake_twilio, AUTH_TOKEN, container.settings.public_base_url)
    container.acd.sync_config(OPEN)
    for name in ("anna", "bela"):
        container.acd.login(name, OPEN)
    yield driver, container, proxy
    proxy.close()
    container.engine.dispose()


def whole_call(driver: TwilioDriver, n: int) -> str:
    """A caller (their own number: their own ticket) chooses billing, talks, answers the survey, hangs up."""
    leg = driver.call(frm=f"+3630555{n:04d}")
    leg.press("1").press("1")  # Hungarian; billing
    assert leg.state == "bridged", f"call {n} was not answered: {leg.state}"
    driver.container.clock.advance(30)
    leg.operator_hangs_up().press("5").press("1")
    assert leg.state == "ended"
    driver.container.clock.advance(40)  # past the wrap-up
    driver.tick()
    return leg.sid


def retry_scheduled_jobs(c: Container) -> None:
    """The jobs that failed while SQL was away wait for their retry; run them now instead of in 5 s."""
    registry = c.jobs.queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=c.redis.raw)
        registry.remove(job)
        c.jobs.queue.enqueue_job(job)


def sql_counts(c: Container) -> dict[str, int]:
    with c.sessions() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (("calls", Call), ("events", CallEventRecord), ("tickets", Ticket), ("legs", CallLeg))
        }


def test_calls_are_answered_while_sql_is_down_and_every_record_arrives_once_afterwards(
    cut_db: tuple[TwilioDriver, Container, TcpProxy],
) -> None:
    driver, c, proxy = cut_db
    before = [whole_call(driver, n) for n in range(3)]
    c.journal_writer.drain_all()
    written_before = sql_counts(c)["events"]
    proxy.cut()
    during = [whole_call(driver, n) for n in range(3, 9)]  # answered and routed: live state is in Redis
    with pytest.raises(OperationalError):
        c.journal_writer.drain_once()
    entries: list[tuple[str, dict[str, str]]] = c.redis.live.xrange(c.keys.journal)  # type: ignore[assignment]
    pending = {f["id"] for _id, f in entries}
    assert len(pending) > 6 * 8 and c.jobs.queue.scheduled_job_registry.count > 0  # events and leg jobs wait

    proxy.restore()
    retry_scheduled_jobs(c)
    driver.run_jobs()
    c.journal_writer.drain_all()
    c.journal_writer.drain_all()  # a replay writes nothing
    counts = sql_counts(c)
    placed = set(before + during)
    with c.sessions() as session:
        calls = {row.id: row for row in session.scalars(select(Call))}
        stored_ids = set(session.scalars(select(CallEventRecord.event_id)))
        legs = {
            row.leg_sid: (row.kind, row.status, row.recording_sid != "") for row in session.scalars(select(CallLeg))
        }
    ended_legs = {sid for sid, (_kind, status, _rec) in legs.items() if status == "completed"}
    operator_legs = {sid for sid, (kind, _status, _rec) in legs.items() if kind == "operator"}
    assert set(calls) == placed
    assert all(call.outcome == "answered" and call.survey_score == 5 for call in calls.values())
    assert counts["tickets"] == len(placed) and len({call.ticket_id for call in calls.values()}) == len(placed)
    assert pending <= stored_ids and counts["events"] == written_before + len(pending)
    assert placed <= ended_legs and len(operator_legs) == len(placed)  # each leg once, its last status kept
    assert set(legs) == placed | operator_legs
    assert c.journal.backlog() == 0 and c.jobs.queue.failed_job_registry.count == 0
