"""The Twilio channel's services for one app, built once and registered for this process's jobs."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from callcenter.bootstrap import Container
from webhooks import jobs
from webhooks.bridging import Bridging
from webhooks.callback_calls import CallbackCalls
from webhooks.channel import TwilioChannel
from webhooks.ivr_calls import IvrCalls
from webhooks.status import StatusCallbacks
from webhooks.survey import Survey
from webhooks.transfer import TwilioCallTransfer
from webhooks.waiting import Waiting

EXTENSION = "callcenter.twilio"


@dataclass(frozen=True)
class TwilioServices:
    channel: TwilioChannel
    ivr: IvrCalls
    waiting: Waiting
    bridging: Bridging
    callbacks: CallbackCalls
    survey: Survey
    status: StatusCallbacks
    transfer: TwilioCallTransfer

    @classmethod
    def build(cls, container: Container) -> TwilioServices:
        channel = TwilioChannel(container)
        waiting = Waiting(channel)
        survey = Survey(channel)
        ivr = IvrCalls(channel, waiting)
        return cls(
            channel=channel,
            ivr=ivr,
            waiting=waiting,
            bridging=Bridging(channel, waiting, survey),
            callbacks=CallbackCalls(channel),
            survey=survey,
            status=StatusCallbacks(channel, ivr, waiting),
            transfer=TwilioCallTransfer(channel),
        )


def twilio_services() -> TwilioServices:
    """The services of the app serving this request (built on first use)."""
    services: TwilioServices | None = current_app.extensions.get(EXTENSION)
    if services is None:
        services = TwilioServices.build(current_app.extensions["callcenter"])
        current_app.extensions[EXTENSION] = services
        jobs.register(services.channel)
    return services


class _EitherTransfer:
    """Two channels' transfers: the first that knows the call moves it."""

    def __init__(self, first: object, second: object):
        self.first, self.second = first, second

    def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
        return bool(self.first.transfer_to_queue(call_id, queue, reason)) or bool(  # type: ignore[attr-defined]
            self.second.transfer_to_queue(call_id, queue, reason)  # type: ignore[attr-defined]
        )


def install(app: Flask) -> None:
    """Build the services for ``app`` and offer its call transfer to the tickets (``container.call_transfer``)."""
    services = TwilioServices.build(app.extensions["callcenter"])
    app.extensions[EXTENSION] = services
    jobs.register(services.channel)
    container = services.channel.container
    other = getattr(container, "call_transfer", None)
    transfer = services.transfer if other is None else _EitherTransfer(services.transfer, other)
    container.call_transfer = transfer  # type: ignore[attr-defined]
