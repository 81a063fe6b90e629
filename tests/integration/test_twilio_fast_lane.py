"""The fast lane (``webhooks/fast_lane.py``) answers exactly as the Flask routes do.

Two apps on the same database and clock, each with its own Redis keyspace: one serves through the lane, the
other through Flask alone. Every request goes to both; status, headers and body must be the same, and so must
what they leave in Redis (the journal and the calls' channel state). The lane must also really serve the usual
requests (its counters), and leave the unusual ones to Flask.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Request

from callcenter.bootstrap import Container, build_container
from callcenter.config import Settings
from callcenter.domain.operator import NoSuchCallError
from queueing.keys import Keys
from tests.conftest import delete_tag
from tests.support.twilio_fake import FakeTwilio
from tests.support.twilio_setup import (  # noqa: F401 - fixtures
    AUTH_TOKEN,
    clock,
    fake_twilio,
    remove_jobs,
    tw_app,
    tw_container,
    twilio_settings,
)
from webhooks.fast_lane import FastLane
from webhooks.services import services_for

BASE = "http://callcenter.test"
WAITING = "CA" + "7" * 32
QUEUE_SID = "QU" + "c" * 32


@dataclasses.dataclass
class Twins:
    lane: FastLane
    flask: Any  # the other app's Flask WSGI callable, without the lane
    containers: tuple[Container, Container]
    apps: tuple[Any, Any]

    def post(self, path: str, form: dict[str, str] | bytes, *, query: str = "", signature: str | None = None,
             content_type: str = "application/x-www-form-urlencoded", headers: dict[str, str] | None = None
             ) -> tuple[str, list[tuple[str, str]], bytes]:  # fmt: skip
        """The same request to both apps; their answers must be the same. Returns it."""
        body = form if isinstance(form, bytes) else urlencode(form).encode()
        answers = []
        for wsgi in (self.lane, self.flask):
            environ = signed_environ(path, body, query=query, signature=signature, content_type=content_type,
                                     headers=headers)  # fmt: skip
            app_iter, status, response_headers = run_wsgi_app(wsgi, environ, buffered=True)
            answers.append((status, list(response_headers.items()), b"".join(app_iter)))
        assert answers[0] == answers[1], (path, query, body[:200])
        return answers[0]

    def state(self, sids: list[str]) -> list[Any]:
        """Each app's journal (without event ids: the ACD's are random) and channel state of ``sids``."""
        out = []
        for c in self.containers:
            journal = [{k: v for k, v in f.items() if k != "id"} for _, f in c.redis.live.xrange(c.keys.journal)]
            calls = [c.redis.live.hgetall(c.keys.twilio_call(sid)) for sid in sids]
            out.append((journal, calls))
        return out


def signed_environ(path: str, body: bytes, *, query: str = "", signature: str | None = None,
                   content_type: str = "application/x-www-form-urlencoded", headers: dict[str, str] | None = None
                   ) -> dict[str, Any]:  # fmt: skip
    """A POST as Twilio sends it: signed for the public URL unless ``signature`` is given."""
    if signature is None:
        url = BASE + path + ("?" + query if query else "")
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, _as_read(body))
    sent = {"X-Twilio-Signature": signature, **(headers or {})}
    return EnvironBuilder(path=path, method="POST", query_string=query, data=body, content_type=content_type,
                          headers=sent).get_environ()  # fmt: skip


def failing(error: Exception, calls: list[str]) -> Any:
    """A stand-in for ``Waiting.wait`` that records the call and raises ``error``."""

    def wait(sid: str, *args: Any) -> str:
        calls.append(sid)
        raise error

    return wait


def _as_read(body: bytes) -> MultiDict[str, str]:
    environ = EnvironBuilder(method="POST", data=body, content_type="application/x-www-form-urlencoded").get_environ()
    return MultiDict(Request(environ).form)


@pytest.fixture
def twins(
    settings: Settings,
    redis_clients: Any,
    fake_twilio: FakeTwilio,  # noqa: F811
    clock: Any,  # noqa: F811
    tw_container: Container,  # noqa: F811
    tw_app: Any,  # noqa: F811
) -> Iterator[Twins]:
    keys = Keys(tag="t" + uuid.uuid4().hex[:12])
    other = build_container(dataclasses.replace(twilio_settings(settings, fake_twilio.base_url), hotline_tag=keys.tag),
                            redis_clients=redis_clients[0])  # fmt: skip
    other.clock = clock
    from callcenter.web.app import create_app

    other_app = create_app(container=other)
    other_app.config.update(TESTING=True)  # as tw_app: unexpected errors propagate to the test in both
    assert isinstance(tw_app.wsgi_app, FastLane) and isinstance(other_app.wsgi_app, FastLane)
    for c in (tw_container, other):
        c.acd.sync_config(clock())
        c.acd.login("anna", clock())
        c.acd.set_state("anna", "break", clock(), reason="lunch")  # callers wait: nobody takes them
        c.acd.enqueue(WAITING, "general", clock(), channel="twilio", caller="+36301234567", language="hu")
    try:
        yield Twins(tw_app.wsgi_app, other_app.wsgi_app.flask_wsgi, (tw_container, other), (tw_app, other_app))
    finally:
        remove_jobs(other)
        delete_tag(redis_clients[0].live, keys)
        other._stop.set()
        other.engine.dispose()


def incoming(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "AC" + "a" * 32, "From": "+36301234567", "To": "+3612345678",
            "CallStatus": "ringing", "ApiVersion": "2010-04-01", "Direction": "inbound", **extra}  # fmt: skip


def wait_turn(sid: str, queue_time: str = "2") -> dict[str, str]:
    return {**incoming(sid, CallStatus="in-progress"), "QueueSid": QUEUE_SID, "QueuePosition": "1",
            "QueueTime": queue_time, "AvgQueueTime": "30", "CurrentQueueSize": "1"}  # fmt: skip


def test_the_usual_incoming_call_and_wait_turn_are_served_by_the_lane_exactly_as_by_flask(twins: Twins) -> None:
    new = "CA" + "1" * 32
    status, headers, body = twins.post("/twilio/voice", incoming(new))
    assert status == "200 OK" and b"<Gather" in body and ("X-Frame-Options", "DENY") in headers
    assert twins.post("/twilio/voice", incoming(new))[2] == body  # a repeat replays the first answer
    status, _, body = twins.post("/twilio/queue/wait", wait_turn(WAITING), query="lang=hu&key=9")
    assert status == "200 OK" and b"<Play" in body
    twins.post("/twilio/queue/wait", wait_turn(WAITING, "40"), query="lang=en&key=")
    assert twins.lane.served == 4 and twins.lane.passed == 0
    lane_state, flask_state = twins.state([new, WAITING])
    assert lane_state == flask_state
    assert [e["type"] for e in lane_state[0]].count("CALL_STARTED") == 1
    assert lane_state[1][1]["queue_sid"] == QUEUE_SID  # stored on the first turn (QueueTime 2 s) only


def test_a_caller_twilio_holds_but_the_acd_lost_rejoins_through_the_lane_as_through_flask(twins: Twins) -> None:
    lost = "CA" + "2" * 32
    twins.post("/twilio/voice", incoming(lost))
    status, _, _ = twins.post("/twilio/queue/wait", wait_turn(lost), query="lang=hu&key=9")
    assert status == "200 OK" and twins.lane.served == 2
    lane_state, flask_state = twins.state([lost])
    assert lane_state == flask_state
    assert "ENTER_QUEUE" in [e["type"] for e in lane_state[0]]


@pytest.mark.parametrize(
    ("case", "path", "form", "options", "expected"),
    [
        ("no CallSid", "/twilio/voice", {"From": "+3630"}, {}, "400 BAD REQUEST"),
        ("blank CallSid", "/twilio/queue/wait", {"CallSid": "  "}, {}, "400 BAD REQUEST"),
        ("forged", "/twilio/voice", incoming("CA" + "3" * 32), {"signature": "Zm9yZ2Vk"}, "403 FORBIDDEN"),
        ("unsigned", "/twilio/queue/wait", wait_turn(WAITING), {"signature": ""}, "403 FORBIDDEN"),
        ("not UTF-8", "/twilio/voice", b"CallSid=CA" + b"4" * 32 + b"&From=\xff\xfe", {}, None),
        ("JSON", "/twilio/voice", b'{"CallSid": "CA1"}', {"content_type": "application/json"}, "403 FORBIDDEN"),
        ("cookie", "/twilio/voice", incoming("CA" + "5" * 32), {"headers": {"Cookie": "a=b"}}, "200 OK"),
    ],
)
def test_unusual_requests_are_left_to_flask(
    twins: Twins, case: str, path: str, form: Any, options: dict[str, Any], expected: str | None
) -> None:
    status, _, _ = twins.post(path, form, **options)
    assert expected is None or status == expected, case
    assert twins.lane.served == 0 and twins.lane.passed == 1, case


def test_a_service_error_is_answered_by_flasks_handlers_without_running_the_service_again(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    for app in twins.apps:  # an AcdError: the blueprint answers a call with a goodbye
        monkeypatch.setattr(services_for(app).waiting, "wait", failing(NoSuchCallError(WAITING), calls))
    status, _, body = twins.post("/twilio/queue/wait", wait_turn(WAITING), query="lang=hu&key=9")
    assert status == "200 OK" and b"<Hangup" in body
    assert calls == [WAITING, WAITING]  # once through the lane's app, once through the other: never twice
    assert twins.lane.served == 0 and twins.lane.passed == 1


def test_an_unexpected_service_error_is_a_500_from_flask_and_the_service_ran_once(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    app = twins.apps[0]
    monkeypatch.setattr(services_for(app).waiting, "wait", failing(RuntimeError("a bug"), calls))
    monkeypatch.setitem(app.config, "TESTING", False)  # as in production: Flask answers 500 instead of raising
    environ = signed_environ("/twilio/queue/wait", urlencode(wait_turn(WAITING)).encode())
    _, status, _ = run_wsgi_app(twins.lane, environ, buffered=True)
    assert status.startswith("500") and calls == [WAITING]


def test_control_characters_are_cleaned_in_the_lane_as_in_flask(twins: Twins) -> None:
    sid = "CA" + "6" * 32
    status, _, _ = twins.post("/twilio/voice", incoming(sid, From="+3630\x00123", CallerName="A\x07nna"))
    assert status == "200 OK" and twins.lane.served == 1
    lane_state, flask_state = twins.state([sid])
    assert lane_state == flask_state
    started = next(e for e in lane_state[0] if e["type"] == "CALL_STARTED")
    assert "+3630123" in started["data"] and "\x00" not in started["data"]


FIELDS = ["CallSid", "From", "To", "CallStatus", "QueueSid", "QueueTime", "CallerName", "Digits", "AccountSid"]
value = st.one_of(
    st.text(max_size=30),
    st.sampled_from([WAITING, "CA" + "8" * 32, QUEUE_SID, "", " ", "0", "3", "99999999999999999999"]),
    st.binary(max_size=20),
)


def test_random_signed_requests_get_the_same_answer_and_leave_the_same_state(twins: Twins) -> None:
    seen: list[str] = []

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        path=st.sampled_from(["/twilio/voice", "/twilio/queue/wait"]),
        sid=value,
        form=st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=8)), value, max_size=8),
        query=st.dictionaries(st.sampled_from(["lang", "key", "x"]), st.text(max_size=6), max_size=3),
    )
    def post(path: str, sid: str | bytes, form: dict[str, Any], query: dict[str, str]) -> None:
        form = {"CallSid": sid, **form}
        body = b"&".join(_quoted(k) + b"=" + _quoted(v) for k, v in form.items())
        twins.post(path, body, query=urlencode(query))
        sid = form["CallSid"]
        if isinstance(sid, str):
            seen.append(sid)

    post()
    assert twins.lane.served > 30  # usual enough, often enough, to reach the lane's own path
    lane_state, flask_state = twins.state(sorted(set(seen)))
    assert lane_state == flask_state


def _quoted(part: str | bytes) -> bytes:
    raw = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw).encode()
