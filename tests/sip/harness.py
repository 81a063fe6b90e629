"""Real SIP peers for the SIP tests: Kamailio (registrar + proxy), sipp callers and operator softphones,
and an RTP sink that captures what the gateway sends.

How audio is checked: the sipp scenarios put the sink's port in their SDP (``-key sinkport``), so the gateway
streams that leg's audio to the sink while sipp itself plays its tone pcap from its own media port. The test
then measures, with the Goertzel algorithm, how much of the captured audio is the other side's tone (1 kHz
from the caller, 500 Hz from the operator). No root or tcpdump needed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from ivr.sip.audio import tone, u8_to_ulaw, ulaw_to_u8

HERE = Path(__file__).parent
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"


def free_udp_port(span: int = 1) -> int:
    """A port p with p..p+span-1 free on 127.0.0.1 (random start: tests of others run at the same time)."""
    for _ in range(200):
        port = random.randrange(21000, 59000, 2)
        sockets = []
        try:
            for offset in range(span):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(s)
                s.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free UDP port range")


class Process:
    """A peer process started in its own session, stopped by its process id."""

    def __init__(self, argv: list[str], cwd: Path, name: str, env: dict[str, str] | None = None):
        self.name = name
        self.log = cwd / f"{name}.log"
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, env=env)  # fmt: skip

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            if self.wait(3) is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(3)
        self._out.close()

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")[-4000:]


def kamailio(workdir: Path, port: int, op1: int, op2: int, callback: int) -> Process:
    """Kamailio on ``port``, routing op1/op2 to sipp softphones on ``op1``/``op2``, callers' numbers (36...)
    to ``callback``."""
    text = (HERE / "kamailio.cfg.in").read_text()
    for key, value in (("@PORT@", port), ("@OP1@", op1), ("@OP2@", op2), ("@CB@", callback)):
        text = text.replace(key, str(value))
    cfg = workdir / "kamailio.cfg"
    cfg.write_text(text)
    argv = ["timeout", "300", KAMAILIO, "-f", str(cfg), "-DD", "-E", "-w", str(workdir), "-m", "32", "-M", "4",
            "-P", str(workdir / "kamailio.pid")]  # fmt: skip
    process = Process(argv, workdir, f"kamailio-{port}")
    try:
        _wait_for_udp(port, process)
    except RuntimeError:
        process.stop()
        raise
    return process


def _wait_for_udp(port: int, process: Process, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        probe = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]};branch=z9hG4bKp\r\n"
            "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: probe\r\nCSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        while time.monotonic() < deadline:
            if process.proc.poll() is not None:
                raise RuntimeError(f"{process.name} exited:\n{process.log.read_text(errors='replace')}")
            s.sendto(probe, ("127.0.0.1", port))
            try:
                if s.recv(4096).startswith(b"SIP/2.0 "):
                    return
            except OSError:
                time.sleep(0.1)
    raise RuntimeError(f"{process.name} not answering on {port}:\n{process.output()}")


def sipp(
    workdir: Path, scenario: str, remote: str, port: int, media_port: int, *, service: str = "gateway",
    keys: dict[str, object] | None = None, timeout: int = 60,
) -> Process:  # fmt: skip
    """One sipp peer making (``remote`` set) or taking one call, bounded by -timeout and timeout(1)."""
    argv = ["timeout", str(timeout + 10), "sipp", *([remote] if remote else []), "-sf", str(HERE / scenario),
            "-s", service, "-i", "127.0.0.1", "-p", str(port), "-mp", str(media_port), "-m", "1", "-nostdin",
            "-timeout", f"{timeout}s", "-timeout_error", "-trace_err", "-trace_msg"]  # fmt: skip
    for key, value in (keys or {}).items():
        argv += ["-key", key, str(value)]
    return Process(argv, workdir, f"sipp-{Path(scenario).stem}-{port}")


def make_pcaps(workdir: Path) -> None:
    """The 1 kHz (caller) and 500 Hz (operator) PCMU tone pcaps the scenarios play."""
    for name, freq in (("pcmu_1000hz_30s.pcap", 1000), ("pcmu_500hz_30s.pcap", 500)):
        if not (workdir / name).exists():
            write_tone_pcap(workdir / name, 30, freq)


def write_tone_pcap(path: Path, seconds: float, frequency: float) -> None:
    """An Ethernet/IPv4/UDP/RTP PCMU pcap of a tone, as sipp's play_pcap_audio reads it (the same format as
    ../shared/sip/make_pcap.py writes, without its deprecated audioop)."""
    payload = u8_to_ulaw(tone(frequency, seconds, amplitude=0.25))
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(len(payload) // 160):
            rtp = struct.pack("!BBHII", 0x80, 0x80 if i == 0 else 0, i + 1, i * 160, 0x1234)
            rtp += payload[i * 160 : (i + 1) * 160]
            udp = struct.pack("!HHHH", 6000, 7000, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))  # fmt: skip
            ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
            frame = b"\0" * 12 + b"\x08\x00" + ip + udp
            at = i * 0.02
            out.write(struct.pack("<IIII", int(at), int((at % 1) * 1e6), len(frame), len(frame)) + frame)


def _checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


class RtpSink:
    """Receives RTP on a UDP port; keeps (arrival time, 8-bit samples) of PCMU packets."""

    def __init__(self, port: int):
        self.port = port
        self.packets: list[tuple[float, bytes]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self._sock.settimeout(0.2)
        self._running = True
        self._thread = threading.Thread(target=self._run, name=f"rtp-sink-{port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            try:
                data = self._sock.recv(2048)
            except OSError:
                continue
            if len(data) > 12 and data[1] & 0x7F == 0:
                self.packets.append((time.monotonic(), ulaw_to_u8(data[12:])))

    def close(self) -> None:
        self._running = False
        self._thread.join(2)
        self._sock.close()

    def audio(self) -> bytes:
        return b"".join(samples for _, samples in self.packets)
