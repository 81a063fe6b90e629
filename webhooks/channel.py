"""The Twilio channel's shared parts: the ACD, the leg store, URLs, the REST port, journal writes, pokes.

One :class:`TwilioChannel` per container (the web app and the job worker each build theirs from bootstrap).
"""

from __future__ import annotations

import logging
import uuid
from hashlib import sha1
from typing import Any

from callcenter.bootstrap import Container
from callcenter.domain.events import CallEvent, EventType
from callcenter.operators import softphone_directory
from ivr.flow import Flow, flow_from_hotline
from ivr.steps import Fact
from queueing.acd import Acd
from webhooks.callstate import CallStore
from webhooks.twilio_rest import TwilioPort, TwilioRest
from webhooks.urls import Urls

logger = logging.getLogger(__name__)

CHANNEL = "twilio"
DISPATCH_FLAG_SECONDS = 30
_EVENT_NS = uuid.UUID("6f1c3f52-9a4e-4c1e-9a53-2f0d6b1f7a11")
_NS_BYTES = _EVENT_NS.bytes


def event_id(*parts: object) -> str:
    """A deterministic event id: a repeated webhook produces the same id, so SQL stores the event once.

    ``uuid.uuid5(_EVENT_NS, name).hex``, computed without building the UUID object (a hot path: every webhook
    journals one or more events); ``tests/unit/test_twilio_event_ids.py`` checks the two agree."""
    digest = bytearray(sha1(_NS_BYTES + "|".join(map(str, parts)).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


class TwilioChannel:
    """Everything the Twilio webhooks and jobs share, wired from one container."""

    def __init__(self, container: Container, rest: TwilioPort | None = None):
        self.container = container
        self.settings = container.settings
        self.hotline = container.hotline
        self.acd: Acd = container.acd
        self.store = CallStore(container.redis.live, container.keys)
        self.urls = Urls(self.settings.public_base_url)
        self.flow: Flow | None = flow_from_hotline(self.hotline)
        self.default_language = self.hotline.hotline.default_language
        self._rest = rest
        self._synced = False
        self._softphones = softphone_directory(container.sessions, self.hotline)

    @property
    def rest(self) -> TwilioPort:
        if self._rest is None:
            self._rest = TwilioRest(self.settings.twilio)
        return self._rest

    @rest.setter
    def rest(self, port: TwilioPort) -> None:
        self._rest = port

    def now(self) -> float:
        return self.container.clock()

    def ensure_acd_config(self) -> None:
        """Write the hotline's queues to the ACD once per process (idempotent; live state is kept)."""
        if not self._synced and not self.container.redis.live.exists(self.container.keys.queues):
            self.acd.sync_config(self.now())
        self._synced = True

    # -- journal -------------------------------------------------------------------------------------------
    def event(
        self, call_id: str, type_: EventType, data: dict[str, Any], *key: object, queue: str = "", operator: str = ""
    ) -> CallEvent:
        """A call event whose id is derived from (call, type, key): repeats of one fact share the id."""
        return CallEvent(
            id=event_id(call_id, type_.value, *key),
            type=type_,
            ts=self.now(),
            call_id=call_id,
            channel=CHANNEL,
            queue=queue,
            operator=operator,
            data=data,
        )

    def facts(self, call_id: str, facts: tuple[Fact, ...], step: int) -> list[CallEvent]:
        """The IVR engine's facts as call events (keyed by the IVR step that produced them)."""
        return [self.event(call_id, f.type, f.data, step, i) for i, f in enumerate(facts)]

    def append(self, *events: CallEvent) -> None:
        if events:
            self.container.journal.append_many(events)

    # -- jobs ----------------------------------------------------------------------------------------------
    def poke(self) -> None:
        """Ask for a dispatcher run (tick + offers) unless one is already pending: one SET NX per request."""
        keys = self.container.keys
        if self.container.redis.live.set(keys.twilio_dispatch, "1", nx=True, ex=DISPATCH_FLAG_SECONDS):
            self.dispatch_soon()

    def dispatch_soon(self) -> None:
        """Enqueue a dispatcher run (the caller has set the pending flag)."""
        self.container.jobs.enqueue("webhooks.jobs.dispatch", self.container.keys.tag)

    def enqueue_job(self, job: str, *args: Any) -> None:
        self.container.jobs.enqueue(f"webhooks.jobs.{job}", self.container.keys.tag, *args)

    # -- hotline lookups -----------------------------------------------------------------------------------
    def twilio_queue(self, queue: str) -> str:
        """The Twilio queue holding the callers of one of our queues (Twilio only holds; our ACD routes)."""
        return f"{self.container.keys.tag}-{queue}"

    def queue_title(self, queue: str, language: str) -> str:
        config = self.hotline.queues.get(queue)
        titles = config.title if config else {}
        return titles.get(language) or titles.get(self.default_language) or queue

    def ring_timeout(self, queue: str) -> int:
        config = self.hotline.queues.get(queue)
        return config.ring_timeout_seconds if config else 20

    def softphone(self, operator: str) -> tuple[str, str]:
        """("client", identity) or ("sip", uri) of an operator (the operators table, the hotline file's seeds
        as a fallback); softphone identity = username by default."""
        address = self._softphones(operator) or f"client:{operator}"
        kind, _, rest = address.partition(":")
        if kind == "sip":
            return "sip", address
        return "client", rest or operator

    def operator_language(self, operator: str) -> str:
        seed = next((o for o in self.hotline.operators if o.username == operator), None)
        return seed.languages[0] if seed and seed.languages else self.default_language
