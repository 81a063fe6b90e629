"""A web instance dies mid-request: Twilio requests the number's fallback URL (on another instance), and the
caller is looked after even while Redis and PostgreSQL are both unreachable (TCP proxies cut, not servers)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from callcenter.bootstrap import build_container
from callcenter.config import Settings
from callcenter.web.app import create_app
from tests.conftest import REDIS_URL
from tests.support.tcpproxy import TcpProxy
from tests.support.twilio_fake import ACCOUNT_SID
from tests.support.twilio_setup import AUTH_TOKEN, twilio_settings

pytestmark = [pytest.mark.real, pytest.mark.parametrize("backend", ["real"], indirect=True)]
BASE = "http://callcenter.test"


def form(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": "+36301234567", "To": "+3612345678",
            "CallStatus": "ringing", "ApiVersion": "2010-04-01", "Direction": "inbound", **extra}  # fmt: skip


def post(client: FlaskClient, path: str, data: dict[str, str]) -> Any:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(BASE + path, data)
    return client.post(path, data=data, headers={"X-Twilio-Signature": signature})


def proxied_url(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    return url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")


@pytest.fixture
def cut_off(settings: Settings) -> Iterator[tuple[FlaskClient, TcpProxy, TcpProxy]]:
    """The app with its Redis and its database each behind a TCP proxy the test can cut."""
    db_host = urlsplit(settings.database_url)
    redis_host = urlsplit(REDIS_URL)
    db_proxy = TcpProxy(db_host.hostname or "127.0.0.1", db_host.port or 5432)
    redis_proxy = TcpProxy(redis_host.hostname or "127.0.0.1", redis_host.port or 6379)
    wired = dataclasses.replace(
        twilio_settings(settings),
        database_url=proxied_url(settings.database_url, db_proxy),
        redis_url=proxied_url(REDIS_URL, redis_proxy),
    )
    container = build_container(wired)
    container.acd.sync_config(container.clock())
    container.acd.login("anna", container.clock())
    yield create_app(container=container).test_client(), db_proxy, redis_proxy
    db_proxy.close()
    redis_proxy.close()
    container.redis.close()
    container.engine.dispose()


def test_fallback_answers_within_a_second_with_redis_and_database_cut(
    cut_off: tuple[FlaskClient, TcpProxy, TcpProxy],
) -> None:
    client, db_proxy, redis_proxy = cut_off
    assert post(client, "/twilio/voice", form("CAbefore")).status_code == 200  # pools are warm and in use
    db_proxy.cut()
    redis_proxy.cut()
    started = time.monotonic()
    reply = post(client, "/twilio/fallback", form("CAduring", ErrorCode="11205", ErrorUrl=BASE + "/twilio/voice"))
    elapsed = time.monotonic() - started
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200 and reply.mimetype == "text/xml"
    assert "-fallback</Enqueue>" in body and "<Say" in body  # an apology, then Twilio's own queue
    assert elapsed < 1.0, f"fallback took {elapsed:.2f}s (Twilio gives up after 15 s in all)"


def test_fallback_queues_in_our_acd_again_once_redis_returns(cut_off: tuple[FlaskClient, TcpProxy, TcpProxy]) -> None:
    client, db_proxy, redis_proxy = cut_off
    db_proxy.cut()
    redis_proxy.cut()
    assert "-fallback</Enqueue>" in post(client, "/twilio/fallback", form("CA1", ErrorCode="11205")).get_data(True)
    redis_proxy.restore()  # the database stays down: the fallback needs only Redis
    body = post(client, "/twilio/fallback", form("CA2", ErrorCode="11205")).get_data(as_text=True)
    assert "-fallback</Enqueue>" not in body and "<Enqueue" in body
