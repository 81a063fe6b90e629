# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""Limits of what a caller can send or cost us, each refused with a clear answer and no state change: too many
digits on a Gather, an over-long SMS reply, a queue already holding ``max_waiting`` callers."""

from __future__ import annotations

from tests.support.twilio_checks import staff, waiting
from tests.support.twilio_driver import CALLER, HOTLINE
from tests.support.twilio_setup import clock, driver, fake_twilio, tw_app, tw_container  # noqa: F401


def journal_length(container) -> int:
    return int(container.redis.live.xlen(container.keys.journal))


def test_more_than_32_digits_on_a_gather_is_400_and_the_ivr_stays_where_it_was(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    leg = driver.call()
    gather, before = leg.pending, journal_length(tw_container)
    reply = driver.post(gather.get("action"), {**leg.form(), "Digits": "1" * 33})
    assert reply.status == 400 and "Digits longer than 32 keys" in reply.body
    assert journal_length(tw_container) == before
    leg.press("1").press("1")
    assert waiting(tw_container, "general") == 1


def test_an_sms_reply_over_1600_characters_is_400_and_nothing_is_journalled(driver, tw_container):
    form = {"From": CALLER, "To": HOTLINE, "Body": "5" + " " * 1600, "MessageSid": "SM" + "0" * 32}
    reply = driver.post("/twilio/sms", form)
    assert reply.status == 400 and "SMS body longer than 1600 characters" in reply.body
    assert journal_length(tw_container) == 0


def test_a_caller_finding_the_queue_full_is_told_politely_and_hung_up(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    config = tw_container.keys.queue_config("general")
    tw_container.redis.live.hset(config, mapping={"max_waiting": 1, "on_max_wait": "hangup"})
    first = driver.call().press("1").press("1")
    second = driver.call(frm="+36309998877").press("1").press("1")
    assert first.in_wait and not second.in_wait
    assert second.heard("too many callers are waiting") or second.heard("nagyon sokan várakoznak")
    assert second.last.root.find("Hangup") is not None
    [full] = [e for e in driver.events(second.sid) if e.type.value == "EXIT_EMPTY"]
    assert full.data["reason"] == "queue_full" and full.data["action"] == "hangup"
    assert waiting(tw_container, "general") == 1
