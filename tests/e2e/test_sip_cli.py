"""`callcenter sip` as an operator of the hotline runs it: a process that registers, answers and stops."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require
from tests.sip import harness

pytestmark = pytest.mark.sip
CLI = str(Path(sys.executable).with_name("callcenter"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLCENTER_", "TWILIO_"))}
    return {**env, **extra}


def test_sip_without_a_server_configured_says_which_settings_are_missing(tmp_path: Path) -> None:
    done = subprocess.run([CLI, "sip"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "CALLCENTER_SIP_SERVER" in done.stderr


def test_sip_process_registers_refuses_a_cancelled_call_and_stops_on_sigterm(tmp_path: Path) -> None:
    require(shutil.which("sipp") is not None, "sipp (Debian sip-tester) is not installed")
    registrar, gateway_port, rtp = harness.free_udp_port(), harness.free_udp_port(), harness.free_udp_port(100)
    env = clean_env(
        CALLCENTER_DATABASE_URL=f"sqlite:///{tmp_path}/cc.db", CALLCENTER_CONFIG=str(harness.HERE / "hotline.yaml"),
        CALLCENTER_SIP_SERVER="127.0.0.1", CALLCENTER_SIP_PORT=str(registrar), CALLCENTER_SIP_USER="gateway",
        CALLCENTER_SIP_LOCAL_PORT=str(gateway_port), CALLCENTER_SIP_RTP_LOW=str(rtp),
        CALLCENTER_SIP_RTP_HIGH=str(rtp + 99),
    )  # fmt: skip
    subprocess.run([CLI, "db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
    gateway = harness.Process([CLI, "sip"], tmp_path, "gateway", env)
    caller = harness.Process(
        ["timeout", "40", "sipp", f"127.0.0.1:{gateway_port}", "-sf", str(harness.HERE / "uac_cancel_registered.xml"),
         "-oocsf", str(harness.HERE / "reg_ok.xml"), "-s", "gateway", "-i", "127.0.0.1", "-p", str(registrar),
         "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error"],
        tmp_path, "caller",
    )  # fmt: skip
    try:
        assert caller.wait(40) == 0, caller.output() + gateway.output()
        os.killpg(gateway.proc.pid, signal.SIGTERM)
        assert gateway.wait(20) == 0, gateway.output()
    finally:
        caller.stop()
        gateway.stop()
    assert "SIP account registered" in gateway.log.read_text()
