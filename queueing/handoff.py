"""Offers go to the channel that holds the call.

The ACD's ``offer`` reserves operators for every waiting call of every channel, and whichever channel ran it
gets the list. Each offer must reach the channel holding the caller: a SIP call's offer is published on the
SIP gateways' pub/sub channel (the gateway with the caller's session takes it; a callback is dialled by the
one gateway that claims it), a Twilio call's is connected by an RQ job (``webhooks.jobs.connect_offer``),
which is how the Twilio channel does all its REST work. An offer nobody takes rings out: the ring timeout
returns the caller to their place.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Protocol

from queueing.acd_types import Offer
from queueing.keys import Keys

logger = logging.getLogger(__name__)

SIP, TWILIO = "sip", "twilio"
CONNECT_JOB = "webhooks.jobs.connect_offer"


class _Jobs(Protocol):
    def enqueue(self, job: str, *args: Any, job_id: str | None = None) -> str: ...


class OfferHandoff:
    """Hands an offer over to its call's channel; ``jobs`` None = this process cannot reach Twilio's."""

    def __init__(self, client: Any, keys: Keys, jobs: _Jobs | None):
        self.redis, self.keys, self.jobs = client, keys, jobs

    def hand_over(self, offer: Offer) -> bool:
        """Send ``offer`` to its channel; False when no channel took it (logged: it will ring out)."""
        if offer.channel == SIP:
            listeners = int(self.redis.publish(self.keys.sip_offers, encode(offer)))
            if listeners:
                return True
            logger.warning("offer of SIP call %s to %s: no SIP gateway listening", offer.call_id, offer.operator)
            return False
        if offer.channel == TWILIO and self.jobs is not None:
            self.jobs.enqueue(CONNECT_JOB, self.keys.tag, dataclasses.asdict(offer))
            return True
        logger.warning("offer of %s call %s to %s: no way there", offer.channel, offer.call_id, offer.operator)
        return False


def encode(offer: Offer) -> str:
    return json.dumps(dataclasses.asdict(offer))


def decode(data: str | bytes) -> Offer:
    return Offer(**json.loads(data))
