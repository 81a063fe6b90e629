"""Redis comes back empty in the middle of Twilio calls (the hotline's keys are deleted: a restart without
persistence, seen by this hotline only). The watchdog rebuilds from SQL; the conversation in progress ends
normally, the waiting caller is answered, the caller who was in the IVR is rescued by the fallback URL, and every
call ends with a record."""

from __future__ import annotations

from sqlalchemy import select

from callcenter.bootstrap import Container
from callcenter.storage.models import Call
from callcenter.watchdog import build_watchdog
from tests.conftest import delete_tag
from tests.support.twilio_checks import operator_state, staff
from tests.support.twilio_driver import TwilioDriver
from tests.support.twilio_setup import clock, driver, fake_twilio, tw_app, tw_container  # noqa: F401


def test_calls_in_progress_survive_redis_losing_its_data_and_all_end_with_a_record(
    driver: TwilioDriver,  # noqa: F811
    tw_container: Container,  # noqa: F811
) -> None:
    c = tw_container
    staff(c, "anna", on_break=("bela",))
    talking = driver.call(frm="+36301110001").press("1").press("1")
    waiting = driver.call(frm="+36301110002").press("1").press("1")
    in_ivr = driver.call(frm="+36301110003")
    assert (talking.state, waiting.in_wait, in_ivr.state) == ("bridged", True, "gather")
    c.journal_writer.drain_all()
    watchdog = build_watchdog(c)
    assert watchdog.sweep(c.clock()) is not None  # first start: nothing of ours to rebuild, the mark is set

    delete_tag(c.redis.live, c.keys)  # Redis restarted empty
    report = watchdog.sweep(c.clock())
    assert report is not None and report.rebuilt is not None
    assert report.rebuilt.connected == [talking.sid] and report.rebuilt.requeued == [waiting.sid]
    assert operator_state(c, "anna") == "on_call" and operator_state(c, "bela") == "break"

    waiting.wait()  # the wait loop goes on: still in the queue, place kept
    assert waiting.in_wait and c.acd.position(waiting.sid, c.clock()).position == 1
    gather = in_ivr.pending.get("action") if in_ivr.pending is not None else None
    assert driver.post(gather or "", {**in_ivr.form(), "Digits": "1"}).status == 400  # its IVR state is gone
    in_ivr.state, in_ivr.pending = "busy", None
    in_ivr.post("/twilio/fallback", {"ErrorCode": "11200"})  # Twilio's answer to the error: the fallback URL
    assert in_ivr.state == "queue"

    c.clock.advance(60)  # type: ignore[attr-defined]
    talking.operator_hangs_up().press("4").press("1")
    c.clock.advance(40)  # type: ignore[attr-defined]
    driver.tick()  # wrap-up over: anna takes the longest-waiting caller
    assert waiting.state == "bridged" and waiting.peer is not None and waiting.peer.to == "client:anna"
    waiting.operator_hangs_up().press("5").press("1")
    c.clock.advance(40)  # type: ignore[attr-defined]
    driver.tick()
    assert in_ivr.state == "bridged"
    in_ivr.hangup()
    c.journal_writer.drain_all()
    with c.sessions() as session:
        calls = {row.id: row for row in session.scalars(select(Call))}
    assert set(calls) == {talking.sid, waiting.sid, in_ivr.sid}
    assert all(call.ended_at is not None for call in calls.values())
    assert (calls[talking.sid].survey_score, calls[waiting.sid].survey_score) == (4, 5)
    assert calls[waiting.sid].outcome == calls[in_ivr.sid].outcome == "answered"
