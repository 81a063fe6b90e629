# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""``/twilio/sms`` is answered by SurveyService.handle_sms_reply: politely when no survey is pending, with a hint
for an unreadable reply, and never a second answer."""

from __future__ import annotations

from tests.support.twilio_checks import call_record, staff
from tests.support.twilio_driver import CALLER, HOTLINE
from tests.support.twilio_setup import clock, driver, fake_twilio, tw_app, tw_container  # noqa: F401
from webhooks import jobs


def sms(driver, body: str, frm: str = CALLER) -> str:
    reply = driver.post("/twilio/sms", {"From": frm, "To": HOTLINE, "Body": body, "MessageSid": "SM" + "0" * 32})
    assert reply.status == 200
    return reply.root.find("Message").text


def test_an_sms_without_a_pending_survey_is_answered_politely_and_records_nothing(driver, tw_container):
    assert "nincs nyitott kérdőív" in sms(driver, "Hello, my internet is down", frm="+447700900123")
    assert tw_container.redis.live.xlen(tw_container.keys.journal) == 0


def test_an_unreadable_sms_answer_gets_a_hint_and_the_survey_goes_on(driver, tw_container, fake_twilio):
    staff(tw_container, "anna")
    leg = driver.call()
    leg.press("1").press("1")
    leg.hangup()
    call_record(tw_container, leg.sid)
    assert jobs.send_sms_survey(tw_container.keys.tag, leg.sid)
    assert not jobs.send_sms_survey(tw_container.keys.tag, leg.sid)  # once per call
    assert sms(driver, "great") == "Kérjük, egy 1 és 5 közötti számmal válaszoljon."
    assert sms(driver, "5").startswith("Megoldódott a problémája?")
    answers = [e.data for e in driver.events(leg.sid) if e.type.value == "SURVEY_ANSWERED"]
    assert answers == [{"question": "satisfaction", "answer": 5, "via": "sms"}]
