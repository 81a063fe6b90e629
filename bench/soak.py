"""Soak: whole calls over HTTP against gunicorn (2 workers), `callcenter worker`s, real Redis and PostgreSQL.

N concurrent callers (default 500) are played by the Twilio driver (``tests/support/twilio_driver.py``) with
its requests sent over HTTP instead of the Flask test client: the IVR (language, menu), the queue's wait loop,
the operator's whisper and answer, talk, the operator hanging up, the two-question survey, the hang-up; some
callers lose patience and hang up while waiting. 50 simulated operators answer every call they are rung for.
The workers' REST calls go to the fake Twilio server in this process, which plays them out (the push out of
the queue into the bridge). Each caller places calls one after another until ``--seconds`` have passed; then
callers still waiting hang up, and the run waits for the jobs and the journal to drain.

Afterwards, from SQL only: every placed call has exactly one call record, ended, with its own ticket; every
event of the journal is in SQL (none left, none dead); the KPIs computed from SQL (offered, answered,
abandoned, CSAT answers) equal the driver's own tally; no operator was ever offered or connected to a call
while busy with another (intervals from the event log). Prints calls/s held and webhook latency p50/p99.
Exit status 1 if a check fails. Everything it creates (database, Redis keys, processes) is removed.

    python -m bench.soak [--callers 500] [--seconds 60] [--operators 50] [--job-workers 2] [--no-fork]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import redis
import yaml
from sqlalchemy import func, select

from bench.common import REDIS_URL, fresh_tag, pg_database
from callcenter.bootstrap import Container, build_container
from callcenter.config import load_settings
from callcenter.kpi.history import KpiQuery, SqlKpi
from callcenter.storage.models import Call, CallEventRecord, Ticket
from tests.conftest import delete_tag
from tests.support.twilio_driver import CALLER, HOTLINE, Leg, Reply, TwilioDriver
from tests.support.twilio_fake import ACCOUNT_SID, FakeTwilio

TOKEN = "soak-auth-token-0123456789abcdef"
REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO = REPO / "callcenter" / "demo_hotline.yaml"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- the hotline and the servers ---------------------------------------------------------------------------
def soak_hotline(operators: int, folder: Path) -> Path:
    """The demo hotline, open around the clock, with ``operators`` operators and a 1 s wrap-up."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["operators"] = [
        {"username": f"op{i:02d}", "name": f"Operator {i}", "queues": ["general", "technical"],
         "skills": {"billing": 3, "internet": 3, "tv": 3}}
        for i in range(1, operators + 1)
    ]  # fmt: skip
    day = ["00:00-24:00"]
    data["business_hours"] = {"timezone": "Europe/Budapest", "weekly": dict.fromkeys(WEEK, day), "holidays": []}
    for name in ("general", "technical"):
        data["queues"][name].update(wrap_up_seconds=1, when_empty="wait", max_wait_seconds=3600)
    data["survey"]["sms_when_caller_hung_up"] = False
    path = folder / "soak_hotline.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# `callcenter worker` with RQ's non-forking worker (jobs in the worker process, timer death penalty): to measure
# what forking a work horse per job costs (--no-fork).
NO_FORK = (
    "import sys, queueing.jobs as j; from rq import SimpleWorker;"
    "j.forking_worker = lambda q: type('W', (SimpleWorker,), {'death_penalty_class': j.TimerDeathPenalty})"
    "([q], connection=q.connection); from callcenter.cli import main; sys.argv = ['callcenter', 'worker']; main()"
)


@contextlib.contextmanager
def servers(env: dict[str, str], port: int, web_workers: int, job_workers: int, fork: bool = True) -> Iterator[None]:
    """`callcenter worker` x N (the first prepares the schema and operators), then gunicorn."""
    procs: list[subprocess.Popen[bytes]] = []
    log = open(Path(env["SOAK_DIR"]) / "servers.log", "wb")  # noqa: SIM115 - closed below
    try:
        for _ in range(job_workers):
            argv = [str(BIN / "callcenter"), "worker"] if fork else [sys.executable, "-c", NO_FORK]
            procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=log))
            time.sleep(3)
        procs.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(web_workers), "-k", "gthread", "--threads", "32", "-b",
             f"127.0.0.1:{port}", "--log-level", "warning", "callcenter.web.wsgi:make_app()"],
            env=env, stdout=log, stderr=log,
        ))  # fmt: skip
        _wait_http(port)
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def _wait_http(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not come up (see servers.log)")


# -- the driver over HTTP ----------------------------------------------------------------------------------
class HttpDriver(TwilioDriver):
    """The Twilio driver with its webhooks sent over HTTP; the workers run the jobs, a player the REST calls."""

    def __init__(self, container: Container, fake: FakeTwilio, port: int, base_url: str):
        super().__init__(None, container, fake, TOKEN, base_url)
        self.port, self.local = port, threading.local()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()

    def post(self, url: str, form: dict[str, str], signature: str | None = None) -> Reply:
        if url.startswith("/"):
            url = self.base_url + url
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sig = self.validator.compute_signature(url, form) if signature is None else signature
        body = "&".join(f"{_q(k)}={_q(v)}" for k, v in form.items())
        headers = {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}
        started = time.perf_counter()
        status, text = self._send(path, body, headers)
        self.latencies.append(time.perf_counter() - started)
        if status >= 500:
            self.errors[f"{status} {parts.path}"] += 1
        return Reply(url, status, text)

    def _send(self, path: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        for attempt in range(2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                connection.request("POST", path, body=body.encode(), headers=headers)
                response = connection.getresponse()
                return response.status, response.read().decode()
            except (OSError, http.client.HTTPException):
                connection.close()
                self.local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def run_jobs(self) -> None:
        """The `callcenter worker` processes run the jobs."""

    def settle(self, rounds: int = 20) -> None:
        """REST calls are played by :meth:`play_rest` as they arrive."""

    def play_rest(self, stop: threading.Event) -> None:
        """Play the workers' REST calls (queue pushes, redirects, hang-ups) on the legs they name."""
        while not stop.is_set():
            requests = self.fake.take()
            if not requests:
                time.sleep(0.01)
                continue
            for request in requests:
                leg = self.legs.get(request.params.get("call", ""))
                if leg is None:
                    continue
                with leg.lock:  # type: ignore[attr-defined]
                    try:
                        if leg.state != "ended":
                            self._play(request)
                    except AssertionError as exc:
                        self.errors[f"rest {request.kind}: {str(exc)[:80]}"] += 1


def _q(value: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(str(value))


# -- callers -----------------------------------------------------------------------------------------------
class Tally:
    """What the driver itself saw, to compare with what SQL says."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.placed: list[str] = []
        self.outcome: dict[str, str] = {}
        self.scores: list[int] = []

    def note(self, sid: str, outcome: str, score: int | None = None) -> None:
        with self.lock:
            self.outcome[sid] = outcome
            if score is not None:
                self.scores.append(score)


def caller(driver: HttpDriver, tally: Tally, number: int, args: argparse.Namespace, deadline: float) -> None:
    rng = random.Random(number)
    serial = 0
    while time.monotonic() < deadline:
        serial += 1
        frm = f"+3630{number:03d}{serial:04d}"
        try:
            one_call(driver, tally, frm, rng, args, deadline)
        except Exception as exc:  # a failed call is counted, the caller goes on
            driver.errors[f"caller: {type(exc).__name__}: {str(exc)[:100]}"] += 1


def one_call(driver: HttpDriver, tally: Tally, frm: str, rng: random.Random, args: argparse.Namespace,
             deadline: float) -> None:  # fmt: skip
    leg = Leg(driver, driver.fake.new_sid("CA"), frm, HOTLINE, status_url=driver.caller_status_url)
    leg.lock = threading.RLock()  # type: ignore[attr-defined]
    with leg.lock:  # type: ignore[attr-defined]
        driver.legs[leg.sid] = leg
        with tally.lock:
            tally.placed.append(leg.sid)
        driver.fake.live.add(leg.sid)
        leg.status("ringing")
        leg.post(driver.base_url + "/twilio/voice", {"CallStatus": "ringing"})
        leg.press("1")  # Hungarian
        leg.press("1")  # billing: the general queue
    patience = rng.expovariate(1 / args.patience) if rng.random() < args.abandon else float("inf")
    entered = time.monotonic()
    while True:
        time.sleep(args.wait_poll * rng.uniform(0.5, 1.5))
        with leg.lock:  # type: ignore[attr-defined]
            if leg.state == "bridged":
                break
            if leg.state == "ended":
                tally.note(leg.sid, "ended")
                return
            if time.monotonic() - entered > patience or time.monotonic() > deadline + args.drain:
                leg.hangup()
                tally.note(leg.sid, "abandoned")
                return
            if leg.in_wait and leg.state in ("queue", "gather"):
                leg.wait()
    tally.note(leg.sid, "answered")
    time.sleep(rng.uniform(args.talk_min, args.talk_max))
    score = rng.randint(1, 5)
    with leg.lock:  # type: ignore[attr-defined]
        leg.operator_hangs_up()
        leg.press(str(score))  # satisfaction 1-5
        leg.press("1")  # solved: yes
        answered_survey = leg.state == "ended"
    if answered_survey:
        tally.note(leg.sid, "answered", score)


# -- checks ------------------------------------------------------------------------------------------------
def wait_drained(container: Container, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    queue = container.jobs.queue
    while time.monotonic() < deadline:
        busy = queue.count + queue.started_job_registry.count  # (the hourly auto-close job stays scheduled)
        if busy == 0 and container.journal.backlog() == 0:
            return
        time.sleep(0.5)
    print(f"warning: not drained after {seconds:.0f}s: jobs {queue.count}, journal {container.journal.backlog()}")


def double_bookings(container: Container) -> list[str]:
    """Operators offered or connected to a call while still busy with another (from the event log).

    An operator is busy with a call from OFFERED until RING_NO_ANSWER, WRAPUP_DONE, or the call's ABANDONED
    (which names no operator: the caller left while it rang).
    """
    query = (
        select(CallEventRecord.operator, CallEventRecord.call_id, CallEventRecord.type, CallEventRecord.ts)
        .where(CallEventRecord.type.in_(("OFFERED", "CONNECTED", "RING_NO_ANSWER", "WRAPUP_DONE", "ABANDONED")))
        .order_by(CallEventRecord.ts, CallEventRecord.id)
    )
    busy: dict[str, str] = {}  # operator -> call
    holder: dict[str, str] = {}  # call -> operator
    problems, recent = [], defaultdict(list)
    with container.sessions() as session:
        for operator, call, kind, ts in session.execute(query):
            operator = operator or holder.get(call, "")
            if not operator:
                continue
            recent[operator].append(f"{ts:%H:%M:%S.%f} {kind} {call[-4:]}")
            current = busy.get(operator)
            if kind in ("OFFERED", "CONNECTED"):
                if current and current != call:
                    problems.append(f"{operator}: {kind} {call} while busy with {current}: {recent[operator][-6:]}")
                busy[operator], holder[call] = call, operator
            elif current == call:
                busy.pop(operator)
                holder.pop(call, None)
    return problems


def _types(container: Container, call_id: str) -> list[str]:
    with container.sessions() as session:
        query = select(CallEventRecord.type).where(CallEventRecord.call_id == call_id).order_by(CallEventRecord.ts)
        return list(session.scalars(query))


def check(container: Container, tally: Tally, started: dt.datetime) -> list[str]:
    failures = []
    placed = set(tally.placed)
    with container.sessions() as session:
        calls = {row.id: row for row in session.scalars(select(Call))}
        tickets = session.scalar(select(func.count()).select_from(Ticket))
        dead = container.redis.live.xlen(container.keys.journal_dead)
    if set(calls) != placed:
        failures.append(f"call records {len(calls)} != placed {len(placed)}")
    open_calls = [c.id for c in calls.values() if c.ended_at is None]
    if open_calls:
        failures.append(
            f"{len(open_calls)} calls without an end, e.g. {open_calls[0]}: {_types(container, open_calls[0])}"
        )
    ticketed = {c.ticket_id for c in calls.values() if c.ticket_id is not None}
    if len(ticketed) != len(placed) or tickets != len(placed):
        failures.append(f"tickets: {tickets} rows, {len(ticketed)} linked, for {len(placed)} calls")
    if container.journal.backlog() or dead:
        failures.append(f"journal: {container.journal.backlog()} events not in SQL, {dead} dead")
    kpi = SqlKpi(container.engine, container.hotline.kpi).table(
        KpiQuery(start=started, end=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), interval=None, by="all"),
        time.time(),
    )
    totals = kpi[0].calls if kpi else None
    outcomes = Counter(tally.outcome.values())
    want = {"offered": len(placed), "answered": outcomes["answered"], "abandoned": outcomes["abandoned"]}
    got = {k: getattr(totals, k, None) for k in want}
    if got != want:
        odd = [
            (sid, tally.outcome.get(sid), c.outcome, _types(container, sid))
            for sid, c in calls.items()
            if tally.outcome.get(sid) != c.outcome or c.enqueued_at is None
        ][:3]
        failures.append(f"KPIs from SQL {got} != driver's tally {want}; e.g. {odd}")
    csat = kpi[0].csat if kpi else None
    if csat is None or csat.responses != len(tally.scores) or csat.satisfied != sum(s >= 4 for s in tally.scores):
        failures.append(f"CSAT from SQL {csat} != driver's {len(tally.scores)} answers")
    failures += double_bookings(container)[:10]
    return failures


# -- the run -----------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--job-workers", type=int, default=2)
    parser.add_argument("--no-fork", action="store_true", help="job workers run jobs in-process (no work horse)")
    parser.add_argument("--talk-min", type=float, default=1.0)
    parser.add_argument("--talk-max", type=float, default=3.0)
    parser.add_argument("--wait-poll", type=float, default=1.0, help="seconds between wait-loop requests")
    parser.add_argument("--abandon", type=float, default=0.1, help="share of callers with limited patience")
    parser.add_argument("--patience", type=float, default=10.0, help="mean patience of those, seconds")
    parser.add_argument("--drain", type=float, default=20.0, help="seconds after the end before waiters hang up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, pg_database() as database_url:
        return run(args, Path(folder), database_url, fresh_tag())


def run(args: argparse.Namespace, folder: Path, database_url: str, tag: str) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake Twilio's request log
    port = free_port()
    fake = FakeTwilio(auth=(ACCOUNT_SID, TOKEN)).start()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "SOAK_DIR": str(folder),
           "CALLCENTER_DATABASE_URL": database_url, "CALLCENTER_REDIS_URL": REDIS_URL,
           "CALLCENTER_HOTLINE_TAG": tag, "CALLCENTER_CONFIG": str(soak_hotline(args.operators, folder)),
           "CALLCENTER_PUBLIC_BASE_URL": base_url, "CALLCENTER_SECRET_KEY": "soak", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_BASE_URL": fake.base_url, "TWILIO_CALLER_ID": CALLER}  # fmt: skip
    container = build_container(load_settings(env))
    stop = threading.Event()
    try:
        with servers(env, port, args.web_workers, args.job_workers, fork=not args.no_fork):
            for i in range(args.operators):
                container.acd.login(f"op{i + 1:02d}", time.time())
            driver = HttpDriver(container, fake, port, base_url)
            tally = Tally()
            players = [threading.Thread(target=driver.play_rest, args=(stop,), daemon=True) for _ in range(4)]
            for player in players:
                player.start()
            started, t0 = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1), time.monotonic()
            deadline = t0 + args.seconds
            callers = [threading.Thread(target=caller, args=(driver, tally, n, args, deadline), daemon=True)
                       for n in range(args.callers)]  # fmt: skip
            for thread in callers:
                thread.start()
                time.sleep(0.002)
            threading.Thread(target=monitor, args=(container, stop), daemon=True).start()
            for thread in callers:
                thread.join(timeout=args.seconds + args.drain + 120)
            held = time.monotonic() - t0
            wait_drained(container, 120)
            stop.set()
            report(driver, tally, held)
            failures = check(container, tally, started)
    finally:
        stop.set()
        fake.stop()
        delete_tag(redis.Redis.from_url(REDIS_URL, decode_responses=True), container.keys)
        container.redis.close()
        container.engine.dispose()
    for failure in failures:
        print("FAIL", failure)
    print("all checks passed" if not failures else f"{len(failures)} checks failed")
    return 1 if failures else 0


def monitor(container: Container, stop: threading.Event, every: float = 10.0) -> None:
    """Every ``every`` seconds: jobs queued, journal backlog, operators by state, callers waiting."""
    while not stop.wait(every):
        with contextlib.suppress(Exception):
            snapshot = container.acd.snapshot(time.time())
            states = Counter(row["state"] for row in snapshot["operators"].values())
            waiting = sum(int(q["waiting"]) for q in snapshot["queues"].values())
            print(f"  jobs queued {container.jobs.queue.count}, journal {container.journal.backlog()}, "
                  f"waiting {waiting}, operators {dict(states)}", flush=True)  # fmt: skip


def report(driver: HttpDriver, tally: Tally, held: float) -> None:
    lat = sorted(driver.latencies)
    outcomes = Counter(tally.outcome.values())

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    print(f"placed {len(tally.placed)} calls in {held:.0f}s: {outcomes['answered']} answered, "
          f"{outcomes['abandoned']} abandoned, {len(tally.scores)} surveys")  # fmt: skip
    print(f"calls/s held: {len(tally.placed) / held:.2f} placed, {outcomes['answered'] / held:.2f} answered")
    print(f"webhooks: {len(lat)} requests, {len(lat) / held:.0f}/s, p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms")
    if driver.errors:
        print("errors:", dict(driver.errors.most_common(10)))


if __name__ == "__main__":
    sys.exit(main())
