"""`callcenter serve --demo` as a newcomer runs it: a fresh directory, no settings; within seconds the lead's
live KPIs count offered calls, and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

from tests.e2e.test_cli import CLI, free_port

START_SECONDS = 30
OFFERED_SECONDS = 40


def request(url: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=5) as response:
        return json.load(response)


def wait_for(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, urllib.error.URLError, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    return None


def test_serve_demo_shows_offered_calls_to_the_lead_within_seconds_and_stops_on_sigterm(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLCENTER_", "TWILIO_"))}
    proc = subprocess.Popen(
        [CLI, "serve", "--demo", "--demo-rate", "4", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert wait_for(lambda: request(f"{base}/readyz")["status"] == "ready", START_SECONDS), "not ready"
        login = request(f"{base}/api/v1/auth/login", {"username": "csilla", "password": "demo-csilla"})
        started = time.monotonic()

        def offered() -> int:
            live = request(f"{base}/api/v1/kpi/live?window=today", token=login["token"])
            return int(live["all"]["offered"] or 0)

        assert wait_for(offered, OFFERED_SECONDS), "no offered call reached the live KPIs"
        print(f"offered calls in the live KPIs {time.monotonic() - started:.1f} s after ready")
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert 'callcenter_operators{state="offline"} 1.0' in metrics  # anna, left for the console
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output[-3000:]
    assert "demo stopped" in output and "Traceback" not in output, output[-3000:]
