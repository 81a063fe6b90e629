# ruff: noqa: F811 - pytest fixtures are imported from tests.support.twilio_setup
"""Signed callbacks for calls the ACD does not know (or no longer has) and fields with control characters:
never a 5xx, always what Twilio needs (TwiML or an empty 204), and nothing unstorable reaches the journal."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from callcenter.bootstrap import Container
from callcenter.domain.operator import NoSuchCallError
from tests.support.twilio_checks import call_record, staff
from tests.support.twilio_driver import CALLER, HOTLINE, TwilioDriver
from tests.support.twilio_fake import ACCOUNT_SID
from tests.support.twilio_setup import (  # noqa: F401
    AUTH_TOKEN,
    clock,
    driver,
    fake_twilio,
    tw_app,
    tw_container,
)

UNKNOWN = "CA" + "e" * 32
FORM = {"CallSid": UNKNOWN, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": HOTLINE,
        "CallStatus": "in-progress", "ApiVersion": "2010-04-01", "Direction": "inbound"}  # fmt: skip
q = f"call={UNKNOWN}&op=anna"

# Every route that asks the ACD about the call, with what Twilio sends it.
ACD_ROUTES = [
    ("/twilio/queue/wait", {"QueueSid": "QU" + "1" * 32, "QueueTime": "30"}),
    ("/twilio/queue/wait", {}),
    ("/twilio/queue/key", {"Digits": "9"}),
    ("/twilio/queue/done", {"QueueResult": "hangup"}),
    ("/twilio/queue/done", {"QueueResult": "leave"}),
    ("/twilio/queue/done", {"QueueResult": "error"}),
    ("/twilio/queue/exit?action=overflow&call=" + UNKNOWN, {}),
    ("/twilio/queue/exit?action=transferred&call=" + UNKNOWN, {}),
    ("/twilio/queue/exit?action=callback&call=" + UNKNOWN, {}),
    ("/twilio/bridge?" + q, {}),
    ("/twilio/whisper?" + q, {}),
    ("/twilio/whisper/accept?" + q, {"Digits": "1"}),
    ("/twilio/whisper/accept?" + q, {"Digits": "2"}),
    ("/twilio/dial?" + q, {"DialCallStatus": "no-answer"}),
    ("/twilio/dial?" + q, {"DialCallStatus": "completed"}),
    ("/twilio/dial?" + q, {"DialCallStatus": "completed", "CallStatus": "completed"}),
    ("/twilio/callback/operator?" + q, {}),
    ("/twilio/callback/accept?" + q, {"Digits": "1"}),
    ("/twilio/callback/done?" + q, {}),
    ("/twilio/survey?" + q + "&q=0", {"Digits": "5"}),
    ("/twilio/fallback", {"ErrorCode": "11200"}),
]
STATUS_ROUTES = [
    ("/twilio/status", {"CallStatus": "completed"}),
    ("/twilio/status?" + q, {"CallStatus": "no-answer"}),
    ("/twilio/status?" + q, {"CallStatus": "completed"}),
    ("/twilio/recording?" + q, {"RecordingSid": "RE" + "1" * 32, "RecordingStatus": "completed"}),
]


def twiml(body: str) -> ET.Element:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return root


@pytest.mark.parametrize("ended", [False, True], ids=["unknown", "ended"])
def test_callbacks_for_unknown_or_ended_calls_answer_twiml_or_204_never_an_error(
    driver: TwilioDriver, tw_container: Container, ended: bool
) -> None:
    tw_container.acd.sync_config(tw_container.clock())
    if ended:
        tw_container.acd.enqueue(UNKNOWN, "general", tw_container.clock(), channel="twilio")
        tw_container.acd.hangup(UNKNOWN, tw_container.clock())
    for _repeat in range(2):  # repeated callbacks are harmless too
        for path, extra in ACD_ROUTES:
            reply = driver.post(path, {**FORM, **extra})
            assert reply.status == 200, (path, extra, reply.status, reply.body)
            twiml(reply.body)
        for path, extra in STATUS_ROUTES:
            reply = driver.post(path, {**FORM, **extra})
            assert reply.status == 204, (path, extra, reply.status, reply.body)


def test_a_bridge_or_overflow_exit_for_a_call_the_acd_lost_hangs_up_politely(driver: TwilioDriver) -> None:
    for path in ("/twilio/bridge?" + q, f"/twilio/queue/exit?action=overflow&call={UNKNOWN}"):
        root = twiml(driver.post(path, FORM).body)
        assert [child.tag for child in root] == ["Say", "Hangup"]


def test_a_nul_in_from_and_digits_is_removed_and_the_call_goes_on(
    driver: TwilioDriver, tw_container: Container
) -> None:
    staff(tw_container, "anna")
    sid = "CA" + "d" * 32
    form = {**FORM, "CallSid": sid, "CallStatus": "ringing", "From": "+3630\x001234567", "CallerName": "\x00Ann\x01"}
    first = driver.post("/twilio/voice", form)
    assert first.status == 200
    gather = twiml(first.body).find("Gather")
    assert gather is not None
    reply = driver.post(gather.get("action", ""), {**form, "Digits": "1\x00"})
    assert reply.status == 200
    twiml(reply.body)
    record = call_record(tw_container, sid)
    assert record.caller == CALLER
    assert tw_container.redis.live.xlen(tw_container.keys.journal_dead) == 0


def test_a_call_id_with_a_nul_is_a_no_such_call_error_on_every_redis(tw_container: Container) -> None:
    # Real Redis cuts a script error at the NUL; it must still read as the ACD's refusal, not a Redis error.
    with pytest.raises(NoSuchCallError):
        tw_container.acd.position("CA\x00" + "1" * 30, tw_container.clock())
