"""A throwaway redis-server of one test: its own port and directory, killed and restarted at will.

Never the machine's shared server: restart tests need a Redis they may crash.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1:<free port>; ``appendonly`` turns the AOF on (fsync ``appendfsync``)."""

    def __init__(self, directory: Path, appendonly: bool, appendfsync: str = "always"):
        self.directory, self.port = directory, free_port()
        self.args = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--save", "", "--appendonly", "yes" if appendonly else "no", "--appendfsync", appendfsync,
            "--daemonize", "no", "--logfile", str(directory / "redis.log"),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start (see {self.directory}/redis.log)")

    def crash(self) -> None:
        """SIGKILL: no shutdown save, exactly what a power cut leaves behind."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.crash()
        self.start()

    def stop(self) -> None:
        self.crash()
