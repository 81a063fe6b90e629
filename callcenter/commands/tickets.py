"""callcenter tickets auto-close | schedule-auto-close."""

from __future__ import annotations

import click

from callcenter.bootstrap import build_container
from callcenter.cli import settings_or_exit
from callcenter.ticket_jobs import schedule_auto_close
from callcenter.tickets import TicketService


@click.group(name="tickets")
def tickets_group() -> None:
    """Tickets housekeeping."""


@tickets_group.command(name="auto-close")
def auto_close() -> None:
    """Close resolved tickets older than tickets.auto_close_resolved_after_days now (e.g. from cron)."""
    container = build_container(settings_or_exit())
    closed = TicketService(container.sessions, container.hotline, container.clock).auto_close_resolved()
    click.echo(f"{closed} tickets closed")


@tickets_group.command(name="schedule-auto-close")
@click.option("--every", default=3600, show_default=True, help="Seconds between runs.")
def schedule(every: int) -> None:
    """Start the hourly auto-close job chain on the RQ scheduler (idempotent)."""
    container = build_container(settings_or_exit())
    job_id = schedule_auto_close(container, every)
    click.echo(f"scheduled {job_id}")


COMMANDS = [tickets_group]
