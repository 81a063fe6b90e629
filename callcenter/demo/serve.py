"""``callcenter serve --demo``: the demo's settings, and the startup hook that starts it in the serving process.

The demo needs one process (its callers and the ACD's live state share it in embedded mode; with a real
Redis, one virtual Twilio per hotline), so ``--demo`` refuses ``--workers`` above 1, and it runs the channel's
jobs in that process (the embedded worker), where its REST server is.
"""

from __future__ import annotations

import dataclasses
import logging

import click

from callcenter.bootstrap import Container
from callcenter.config import Settings
from callcenter.demo.profile import HUMAN_OPERATOR, DemoOptions, demo_settings

logger = logging.getLogger(__name__)


def enable(settings: Settings, options: DemoOptions) -> Settings:
    """Register the demo's startup hook; returns the settings to serve with (see ``demo_settings``)."""
    from callcenter.web import server

    settings = dataclasses.replace(demo_settings(settings, options), embedded_worker=True)

    def start(container: Container) -> None:
        from callcenter.demo.engine import start_demo

        start_demo(container, options)

    server.STARTUP_HOOKS.append(start)
    _banner(settings, options)
    return settings


def _banner(settings: Settings, options: DemoOptions) -> None:
    simulated = options.simulated(settings.hotline)
    rate = options.profile.calls_per_minute * len(settings.hotline.queues)
    click.echo(f"  demo:     {rate:g} simulated calls a minute, {len(simulated)} simulated operators")
    if not options.all_operators:
        click.echo(f"            {HUMAN_OPERATOR} is yours: log in at /console; the lead dashboard is /lead (csilla)")
