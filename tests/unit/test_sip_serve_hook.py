"""`serve` on the embedded defaults runs the SIP gateway as a thread when a SIP server is configured."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from callcenter.commands import sip as sip_command
from callcenter.config import Settings, SipSettings
from callcenter.web import server


class FakeContainer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    gateways: list[Any] = []

    class FakeGateway:
        def start(self) -> None:
            gateways.append(self)

    monkeypatch.setattr("ivr.sip.gateway.build_gateway", lambda *args: FakeGateway())
    return gateways


def test_serve_registers_the_sip_hook() -> None:
    assert sip_command.gateway_in_serve in server.STARTUP_HOOKS


@pytest.mark.parametrize(
    ("sip", "redis_url", "runs"),
    [
        (SipSettings(server="pbx", user="callcenter"), None, True),
        (SipSettings(), None, False),
        (SipSettings(server="pbx", user="callcenter"), "redis://127.0.0.1:6379/0", False),
    ],
)
def test_gateway_runs_in_serve_only_embedded_and_configured(
    started: list[Any], tmp_path: Path, sip: SipSettings, redis_url: str | None, runs: bool
) -> None:
    settings = dataclasses.replace(Settings(secret_key="x"), sip=sip, redis_url=redis_url)
    result = sip_command.gateway_in_serve(FakeContainer(settings), tmp_path)  # type: ignore[arg-type]
    assert (result is not None) is runs and len(started) == int(runs)
