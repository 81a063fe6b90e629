"""`callcenter sip`: the SIP gateway process (docs/sip.md)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click

from callcenter.bootstrap import build_container
from callcenter.cli import settings_or_exit

logger = logging.getLogger(__name__)


@click.command()
@click.option("--prompt-cache", default="var/sip-prompts", show_default=True, help="Synthesised prompts cache.")
@click.option("--recordings", default="var/recordings", show_default=True, help="Where voicemails are written.")
def sip(prompt_cache: str, recordings: str) -> None:
    """Register to the SIP server (CALLCENTER_SIP_*) and run the hotline's IVR, queues and survey over RTP."""
    from ivr.sip.gateway import build_gateway

    settings = settings_or_exit()
    if not settings.sip.configured:
        raise click.UsageError("set CALLCENTER_SIP_SERVER and CALLCENTER_SIP_USER (see docs/sip.md)")
    container = build_container(settings)
    gateway = build_gateway(container, Path(prompt_cache), Path(recordings))
    if settings.embedded_worker:
        container.start_background()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    gateway.start()
    s = settings.sip
    logger.info("SIP gateway for %s@%s:%s on %s:%s", s.user, s.server, s.port, s.local_address, s.sip_port)
    stop.wait()
    logger.info("SIP gateway stopping (%d calls active)", len(gateway.sessions))
    gateway.stop()
    container.close()


COMMANDS = [sip]
