"""Correctly signed but hostile webhook forms on every Twilio route (hypothesis): random, missing, huge and
non-UTF-8 fields, odd query strings. Never a 500; afterwards the live state is still sound: every journal entry
parses, the ACD answers, the journal drains into SQL and the channel's jobs run."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from callcenter.bootstrap import Container
from callcenter.domain.events import CallEvent
from queueing.jobs import ThreadWorker
from tests.support.twilio_driver import TwilioDriver
from tests.support.twilio_setup import (  # noqa: F401 - fixtures
    AUTH_TOKEN,
    clock,
    driver,
    fake_twilio,
    tw_app,
    tw_container,
)

LIVE = "CA" + "1" * 32
FIELDS = [
    *("CallSid", "AccountSid", "From", "To", "CallStatus", "Digits", "SpeechResult", "Confidence", "QueueResult"),
    *("QueueSid", "QueueTime", "DialCallStatus", "DialCallSid", "RecordingSid", "RecordingUrl", "RecordingStatus"),
    *("RecordingDuration", "SequenceNumber", "Body", "ErrorCode", "CallDuration", "CallerName", "Direction"),
]
QUERY = ["call", "op", "s", "node", "q", "retry", "noinput", "ticket", "action", "kind", "queue", "leg"]
STATUSES = ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"]

text = st.text(max_size=40)
value = st.one_of(
    text,
    st.sampled_from([LIVE, "anna", "bela", "main", "general", "1", "0", "-1", "99999999999999999999", "", " "]),
    st.sampled_from(STATUSES + ["bridged", "hangup", "leave", "error", "answered"]),
    st.from_regex(r"[0-9#*]{0,30}", fullmatch=True),
    st.binary(max_size=30),  # sent as raw bytes: often not UTF-8
    st.builds(lambda c, n: c * n, st.sampled_from("x9é\x00<"), st.integers(1000, 60_000)),  # huge
)
forms = st.dictionaries(st.one_of(st.sampled_from(FIELDS), text.filter(bool)), value, max_size=12)
queries = st.dictionaries(st.sampled_from(QUERY), st.one_of(text, st.sampled_from([LIVE, "anna", "main", "1"])))


def raw(v: str | bytes) -> bytes:
    return v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass")


def encode(pairs: dict[Any, Any]) -> bytes:
    return b"&".join(
        quote_from_bytes(raw(k)).encode() + b"=" + quote_from_bytes(raw(v)).encode() for k, v in pairs.items()
    )


def decoded(body: bytes) -> MultiDict[str, str]:
    """The form as the app reads it (Werkzeug keeps undecodable bytes percent-escaped): what Twilio signed."""
    environ = EnvironBuilder(method="POST", data=body, content_type="application/x-www-form-urlencoded").get_environ()
    return MultiDict(Request(environ).form)


def twilio_paths(app: Any) -> list[str]:
    return sorted(
        r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("twilio.") and r.rule.startswith("/twilio/")
    )


def assert_sound(c: Container) -> None:
    """The live state is not corrupt: entries parse, the ACD answers, SQL takes the journal, jobs run."""
    entries: list[tuple[str, dict[str, str]]] = c.redis.live.xrange(c.keys.journal)  # type: ignore[assignment]
    for _id, fields in entries:
        CallEvent.from_fields(fields)
    c.acd.snapshot(c.clock())
    c.journal_writer.drain_all()
    assert c.redis.live.xlen(c.keys.journal_dead) == 0
    worker = ThreadWorker([c.jobs.queue], connection=c.redis.raw)
    worker.work(burst=True)
    assert c.jobs.queue.failed_job_registry.count == 0, [
        c.jobs.queue.fetch_job(j).latest_result().exc_string  # type: ignore[union-attr]
        for j in c.jobs.queue.failed_job_registry.get_job_ids()
    ]


@pytest.fixture
def prepared(driver: TwilioDriver, tw_container: Container) -> TwilioDriver:  # noqa: F811
    tw_container.acd.sync_config(tw_container.clock())
    tw_container.acd.login("anna", tw_container.clock())
    form = {"CallSid": LIVE, "AccountSid": "AC" + "a" * 32, "From": "+36301234567", "To": "+3612345678",
            "CallStatus": "ringing", "ApiVersion": "2010-04-01", "Direction": "inbound"}  # fmt: skip
    assert driver.post("/twilio/voice", form).status == 200
    return driver


def test_signed_hostile_forms_on_every_twilio_route_never_give_500_or_corrupt_state(
    prepared: TwilioDriver,
    tw_container: Container,  # noqa: F811
) -> None:
    client = prepared.client
    paths = twilio_paths(client.application)
    assert len(paths) >= 19
    base = tw_container.settings.public_base_url
    answers: dict[int, int] = {}

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(path=st.sampled_from(paths), form=forms, query=queries)
    def post(path: str, form: dict[Any, Any], query: dict[str, str]) -> None:
        query_string = encode(query).decode("ascii")
        url = base + path + ("?" + query_string if query_string else "")
        body = encode(form)
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, decoded(body))
        reply = client.post(path, query_string=query_string, data=body,
                            content_type="application/x-www-form-urlencoded",
                            headers={"X-Twilio-Signature": signature})  # fmt: skip
        answers[reply.status_code] = answers.get(reply.status_code, 0) + 1
        assert reply.status_code < 500, (path, query, form, reply.get_data(as_text=True)[:500])
        assert reply.status_code != 403, "a correctly signed request was refused"

    post()
    assert answers.get(200, 0) > 20  # the forms were good enough, often enough, to reach the services
    assert_sound(tw_container)


def test_a_body_over_the_limit_is_refused_with_413(prepared: TwilioDriver) -> None:
    big = {"CallSid": LIVE, "Body": "x" * (2 * 1024 * 1024)}
    assert prepared.post("/twilio/sms", big).status == 413
