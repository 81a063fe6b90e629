"""The SIP gateway: one registered account, a session per caller, and the loop that feeds them the ACD's
offers and deadlines. ``build_gateway`` wires it from the container (``callcenter sip`` starts here).

The gateway keeps its account registered: pyVoIP re-registers on its own every ~115 s; when it gives up
(FAILED) or a transaction wedged, the supervisor builds a fresh phone, with a backoff while the registrar is
away.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callcenter.bootstrap import Container
from callcenter.operators import softphone_directory
from ivr.flow import flow_from_hotline
from ivr.sip.callback import run_callback
from ivr.sip.legs import SqlLegRecorder
from ivr.sip.ports import Leg, Phone
from ivr.sip.session import CallerSession, SessionDeps, SurveyRecorder
from ivr.sip.voice import VoiceLibrary
from queueing.acd import Acd
from queueing.acd_types import Offer
from queueing.handoff import SIP, OfferHandoff, decode

logger = logging.getLogger(__name__)

PhoneFactory = Callable[[Callable[[Leg], None]], Phone]
CLAIM_SECONDS = 120  # longer than any ring timeout: the offer is long over by then


class SipGateway:
    """Answers the account's calls with CallerSessions and routes ACD offers and deadlines to them."""

    def __init__(self, deps: SessionDeps, phone_factory: PhoneFactory, interval: float = 0.2):
        self.deps = deps
        self.phone = phone_factory(self.handle)
        deps.phone = self.phone
        self.sessions: dict[str, CallerSession] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interval = interval
        self._threads: list[threading.Thread] = []
        self.restarts = 0
        self.phone_id = uuid.uuid4().hex
        self.handoff = OfferHandoff(deps.acd.redis, deps.acd.keys, jobs=None)  # build_gateway gives it the jobs

    # -- life ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Register (retrying in the background) and start dispatching."""
        workers = (("supervisor", self._supervise), ("dispatcher", self._dispatch), ("handoff", self._take_handoffs))
        for name, target in workers:
            thread = threading.Thread(target=target, name=f"sip-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.phone.stop()

    def wait_registered(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.phone.healthy():
                return True
            time.sleep(0.05)
        return False

    def _supervise(self) -> None:
        backoff, started = 1.0, False
        while not self._stop.is_set():
            if not self.phone.healthy():
                try:
                    if started:
                        logger.warning("SIP account unhealthy; restarting the phone")
                        self.restarts += 1
                        restart = getattr(self.phone, "restart", None)
                        (restart or self.phone.start)()
                    else:
                        started = True
                        self.phone.start()
                    backoff = 1.0
                    logger.info("SIP account registered")
                except Exception as exc:
                    logger.warning("SIP registration failed (%s: %s); retry in %.0fs", type(exc).__name__, exc, backoff)
                    self._stop.wait(backoff)
                    backoff = min(30.0, backoff * 2)
                    continue
            self._stop.wait(1.0)

    # -- calls ---------------------------------------------------------------------------------------------
    def handle(self, leg: Leg) -> None:
        """Run one incoming call to its end (in pyVoIP's thread for that call)."""
        session = CallerSession(leg, self.deps)
        with self._lock:
            self.sessions[session.call_id] = session
        try:
            session.run()
        finally:
            with self._lock:
                self.sessions.pop(session.call_id, None)

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch_once(self.deps.clock())
            except Exception:
                logger.exception("SIP dispatcher: ACD unavailable; retrying")
                self._stop.wait(1.0)
            self._stop.wait(self._interval)

    def dispatch_once(self, now: float) -> None:
        """Deadlines first (a ring timeout frees the operator), then offers, each to its session.

        The ACD's offer reserves operators for any waiting call: an offer for a SIP call another gateway holds,
        or for another channel's call, is handed over to it (``queueing/handoff.py``).
        """
        for action in self.deps.acd.tick(now):
            self._deliver(action.call_id, action)
        for offer in self.deps.acd.offer(now):
            if self._deliver(offer.call_id, offer):
                continue
            if offer.channel == SIP and offer.callback:
                self._callback(offer)
            else:
                self.handoff.hand_over(offer)

    def _callback(self, offer: Offer) -> None:
        threading.Thread(target=run_callback, args=(self.deps, offer), name="sip-callback", daemon=True).start()

    def _take_handoffs(self) -> None:
        keys = self.deps.acd.keys
        while not self._stop.is_set():
            try:
                pubsub = self.deps.acd.redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]
                pubsub.subscribe(keys.sip_offers)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    offer = decode(message["data"])
                    if self._deliver(offer.call_id, offer) or not offer.callback:
                        continue
                    claim = keys.sip_callback_claim(offer.call_id, offer.operator)
                    if self.deps.acd.redis.set(claim, self.phone_id, nx=True, ex=CLAIM_SECONDS):
                        self._callback(offer)  # one gateway dials a callback another channel was offered
                pubsub.close()
            except Exception:
                logger.exception("SIP offer handoff: Redis unavailable; retrying")
                self._stop.wait(1.0)

    def _deliver(self, call_id: str, item: object) -> bool:
        with self._lock:
            session = self.sessions.get(call_id)
        if session is not None:
            session.inbox.put(item)  # type: ignore[arg-type]
        return session is not None


def flow_texts(deps: SessionDeps) -> list[tuple[str, str]]:
    """Every static prompt of the flow and survey, to synthesise before the first call."""
    texts: list[tuple[str, str]] = []
    for node in deps.flow.nodes.values():
        for name in ("prompt", "invalid", "no_input"):
            text = getattr(node, name, None)
            if text is not None:
                texts.extend((spoken, lang) for lang, spoken in text.texts.items())
    survey = deps.hotline.survey
    for part in (survey.intro, survey.thanks, *(q.prompt for q in survey.questions)):
        texts.extend((spoken, lang) for lang, spoken in part.items())
    return texts


def survey_service(container: Container) -> SurveyRecorder | None:
    """The hotline's SurveyService (answers journaled once per call and question), when it is installed."""
    try:
        from callcenter.surveys import SurveyService
    except ImportError:
        return None
    journal: Any = container.journal
    return SurveyService(container.sessions, container.redis.live, container.keys, journal, container.hotline,
                         container.clock)  # fmt: skip


def build_gateway(
    container: Container, cache_dir: Path, recordings_dir: Path, phone_factory: PhoneFactory | None = None
) -> SipGateway:
    """Wire a gateway from the container (pyVoIP phone unless ``phone_factory`` is given)."""
    from ivr.sip.phone import PyVoipPhone

    flow = flow_from_hotline(container.hotline)
    if flow is None:
        raise ValueError("the hotline file has no ivr section: the SIP gateway has nothing to run")
    acd = Acd(container.redis.live, container.keys, container.hotline)
    acd.sync_config(container.clock())
    deps = SessionDeps(
        flow=flow, hotline=container.hotline, acd=acd, journal=container.journal,
        legs=SqlLegRecorder(container.sessions), voices=VoiceLibrary(cache_dir), phone=None,  # type: ignore[arg-type]
        softphone_of=softphone_directory(container.sessions, container.hotline), clock=container.clock,
        recordings_dir=recordings_dir, surveys=survey_service(container),
    )  # fmt: skip
    factory = phone_factory or (lambda handler: PyVoipPhone(container.settings.sip, handler))
    gateway = SipGateway(deps, factory)
    gateway.handoff = OfferHandoff(acd.redis, acd.keys, container.jobs)
    warm = threading.Thread(target=deps.voices.warm, args=(flow_texts(deps),), name="sip-warm", daemon=True)  # type: ignore[attr-defined]
    warm.start()
    return gateway
