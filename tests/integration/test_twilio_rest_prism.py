"""Every REST call of the Twilio port, checked against Twilio's own OpenAPI description by Prism.

Prism (``@stoplight/prism-cli@5``) is installed into ``.tools`` when missing (the npm registry is reachable
from CI and the dev machines) and serves ``twilio_api_v2010.json`` as a validating mock: a request the spec
forbids (missing field, wrong enum, no auth) is answered 4xx and the port raises.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient

from callcenter.config import TwilioSettings
from tests.conftest import require
from webhooks.twilio_rest import TwilioRest

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(os.environ.get("TWILIO_OPENAPI", ROOT.parent / "shared" / "twilio" / "twilio_api_v2010.json"))
PRISM = ROOT / ".tools" / "node_modules" / ".bin" / "prism"
ACCOUNT = "AC" + "0" * 32
CALL = "CA" + "1" * 32
QUEUE = "QU" + "2" * 32


def install_prism() -> None:
    if PRISM.exists():
        return
    npm = shutil.which("npm")
    require(npm is not None, "npm is needed to install Prism into .tools")
    subprocess.run(
        [str(npm), "install", "--prefix", str(ROOT / ".tools"), "@stoplight/prism-cli@5", "--no-audit", "--no-fund"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prism exited: {process.stdout.read().decode() if process.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("prism did not start")


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    require(SPEC.is_file(), f"Twilio's OpenAPI description is missing: {SPEC}")
    install_prism()
    port = free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


class PrismFormArrays(TwilioHttpClient):
    """Prism 5 reads a form array only as ``Key[]=a&Key[]=b``; Twilio documents (and twilio-python sends)
    ``Key=a&Key=b``. Rename list fields for Prism so the rest of the request is still checked."""

    def request(self, method: str, url: str, params: Any = None, data: Any = None, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = {(f"{k}[]" if isinstance(v, list) else k): v for k, v in data.items()}
        return super().request(method, url, params=params, data=data, **kwargs)


def prism_port(prism: str) -> TwilioRest:
    settings = TwilioSettings(account_sid=ACCOUNT, auth_token="t" * 32, caller_id="+3612345678", api_base_url=prism)
    port = TwilioRest(settings)
    port.client.http_client = PrismFormArrays(timeout=10)
    return port


@pytest.fixture
def port(prism: str) -> TwilioRest:
    return prism_port(prism)


def test_pushing_a_waiting_caller_to_the_bridge_matches_twilios_contract(port):
    port.push_to_bridge(QUEUE, CALL, "https://cc.example/twilio/bridge?call=CA1&op=anna")


def test_redirect_and_hang_up_match_twilios_contract(port):
    port.redirect(CALL, "https://cc.example/twilio/queue/exit?call=CA1&action=transferred")
    port.hang_up(CALL)


def test_dialling_out_with_status_callbacks_matches_twilios_contract(port):
    sid = port.dial("client:anna", "https://cc.example/twilio/callback/operator", "https://cc.example/twilio/status")
    assert sid


def test_sms_queue_creation_and_member_listing_match_twilios_contract(port):
    assert port.send_sms("+36301234567", "Mennyire volt elégedett? 1-5")
    assert port.create_queue("main-general", max_size=500)
    assert isinstance(port.queue_members(QUEUE), list)
    assert port.call_status(CALL)


def test_prism_refuses_what_twilio_would_refuse(prism):
    port = prism_port(prism)
    with pytest.raises(TwilioRestException) as refused:
        port.client.calls.create(to="+36301234567", from_="+3612345678", url="https://x", method="PUT")
    assert refused.value.status == 422
    with pytest.raises(TwilioRestException) as refused:
        port.client.queues(QUEUE).members(CALL).update(url="https://x", method="FETCH")  # not an HTTP method
    assert refused.value.status == 422
