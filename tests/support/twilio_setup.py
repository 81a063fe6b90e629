"""Fixtures of the Twilio tests: the app with Twilio configured, a fake Twilio REST server, the driver.

Import the fixtures into a test module (``from tests.support.twilio_setup import *``-free: name them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from callcenter.bootstrap import Container, build_container
from callcenter.config import Settings, TwilioSettings
from callcenter.hotline import Hotline
from tests.support.twilio_driver import Clock, TwilioDriver
from tests.support.twilio_fake import ACCOUNT_SID, FakeTwilio

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
OPEN = 1796115600.0  # Tuesday 1 December 2026, 10:00 in Budapest: the demo hotline is open
CLOSED = 1796158800.0  # the same day at 22:00: closed


def waiting_hotline(hotline: Hotline) -> Hotline:
    """The demo hotline, except that callers of ``general`` wait even when every operator is on a break
    (the demo books a callback then), so the scenarios can make "everybody is busy" with a break."""
    general = hotline.queues["general"].model_copy(update={"when_empty": "wait"})
    return hotline.model_copy(update={"queues": {**hotline.queues, "general": general}})


def twilio_settings(settings: Settings, api_base_url: str = "") -> Settings:
    return dataclasses.replace(
        settings,
        hotline=waiting_hotline(settings.hotline),
        twilio=TwilioSettings(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            api_key_sid="SK" + "c" * 32,
            api_key_secret="s" * 32,  # as long as a real API key secret
            twiml_app_sid="AP" + "d" * 32,
            caller_id="+3612345678",
            api_base_url=api_base_url,
        ),
    )


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(auth=(ACCOUNT_SID, AUTH_TOKEN)).start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(OPEN)


@pytest.fixture
def tw_container(settings: Settings, redis_clients: Any, fake_twilio: FakeTwilio, clock: Clock) -> Iterator[Container]:
    built = build_container(twilio_settings(settings, fake_twilio.base_url), redis_clients=redis_clients[0])
    built.clock = clock
    yield built
    remove_jobs(built)
    built._stop.set()
    built.engine.dispose()


def remove_jobs(container: Container) -> None:
    """Delete the jobs a test left queued or scheduled (RQ keeps their hashes without a TTL)."""
    queue = container.jobs.queue
    for job_id in queue.scheduled_job_registry.get_job_ids():
        job = queue.fetch_job(job_id)
        if job is not None:
            job.delete()
    queue.empty()


@pytest.fixture
def tw_app(tw_container: Container, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app with the blueprints the Twilio channel needs (other parts' pages are not under test here)."""
    from callcenter.web import app as app_module

    monkeypatch.setattr(app_module, "BLUEPRINTS", ["callcenter.web.health:bp", "webhooks.views:bp"])
    app = app_module.create_app(container=tw_container)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def driver(tw_app: Any, tw_container: Container, fake_twilio: FakeTwilio) -> TwilioDriver:
    return TwilioDriver(
        tw_app.test_client(), tw_container, fake_twilio, AUTH_TOKEN, tw_container.settings.public_base_url
    )
