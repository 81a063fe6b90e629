"""One dashboard publisher per process: it watches one cheap change token, builds the dashboard once per
change and fans the result out to every connected lead, so N open dashboards cost one Redis poll loop,
not N (no polling storm), and an event reaches every page within ``poll_seconds`` plus the build time.

The token is the journal's last generated id (every ACD transition appends an event in the same script)
and the live KPI version (bumped when the journal writer has counted the event). Even without change the
state is rebuilt every ``refresh_seconds`` (longest waits grow while nothing happens).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

logger = logging.getLogger(__name__)


class Subscription:
    """One connected client: the newest messages, oldest dropped when the client is slow."""

    def __init__(self, publisher: DashboardPublisher, size: int = 2):
        self._publisher = publisher
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=size)

    def offer(self, message: Any) -> None:
        while True:
            try:
                self._queue.put_nowait(message)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass

    def get(self, timeout: float) -> Any | None:
        """The next message, or None after ``timeout`` seconds (send a keep-alive then)."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._publisher.unsubscribe(self)


class DashboardPublisher:
    """Builds a message when the token changes and hands it to every subscriber."""

    def __init__(
        self,
        build: Callable[[], Any],
        token: Callable[[], Hashable],
        poll_seconds: float = 0.2,
        refresh_seconds: float = 5.0,
        idle_stop_seconds: float = 60.0,
    ):
        self._build, self._token = build, token
        self._poll, self._refresh, self._idle_stop = poll_seconds, refresh_seconds, idle_stop_seconds
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.latest: Any = None
        self.builds = 0
        self._token_built: Hashable = None
        self._built_at = 0.0

    def subscribe(self) -> Subscription:
        """A new client: it gets the latest message at once, then every new one."""
        subscription = Subscription(self)
        if self.latest is None:
            self._publish()
        subscription.offer(self.latest)
        with self._lock:
            self._subscribers.add(subscription)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="callcenter-dashboard", daemon=True)
                self._thread.start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        idle_since = time.monotonic()
        while not self._stop.wait(self._poll):
            with self._lock:
                if self._subscribers:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > self._idle_stop:
                    self._thread = None
                    return
            try:
                token = self._token()
                if token != self._token_built or time.monotonic() - self._built_at >= self._refresh:
                    self._publish(token)
            except Exception:
                logger.exception("dashboard publisher: build failed; retrying")

    def _publish(self, token: Hashable = None) -> None:
        self._token_built = self._token() if token is None else token
        self._built_at = time.monotonic()
        self.latest = self._build()
        self.builds += 1
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.offer(self.latest)
