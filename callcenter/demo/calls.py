"""Playing Twilio's part in a call: post signed webhooks to the app and follow the TwiML it answers.

Verbs take the time they would on a phone (a ``<Say>`` at the profile's speaking rate, hold music for a turn
of the wait loop); a ``<Gather>`` is answered by the simulated person on that leg (:mod:`callcenter.demo.choices`);
a ``<Dial>`` rings an operator (simulated: answers after a few seconds or never, RONA; the human of the console:
answers by accepting the call there) or a callee; the conversation lasts a lognormal talk time and ends with
the operator or the caller hanging up, each with the callbacks Twilio would send.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from twilio.request_validator import RequestValidator

from callcenter.bootstrap import Container
from callcenter.demo.choices import Choices
from callcenter.demo.clock import Timers
from callcenter.demo.legs import CALLEE, OPERATOR, Leg
from callcenter.demo.profile import DemoProfile
from callcenter.demo.rest import Lines, new_sid
from callcenter.domain.operator import AcdError

logger = logging.getLogger(__name__)

HANG_UP = "hang-up"
HUMAN_POLL_SECONDS = 0.5
CALLEE_ANSWERS = 0.85


class CallPlayer:
    """Follows the TwiML of every leg; the engine (a subclass) adds arrivals and the REST side."""

    def __init__(self, container: Container, app: Flask, lines: Lines, profile: DemoProfile, simulated: set[str],
                 rng: random.Random):  # fmt: skip
        settings = container.settings
        self.c, self.lines, self.profile, self.simulated, self.rng = container, lines, profile, simulated, rng
        self.client = app.test_client()
        self.validator = RequestValidator(settings.twilio.auth_token)
        self.base = settings.public_base_url.rstrip("/")
        self.account = settings.twilio.account_sid
        self.number = settings.twilio.caller_id
        self.choices = Choices(container.hotline, profile, rng)
        self.timers = Timers()
        self.legs: dict[str, Leg] = {}
        self.stats: Counter[str] = Counter()

    # -- requests ------------------------------------------------------------------------------------------
    def send(self, url: str, form: dict[str, str]) -> str | None:
        """A signed POST, exactly as Twilio signs it; the body, or None when the app refused it."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)}
        response = self.client.post(path, data=form, headers=headers)
        if response.status_code not in (200, 204):
            logger.warning("demo: %s answered %s", path, response.status_code)
            return None
        return response.get_data(as_text=True)

    def post(self, leg: Leg, url: str, extra: dict[str, str] | None = None) -> str | None:
        return self.send(url, {**leg.form(), "AccountSid": self.account, **(extra or {})})

    def status(self, leg: Leg, status: str) -> None:
        if leg.status_url:
            form = leg.status_form(status, self.c.clock(), time.monotonic() - leg.started)
            self.send(leg.status_url, {**form, "AccountSid": self.account})

    # -- TwiML ---------------------------------------------------------------------------------------------
    def perform(self, leg: Leg, body: str | None) -> None:
        """Run a TwiML document on ``leg`` (None: the request failed, Twilio would hang up)."""
        if leg.ended:
            return
        try:
            root = ET.fromstring(body) if body else None
        except ET.ParseError:
            root = None
        if root is None:
            self.end_call(leg)
            return
        leg.gen += 1
        self._continue(leg, list(root), leg.gen, 0.0)

    def later(self, seconds: float, leg: Leg, gen: int, action: Callable[..., Any], *args: Any) -> None:
        """``action(leg, *args)`` after ``seconds`` unless the leg has moved on to another document by then."""
        self.timers.after(seconds, self._if_current, leg, gen, action, args)

    def _if_current(self, leg: Leg, gen: int, action: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if leg.gen == gen and not leg.ended:
            action(leg, *args)

    def _continue(self, leg: Leg, verbs: list[ET.Element], gen: int, t: float) -> None:
        scale = self.profile.timeout_scale
        while verbs:
            verb = verbs.pop(0)
            if verb.tag in ("Say", "Play", "Pause"):
                t += self._duration(leg, verb)
            elif verb.tag == "Gather":
                answer = self._answer(leg, verb)
                heard = sum(self._duration(leg, child) for child in verb)
                t += heard * (self.choices.barge_in() if answer not in (None, HANG_UP) else 1.0)
                if answer == HANG_UP:
                    self.later(t, leg, gen, self.end_call)
                    return
                if answer is not None:
                    self.later(t + self.choices.think(), leg, gen, self._gathered, verb.get("action", ""), answer)
                    return
                t += float(verb.get("timeout", "5")) * scale
            elif verb.tag in self._TERMINAL:
                self.later(t, leg, gen, getattr(self, self._TERMINAL[verb.tag]), verb)
                return
        self.later(t, leg, gen, self._document_ended)

    _TERMINAL = {"Redirect": "_redirected", "Enqueue": "_enter_queue", "Leave": "_leave", "Dial": "dial",
                 "Record": "_record", "Hangup": "_hangup_verb"}  # fmt: skip

    def _duration(self, leg: Leg, verb: ET.Element) -> float:
        if verb.tag == "Say":
            return self.choices.speech(verb.text or "")
        if verb.tag == "Play":
            return self.profile.wait_turn_seconds if leg.state == "queue" else 3.0 * self.profile.timeout_scale
        if verb.tag == "Pause":
            return float(verb.get("length", "1")) * self.profile.timeout_scale
        return 0.0

    def _answer(self, leg: Leg, gather: ET.Element) -> str | None:
        """What the person on ``leg`` presses for this Gather (by the route it posts to); None: nothing."""
        parts = urlsplit(gather.get("action", ""))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path.endswith("/twilio/ivr"):
            return self.choices.ivr(query.get("node", ""))
        if path.endswith("/twilio/queue/key"):
            wait = urlsplit(leg.enqueue.get("waitUrl", "") if leg.enqueue is not None else "").query
            return self.choices.callback_key(parse_qs(wait).get("key", [""])[0])
        if path.endswith("/twilio/survey"):
            first = query.get("q", "0") == "0" and "retry" not in query
            if first and self.rng.random() < self.profile.survey_hangup_probability:
                return HANG_UP
            return self.choices.survey(int(query.get("q", "0")))
        if path.endswith(("/twilio/whisper/accept", "/twilio/callback/accept")):
            return "1"
        return None

    def _gathered(self, leg: Leg, action: str, digits: str) -> None:
        self.perform(leg, self.post(leg, action, {"Digits": digits}))

    def _redirected(self, leg: Leg, verb: ET.Element) -> None:
        self.perform(leg, self.post(leg, (verb.text or "").strip()))

    def _hangup_verb(self, leg: Leg, verb: ET.Element) -> None:
        self.end_call(leg)

    def _document_ended(self, leg: Leg) -> None:
        if leg.state == "queue":
            self._wait_turn(leg)
        elif leg.state == "whisper" and leg.peer is not None:
            self.bridged(leg.peer, leg)
        elif leg.state not in ("dial", "talk"):
            self.end_call(leg)

    def _record(self, leg: Leg, verb: ET.Element) -> None:
        """A voicemail: the caller speaks for a while, then the Record action and its recording callback."""
        seconds = self.rng.uniform(5, 30)
        leg.state = "record"
        self.later(seconds * self.profile.timeout_scale, leg, leg.gen, self._recorded, verb, seconds)

    def _recorded(self, leg: Leg, verb: ET.Element, seconds: float) -> None:
        rec = self.recording_form(leg, seconds)
        body = self.post(leg, verb.get("action", ""), {"RecordingUrl": rec["RecordingUrl"],
                                                        "RecordingDuration": rec["RecordingDuration"]})  # fmt: skip
        if verb.get("recordingStatusCallback"):
            self.send(verb.get("recordingStatusCallback", ""), rec)
        self.perform(leg, body)

    def recording_form(self, leg: Leg, seconds: float) -> dict[str, str]:
        sid = new_sid("RE")
        url = f"https://api.twilio.com/2010-04-01/Accounts/{self.account}/Recordings/{sid}"
        return {"AccountSid": self.account, "CallSid": leg.sid, "RecordingSid": sid, "RecordingUrl": url,
                "RecordingStatus": "completed", "RecordingDuration": str(int(seconds)),
                "RecordingChannels": "2"}  # fmt: skip

    # -- queues --------------------------------------------------------------------------------------------
    def _enter_queue(self, leg: Leg, verb: ET.Element) -> None:
        name = (verb.text or "").strip()
        leg.state, leg.enqueue, leg.entered_queue = "queue", verb, time.monotonic()
        leg.queue_sid = "QU" + hashlib.md5(name.encode()).hexdigest()
        self.lines.enter(leg.queue_sid, leg.sid)
        if not leg.patience_set:
            leg.patience_set = True
            self.timers.after(self.rng.expovariate(1 / self.profile.patience_mean_seconds), self.give_up, leg)
        self._wait_turn(leg)

    def _wait_turn(self, leg: Leg) -> None:
        """Twilio requests the wait URL each time its TwiML ends."""
        assert leg.enqueue is not None
        waited = str(int(time.monotonic() - leg.entered_queue))
        extra = {"QueueSid": leg.queue_sid, "QueueTime": waited, "QueuePosition": "1", "AvgQueueTime": "30",
                 "CurrentQueueSize": str(len(self.lines.in_queue.get(leg.queue_sid, ())))}  # fmt: skip
        self.perform(leg, self.post(leg, leg.enqueue.get("waitUrl", ""), extra))

    def leave_queue(self, leg: Leg) -> None:
        self.lines.leave(leg.queue_sid, leg.sid)
        leg.state = "busy"

    def _leave(self, leg: Leg, verb: ET.Element | None = None, result: str = "leave") -> str | None:
        self.leave_queue(leg)
        action = leg.enqueue.get("action", "") if leg.enqueue is not None else ""
        waited = str(int(time.monotonic() - leg.entered_queue))
        body = self.post(leg, action, {"QueueResult": result, "QueueTime": waited}) if action else None
        if result == "leave":
            self.perform(leg, body)
        return body

    def give_up(self, leg: Leg) -> None:
        """The caller's patience ran out: hang up while waiting or while the operator rings (abandon)."""
        if leg.state == "queue":
            self._leave(leg, result="hangup")
            self.stats["abandoned"] += 1
            self.end_call(leg)
        elif leg.state == "dial" and leg.peer is not None:
            self.end_leg(leg.peer, "canceled")
            self.dial_result(leg, "canceled", "completed")
            self.stats["abandoned"] += 1
            self.end_call(leg)

    # -- dialling ------------------------------------------------------------------------------------------
    def dial(self, leg: Leg, verb: ET.Element) -> None:
        """``<Dial>``: ring the operator (or the number) of its noun."""
        noun = verb[0] if len(verb) else None
        if noun is None:
            self.end_call(leg)
            return
        address = (noun.text or "").strip()
        operator = address if noun.tag == "Client" else address.split(":", 1)[-1].split("@")[0]
        kind = OPERATOR if noun.tag in ("Client", "Sip") else CALLEE
        to = f"client:{address}" if noun.tag == "Client" else address
        peer = Leg(new_sid("CA"), verb.get("callerId") or leg.frm, to, kind=kind, direction="outbound-dial",
                   parent=leg.sid, status_url=noun.get("statusCallback", ""),
                   operator=operator if kind == OPERATOR else "", started=time.monotonic())  # fmt: skip
        leg.dial, leg.state, leg.peer, peer.peer = verb, "dial", peer, leg
        self.legs[peer.sid] = peer
        self.status(peer, "initiated")
        self.status(peer, "ringing")
        timeout = float(verb.get("timeout", "30")) * self.profile.timeout_scale
        if kind == OPERATOR and operator not in self.simulated:
            self._watch_human(leg, leg.gen, peer, time.monotonic() + timeout)
        elif self.rng.random() < (self.profile.answer_probability if kind == OPERATOR else CALLEE_ANSWERS):
            self.later(self.rng.uniform(*self.profile.ring_seconds), leg, leg.gen, self._picked_up, peer,
                       noun.get("url", ""))  # fmt: skip
        else:
            self.later(timeout, leg, leg.gen, self._unanswered, peer)

    def _watch_human(self, leg: Leg, gen: int, peer: Leg, deadline: float) -> None:
        """The console's operator accepts in the browser (the ACD connects the call), or the ring times out."""
        if leg.gen != gen or leg.ended or peer.ended:
            return
        try:
            state = self.c.acd.position(leg.sid, self.c.clock()).state
        except AcdError:
            state = "gone"
        if state == "connected":
            self.status(peer, "in-progress")
            self.bridged(leg, peer)
        elif state != "ringing" or time.monotonic() >= deadline:
            self._unanswered(leg, peer)
        else:
            self.timers.after(HUMAN_POLL_SECONDS, self._watch_human, leg, gen, peer, deadline)

    def _picked_up(self, leg: Leg, peer: Leg, whisper: str) -> None:
        if peer.ended:
            return
        self.status(peer, "in-progress")
        self.lines.up(peer.sid)
        if whisper:
            peer.state = "whisper"
            self.perform(peer, self.post(peer, whisper))
        else:
            self.bridged(leg, peer)

    def _unanswered(self, leg: Leg, peer: Leg) -> None:
        self.end_leg(peer, "no-answer")
        self.stats["rona"] += 1
        self.perform(leg, self.dial_result(leg, "no-answer", "in-progress"))

    def bridged(self, leg: Leg, peer: Leg) -> None:
        """The two legs talk for a lognormal while."""
        leg.state = peer.state = "talk"
        self.stats["answered"] += 1
        profile = self.profile
        talk = self.rng.lognormvariate(math.log(profile.talk_median_seconds), profile.talk_sigma)
        self.later(talk, leg, leg.gen, self._talk_ends, peer, talk)

    def _talk_ends(self, leg: Leg, peer: Leg, talk: float) -> None:
        """The operator (or callee) hangs up: the caller's Dial action runs (the survey); or the caller does."""
        simulated = peer.kind == CALLEE or peer.operator in self.simulated
        peer_hangs_up = simulated and self.rng.random() < self.profile.operator_hangs_up
        dial = leg.dial
        self.end_leg(peer, "completed")
        body = self.dial_result(leg, "completed", "in-progress" if peer_hangs_up else "completed", talk)
        if dial is not None and dial.get("recordingStatusCallback"):
            self.send(dial.get("recordingStatusCallback", ""), self.recording_form(leg, talk))
        if peer_hangs_up:
            self.perform(leg, body)
        else:
            self.end_call(leg)

    def dial_result(self, leg: Leg, dial_status: str, call_status: str, seconds: float = 0.0) -> str | None:
        """The Dial ended: its action with DialCallStatus (no action: the document ends)."""
        dial, peer = leg.dial, leg.peer
        leg.dial, leg.peer, leg.state = None, None, "busy"
        action = dial.get("action", "") if dial is not None else ""
        if not action:
            return "<Response/>"
        extra = {"DialCallStatus": dial_status, "DialCallSid": peer.sid if peer else "",
                 "DialCallDuration": str(int(seconds)), "DialBridged": str(dial_status == "completed").lower(),
                 "CallStatus": call_status}  # fmt: skip
        return self.post(leg, action, extra)

    # -- the end -------------------------------------------------------------------------------------------
    def end_call(self, leg: Leg) -> None:
        """This leg hangs up; an operator's leg hanging up before the bridge ends the caller's Dial."""
        caller = leg.peer if leg.kind != "caller" else None
        self.end_leg(leg, "completed")
        if caller is not None and caller.state == "dial" and not caller.ended:
            self.perform(caller, self.dial_result(caller, "completed", "in-progress"))

    def end_leg(self, leg: Leg, status: str) -> None:
        if leg.ended:
            return
        leg.state = "ended"
        leg.gen += 1
        self.lines.down(leg.sid)
        self.legs.pop(leg.sid, None)
        self.status(leg, status)
