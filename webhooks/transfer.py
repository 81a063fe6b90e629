"""The tickets' ``CallTransfer`` port for Twilio: move a live call to another queue, keeping its ticket."""

from __future__ import annotations

import logging

from callcenter.domain.operator import AcdError
from webhooks.channel import TwilioChannel

logger = logging.getLogger(__name__)


class TwilioCallTransfer:
    """ACD transfer (ESCALATED into a second-level queue, TRANSFERRED otherwise), then a REST redirect job that
    takes the caller from the operator's Dial into the new queue's Twilio queue. The call id (and with it the
    ticket) stays the same."""

    def __init__(self, channel: TwilioChannel):
        self.ch = channel

    def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
        """Move the caller if they are still with us; False when the call is gone or not ours."""
        ch = self.ch
        config = ch.hotline.queues.get(queue)
        if config is None or not ch.store.get(call_id):
            return False
        try:
            ch.acd.transfer(call_id, queue, ch.now(), escalate=config.second_level)
        except AcdError as exc:
            logger.info("call %s not transferred to %s: %s", call_id, queue, exc)
            return False
        ch.store.update(call_id, exit="transferred", queue=queue, op="")
        ch.enqueue_job("redirect", call_id, ch.urls("queue/exit", call=call_id, action="transferred"))
        logger.info("call %s transferred to %s: %s", call_id, queue, reason)
        return True
