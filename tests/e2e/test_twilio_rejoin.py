# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""A caller Twilio still holds in a queue but our ACD no longer knows (Redis lost its last second of writes,
or everything) is queued again at their next wait turn instead of hearing "goodbye", and is then answered."""

from __future__ import annotations

from tests.conftest import delete_tag
from tests.support.twilio_checks import staff, waiting
from tests.support.twilio_setup import clock, driver, fake_twilio, tw_app, tw_container  # noqa: F401


def forget_call(container, sid: str, queue: str) -> None:
    """The ACD loses one caller (their enqueue was in the last second before a crash without fsync)."""
    live = container.redis.live
    live.delete(container.keys.call(sid))
    live.zrem(container.keys.queue_waiting(queue), sid)
    live.zrem(container.keys.acd_timers, f"w|{sid}")


def test_a_caller_the_acd_lost_is_requeued_at_the_next_wait_turn_and_answered(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    leg = driver.call().press("1").press("1")
    forget_call(tw_container, leg.sid, "general")
    assert waiting(tw_container, "general") == 0
    leg.wait()
    assert leg.in_wait and waiting(tw_container, "general") == 1
    assert not leg.heard("Viszonthallásra") and not leg.heard("Goodbye")
    rejoined = [e for e in driver.events(leg.sid) if e.type.value == "ENTER_QUEUE"][-1]
    assert rejoined.data["rejoined"] is True
    tw_container.acd.set_state("anna", "available", tw_container.clock())
    driver.tick()
    assert driver.types(leg.sid)[-2:] == ["OFFERED", "CONNECTED"]


def test_after_redis_lost_everything_the_wait_turn_requeues_the_caller_in_the_first_queue(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    leg = driver.call().press("1").press("1")
    delete_tag(tw_container.redis.live, tw_container.keys)
    leg.wait()
    assert leg.in_wait and waiting(tw_container, "general") == 1


def test_reconciliation_requeues_the_twilio_queue_members_the_acd_lost_and_leaves_known_ones(driver, tw_container):
    from webhooks import jobs

    staff(tw_container, on_break=("anna",))
    lost = driver.call().press("1").press("1")
    kept = driver.call(frm="+36309998877").press("1").press("1")
    forget_call(tw_container, lost.sid, "general")
    tw_container.clock.advance(5)
    assert jobs.reconcile_queue_members(tw_container.keys.tag) == [lost.sid]
    assert waiting(tw_container, "general") == 2
    assert [e.data.get("rejoined") for e in driver.events(kept.sid) if e.type.value == "ENTER_QUEUE"] == [None]
    assert jobs.reconcile_queue_members(tw_container.keys.tag) == []
    tw_container.acd.set_state("anna", "available", tw_container.clock())
    driver.tick()
    assert driver.types(kept.sid)[-2:] == ["OFFERED", "CONNECTED"]  # the one who kept the place goes first


def test_the_watchdogs_rebuild_is_followed_by_a_queue_members_reconciliation(driver, tw_container):
    from callcenter.watchdog import build_watchdog

    staff(tw_container, on_break=("anna",))
    leg = driver.call().press("1").press("1")
    delete_tag(tw_container.redis.live, tw_container.keys)
    report = build_watchdog(tw_container).sweep(tw_container.clock())
    assert report is not None and report.rebuilt is not None
    jobs = [tw_container.jobs.queue.fetch_job(j) for j in tw_container.jobs.queue.get_job_ids()]
    assert "webhooks.jobs.reconcile_queue_members" in [job.func_name for job in jobs if job is not None]
    driver.run_jobs()
    assert waiting(tw_container, "general") == 1 and leg.in_wait
