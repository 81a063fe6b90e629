"""callcenter privacy purge | schedule-purge."""

from __future__ import annotations

import click

from callcenter.bootstrap import build_container
from callcenter.cli import settings_or_exit
from callcenter.retention import RetentionService, recording_deleter, schedule_purge


@click.group(name="privacy")
def privacy_group() -> None:
    """Personal data housekeeping (GDPR)."""


@privacy_group.command(name="purge")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Retention period (privacy.retention_days).")
def purge(days: int | None) -> None:
    """Erase callers' numbers, names and recordings of calls older than the retention period now."""
    container = build_container(settings_or_exit())
    period = days or container.hotline.privacy.retention_days
    service = RetentionService(container.sessions, container.clock, period, recording_deleter(container))
    total = 0
    while (count := service.purge()) > 0:
        total += count
    click.echo(f"{total} calls purged (older than {period} days)")


@privacy_group.command(name="schedule-purge")
@click.option("--every", default=86400, show_default=True, help="Seconds between runs.")
def schedule(every: int) -> None:
    """Start the daily purge job chain on the RQ scheduler (idempotent)."""
    container = build_container(settings_or_exit())
    click.echo(f"scheduled {schedule_purge(container, every)}")


COMMANDS = [privacy_group]
