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
    return services_for(current_app)


def services_for(app: Flask) -> TwilioServices:
    """The Twilio services of ``app``, built on first use and registered for this process's jobs."""
    services: TwilioServices | None = app.extensions.get(EXTENSION)
    if services is None:
        services = TwilioServices.build(app.extensions["callcenter"])
        app.extensions[EXTENSION] = services
        jobs.register(services.channel)
    return services


class _LazyTransfer:
    """The call transfer of an app's Twilio channel, built when first used (apps that never see a Twilio call
    build nothing)."""

    def __init__(self, app: Flask):
        self.app = app

    def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
        return services_for(self.app).transfer.transfer_to_queue(call_id, queue, reason)


class _EitherTransfer:
    """Two channels' transfers: the first that knows the call moves it."""

    def __init__(self, first: object, second: object):
        self.first, self.second = first, second

    def transfer_to_queue(self, call_id: str, queue: str, reason: str) -> bool:
        return bool(self.first.transfer_to_queue(call_id, queue, reason)) or bool(  # type: ignore[attr-defined]
            self.second.transfer_to_queue(call_id, queue, reason)  # type: ignore[attr-defined]
        )


def install(app: Flask) -> None:
    """Offer the Twilio call transfer to the tickets (``container.call_transfer``), beside another channel's."""
    container = app.extensions["callcenter"]
    jobs.register_container(container)
    other = getattr(container, "call_transfer", None)
    transfer = _LazyTransfer(app)
    container.call_transfer = transfer if other is None else _EitherTransfer(transfer, other)
