# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""Operators' softphones: the Voice SDK token and outgoing calls through the TwiML app."""

from __future__ import annotations

import dataclasses

import jwt
import pytest

from callcenter.auth import AuthService
from callcenter.config import TwilioSettings
from callcenter.operators import OperatorService
from callcenter.web.throttle import RedisLoginThrottle
from tests.support.twilio_checks import staff
from tests.support.twilio_driver import CALLER, Leg
from tests.support.twilio_setup import clock, driver, fake_twilio, tw_app, tw_container  # noqa: F401

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def bearer(container, username: str = "anna", password: str = "demo-anna") -> dict[str, str]:
    OperatorService(container.sessions).seed_from_hotline(container.hotline)
    auth = AuthService(container.sessions, RedisLoginThrottle(container.redis.live, container.keys), container.clock)
    return {"Authorization": "Bearer " + auth.login(username, password, "127.0.0.1").token}


@embedded_only
def test_voice_token_carries_the_username_and_a_voice_grant_for_one_hour(tw_app, tw_container):
    reply = tw_app.test_client().post("/api/v1/operators/me/voice-token", headers=bearer(tw_container))
    assert reply.status_code == 200
    body = reply.get_json()
    twilio = tw_container.settings.twilio
    claims = jwt.decode(body["token"], twilio.api_key_secret, algorithms=["HS256"], options={"verify_exp": False})
    assert body["identity"] == "anna" and body["ttl"] == 3600
    assert claims["sub"] == twilio.account_sid and claims["iss"] == twilio.api_key_sid
    assert claims["exp"] - claims["nbf"] == 3600
    voice = claims["grants"]["voice"]
    assert claims["grants"]["identity"] == "anna"
    assert voice["outgoing"]["application_sid"] == twilio.twiml_app_sid and voice["incoming"]["allow"] is True


@embedded_only
def test_voice_token_without_twilio_keys_is_503_with_what_to_set(tw_app, tw_container):
    headers = bearer(tw_container)
    tw_container.settings = dataclasses.replace(
        tw_container.settings, twilio=TwilioSettings(account_sid="AC1", auth_token="x")
    )
    reply = tw_app.test_client().post("/api/v1/operators/me/voice-token", headers=headers)
    assert reply.status_code == 503
    assert "TWILIO_API_KEY_SID" in reply.get_json()["detail"]


@embedded_only
def test_voice_token_needs_a_login(tw_app):
    assert tw_app.test_client().post("/api/v1/operators/me/voice-token").status_code == 401


def softphone(driver, to: str, **extra: str):
    leg = Leg(driver, driver.fake.new_sid("CA"), "client:anna", to, direction="inbound")
    return driver.post("/twilio/outgoing", {**leg.form(), **extra})


def test_outgoing_call_to_an_e164_number_dials_it_with_the_hotline_caller_id(driver, tw_container):
    reply = softphone(driver, "+36201234567")
    dial = reply.root.find("Dial")
    assert dial.get("callerId") == "+3612345678" and dial.find("Number").text == "+36201234567"


@pytest.mark.parametrize("to", ["0620123456", "+0123", "sip:evil@example.com", "client:bela", ""])
def test_outgoing_call_to_anything_but_e164_is_refused(driver, to):
    reply = softphone(driver, to)
    assert reply.status == 200 and reply.root.find("Dial") is None and reply.root.find("Hangup") is not None


def test_outgoing_callback_journals_callback_dialled(driver, tw_container):
    staff(tw_container, on_break=("anna",))
    leg = driver.call()
    leg.press("1").press("1").press("9")  # the caller books a callback while waiting
    tw_container.acd.set_state("anna", "available", tw_container.clock())
    tw_container.acd.offer(tw_container.clock())  # reserved for the callback (the console shows it to anna)
    reply = softphone(driver, CALLER, CallbackFor=leg.sid)
    assert reply.root.find("Dial/Number").text == CALLER
    assert driver.types(leg.sid)[-1] == "CALLBACK_DIALLED"


def test_an_operator_can_take_a_caller_from_the_fallback_queue(driver, tw_container):
    reply = softphone(driver, "queue:fallback")
    assert reply.root.find("Dial/Queue").text == f"{tw_container.keys.tag}-fallback"
