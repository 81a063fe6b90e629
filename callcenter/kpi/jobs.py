"""RQ jobs of surveys and reports: thin, primitive arguments, services from bootstrap.

The daily report runs as a chain of scheduled jobs: each run writes the previous local day's report and
schedules the next run at ``REPORT_AT`` local time (the worker runs RQ's scheduler; `callcenter serve`
embedded and `callcenter worker` both do). The job id names the day, so scheduling twice (two processes,
a repeated ``callcenter report-daily --schedule``) never starts a second chain.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callcenter.kpi.report import build_report
from callcenter.kpi.report_render import render
from callcenter.surveys import SurveyService
from callcenter.ticket_jobs import container_for

logger = logging.getLogger(__name__)

REPORT_AT = dt.time(0, 30)
DAILY_JOB = "callcenter.kpi.jobs.daily_report"


def sms_survey(tag: str, call_id: str) -> bool:
    """The caller hung up before the survey: text them its first question (see SurveyService.sms_survey_job)."""
    container = container_for(tag)
    messaging = getattr(container, "messaging", None) or _twilio(container)
    c = container
    service = SurveyService(c.sessions, c.redis.live, c.keys, c.journal, c.hotline, c.clock, messaging)
    return service.sms_survey_job(call_id)


def _twilio(container: Any) -> Any:
    """The Twilio REST adapter when Twilio is configured (the channel's Messaging adapter)."""
    if not container.settings.twilio.configured:
        return None
    from webhooks.twilio_rest import TwilioRest

    return TwilioRest(container.settings.twilio)


def write_day_report(container: Any, day: dt.date, directory: str, fmt: str = "html") -> Path:
    """Write the report of one local day to ``directory/kpi-<day>.<fmt>``; returns the path."""
    zone = ZoneInfo(container.hotline.kpi.timezone)
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    report = build_report(container.engine, container.hotline, start, end, container.clock(), "hour")
    path = Path(directory) / f"kpi-{day.isoformat()}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report, fmt), encoding="utf-8")
    logger.info("daily KPI report of %s written to %s", day, path)
    return path


def daily_report(tag: str, directory: str) -> str:
    """Write yesterday's report (local time), then schedule the next day's run."""
    container = container_for(tag)
    today = dt.datetime.fromtimestamp(container.clock(), ZoneInfo(container.hotline.kpi.timezone)).date()
    path = write_day_report(container, today - dt.timedelta(days=1), directory)
    schedule_daily_report(container, directory)
    return str(path)


def schedule_daily_report(container: Any, directory: str) -> str:
    """Schedule the next daily report run at REPORT_AT local time (idempotent per day)."""
    zone = ZoneInfo(container.hotline.kpi.timezone)
    now = dt.datetime.fromtimestamp(container.clock(), zone)
    when = dt.datetime.combine(now.date(), REPORT_AT, zone)
    if when <= now:
        when = dt.datetime.combine(now.date() + dt.timedelta(days=1), REPORT_AT, zone)
    job_id = f"kpi-daily-report-{container.keys.tag}-{when.date().isoformat()}"
    return str(
        container.jobs.enqueue_at(when.astimezone(dt.UTC), DAILY_JOB, container.keys.tag, directory, job_id=job_id)
    )
