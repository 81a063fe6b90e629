"""A booked callback's turn on the SIP channel: the operator's phone rings first; once they answer, the caller
is dialled back (through the registrar/proxy, like every leg) and the two are bridged.

It runs in its own thread, started by the gateway's dispatcher for an offer of a SIP callback that no caller
session holds. The ACD's events: OFFERED, CONNECTED (the operator took it), CALLBACK_DIALLED, then
COMPLETED_BY_*; an operator who does not answer is RONA like any other ring.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from callcenter.domain.operator import AcdError
from ivr.sip.media import CallerAudio, CallerHungUpError
from ivr.sip.operator_leg import OperatorAttempt, Ring, bridge
from ivr.sip.session import SessionDeps
from queueing.acd_types import Offer

logger = logging.getLogger(__name__)

CALLER_ANSWER_SECONDS = 30.0


def run_callback(deps: SessionDeps, offer: Offer, sleep: Callable[[float], None] = time.sleep) -> None:
    """Ring the operator, dial the caller back, bridge them; every refusal leaves the ACD consistent."""
    uri = deps.softphone_of(offer.operator)
    if not uri or not uri.lower().startswith("sip"):
        _acd(lambda: deps.acd.no_answer(offer.call_id, offer.operator, deps.clock()), offer)
        return
    ring_timeout = deps.hotline.queues[offer.queue].ring_timeout_seconds if offer.queue in deps.hotline.queues else 20
    operator = OperatorAttempt(deps.phone, uri, ring_timeout, time.monotonic)
    if _outcome(operator, sleep) is not Ring.ANSWERED:
        operator.cancel()
        _record(deps, offer, operator, "no-answer")
        _acd(lambda: deps.acd.no_answer(offer.call_id, offer.operator, deps.clock()), offer)
        return
    try:
        deps.acd.accept(offer.call_id, offer.operator, deps.clock())
    except AcdError as exc:
        logger.info("callback %s: late answer by %s refused: %s", offer.call_id, offer.operator, exc)
        operator.cancel()
        return
    _record(deps, offer, operator, "in-progress")
    _acd(lambda: deps.acd.callback_dialled(offer.call_id, deps.clock()), offer)
    _talk(deps, offer, operator, sleep)


def _talk(deps: SessionDeps, offer: Offer, operator: OperatorAttempt, sleep: Callable[[float], None]) -> None:
    number = offer.callback_number or offer.caller
    caller = OperatorAttempt(deps.phone, f"sip:{number}@callback", CALLER_ANSWER_SECONDS, time.monotonic)
    ended_by = "caller"
    if _outcome(caller, sleep) is Ring.ANSWERED and operator.leg is not None and caller.leg is not None:
        deps.legs.record(caller.leg_sid, offer.call_id, "in-progress", deps.clock(), kind="callback",
                         to_addr=number)  # fmt: skip
        try:
            ended_by = bridge(CallerAudio(caller.leg, deps.pacer()), operator.leg)
        except CallerHungUpError:
            ended_by = "caller"
    else:
        logger.info("callback %s: %s did not answer", offer.call_id, number)
    caller.cancel()
    operator.cancel()
    if caller.leg_sid:
        deps.legs.record(caller.leg_sid, offer.call_id, "completed", deps.clock(), kind="callback", to_addr=number)
    _record(deps, offer, operator, "completed")
    _acd(lambda: deps.acd.hangup(offer.call_id, deps.clock(), by=ended_by), offer)


def _outcome(attempt: OperatorAttempt, sleep: Callable[[float], None]) -> Ring:
    while (state := attempt.poll()) is Ring.RINGING:
        sleep(0.02)
    return state


def _record(deps: SessionDeps, offer: Offer, attempt: OperatorAttempt, status: str) -> None:
    sid = attempt.leg_sid or f"{offer.call_id}-{offer.operator}-callback"
    deps.legs.record(sid, offer.call_id, status, deps.clock(), kind="operator", operator=offer.operator,
                     to_addr=attempt.uri)  # fmt: skip


def _acd(operation: Callable[[], object], offer: Offer) -> None:
    try:
        operation()
    except AcdError as exc:
        logger.info("callback %s: ACD refused: %s", offer.call_id, exc)
