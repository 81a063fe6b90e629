"""The `callcenter` command as a user runs it (subprocesses, fresh working directories)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
