"""The virtual Twilio: callers arriving, the channel's REST calls played out, SMS replies, a clean stop.

One thread runs everything (timers, REST requests the server handed over, simulated operators), so the legs
need no lock. :func:`start_demo` wires it into a serving process (``serve --demo``'s startup hook).
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable

from flask import Flask

from callcenter.bootstrap import Container
from callcenter.demo.calls import CallPlayer
from callcenter.demo.legs import OPERATOR, Leg
from callcenter.demo.operators import SimulatedOperators
from callcenter.demo.profile import DemoOptions
from callcenter.demo.rest import Lines, RestRequest, VirtualRest, new_sid

logger = logging.getLogger(__name__)

RECENT_CALLERS = 200
STOP_SECONDS = 10.0
STATS_EVERY_SECONDS = 60.0
WARM_START_SECONDS = (0.5, 2.0, 4.0)
FLUSH_ROUNDS = 20
QUIET_LOGGERS = ("twilio.http_client", "werkzeug")  # every REST request at INFO would drown the demo's log


class VirtualTwilio(CallPlayer):
    """Simulated callers dialling in through the app, and the operators' side of their calls."""

    def __init__(
        self, container: Container, app: Flask, rest: VirtualRest, options: DemoOptions,
        poke: Callable[[], None] | None = None,
    ):  # fmt: skip
        rng = random.Random(options.seed)
        simulated = options.simulated(container.hotline)
        super().__init__(container, app, rest.lines, options.profile, set(simulated), rng)
        self.rest = rest
        rest.wake = self.timers.wake
        self.poke = poke or (lambda: None)
        humans = options.humans(container.hotline)
        self.operators = SimulatedOperators(container, simulated, options.profile, rng, self.poke, humans)
        self.rate = options.profile.calls_per_minute * max(1, len(container.hotline.queues)) / 60.0
        self.recent: deque[str] = deque(maxlen=RECENT_CALLERS)
        self.sms_pending: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------------------------
    def start(self) -> VirtualTwilio:
        self._thread = threading.Thread(target=self.run, name="demo-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Hang up every simulated call, log the simulated operators out, stop the REST server."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.timers.wake()
        if self._thread is not None:
            self._thread.join(timeout=STOP_SECONDS)
        self.rest.stop()
        self._flush_journal()
        logger.info("demo stopped: %s", dict(self.stats))

    def _flush_journal(self) -> None:
        """Write the calls' last events to SQL now: in embedded mode the journal dies with the process."""
        try:
            for _ in range(FLUSH_ROUNDS):
                if self.c.journal_writer.drain_once().read == 0:
                    return
        except Exception:
            logger.warning("demo: the journal's last events were not written", exc_info=True)

    def run(self) -> None:
        logger.info(
            "demo: %.1f calls a minute, simulated operators %s", self.rate * 60, ", ".join(self.operators.names)
        )
        self.timers.after(0, self._check_operators)
        for delay in WARM_START_SECONDS:  # a few callers at once, so that a newcomer sees calls within seconds
            self.timers.after(delay, self.call)
        self.timers.after(WARM_START_SECONDS[-1] + self.rng.expovariate(self.rate), self._arrival)
        self.timers.after(STATS_EVERY_SECONDS, self._log_stats)
        while not self._stop.is_set():
            self._take_requests()
            self.timers.run_due()
            self.timers.sleep()
        self._wind_down()

    def _check_operators(self) -> None:
        self.operators.check()
        self.timers.after(self.profile.operator_check_seconds, self._check_operators)

    def _log_stats(self) -> None:
        logger.info("demo: %s", dict(self.stats))
        self.timers.after(STATS_EVERY_SECONDS, self._log_stats)

    # -- callers -------------------------------------------------------------------------------------------
    def _arrival(self) -> None:
        self.timers.after(self.rng.expovariate(self.rate), self._arrival)
        self.call()

    def call(self, number: str | None = None) -> Leg:
        """A caller dials the hotline: ``/twilio/voice``, then the IVR's TwiML is followed."""
        number = number or self._caller_number()
        leg = Leg(new_sid("CA"), number, self.number, status_url=self.base + "/twilio/status", started=time.monotonic())
        self.legs[leg.sid] = leg
        self.lines.up(leg.sid)
        leg.state = "ivr"
        self.stats["calls"] += 1
        self.perform(leg, self.post(leg, self.base + "/twilio/voice", {"CallStatus": "ringing"}))
        return leg

    def _caller_number(self) -> str:
        if self.recent and self.rng.random() < self.profile.repeat_caller_probability:
            return self.rng.choice(list(self.recent))
        number = f"+3630{self.rng.randrange(10**7):07d}"
        self.recent.append(number)
        return number

    # -- the channel's REST calls --------------------------------------------------------------------------
    def _take_requests(self) -> None:
        while not self.rest.inbox.empty():
            request = self.rest.inbox.get_nowait()
            try:
                self._play(request)
            except Exception:
                logger.exception("demo: REST %s failed", request.kind)

    def _play(self, request: RestRequest) -> None:
        form, leg = request.form, self.legs.get(request.params.get("call", ""))
        if request.kind == "member_update" and leg is not None and leg.state == "queue":
            self.leave_queue(leg)
            self.perform(leg, self.post(leg, form["Url"]))
        elif request.kind == "call_update" and leg is not None and not leg.ended:
            self._update(leg, form)
        elif request.kind == "call_create":
            self._ring_for_callback(request)
        elif request.kind == "message_create":
            self._sms_received(form.get("To", ""))

    def _update(self, leg: Leg, form: dict[str, str]) -> None:
        """A redirect (transfer, escalation, max wait) or a hang-up from our side."""
        if leg.state == "queue":
            self.leave_queue(leg)
        if leg.peer is not None and leg.state in ("dial", "talk"):
            peer, leg.peer, leg.dial = leg.peer, None, None
            self.end_leg(peer, "canceled" if leg.state == "dial" else "completed")
        if form.get("Status") == "completed":
            self.end_leg(leg, "completed")
            return
        leg.state = "busy"
        self.perform(leg, self.post(leg, form.get("Url", "")))

    def _ring_for_callback(self, request: RestRequest) -> None:
        """``calls.create``: an operator's phone rung first for a callback (or any outbound call)."""
        form = request.form
        to = form.get("To", "")
        operator = to.removeprefix("client:").split(":", 1)[-1].split("@")[0]
        leg = Leg(request.sid, form.get("From", ""), to, kind=OPERATOR, direction="outbound-api",
                  status_url=form.get("StatusCallback", ""), operator=operator, started=time.monotonic())  # fmt: skip
        self.legs[leg.sid] = leg
        self.status(leg, "initiated")
        self.status(leg, "ringing")
        if operator in self.simulated and self.rng.random() < self.profile.answer_probability:
            self.later(self.rng.uniform(*self.profile.ring_seconds), leg, leg.gen, self._answer_outbound,
                       form.get("Url", ""))  # fmt: skip
        else:
            self.later(20 * self.profile.timeout_scale, leg, leg.gen, self.end_leg, "no-answer")

    def _answer_outbound(self, leg: Leg, url: str) -> None:
        self.status(leg, "in-progress")
        self.lines.up(leg.sid)
        leg.state = "busy"
        self.stats["callbacks"] += 1
        self.perform(leg, self.post(leg, url))

    # -- SMS survey ----------------------------------------------------------------------------------------
    def _sms_received(self, number: str) -> None:
        if number and self.rng.random() < self.profile.sms_reply_probability:
            self.sms_pending[number] = 0
            self.timers.after(self.rng.uniform(*self.profile.sms_reply_seconds), self._sms_reply, number)

    def _sms_reply(self, number: str) -> None:
        """The caller texts an answer; the app answers with the next question (answered in turn) or thanks."""
        index = self.sms_pending.pop(number, None)
        if index is None:
            return
        sid = new_sid("SM")
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account, "From": number, "To": self.number,
                "Body": self.choices.sms(index), "NumMedia": "0", "ApiVersion": "2010-04-01"}  # fmt: skip
        if self.send(self.base + "/twilio/sms", form) is not None:
            self.stats["sms_replies"] += 1
        if index + 1 < len(self.c.hotline.survey.questions):
            self.sms_pending[number] = index + 1
            self.timers.after(self.rng.uniform(*self.profile.sms_reply_seconds), self._sms_reply, number)

    # -- stopping ------------------------------------------------------------------------------------------
    def _wind_down(self) -> None:
        """Every simulated caller still on the line hangs up (the calls end in the journal), operators log out."""
        deadline = time.monotonic() + STOP_SECONDS / 2
        for leg in [leg for leg in self.legs.values() if leg.kind == "caller" and not leg.ended]:
            if time.monotonic() > deadline:
                break
            try:
                if leg.state == "queue":
                    self._leave(leg, result="hangup")
                elif leg.peer is not None:
                    self.end_leg(leg.peer, "canceled" if leg.state == "dial" else "completed")
                self.end_leg(leg, "completed")
            except Exception:
                logger.exception("demo: call %s not hung up", leg.sid)
        self.operators.log_out()


def start_demo(container: Container, options: DemoOptions) -> VirtualTwilio:
    """Start the virtual Twilio in this serving process: its REST server (the channel's REST port points at it),
    an app of its own on the same container to post webhooks to, and its thread; it stops at exit."""
    from callcenter.web.app import create_app
    from webhooks.services import services_for

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    twilio = container.settings.twilio
    rest = VirtualRest((twilio.account_sid, twilio.auth_token), Lines()).start()
    container.settings = dataclasses.replace(
        container.settings, twilio=dataclasses.replace(twilio, api_base_url=rest.base_url)
    )
    app = create_app(container=container)
    channel = services_for(app).channel
    engine = VirtualTwilio(container, app, rest, options, channel.poke).start()
    atexit.register(engine.stop)
    return engine
