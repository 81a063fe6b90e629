"""Webhook throughput: the Twilio incoming-call and queue-wait webhooks against a hello-world baseline.

The app runs on real Redis and PostgreSQL under gunicorn (2 workers, gthread or sync) and under granian (2 WSGI
workers), both listening for the whole run, with 2 threads per worker by default (the webhook tier's setting;
``--threads 16`` measures a console tier's); ``wrk`` loads them with 50 connections. Every request is signed as
Twilio signs it (a wrk Lua script cycles through bodies signed here beforehand: a new CallSid for every incoming
call, 500 waiting calls for the wait loop). The baseline is a form-to-TwiML hello world on the same server in the
same run; a fourth row, the floor, is a plain WSGI function doing one EVALSHA (what the server and the machine
allow any webhook). Rounds take turns (baseline, incoming call, wait loop, floor; each server in turn) so that a
change in the machine's load hits all alike. Prints requests/s, p50, p99, the ratio to the baseline (medians over
the rounds) and the server's CPU time per request (which depends far less than the rest on what else the machine
runs). Target for the two webhooks: ratio >= 0.5 and p99 < 25 ms. Run time about 100 s with both servers;
everything it creates (database, Redis keys, files) is removed.

    python -m bench.webhooks [--server both|gunicorn|granian] [--rounds 3] [--seconds 3] [--connections 50]
        [--workers 2] [--worker-class gthread|sync] [--threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from bench.common import REDIS_URL, fresh_tag, pg_database

BASE_URL = "http://callcenter.bench"
TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "b" * 32
WAITING_CALLS = 500
NEW_CALLS_PER_ROUND = 30_000
LUA = """
local requests = dofile(os.getenv("BENCH_REQUESTS"))
local counter = 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args)
  -- formatted once here, not per request: wrk shares the two cores with the server under test
  formatted = {}
  for i, r in ipairs(requests) do
    formatted[i] = wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = r[3]}, r[2])
  end
  index = id - 1
end
function request()
  index = index + 2
  return formatted[index % #formatted + 1]
end
"""


def bench_app() -> Flask:
    """The served app (gunicorn factory): the real one, plus the hello-world baseline route."""
    from callcenter.bootstrap import build_container
    from callcenter.config import load_settings
    from callcenter.web.app import create_app

    app = create_app(container=build_container(load_settings()))

    @app.post("/bench/hello")
    def hello() -> Response:
        response = VoiceResponse()
        response.say(f"Hello {request.form.get('From', '')}", language="en-US")
        return Response(str(response), mimetype="text/xml")

    app.wsgi_app = floor_route(app.wsgi_app, app.extensions["callcenter"].keys.prefix)  # type: ignore[method-assign]
    return app


def floor_route(inner: Any, prefix: str) -> Any:
    """``/bench/floor``: the least a webhook can do on this server, as plain WSGI (no framework): read the form,
    one EVALSHA, a TwiML string. Not part of the app; a reference for what the server and machine allow."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    script = client.register_script("return redis.call('HSETNX', KEYS[1], ARGV[1], '1')")

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/bench/floor":
            return inner(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        script(keys=[prefix + "bench:floor"], args=[form.get("CallSid", "")])
        body = ('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Hello '
                f"{escape(form.get('From', ''))}</Say></Response>").encode()  # fmt: skip
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    cpu_ms: float = 0.0  # the server's CPU time per request


def signed(path: str, form: dict[str, str]) -> tuple[str, str, str]:
    return path, urlencode(form), RequestValidator(TOKEN).compute_signature(BASE_URL + path, form)


def call_form(sid: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": ACCOUNT, "From": "+36301234567", "To": "+3612345678",
            "CallStatus": "ringing", "ApiVersion": "2010-04-01", "Direction": "inbound"}  # fmt: skip


def lua_table(requests: list[tuple[str, str, str]]) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    rows = ",\n".join("{" + ",".join(quote(part) for part in r) + "}" for r in requests)
    return "return {\n" + rows + "\n}\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(server: str, port: int, workers: int, worker_class: str, threads: int) -> list[str]:
    """gunicorn (sync or gthread workers) or granian (WSGI; ``threads`` blocking threads per worker)."""
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
                "--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--factory", "bench.webhooks:bench_app"]  # fmt: skip
    return [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class, "--threads", str(threads),
            "-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench.webhooks:bench_app()"]  # fmt: skip


@contextlib.contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{command[2]} did not start") from None
                time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


def cpu_seconds(root: int) -> float:
    """User + system CPU time of a process and all its descendants (the server's workers), from /proc.

    CPU time per request is what our code changes move; unlike requests/s it hardly depends on what else the
    shared machine is running."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            children.setdefault(int(fields[1]), []).append(pid)
            ticks[pid] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def run_wrk(name: str, url: str, script: Path, requests_file: Path, seconds: int, connections: int) -> Result:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, env={**os.environ, "BENCH_REQUESTS": str(requests_file)},
                            capture_output=True, text=True, check=True, timeout=seconds + 30).stdout  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    return Result(name, float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
                  _ms(output, "50%"), _ms(output, "99%"), int(errors.group(1)) if errors else 0,
                  int(total.group(1)) if total else 0)  # fmt: skip


def measured(process: subprocess.Popen[bytes], run: Callable[[], Result]) -> Result:
    """``run`` with the server's CPU time per request it served."""
    before = cpu_seconds(process.pid)
    result = run()
    return replace(result, cpu_ms=(cpu_seconds(process.pid) - before) * 1000 / max(result.requests, 1))


def _ms(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def prepare(database_url: str, tag: str) -> list[str]:
    """Queue config, a working operator and WAITING_CALLS callers waiting (no dispatcher runs, so they stay)."""
    from callcenter.bootstrap import build_container
    from callcenter.config import Settings, TwilioSettings
    from webhooks.channel import TwilioChannel

    settings = replace(Settings(), database_url=database_url, redis_url=REDIS_URL, hotline_tag=tag,
                       twilio=TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN))  # fmt: skip
    container = build_container(settings)
    channel, now = TwilioChannel(container), time.time()
    container.acd.sync_config(now)
    container.acd.login("anna", now)
    sids = [f"CA{i:032x}" for i in range(1, WAITING_CALLS + 1)]
    for sid in sids:
        channel.store.create(sid, {"from": "+36301234567", "kind": "caller", "lang": "hu", "cbkey": "9",
                                   "queue_sid": "QU" + "c" * 32})  # fmt: skip
        container.acd.enqueue(sid, "general", now, channel="twilio", caller="+36301234567", language="hu")
    container.close()
    return sids


def app_env(database_url: str, tag: str) -> dict[str, str]:
    """The served app's settings (environment variables): the bench's database, Redis tag and Twilio account."""
    return {"CALLCENTER_DATABASE_URL": database_url, "CALLCENTER_REDIS_URL": REDIS_URL,
            "CALLCENTER_HOTLINE_TAG": tag, "CALLCENTER_PUBLIC_BASE_URL": BASE_URL,
            "CALLCENTER_EMBEDDED_WORKER": "false", "CALLCENTER_SECRET_KEY": "bench",
            "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN}  # fmt: skip


def cleanup(tag: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for pattern in (f"cc:{{{tag}}}:*", f"rq:*cc-{tag}-*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=3, help="per route and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default="both", choices=("gunicorn", "granian", "both"))
    parser.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"), help="gunicorn's")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (the webhook tier: 2)")
    args = parser.parse_args()
    servers = ("gunicorn", "granian") if args.server == "both" else (args.server,)
    if "granian" in servers and importlib.util.find_spec("granian") is None:
        parser.error("granian is not installed (pip install -e '.[granian]'); or use --server gunicorn")
    tag = fresh_tag()
    with pg_database() as database_url, tempfile.TemporaryDirectory() as folder:
        try:
            waiting = prepare(database_url, tag)
            rounds = _measure(Path(folder), waiting, servers, app_env(database_url, tag), args)
        finally:
            cleanup(tag)
    for server in servers:
        _report(server, rounds[server], args)


ROUTES = ("hello world (baseline)", "POST /twilio/voice (new call)", "POST /twilio/queue/wait",
          "floor: plain WSGI + 1 EVALSHA")  # fmt: skip
WEBHOOKS = (1, 2)  # the rows the targets apply to


def _requests(folder: Path, waiting: list[str], servers: tuple[str, ...], rounds: int) -> dict[str, Path]:
    """wrk's request tables: the baseline's, the wait loop's, and new incoming calls per round and server."""
    wait_form = {"CallStatus": "in-progress", "QueueSid": "QU" + "c" * 32, "QueuePosition": "3", "QueueTime": "40",
                 "AvgQueueTime": "60", "CurrentQueueSize": str(len(waiting))}  # fmt: skip
    waits = [signed("/twilio/queue/wait?lang=hu&key=9", {**call_form(sid), **wait_form}) for sid in waiting]
    hello = [("/bench/hello", urlencode(call_form("CA" + "0" * 32)), "")]
    floor = [("/bench/floor", urlencode(call_form(f"CA{i:032x}")), "") for i in range(1, 1001)]
    tables = {"hello": hello, "wait": waits, "floor": floor}
    first = 10**6
    for n in range(rounds):  # every round's incoming calls are new ones
        for server in servers:
            sids = range(first, first + NEW_CALLS_PER_ROUND)
            tables[f"voice{n}{server}"] = [signed("/twilio/voice", call_form(f"CA{i:032x}")) for i in sids]
            first += NEW_CALLS_PER_ROUND
    files = {key: folder / f"{key}.lua" for key in tables}
    for key, table in tables.items():
        files[key].write_text(lua_table(table))
    return files


def _measure(
    folder: Path, waiting: list[str], servers: tuple[str, ...], env: dict[str, str], args: argparse.Namespace
) -> dict[str, list[list[Result]]]:
    """Rounds of (baseline, voice, wait, floor) on each server in turn, so a change in the machine's load hits all
    alike; every server listens on its own port for the whole run."""
    script = folder / "signed.lua"
    script.write_text(LUA)
    files = _requests(folder, waiting, servers, args.rounds)
    rounds: dict[str, list[list[Result]]] = {server: [] for server in servers}
    with contextlib.ExitStack() as stack:
        running = {}
        for server in servers:
            port = free_port()
            command = server_command(server, port, args.workers, args.worker_class, args.threads)
            running[server] = (stack.enter_context(serving(command, env, port)), f"http://127.0.0.1:{port}/")
        for _, url in running.values():
            run_wrk("warm-up", url, script, files["hello"], 2, args.connections)
        for n in range(args.rounds):
            for server, (process, url) in running.items():
                keys = ("hello", f"voice{n}{server}", "wait", "floor")
                rounds[server].append([measured(process, lambda name=name, key=key, url=url: run_wrk(
                    name, url, script, files[key], args.seconds, args.connections))
                    for name, key in zip(ROUTES, keys, strict=True)])  # fmt: skip
    return rounds


def _report(server: str, rounds: list[list[Result]], args: argparse.Namespace) -> None:
    if server == "granian":
        title = f"granian {args.workers} WSGI workers x {args.threads} blocking threads"
    else:
        title = f"gunicorn {args.workers} {args.worker_class} workers" + (
            f" x {args.threads} threads" if args.worker_class == "gthread" else ""
        )
    print(f"{title}, wrk 2 threads x {args.connections} connections, {args.rounds} rounds of {args.seconds} s per"
          f" route, load average {os.getloadavg()[0]:.1f} (medians over the rounds; ratio: median of each round's"
          " ratio; CPU: the server's CPU time per request)")  # fmt: skip
    print(f"{'route':<32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'CPU ms':>7} {'non-2xx':>8}")
    verdict = True
    for index, name in enumerate(ROUTES):
        runs = [r[index] for r in rounds]
        ratio = statistics.median(r[index].rps / r[0].rps for r in rounds)
        p99 = statistics.median(x.p99_ms for x in runs)
        errors = sum(x.errors for x in runs)
        rps, p50 = statistics.median(x.rps for x in runs), statistics.median(x.p50_ms for x in runs)
        cpu = statistics.median(x.cpu_ms for x in runs)
        print(f"{name:<32} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {ratio:>6.2f} {cpu:>7.2f} {errors:>8}")
        if index in WEBHOOKS:
            verdict = verdict and ratio >= 0.5 and p99 < 25 and errors == 0
    print("target (ratio >= 0.5, p99 < 25 ms, no errors):", "met" if verdict else "NOT met")
    print()


if __name__ == "__main__":
    main()
