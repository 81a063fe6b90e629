"""`callcenter sip`: the SIP gateway process (the README's SIP chapter)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click

from callcenter.bootstrap import Container, build_container
from callcenter.cli import settings_or_exit
from callcenter.web import server as web_server

logger = logging.getLogger(__name__)


@click.command()
@click.option("--prompt-cache", default="var/sip-prompts", show_default=True, help="Synthesised prompts cache.")
@click.option("--recordings", default="var/recordings", show_default=True, help="Where voicemails are written.")
def sip(prompt_cache: str, recordings: str) -> None:
    """Register to the SIP server (CALLCENTER_SIP_*) and run the hotline's IVR, queues and survey over RTP."""
    from ivr.sip.gateway import build_gateway

    settings = settings_or_exit()
    if not settings.sip.configured:
        raise click.UsageError("set CALLCENTER_SIP_SERVER and CALLCENTER_SIP_USER (see the README's SIP chapter)")
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


def gateway_in_serve(container: Container, cache: Path = Path("var/sip-prompts")) -> object | None:
    """`serve` on the embedded defaults runs the SIP gateway as a thread when CALLCENTER_SIP_SERVER is set: the
    in-process Redis (the ACD, the journal) cannot be shared with a separate `callcenter sip` process. With a
    real Redis, run `callcenter sip` beside `serve` instead (serve may have many processes; SIP needs one)."""
    settings = container.settings
    if not (settings.sip.configured and settings.embedded_redis):
        return None
    from ivr.sip.gateway import build_gateway

    gateway = build_gateway(container, cache, Path("var/recordings"))
    gateway.start()
    logger.info("SIP gateway thread for %s@%s:%s", settings.sip.user, settings.sip.server, settings.sip.port)
    return gateway


web_server.STARTUP_HOOKS.append(gateway_in_serve)
COMMANDS = [sip]
