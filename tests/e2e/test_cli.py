"""The `callcenter` command as a user runs it (subprocesses, fresh working directories)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from callcenter.storage.db import alembic_config, make_engine

CLI = str(Path(sys.executable).with_name("callcenter"))


def run(args, cwd, env=None, input_text=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLCENTER_", "TWILIO_"))}
    full_env.update(env or {})
    return subprocess.run(
        [CLI, *args], cwd=cwd, env=full_env, input=input_text, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_a_fresh_directory_serves_the_demo_hotline_and_is_ready(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [CLI, "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")},
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    body = json.load(response)
            except OSError:
                time.sleep(0.2)
        assert body is not None, "server did not come up"
        assert body["status"] == "ready" and body["checks"]["redis"]["embedded"] is True
        assert (tmp_path / "callcenter.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}/" in output
    assert "anna" in output and "demo-anna" in output


def test_config_check_accepts_the_demo_and_names_the_line_of_a_mistake(tmp_path):
    from callcenter.hotline import demo_text

    good = tmp_path / "good.yaml"
    good.write_text(demo_text())
    assert run(["config", "check", str(good)], tmp_path).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(demo_text().replace("ring_timeout_seconds: 20", "ring_timeout_seconds: 2"))
    result = run(["config", "check", str(bad)], tmp_path)
    assert result.returncode == 1
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "ring_timeout_seconds: 2 " in text)
    assert f"bad.yaml:{line}: queues.general.ring_timeout_seconds" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_stops_start_up_with_a_message_not_a_traceback(tmp_path):
    result = run(["serve"], tmp_path, env={"CALLCENTER_PORT": "http"})
    assert result.returncode == 2
    assert "CALLCENTER_PORT='http': expected a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_operators_add_list_and_set_password(tmp_path):
    env = {"CALLCENTER_DATABASE_URL": f"sqlite:///{tmp_path}/ops.db"}
    added = run(
        [
            "operators",
            "add",
            "dora",
            "--name",
            "Dóra Kiss",
            "--queue",
            "general",
            "--skill",
            "billing=2",
            "--password",
            "long-enough-1",
        ],
        tmp_path,
        env,
    )
    assert added.returncode == 0, added.stderr
    assert (
        run(["operators", "add", "dora", "--name", "X", "--password", "long-enough-2"], tmp_path, env).returncode == 1
    )
    listing = run(["operators", "list"], tmp_path, env).stdout
    assert "dora" in listing and "general" in listing and "Dóra Kiss" in listing
    weak = run(["operators", "set-password", "dora", "--password", "short"], tmp_path, env)
    assert weak.returncode == 1 and "at least 8 characters" in weak.stderr
    assert run(["operators", "set-password", "dora", "--password", "another-long-1"], tmp_path, env).returncode == 0
    assert run(["operators", "set-password", "nobody", "--password", "another-long-1"], tmp_path, env).returncode == 1


@pytest.mark.real
def test_db_upgrade_on_postgresql(tmp_path, pg_database_url):
    result = run(["db", "upgrade"], tmp_path, env={"CALLCENTER_DATABASE_URL": pg_database_url})
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    engine = make_engine(pg_database_url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert version == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def test_serve_under_granian_answers_signed_twilio_webhooks(tmp_path, settings, keys, backend):
    """`callcenter serve --server granian` (README "Production deployment": the webhook tier) serves the app:
    a signed incoming call gets its IVR TwiML (and a repeat the same), a forged one 403."""
    from twilio.request_validator import RequestValidator

    port, token = free_port(), "granian-serve-token-0123456789ab"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLCENTER_", "TWILIO_"))}
    env.update({"CALLCENTER_DATABASE_URL": settings.database_url, "CALLCENTER_HOTLINE_TAG": keys.tag,
                "CALLCENTER_PUBLIC_BASE_URL": "http://callcenter.test", "TWILIO_AUTH_TOKEN": token,
                "TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "CALLCENTER_SECRET_KEY": "granian-test"})  # fmt: skip
    if backend == "real":
        env.update({"CALLCENTER_REDIS_URL": settings.redis_url or "", "CALLCENTER_EMBEDDED_WORKER": "false"})
    command = [CLI, "serve", "--server", "granian", "--threads", "2", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    form = {"CallSid": "CA" + "4" * 32, "AccountSid": "AC" + "a" * 32, "From": "+36301234567", "To": "+3612345678",
            "CallStatus": "ringing"}  # fmt: skip

    def post(signature: str) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/twilio/voice", data=urlencode(form).encode(),
                                         headers={"X-Twilio-Signature": signature})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    assert json.load(response)["status"] == "ready"
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "granian did not come up"
                time.sleep(0.3)
        signature = RequestValidator(token).compute_signature("http://callcenter.test/twilio/voice", form)
        status, body = post(signature)
        assert status == 200 and "<Gather" in body and "node=language" in body
        assert post(signature) == (200, body)  # a repeat replays the first answer
        assert post("Zm9yZ2Vk")[0] == 403
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/" in output


def test_serve_refuses_the_demo_under_granian(tmp_path):
    result = run(["serve", "--server", "granian", "--demo"], tmp_path)
    assert result.returncode == 2 and "--demo runs under gunicorn" in result.stderr
