# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""Twilio's delivery quirks: repeated and out-of-order webhooks, forged signatures, malformed requests, the
fallback URL when our own servers fail."""

from __future__ import annotations

import dataclasses

import pytest
from twilio.request_validator import RequestValidator

from callcenter.bootstrap import build_container
from callcenter.web import app as app_module
from tests.support.twilio_checks import call_record, legs, operator_state, staff, waiting
from tests.support.twilio_driver import CALLER, HOTLINE, Leg
from tests.support.twilio_fake import ACCOUNT_SID
from tests.support.twilio_setup import (  # noqa: F401
    AUTH_TOKEN,
    clock,
    driver,
    fake_twilio,
    tw_app,
    tw_container,
    twilio_settings,
)
from webhooks.channel import TwilioChannel

# Checks that happen before any state is touched need not run on both backends.
embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)

FORM = {"CallSid": "CA" + "f" * 32, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": HOTLINE,
        "CallStatus": "ringing", "ApiVersion": "2010-04-01", "Direction": "inbound"}  # fmt: skip


def test_repeated_webhooks_replay_the_same_twiml_and_journal_each_fact_once(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    leg = driver.call()
    first = leg.last
    again = driver.post(first.url, {**leg.form(), "CallStatus": "ringing"})
    assert again.body == first.body
    gather = leg.pending
    leg.press("1")
    repeat = driver.post(gather.get("action"), {**leg.form(), "Digits": "1"})
    assert repeat.body == leg.replies[1].body
    leg.press("1")
    again = driver.post(leg.replies[2].url, {**leg.form(), "Digits": "1"})
    assert again.body == leg.replies[2].body
    assert waiting(tw_container, "general") == 1
    leg.hangup()
    driver.post("/twilio/queue/done", {**leg.form(), "QueueResult": "hangup"})
    types = [e.type.value for e in driver.events(leg.sid)]
    assert types == ["CALL_STARTED", "IVR_INPUT", "IVR_INPUT", "ENTER_QUEUE", "ABANDONED"]
    call = call_record(tw_container, leg.sid)
    assert call.outcome == "abandoned" and call.event_count == 5


def test_status_callbacks_out_of_order_and_repeated_leave_the_leg_completed(driver, tw_container):
    staff(tw_container, "anna")
    driver.hold_status = True
    leg = driver.call()
    leg.press("1").press("1")
    operator = next(x for x in driver.legs.values() if x.sid != leg.sid)
    leg.operator_hangs_up()
    leg.press("5").press("1")
    assert leg.state == "ended" and driver.held
    driver.release_status(order=reversed(range(len(driver.held))), repeat=2)
    rows = legs(tw_container, leg.sid)
    assert rows[leg.sid].status == "completed" and rows[leg.sid].kind == "caller"
    assert rows[operator.sid].status == "completed" and rows[operator.sid].operator == "anna"
    assert rows[operator.sid].kind == "operator"
    assert rows[operator.sid].answered_at is not None and rows[operator.sid].ended_at is not None
    assert operator_state(tw_container, "anna") == "wrap_up"
    assert call_record(tw_container, leg.sid).outcome == "answered"


def test_a_late_ringing_callback_never_moves_a_completed_leg_back(driver, tw_container):
    staff(tw_container, "anna")
    base = {**FORM, "CallSid": "CA" + "e" * 32}
    for status, seq in (("completed", 3), ("ringing", 1), ("in-progress", 2), ("completed", 3)):
        assert driver.post("/twilio/status", {**base, "CallStatus": status, "SequenceNumber": str(seq)}).status == 204
    driver.settle()
    row = legs(tw_container, base["CallSid"])[base["CallSid"]]
    assert (row.status, row.status_seq) == ("completed", 3)


@pytest.mark.parametrize("signature", ["", "forged+signature=", "sign-the-other-url"])
def test_forged_or_missing_signature_is_refused_and_changes_nothing(driver, tw_container, signature):
    if signature == "sign-the-other-url":  # what a proxy-unaware app would compare against
        signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost/twilio/voice", FORM)
    reply = driver.post("/twilio/voice", FORM, signature=signature)
    assert reply.status == 403
    assert driver.events() == [] and tw_container.redis.live.exists(tw_container.keys.twilio_call(FORM["CallSid"])) == 0


ROUTES = [
    "/twilio/voice", "/twilio/fallback", "/twilio/status", "/twilio/outgoing", "/twilio/sms",
    "/twilio/ivr?s=1&node=main", "/twilio/queue/wait", "/twilio/queue/key", "/twilio/queue/done",
    "/twilio/queue/exit?call=CA1&action=voicemail", "/twilio/voicemail/done?call=CA1",
    "/twilio/bridge?call=CA1&op=anna", "/twilio/whisper?call=CA1&op=anna", "/twilio/whisper/accept?call=CA1&op=anna",
    "/twilio/dial?call=CA1&op=anna", "/twilio/callback/operator?call=CA1&op=anna",
    "/twilio/callback/accept?call=CA1&op=anna", "/twilio/callback/done?call=CA1&op=anna",
    "/twilio/survey?call=CA1&q=0", "/twilio/recording?call=CA1",
]  # fmt: skip


@embedded_only
def test_the_signature_test_covers_every_twilio_route(tw_app):
    rules = {rule.rule for rule in tw_app.url_map.iter_rules() if rule.rule.startswith("/twilio/")}
    assert rules == {path.split("?")[0] for path in ROUTES}


@embedded_only
@pytest.mark.parametrize("path", ROUTES)
def test_every_twilio_route_checks_the_signature(driver, path):
    assert driver.post(path, FORM, signature="nope").status == 403


def test_signature_is_checked_against_the_public_url_with_the_raw_query(driver, tw_container):
    staff(tw_container, "anna")
    leg = driver.call()
    # the action URL as Twilio requests it: base URL from CALLCENTER_PUBLIC_BASE_URL, query not re-encoded
    url = "http://callcenter.test/twilio/ivr?s=1&node=language"
    form = {**leg.form(), "Digits": "1"}
    assert driver.post(url, form).status == 200
    reencoded = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://callcenter.test/twilio/ivr?node=language&s=1", form
    )
    assert driver.post(url, form, signature=reencoded).status == 403


@embedded_only
@pytest.mark.parametrize(
    ("path", "form", "message"),
    [("/twilio/voice", {"From": CALLER}, "missing CallSid"),
     ("/twilio/ivr?node=main&s=x", FORM, "s must be a whole number"),
     ("/twilio/ivr?s=1", FORM, "missing node"),
     ("/twilio/status", {"CallSid": "CA1"}, "missing CallStatus"),
     ("/twilio/recording?call=CA1", {"CallSid": "CA1"}, "missing RecordingSid"),
     ("/twilio/ivr?s=1&node=main", {**FORM, "CallSid": "CAunknown"}, "UnknownCallError")],
)  # fmt: skip
def test_malformed_requests_get_400_with_the_reason(driver, path, form, message):
    reply = driver.post(path, form)
    assert reply.status == 400 and message in reply.body


def test_unknown_parameters_are_accepted(driver, tw_container):
    staff(tw_container, "anna")
    reply = driver.post("/twilio/voice", {**FORM, "StirVerstat": "TN-Validation-Passed-A", "CallToken": "x" * 40})
    assert reply.status == 200 and reply.root.find("Gather") is not None


def test_fallback_queues_the_caller_in_our_acd_when_redis_answers(driver, tw_container):
    staff(tw_container, "anna")
    form = {**FORM, "ErrorCode": "11205", "ErrorUrl": "http://callcenter.test/twilio/voice"}
    leg = Leg(driver, FORM["CallSid"], CALLER, HOTLINE, status_url=driver.caller_status_url)
    driver.legs[leg.sid] = leg
    driver.fake.live.add(leg.sid)
    leg.post("/twilio/fallback", form)
    assert leg.heard("Elnézést kérünk, technikai hiba történt.")
    driver.settle()
    assert leg.state == "bridged" and leg.peer.to == "client:anna"
    assert driver.types(leg.sid)[:2] == ["CALL_STARTED", "ENTER_QUEUE"]


def test_fallback_without_redis_or_database_still_queues_the_caller_politely(settings, redis_clients):
    broken = dataclasses.replace(
        twilio_settings(settings), redis_url="redis://127.0.0.1:1/0", database_url="postgresql://nobody@127.0.0.1:1/x"
    )
    container = build_container(broken)
    app = app_module.create_app(container=container)
    form = {**FORM, "ErrorCode": "11200"}
    url = "http://callcenter.test/twilio/fallback"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    reply = app.test_client().post("/twilio/fallback", data=form, headers={"X-Twilio-Signature": signature})
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200 and reply.mimetype == "text/xml"
    assert "<Enqueue>" in body and f"{settings.hotline_tag}-fallback</Enqueue>" in body
    assert "Elnézést kérünk, technikai hiba történt." in body


def test_the_rest_port_reads_a_call_status_from_twilio(driver, tw_container):
    staff(tw_container, "anna")
    leg = driver.call()
    channel = TwilioChannel(tw_container)
    assert channel.rest.call_status(leg.sid) == "in-progress"
    leg.hangup()
    assert channel.rest.call_status(leg.sid) == "completed"
