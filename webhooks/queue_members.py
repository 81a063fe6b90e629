"""Twilio's queue members reconciled against our ACD (after Redis lost data, TWILIO.md step 5).

Twilio holds every waiting caller in a queue of its own (``<tag>-<queue>``); our ACD decides who is next. When
Redis comes back without some callers (no persistence, or the last second before a crash with ``everysec``),
Twilio still holds them: this job lists the members of each of our Twilio queues and queues again in the ACD
every caller it does not know, so the dispatcher can route them before their next wait turn would.
"""

from __future__ import annotations

import logging

from callcenter.domain.operator import AcdError, NoSuchCallError
from webhooks.channel import TwilioChannel
from webhooks.waiting import Waiting

logger = logging.getLogger(__name__)


class QueueMembers:
    """Reconcile the members of the hotline's Twilio queues with the ACD."""

    def __init__(self, channel: TwilioChannel, waiting: Waiting):
        self.ch, self.waiting = channel, waiting

    def reconcile(self) -> list[str]:
        """Queue again every caller Twilio holds in one of our queues and the ACD does not know; their SIDs."""
        ch, requeued = self.ch, []
        sids = ch.rest.queue_sids()
        for queue in ch.hotline.queues:
            queue_sid = sids.get(ch.twilio_queue(queue))
            if not queue_sid:
                continue  # nobody ever waited there
            for call_sid in ch.rest.queue_members(queue_sid):
                if not self._known(call_sid):
                    requeued += self._requeue(call_sid, queue, queue_sid)
        if requeued:
            logger.warning("Twilio queue members unknown to the ACD re-queued: %s", ", ".join(requeued))
        return requeued

    def _known(self, call_sid: str) -> bool:
        try:
            self.ch.acd.position(call_sid, self.ch.now())
        except NoSuchCallError:
            return False
        return True

    def _requeue(self, call_sid: str, queue: str, queue_sid: str) -> list[str]:
        language = self.ch.store.get(call_sid).language or self.ch.default_language
        try:
            self.waiting.requeue(call_sid, queue, queue_sid, language)
        except AcdError as exc:  # e.g. its own wait turn re-queued it a moment ago
            logger.info("call %s: not re-queued by reconciliation: %s", call_sid, exc)
            return []
        return [call_sid]
