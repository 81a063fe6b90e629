"""The shared RTP engine: one schedule for every stream, receive from all sockets, streams come and go.

The ticks are driven by hand (``run_once``) on a virtual clock; the sockets are real UDP sockets on
127.0.0.1, so what is "sent" and "received" went through the kernel.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ivr.sip.rtp_engine import MAX_PACKETS_PER_TICK, RtpEngine


class Virtual:
    """A clock that moves only when slept on or when a stream's work takes time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


class Recorder:
    """A stream that records what it received and when it was asked for packets."""

    def __init__(self, virtual: Virtual, destination: tuple[str, int], work: float = 0.0, name: bytes = b"s"):
        self.virtual, self.destination, self.work, self.name = virtual, destination, work, name
        self.received: list[bytes] = []
        self.sent_at: list[float] = []

    def receive(self, packet: bytes) -> None:
        if packet == b"bad":
            raise ValueError("malformed")
        self.received.append(packet)

    def next_packet(self) -> tuple[bytes, tuple[str, int]]:
        self.sent_at.append(self.virtual.now)
        self.virtual.now += self.work
        return self.name, self.destination


_opened: list[socket.socket] = []


def udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    _opened.append(sock)
    return sock


@pytest.fixture
def peer() -> Iterator[socket.socket]:
    yield udp()
    while _opened:
        _opened.pop().close()


def engine_on(virtual: Virtual) -> RtpEngine:
    engine = RtpEngine(clock=virtual.clock, sleep=virtual.sleep)
    engine._thread = object()  # type: ignore[assignment]  # ticks are driven by hand: no thread
    return engine


def test_every_stream_is_sent_on_one_fixed_20_ms_schedule_whatever_each_send_costs(peer: socket.socket) -> None:
    virtual = Virtual()
    engine = engine_on(virtual)
    streams = [Recorder(virtual, peer.getsockname(), work=0.0001) for _ in range(100)]  # 10 ms of work a tick
    for stream in streams:
        engine.add(udp(), stream)
    for _ in range(250):
        engine.run_once()
    for stream in streams:
        assert len(stream.sent_at) == 250
        assert stream.sent_at[-1] - stream.sent_at[0] == pytest.approx(249 * 0.02, abs=0.011)  # 50/s, no drift
    assert virtual.sleeps == 249 and engine.resyncs == 0  # one wake-up per tick for all 100 streams


def test_after_a_stall_the_schedule_resynchronises_instead_of_bursting(peer: socket.socket) -> None:
    virtual = Virtual()
    engine = engine_on(virtual)
    stream = Recorder(virtual, peer.getsockname())
    engine.add(udp(), stream)
    engine.run_once()
    virtual.now += 0.5  # the process stalled for half a second
    for _ in range(3):
        engine.run_once()
    assert engine.resyncs == 1
    assert stream.sent_at[2] - stream.sent_at[1] == pytest.approx(0.02)  # not a burst of 25 late packets


def test_what_arrived_on_each_socket_reaches_its_stream_and_a_bad_packet_costs_only_itself(
    peer: socket.socket,
) -> None:
    virtual = Virtual()
    engine = engine_on(virtual)
    first, second = Recorder(virtual, peer.getsockname()), Recorder(virtual, peer.getsockname())
    first_sock, second_sock = udp(), udp()
    engine.add(first_sock, first)
    engine.add(second_sock, second)
    for packet in (b"a1", b"bad", b"a2"):
        peer.sendto(packet, first_sock.getsockname())
    peer.sendto(b"b1", second_sock.getsockname())
    engine.run_once()
    assert first.received == [b"a1", b"a2"] and second.received == [b"b1"]


def test_a_removed_stream_is_closed_and_no_longer_sent_while_the_others_go_on(peer: socket.socket) -> None:
    virtual = Virtual()
    engine = engine_on(virtual)
    leaving, staying = Recorder(virtual, peer.getsockname(), name=b"L"), Recorder(virtual, peer.getsockname())
    leaving_sock = udp()
    engine.add(leaving_sock, leaving)
    engine.add(udp(), staying)
    engine.run_once()
    engine.remove(leaving_sock)
    engine.remove(leaving_sock)  # idempotent: a call may be ended twice (BYE and hang-up crossing)
    engine.run_once()
    assert leaving_sock.fileno() == -1 and len(engine) == 1
    assert len(leaving.sent_at) == 1 and len(staying.sent_at) == 2


def test_one_stream_failing_to_build_a_packet_does_not_silence_the_others(peer: socket.socket) -> None:
    virtual = Virtual()
    engine = engine_on(virtual)

    class Broken(Recorder):
        def next_packet(self) -> tuple[bytes, tuple[str, int]]:
            raise RuntimeError("bug")

    healthy = Recorder(virtual, peer.getsockname())
    engine.add(udp(), Broken(virtual, peer.getsockname()))
    engine.add(udp(), healthy)
    engine.run_once()
    assert len(healthy.sent_at) == 1


def test_a_flooded_socket_is_read_a_bounded_amount_per_tick_and_the_rest_next_tick(peer: socket.socket) -> None:
    virtual = Virtual()
    engine = engine_on(virtual)
    flooded, quiet = Recorder(virtual, peer.getsockname()), Recorder(virtual, peer.getsockname())
    flooded_sock, quiet_sock = udp(), udp()
    engine.add(flooded_sock, flooded)
    engine.add(quiet_sock, quiet)
    for n in range(MAX_PACKETS_PER_TICK + 4):
        peer.sendto(b"f%d" % n, flooded_sock.getsockname())
    peer.sendto(b"q", quiet_sock.getsockname())
    engine.run_once()
    assert len(flooded.received) == MAX_PACKETS_PER_TICK and quiet.received == [b"q"]
    engine.run_once()
    assert len(flooded.received) == MAX_PACKETS_PER_TICK + 4
