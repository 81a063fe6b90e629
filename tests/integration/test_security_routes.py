"""Every route of the app is covered: found in the app's own url_map (so a new route cannot slip past), each
one refuses an anonymous caller unless it is on the short public list, every Twilio route refuses a missing or
wrong signature and changes nothing, every API route refuses a revoked or expired token. The role matrix per
route is the API's own test (``tests/integration/test_api.py``); this file proves nothing is left out of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator
from werkzeug.routing import Rule

from callcenter.bootstrap import Container
from callcenter.operators import verify_password
from callcenter.storage.models import ApiToken, Base, Operator
from callcenter.web.app import create_app
from tests.support.api import bearer, make_token, seed_operators
from tests.support.events import answered_call
from tests.support.twilio_setup import AUTH_TOKEN, twilio_settings

T0 = 1_800_000_000.0
BASE = "http://callcenter.test"
# The only routes anybody may call without credentials; everything else needs a token, a session or Twilio.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/metrics"),  # Prometheus scrapes without credentials: aggregate counters only, no caller data
}
STATIC = ("static",)
PARAMS = {"ticket_id": "1", "article_id": "1", "token_id": "1", "username": "anna", "filename": "x.js"}


def routes(app: Flask) -> Iterator[tuple[str, str, Rule]]:
    """(method, a concrete path, rule) of every route the app serves."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        values = {name: PARAMS.get(name, "x") for name in rule.arguments}
        path = str(rule.build(values, append_unknown=False)[1])  # type: ignore[index]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path, rule


@pytest.fixture
def tw_client(container: Container) -> FlaskClient:
    container.settings = twilio_settings(container.settings)
    container.acd.sync_config(T0)
    return create_app(container=container).test_client()


def is_twilio(rule: Rule) -> bool:
    return rule.endpoint.startswith("twilio.") and rule.rule.startswith("/twilio/")


def is_page(rule: Rule) -> bool:
    return rule.rule.startswith(("/console", "/lead"))


def test_every_route_but_the_public_ones_refuses_an_anonymous_caller(tw_client: FlaskClient) -> None:
    refused: dict[str, int] = {}
    for method, path, rule in routes(tw_client.application):
        if (method, rule.rule) in PUBLIC or rule.endpoint.endswith(STATIC):
            continue
        status = tw_client.open(path, method=method, data={"CallSid": "CA1"}).status_code
        expected = (403,) if is_twilio(rule) else (302, 401, 403) if is_page(rule) else (401,)
        if status not in expected:
            refused[f"{method} {rule.rule}"] = status
    assert refused == {}, "routes answering an anonymous caller"


def test_public_routes_exist_and_answer_without_credentials(tw_client: FlaskClient) -> None:
    known = {(m, r.rule) for m, _p, r in routes(tw_client.application)}
    assert PUBLIC <= known  # a renamed route must be renamed here too
    for method, path in PUBLIC - {("POST", "/api/v1/auth/login"), ("POST", "/console/login")}:
        assert tw_client.open(path, method=method).status_code in (200, 302, 503), path


def live_state(c: Container) -> dict[str, Any]:
    """Every Redis key of the test's hotline (and its RQ keys) with its content, plus every table's row count."""
    client: Any = c.redis.live
    out: dict[str, Any] = {}
    for pattern in (c.keys.prefix + "*", f"rq:*{c.keys.rq_queue_name('')}*"):
        for key in client.scan_iter(match=pattern, count=1000):
            kind = client.type(key)
            read = {"string": client.get, "hash": client.hgetall, "list": lambda k: client.lrange(k, 0, -1),
                    "set": client.smembers, "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                    "stream": client.xrange}.get(kind, lambda k: None)  # fmt: skip
            try:
                out[key] = (kind, read(key))
            except UnicodeDecodeError:  # RQ's pickles
                out[key] = (kind, c.redis.raw.dump(key))
    with c.sessions() as session:
        for table in Base.metadata.sorted_tables:
            out["sql:" + table.name] = session.scalar(select(func.count()).select_from(table))
    return out


TWILIO_FORM = {"CallSid": "CAlive", "AccountSid": "AC" + "a" * 32, "From": "+36301234567", "To": "+3612345678",
               "CallStatus": "completed", "Digits": "1", "QueueResult": "hangup", "DialCallStatus": "completed",
               "RecordingSid": "RE1", "RecordingStatus": "completed", "Body": "5", "SequenceNumber": "9"}  # fmt: skip
QUERY = "?call=CAlive&op=anna&s=1&node=main&q=0&ticket=1&action=hangup"


def test_every_twilio_route_refuses_a_missing_or_wrong_signature_and_changes_nothing(
    tw_client: FlaskClient, container: Container
) -> None:
    container.acd.login("anna", T0)

    def signed(path: str, token: str = AUTH_TOKEN) -> str:
        return str(RequestValidator(token).compute_signature(BASE + path, TWILIO_FORM))

    assert tw_client.post("/twilio/voice", data=TWILIO_FORM, headers={"X-Twilio-Signature": signed("/twilio/voice")})
    container.acd.enqueue("CAlive", "general", T0, channel="twilio", caller="+36301234567")
    twilio_routes = [(p, r) for m, p, r in routes(tw_client.application) if is_twilio(r)]
    assert len(twilio_routes) >= 19
    before = live_state(container)
    changed = {}
    for path, rule in twilio_routes:
        url = path + QUERY
        for variant, headers in {
            "missing": {},
            "wrong": {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
            "other account": {"X-Twilio-Signature": signed(url, "another-accounts-token")},
            "other url": {"X-Twilio-Signature": signed("/twilio/voice")},
        }.items():
            status = tw_client.post(url, data=TWILIO_FORM, headers=headers).status_code
            if status != 403:
                changed[f"{rule.rule} {variant}"] = status
    assert changed == {}
    assert live_state(container) == before
    # The control: the same request correctly signed does change the state (the comparison can see it).
    url = "/twilio/status" + QUERY
    assert tw_client.post(url, data=TWILIO_FORM, headers={"X-Twilio-Signature": signed(url)}).status_code == 204
    assert live_state(container) != before


@pytest.fixture
def tokens(container: Container) -> dict[str, Any]:
    ids = seed_operators(container)
    container.journal.append_many(answered_call("c1", T0))
    container.journal_writer.drain_all()
    return {"ids": ids, "admin": make_token(container, ids["admin"], "tok-admin")}


def api_routes(app: Flask) -> list[tuple[str, str]]:
    return [(m, p) for m, p, r in routes(app) if r.rule.startswith("/api/v1/") and (m, r.rule) not in PUBLIC]


@pytest.mark.parametrize("how", ["revoked", "expired", "deactivated operator"])
def test_every_api_route_refuses_a_revoked_expired_or_orphaned_token(
    tw_client: FlaskClient, container: Container, tokens: dict[str, Any], how: str
) -> None:
    assert tw_client.get("/api/v1/operators/me", headers=bearer("tok-admin")).status_code == 200
    with container.sessions.begin() as session:
        if how == "revoked":
            assert tw_client.post("/api/v1/auth/logout", headers=bearer("tok-admin")).status_code == 204
        elif how == "expired":
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            session.execute(update(ApiToken).where(ApiToken.id == tokens["admin"]).values(expires_at=past))
        else:
            session.execute(update(Operator).where(Operator.username == "admin").values(active=False))
    answered = {f"{m} {p}": tw_client.open(p, method=m, headers=bearer("tok-admin"), json={}).status_code
                for m, p in api_routes(tw_client.application)}  # fmt: skip
    assert {route: status for route, status in answered.items() if status != 401} == {}


def test_passwords_are_stored_with_a_salted_memory_hard_kdf(container: Container) -> None:
    seed_operators(container, passwords={"anna": "demo-anna", "bela": "demo-anna"})
    with container.sessions() as session:
        hashes = dict(session.execute(select(Operator.username, Operator.password_hash)).all())
    anna, bela = str(hashes["anna"]), str(hashes["bela"])
    method, n, r, p = anna.split("$", 1)[0].split(":")
    assert method == "scrypt" and int(n) >= 2**15 and int(r) >= 8
    assert "demo-anna" not in anna and anna != bela  # salted: the same password, two different hashes
    assert verify_password(anna, "demo-anna") and not verify_password(anna, "demo-ann")
