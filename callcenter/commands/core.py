"""serve, worker, db upgrade, config check."""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import signal
import sys
import threading

import click
from sqlalchemy import Engine

from callcenter import retention, ticket_jobs
from callcenter.bootstrap import Container, build_container
from callcenter.cli import settings_or_exit
from callcenter.config import Settings
from callcenter.hotline import Hotline, load_hotline
from callcenter.kpi.rollup import CallRollup
from callcenter.operators import OperatorService
from callcenter.storage import db
from callcenter.yamlsrc import ConfigError

logger = logging.getLogger(__name__)


def prepare(container: Container) -> None:
    """Bring the schema up to date, create the hotline file's operators and queues, load the ACD's config."""
    upgrade_schema(container.engine, container.hotline)
    OperatorService(container.sessions).seed_from_hotline(container.hotline)
    container.acd.sync_config(container.clock())
    ticket_jobs.register(container)
    ticket_jobs.schedule_auto_close(container)  # hourly auto-close chain of resolved tickets (idempotent)
    retention.schedule_purge(container)  # daily erasure of personal data past privacy.retention_days


def upgrade_schema(engine: Engine, hotline: Hotline) -> int:
    """Migrate, then recount the KPI rollup's quarter hours counted with other KPI conventions than the
    hotline's (the migration's backfill uses the defaults; a changed T does the same); returns how many."""
    db.upgrade(engine)
    with engine.begin() as connection:
        return CallRollup.for_hotline(hotline).refresh_stale(connection)


@click.command()
@click.option("--host", default=None, help="Address to listen on (CALLCENTER_HOST).")
@click.option("--port", default=None, type=int, help="Port to listen on (CALLCENTER_PORT).")
@click.option("--workers", default=1, show_default=True, help="Web worker processes (real Redis only).")
@click.option(
    "--demo", is_flag=True, help="Bring the hotline to life: simulated callers and operators (see the README)."
)
@click.option("--demo-rate", default=1.0, show_default=True, type=click.FloatRange(min=0.01, max=60),
              help="Simulated calls a minute per queue.")  # fmt: skip
@click.option("--demo-operators", default=None, type=click.IntRange(min=0, max=40),
              help="Extra simulated operators (default: as many as Erlang C needs for the target).")  # fmt: skip
@click.option("--demo-all-operators", is_flag=True, help="Simulate anna too (nobody left for the console).")
@click.option("--server", "server_name", type=click.Choice(["gunicorn", "granian"]), default="gunicorn",
              show_default=True, help="HTTP server (granian: pip install 'callcenter[granian]').")  # fmt: skip
@click.option("--threads", default=None, type=click.IntRange(min=1),
              help="Threads per worker (CALLCENTER_WEB_THREADS); each open console holds one.")  # fmt: skip
def serve(
    host: str | None, port: int | None, workers: int, demo: bool, demo_rate: float, demo_operators: int | None,
    demo_all_operators: bool, server_name: str, threads: int | None,
) -> None:  # fmt: skip
    """Serve the webhooks, API and pages (embedded mode: also the job worker and journal consumer)."""
    from callcenter.web.server import run_granian, run_server

    settings = settings_or_exit()
    if threads is not None:
        settings = dataclasses.replace(settings, web_threads=threads)
    if settings.embedded_redis and workers != 1:
        raise click.UsageError("the in-process Redis emulation needs --workers 1 (set CALLCENTER_REDIS_URL)")
    if server_name == "granian":
        if demo:  # the demo stops its simulation at the worker's exit (atexit), which granian's workers skip
            raise click.UsageError("--demo runs under gunicorn: leave out --server granian")
        if importlib.util.find_spec("granian") is None:
            raise click.UsageError("granian is not installed: pip install 'callcenter[granian]'")
        run_granian(settings, host or settings.host, port or settings.port, workers, settings.web_threads)
        return
    if demo:
        from callcenter.demo.profile import DemoOptions, DemoProfile
        from callcenter.demo.serve import enable

        if workers != 1:
            raise click.UsageError("--demo runs its simulated callers in one process: use --workers 1")
        options = DemoOptions(DemoProfile(calls_per_minute=demo_rate), demo_all_operators, demo_operators)
        settings = enable(settings, options)
    run_server(settings, host or settings.host, port or settings.port, workers)


@click.command()
@click.option("--burst", is_flag=True, help="Drain the journal and the job queue once, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker (forking) plus the journal consumer that writes call events to SQL."""
    from queueing.jobs import forking_worker

    settings = settings_or_exit()
    if settings.embedded_redis:
        raise click.UsageError("`callcenter worker` needs CALLCENTER_REDIS_URL; `serve` runs jobs in-process")
    container = build_container(settings)
    prepare(container)
    if burst:
        written = container.journal_writer.drain_all()
        forking_worker(container.jobs.queue).work(burst=True)
        click.echo(f"journal: {written} events written")
        return
    stop = threading.Event()
    consumer = threading.Thread(target=container.journal_writer.run, args=(stop.is_set,), daemon=True)
    consumer.start()
    from callcenter.watchdog import build_watchdog  # rebuilds after a Redis data loss, heals stuck operators

    threading.Thread(target=build_watchdog(container).run, args=(stop, container.clock), daemon=True).start()
    from webhooks import jobs as twilio_jobs

    # Built (not connected) before forking: every work horse inherits it instead of importing the channel and
    # building a container per job (about half a second each, which capped the dispatcher's throughput).
    twilio_jobs.channel_for(settings.hotline_tag)
    try:
        forking_worker(container.jobs.queue).work(with_scheduler=True)
    finally:
        stop.set()
        consumer.join(timeout=10)


@click.group(name="db")
def db_group() -> None:
    """Database schema."""


@db_group.command()
def upgrade() -> None:
    """Apply Alembic migrations up to the latest schema."""
    settings = settings_or_exit()
    engine = db.make_engine(settings.database_url)
    refreshed = upgrade_schema(engine, settings.hotline)
    click.echo(f"database schema is up to date ({_safe_url(settings)})")
    if refreshed:
        click.echo(f"KPI rollup: {refreshed} quarter hours recounted with the hotline's KPI conventions")


@click.group(name="config")
def config_group() -> None:
    """Hotline file tools."""


@config_group.command()
@click.argument("path", type=click.Path(dir_okay=False))
def check(path: str) -> None:
    """Validate a hotline file; print every problem with its line."""
    try:
        hotline = load_hotline(path)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"{path}: OK ({len(hotline.queues)} queues, {len(hotline.operators)} operators)")


def _safe_url(settings: Settings) -> str:
    url = settings.database_url
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def install_sigterm(stop: threading.Event) -> None:
    signal.signal(signal.SIGTERM, lambda *_: stop.set())


COMMANDS = [serve, worker, db_group, config_group]
