"""Instructions per webhook request, counted by callgrind: the same count whatever else the machine runs.

Each route runs in its own process under ``valgrind --tool=callgrind``: the app (as ``bench.webhooks`` serves it,
real Redis and PostgreSQL) is called in-process through its WSGI callable, first for a warm-up (every waiting
caller's turn once, so the wait loop meets the turns it has seen), then for ``--requests`` requests with
callgrind's instrumentation switched on for exactly those (``callgrind_control``). Prints instructions per
request. The HTTP server's own work is not in it (``bench.webhooks`` measures that). Needs valgrind; about 2 min.

    python -m bench.webhook_cost [--requests 200] [--routes hello,voice,wait,floor]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from bench import webhooks
from bench.common import fresh_tag, pg_database

ROUTES = {"hello": "hello world (baseline)", "voice": "POST /twilio/voice (new call)",
          "wait": "POST /twilio/queue/wait", "floor": "floor: plain WSGI + 1 EVALSHA"}  # fmt: skip
CHILD = "BENCH_WEBHOOK_COST_ROUTE"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--routes", default=",".join(ROUTES))
    args = parser.parse_args()
    if os.environ.get(CHILD):
        _measure(os.environ[CHILD], args.requests)
        return
    print(f"callgrind, instructions per request in-process ({args.requests} requests after a warm-up)")
    for route in args.routes.split(","):
        print(f"{ROUTES[route]:<32} {_count(route, args.requests) / args.requests:>12,.0f}")


def _count(route: str, requests: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={folder}/out",
                   sys.executable, "-m", "bench.webhook_cost", "--requests", str(requests)]  # fmt: skip
        done = subprocess.run(command, env={**os.environ, CHILD: route}, capture_output=True, text=True, check=True)
    return int(re.findall(r"Collected : (\d+)", done.stderr)[-1])


def _measure(route: str, requests: int) -> None:
    tag = fresh_tag()
    with pg_database() as database_url:
        try:
            waiting = webhooks.prepare(database_url, tag)
            os.environ.update(webhooks.app_env(database_url, tag))
            app = webhooks.bench_app()
            table = _requests(route, waiting, requests + len(waiting) + 100)
            _run(app, table[: len(waiting) + 100])
            _instrument(True)
            _run(app, table[len(waiting) + 100 :][:requests])
            _instrument(False)
        finally:
            webhooks.cleanup(tag)


def _requests(route: str, waiting: list[str], count: int) -> list[tuple[str, str, str]]:
    if route == "voice":
        return [webhooks.signed("/twilio/voice", webhooks.call_form(f"CA{i:032x}")) for i in range(1, count + 1)]
    if route == "wait":
        wait_form = {"CallStatus": "in-progress", "QueueSid": "QU" + "c" * 32, "QueuePosition": "3",
                     "QueueTime": "40", "AvgQueueTime": "60", "CurrentQueueSize": str(len(waiting))}  # fmt: skip
        turns = [webhooks.signed("/twilio/queue/wait?lang=hu&key=9", {**webhooks.call_form(sid), **wait_form})
                 for sid in waiting]  # fmt: skip
        return (turns * (count // len(turns) + 1))[:count]
    path = "/bench/hello" if route == "hello" else "/bench/floor"
    return [(path, urlencode(webhooks.call_form(f"CA{i:032x}")), "") for i in range(1, count + 1)]


def _run(app: Callable[..., Any], table: list[tuple[str, str, str]]) -> None:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"{status} from the app")

    for path, body, signature in table:
        path, _, query = path.partition("?")
        data = body.encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "bench",
                   "SERVER_PORT": "80", "HTTP_HOST": "bench", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(data)),
                   "HTTP_X_TWILIO_SIGNATURE": signature, "wsgi.input": io.BytesIO(data), "wsgi.errors": sys.stderr,
                   "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}  # fmt: skip
        for _ in app(environ, start_response):
            pass


def _instrument(on: bool) -> None:
    """Switch callgrind's instrumentation of this process; valgrind takes the command while we sleep."""
    command = ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())]
    control = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while control.poll() is None:
        time.sleep(0.1)


if __name__ == "__main__":
    main()
