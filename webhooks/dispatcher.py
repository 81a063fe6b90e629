"""The dispatcher: the ACD's timers and offers turned into Twilio REST calls (a job, never in a webhook).

Who triggers it: every webhook that changes the ACD (enqueue, RONA, hang-up, callback booked) and every turn
of a caller's wait loop *pokes* it; a poke enqueues one job unless one is pending (a SET NX flag the job
clears when it starts, so no poke is lost). While anything is waiting, ringing or wrapping up, a run
schedules the next one a few seconds later through RQ's scheduler (``callcenter worker`` and the embedded
worker thread run it), so the timers of calls nobody is waiting on (callbacks, wrap-up ends) fire too.
Every routing decision stays one ACD call: ``tick`` (ring timeouts, wrap-up ends, max wait) and ``offer``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from callcenter.domain.operator import AcdError
from callcenter.storage.models import Call
from queueing.acd_types import Offer, TickAction
from queueing.handoff import OfferHandoff
from webhooks.channel import CHANNEL, TwilioChannel
from webhooks.status import CALLBACK_OPERATOR_LEG

logger = logging.getLogger(__name__)

RERUN_SECONDS = 3.0


class Dispatcher:
    """One run: handle due ACD deadlines, then connect every call the ACD can offer now."""

    def __init__(self, channel: TwilioChannel):
        self.ch = channel

    def run(self) -> int:
        """Tick, offer, push; returns the number of offers made."""
        ch = self.ch
        ch.container.redis.live.delete(ch.container.keys.twilio_dispatch)
        ch.ensure_acd_config()
        for action in ch.acd.tick(ch.now()):
            self._deadline(action)
        offers = ch.acd.offer(ch.now())
        for offer in offers:
            self.connect(offer)
        self._again_if_needed()
        return len(offers)

    def _again_if_needed(self) -> None:
        """While calls wait or operators ring or wrap up, run again in a few seconds (RQ's scheduler; one
        scheduled run per hotline, as the job id is fixed), so callbacks and wrap-up ends need no caller."""
        ch = self.ch
        snapshot = ch.acd.snapshot(ch.now())
        busy = any(q["waiting"] for q in snapshot["queues"].values()) or any(
            o["state"] in ("reserved", "wrap_up") for o in snapshot["operators"].values()
        )
        if busy:
            when = dt.datetime.fromtimestamp(time.time() + RERUN_SECONDS, dt.UTC)
            tag = ch.container.keys.tag
            job_id = ch.container.keys.rq_queue_name("twilio-dispatch")  # one scheduled run per hotline
            ch.container.jobs.enqueue_at(when, "webhooks.jobs.dispatch", tag, job_id=job_id)

    def _deadline(self, action: TickAction) -> None:
        ch = self.ch
        logger.info("call %s: %s in %s (%s)", action.call_id, action.kind, action.queue, action.action)
        state = ch.store.get(action.call_id) if action.call_id else None
        if not state or state.get("exit") == "callback":
            return  # not a live Twilio leg (a booked callback has none)
        if action.kind == "max_wait":
            ch.store.update(action.call_id, exit=action.action)
            self._redirect(action.call_id, ch.urls("queue/exit", call=action.call_id, action=action.action))
        elif action.kind == "ring_timeout":
            self._redirect(action.call_id, ch.urls("queue/exit", call=action.call_id, action="overflow"))

    def connect(self, offer: Offer) -> None:
        """Ring the reserved operator for a Twilio call (another channel's offer is handed over to it)."""
        ch = self.ch
        if offer.channel != CHANNEL:
            OfferHandoff(ch.container.redis.live, ch.container.keys, ch.container.jobs).hand_over(offer)
            return
        ticket = self._ticket(offer.call_id)
        ch.store.update(offer.call_id, op=offer.operator, cbnum=offer.callback_number or "")
        if offer.callback:
            self._ring_for_callback(offer, ticket)
            return
        url = ch.urls("bridge", call=offer.call_id, op=offer.operator, ticket=ticket)
        queue_sid = ch.store.get(offer.call_id).get("queue_sid", "")
        try:
            if not queue_sid:
                raise LookupError("queue SID not seen yet")
            ch.rest.push_to_bridge(queue_sid, offer.call_id, url)
        except (TwilioRestException, LookupError) as exc:
            logger.info("call %s: member update failed (%s); redirecting the call", offer.call_id, exc)
            self._redirect(offer.call_id, url, offer)

    def _ring_for_callback(self, offer: Offer, ticket: str) -> None:
        """A callback's turn: the operator's phone rings first; the number is dialled once they accept."""
        ch = self.ch
        kind, address = ch.softphone(offer.operator)
        to = address if kind == "sip" else f"client:{address}"
        url = ch.urls("callback/operator", call=offer.call_id, op=offer.operator, ticket=ticket)
        status = ch.urls("status", call=offer.call_id, op=offer.operator, leg=CALLBACK_OPERATOR_LEG)
        try:
            ch.rest.dial(to, url, status)
        except TwilioRestException as exc:
            logger.error("call %s: cannot ring %s for the callback: %s", offer.call_id, offer.operator, exc)
            self._no_answer(offer)

    def _redirect(self, call_id: str, url: str, offer: Offer | None = None) -> None:
        try:
            self.ch.rest.redirect(call_id, url)
        except TwilioRestException as exc:
            logger.info("call %s: redirect failed (%s): the caller is gone", call_id, exc)
            try:
                self.ch.acd.abandon(call_id, self.ch.now())
            except AcdError:
                pass

    def _no_answer(self, offer: Offer) -> None:
        try:
            self.ch.acd.no_answer(offer.call_id, offer.operator, self.ch.now())
        except AcdError:
            pass

    def _ticket(self, call_id: str) -> str:
        """The call's ticket number for the whisper; '' when not projected yet or SQL is unreachable."""
        try:
            with self.ch.container.sessions() as session:
                ticket = session.scalar(select(Call.ticket_id).where(Call.id == call_id))
        except Exception:
            logger.warning("call %s: ticket lookup failed", call_id, exc_info=True)
            return ""
        return "" if ticket is None else str(ticket)
