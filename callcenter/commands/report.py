"""report (a period's KPI report), report-daily (yesterday's report, now or every night)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from callcenter.bootstrap import build_container
from callcenter.cli import settings_or_exit
from callcenter.domain.kpi_table import INTERVALS
from callcenter.kpi.report import build_report
from callcenter.kpi.report_render import render
from callcenter.kpi.service import parse_period
from callcenter.storage import db


@click.command()
@click.option("--from", "start", required=True, help="First day (YYYY-MM-DD) or datetime, local to the KPI zone.")
@click.option("--to", "end", required=True, help="Last day, inclusive (or an exclusive datetime).")
@click.option("--queue", "queues", multiple=True, help="Only this queue (repeatable); default all.")
@click.option("--interval", type=click.Choice(INTERVALS), default=None, help="Default: hour/day/week by length.")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="File to write (default stdout).")
def report(start: str, end: str, queues: tuple[str, ...], interval: str | None, fmt: str, output: str | None) -> None:
    """KPI report of a period: by interval, queue and operator, charts, staffing, definitions."""
    container = build_container(settings_or_exit())
    db.upgrade(container.engine)
    try:
        period = parse_period(start, end, container.hotline.kpi.timezone)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if period[1] <= period[0]:
        raise click.BadParameter("--to must not be before --from")
    built = build_report(container.engine, container.hotline, *period, container.clock(), interval, queues)  # type: ignore[arg-type]
    text = render(built, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"report written to {output}", err=True)
    else:
        sys.stdout.write(text)


@click.command(name="report-daily")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False), help="Where reports go.")
@click.option("--schedule", is_flag=True, help="Start the nightly job chain (00:30 local) instead of writing now.")
def report_daily(directory: str, schedule: bool) -> None:
    """Write yesterday's HTML report now, or schedule it every night on the RQ worker."""
    from callcenter.kpi.jobs import schedule_daily_report, write_day_report

    container = build_container(settings_or_exit())
    db.upgrade(container.engine)
    if schedule:
        click.echo(f"scheduled: job {schedule_daily_report(container, str(Path(directory).resolve()))}")
        return
    today = dt.datetime.fromtimestamp(container.clock(), ZoneInfo(container.hotline.kpi.timezone)).date()
    click.echo(str(write_day_report(container, today - dt.timedelta(days=1), directory)))


COMMANDS = [report, report_daily]
