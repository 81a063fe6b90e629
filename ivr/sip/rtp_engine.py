"""One thread for every call's RTP: it receives from all the streams' sockets (one ``epoll``) and sends each
stream's next 20 ms packet on one fixed schedule.

pyVoIP gives every stream two threads of its own: a receiver polling its non-blocking socket every few
milliseconds and a sender sleeping between packets. At 100 calls that is 200 threads and ~25,000 wake-ups a
second, most of them finding nothing to do (118% of a core, measured by ``bench/sip_load.py``). Here a
stream costs its packets and nothing else. ``corrections_rtp.fix_two_threads_per_stream`` routes pyVoIP's
``RTPClient.start``/``stop`` to the process's engine.

The schedule is the gateway's: a tick every 20 ms, due 20 ms after the previous one was *due*, so work does
not make the streams drift; after a stall of over 100 ms it resynchronises rather than bursting.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

from ivr.sip.audio import FRAME_MS

logger = logging.getLogger(__name__)

RESYNC_AFTER = 0.1  # seconds behind schedule after which missed ticks are skipped, not sent in a burst
MAX_PACKETS_PER_TICK = 16  # per socket: one is normal, a few after a stall; the rest waits for the next tick


class Stream(Protocol):
    """One RTP stream as the engine drives it."""

    def receive(self, packet: bytes) -> None:
        """Handle one datagram received on the stream's socket."""
        ...

    def next_packet(self) -> tuple[bytes, tuple[str, int]]:
        """The stream's next 20 ms RTP packet and where to send it."""
        ...


class RtpEngine:
    """Sends and receives the RTP of every stream added to it, from one daemon thread started on first use.

    One wake-up per tick: the thread sleeps until the tick is due, reads whatever arrived on any socket
    since the last one (one ``epoll`` call, then the readable sockets; the kernel buffers the 20 ms in
    between), then sends one packet of every stream. Waking for each arriving packet would cost as much as
    pyVoIP's receivers did.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        period: float = FRAME_MS / 1000,
    ):
        self._clock, self._sleep, self._period = clock, sleep, period
        self._selector = selectors.DefaultSelector()
        self._streams: dict[socket.socket, Stream] = {}
        self._lock = threading.Lock()
        self._active = threading.Event()  # set while there are streams: an idle engine does not tick
        self._thread: threading.Thread | None = None
        self.due = clock()
        self.resyncs = 0

    def add(self, sock: socket.socket, stream: Stream) -> None:
        """Start receiving on ``sock`` (bound, non-blocking) and sending ``stream``'s packets from it."""
        with self._lock:
            if not self._streams:
                self.due = self._clock()
            self._streams[sock] = stream
            self._selector.register(sock, selectors.EVENT_READ, stream)
            self._active.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="rtp-engine", daemon=True)
                self._thread.start()

    def remove(self, sock: socket.socket) -> None:
        """Stop the stream and close its socket (at once, so the call's port can be given back); idempotent."""
        with self._lock:
            if self._streams.pop(sock, None) is not None:
                self._selector.unregister(sock)
            if not self._streams:
                self._active.clear()
        sock.close()

    def __len__(self) -> int:
        return len(self._streams)

    def _run(self) -> None:
        while True:
            self._active.wait()
            try:
                self.run_once()
            except Exception:  # a surprise in one tick must not silence every call for good
                logger.exception("RTP engine: error in a tick (kept running)")

    def run_once(self) -> None:
        """Sleep until the tick is due, take in what arrived, send one packet of every stream."""
        delay = self.due - self._clock()
        if delay > 0:
            self._sleep(delay)
        events = self._selector.select(0)
        with self._lock:
            for key, _ in events:
                if key.fileobj in self._streams:
                    self._receive(key.fileobj, key.data)
            self._send_all()
        self._advance()

    def _receive(self, sock: socket.socket, stream: Stream) -> None:
        for _ in range(MAX_PACKETS_PER_TICK):  # a flood on one socket must not stall every other call
            try:
                packet = sock.recv(2048)
            except OSError:  # nothing more (BlockingIOError), or an ICMP error for a packet we sent
                return
            try:
                stream.receive(packet)
            except Exception as exc:  # a malformed packet costs that packet, not the stream
                logger.debug("RTP packet ignored on %s: %s", sock.getsockname(), exc)

    def _send_all(self) -> None:
        for sock, stream in self._streams.items():
            try:
                packet, address = stream.next_packet()
                sock.sendto(packet, address)
            except OSError as exc:
                logger.debug("RTP packet not sent from %s: %s", sock.getsockname(), exc)
            except Exception:
                logger.exception("RTP packet not built for %s", sock.getsockname())

    def _advance(self) -> None:
        self.due += self._period
        now = self._clock()
        if now - self.due > RESYNC_AFTER:
            logger.warning("RTP engine %.0f ms behind (process stalled?): skipping to now", 1000 * (now - self.due))
            self.resyncs += 1
            self.due = now + self._period


_engine: RtpEngine | None = None
_engine_lock = threading.Lock()


def shared_engine() -> RtpEngine:
    """The process's engine (created on first use: nothing at import time)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = RtpEngine()
        return _engine
