"""SIP gateway load: sipp callers held in the queue with audio at increasing concurrency.

    .venv/bin/python -m bench.sip_load [--levels 25,50,100] [--hold 70] [--rate 20]

Runs ``callcenter sip`` as its own process (real Redis under a fresh tag, a throwaway SQLite file) registered
to one sipp that is both its registrar (``-oocsf reg_ok.xml``) and the callers (tests/sip/uac_load_sink.xml:
PCMU 1 kHz streamed to the gateway; the gateway's audio goes to our RTP sink, counted per SSRC). The hotline
sends every caller straight to a queue nobody serves, so they hear announcements and hold music for ``--hold``
seconds, then hang up. Per level it prints failed calls (target 0), packets/s per gateway stream over a 10 s
window 40 s into the hold (target at least 49 of 50), CPU per call (% of one core; "% core" is the whole level,
target at most 100 at 100 calls) with the machine's load average during that window, and memory per call
after 60 s; the baseline, measured first in the same run, is one call: ratios are per-call cost against it.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis

from bench.common import REDIS_URL, fresh_tag, sqlite_database
from tests.sip import harness

HOTLINE = """
hotline: {name: SIP load, languages: [hu, en], default_language: en, timezone: UTC}
queues:
  general: {title: {en: General}, max_wait_seconds: 3600, on_max_wait: hangup, when_empty: wait}
ivr:
  start: to_general
  nodes:
    to_general: {type: enqueue, queue: general, callback_key: "9"}
survey: {enabled: false}
"""
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def settled_rss(pid: int, timeout: float = 30.0) -> float:
    """The gateway's RSS once start-up (imports, prompt synthesis) is over: unchanged for 2 s. Read too early
    on a busy machine, the growth of start-up was counted as memory of the calls."""
    last, deadline = rss_mb(pid), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        now = rss_mb(pid)
        if abs(now - last) < 0.5:
            return now
        last = now
    return last


class SsrcSink(harness.RtpSink):
    """The RTP sink, remembering each packet's SSRC."""

    def _run(self) -> None:
        while self._running:
            try:
                data = self._sock.recv(2048)
            except OSError:
                continue
            if len(data) > 12:
                self.packets.append((time.monotonic(), data[8:12]))


def level(workdir: Path, pid: int, ports: tuple[int, int], calls: int, hold: int, rate: int) -> dict[str, float]:
    """Run ``calls`` concurrent callers through the gateway; measure while all of them are held."""
    registrar, gateway_port = ports
    sink = SsrcSink(harness.free_udp_port())
    sipp = harness.Process(
        ["timeout", str(hold + 120), "sipp", f"127.0.0.1:{gateway_port}",
         "-sf", str(harness.HERE / "uac_load_sink.xml"), "-oocsf", str(harness.HERE / "reg_ok.xml"),
         "-s", "gateway", "-i", "127.0.0.1", "-p", str(registrar),
         "-mp", str(harness.free_udp_port(span=4)), "-r", str(rate), "-l", str(calls), "-m", str(calls),
         "-d", str(hold * 1000), "-nostdin", "-timeout", f"{hold + 100}s", "-key", "sinkport", str(sink.port)],
        workdir, f"sipp-load-{calls}",
    )  # fmt: skip
    started, all_up = time.monotonic(), 6 + calls / rate + 2
    _sleep_until(started + all_up + 30)
    cpu0, t0, n0 = cpu_seconds(pid), time.monotonic(), len(sink.packets)
    time.sleep(10)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    load = os.getloadavg()[0]  # the machine's, during the window: CPU per call is only comparable on a quiet one
    per_stream = Counter(ssrc for at, ssrc in sink.packets[n0:] if t0 <= at <= t1)
    _sleep_until(started + all_up + 60)
    memory = rss_mb(pid)
    code = sipp.wait(hold + 120)
    output = sipp.output()
    sipp.stop()
    sink.close()
    failed = re.search(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", output)
    rates = sorted(count / (t1 - t0) for count in per_stream.values())
    return {
        "calls": calls,
        "failed": int(failed.group(1)) if failed else (0 if code == 0 else calls),
        "streams": len(per_stream),
        "pps_min": rates[0] if rates else 0.0,
        "pps_median": statistics.median(rates) if rates else 0.0,
        "cpu_per_call": 100 * (cpu1 - cpu0) / (t1 - t0) / calls,
        "load": load,
        "rss_mb": memory,
    }


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="25,50,100")
    parser.add_argument("--hold", type=int, default=70, help="seconds each caller stays (>= 62)")
    parser.add_argument("--rate", type=int, default=20, help="new calls per second")
    args = parser.parse_args()
    tag = fresh_tag()
    with sqlite_database() as database, tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        harness.make_pcaps(workdir)
        (workdir / "hotline.yaml").write_text(HOTLINE)
        registrar, gateway_port, rtp = harness.free_udp_port(), harness.free_udp_port(), harness.free_udp_port(2000)
        env = {**os.environ, "CALLCENTER_DATABASE_URL": database, "CALLCENTER_REDIS_URL": REDIS_URL,
               "CALLCENTER_HOTLINE_TAG": tag, "CALLCENTER_CONFIG": str(workdir / "hotline.yaml"),
               "CALLCENTER_SIP_SERVER": "127.0.0.1", "CALLCENTER_SIP_PORT": str(registrar),
               "CALLCENTER_SIP_USER": "gateway", "CALLCENTER_SIP_LOCAL_PORT": str(gateway_port),
               "CALLCENTER_SIP_RTP_LOW": str(rtp), "CALLCENTER_SIP_RTP_HIGH": str(rtp + 1999)}  # fmt: skip
        cli = str(Path(sys.executable).parent / "callcenter")
        gateway = harness.Process([cli, "sip", "--prompt-cache", str(workdir / "prompts"), "--recordings",
                                   str(workdir / "recordings")], workdir, "gateway", env)  # fmt: skip
        print(f"gateway pid {gateway.proc.pid} (py-spy top --pid ... to profile it)", flush=True)
        try:
            time.sleep(4)
            idle = settled_rss(gateway.proc.pid)
            results = []
            for calls in [1, *(int(n) for n in args.levels.split(","))]:
                results.append(level(workdir, gateway.proc.pid, (registrar, gateway_port), calls, args.hold, args.rate))
        finally:
            gateway.stop()
            keys = _keys(tag)
            if keys:
                redis.Redis.from_url(REDIS_URL).delete(*keys)
    _report(results, idle)


def _keys(tag: str) -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"*{{{tag}}}*", count=1000))


def _report(results: list[dict[str, float]], idle: float) -> None:
    base = results[0]
    base_memory = base["rss_mb"] - idle
    print(f"gateway idle RSS {idle:.1f} MB; baseline = 1 call")
    print(f"{'calls':>6} {'failed':>6} {'streams':>7} {'pkt/s min':>9} {'median':>7} {'CPU%/call':>9} {'x base':>6} "
          f"{'% core':>6} {'MB/call':>7} {'x base':>6} {'load':>5}")  # fmt: skip
    for r in results:
        memory = (r["rss_mb"] - idle) / r["calls"]
        cpu_ratio = r["cpu_per_call"] / max(base["cpu_per_call"], 1e-9)
        core = r["cpu_per_call"] * r["calls"]
        print(f"{r['calls']:>6.0f} {r['failed']:>6.0f} {r['streams']:>7.0f} {r['pps_min']:>9.1f} "
              f"{r['pps_median']:>7.1f} {r['cpu_per_call']:>9.2f} {cpu_ratio:>6.2f} {core:>6.0f} "
              f"{memory:>7.2f} {memory / max(base_memory, 1e-9):>6.2f} {r['load']:>5.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
