"""`callcenter serve`: the app under gunicorn (threads in embedded mode, processes with a real Redis), or under
granian (``--server granian``: Rust HTTP, the lower latency for the Twilio webhook tier; README "Production")."""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from callcenter.bootstrap import build_container
from callcenter.config import Settings
from callcenter.log_masking import install_number_masking
from callcenter.web.app import create_app

logger = logging.getLogger(__name__)


# gunicorn's (``callcenter serve``) and granian's (``granian ... callcenter.web.wsgi:make_app``, see the README).
SERVER_LOGGERS = ("", "gunicorn.error", "gunicorn.access", "_granian", "granian.access")


def build_serving_app(settings: Settings) -> Flask:
    """Container, schema, seed data, background threads (embedded), then the app."""
    from callcenter.commands.core import prepare

    for name in SERVER_LOGGERS:  # the servers' loggers have their own handlers
        install_number_masking(logging.getLogger(name))
    container = build_container(settings)
    prepare(container)
    for hook in STARTUP_HOOKS:
        hook(container)
    if settings.embedded_worker:
        container.start_background()
    return create_app(container=container)


# Callables run once per serving process after the schema is ready (e.g. loading the ACD's queue config).
STARTUP_HOOKS: list[Any] = []


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]):
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return build_serving_app(self._settings)


def run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    """Run until interrupted; prints the URL and, for the demo hotline, the demo credentials."""
    _banner(settings, host, port)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": settings.web_threads,
        "timeout": 30,
        "accesslog": "-",
        "loglevel": "info",
    }
    _Gunicorn(settings, options).run()


def run_granian(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Run under granian until interrupted: each worker process builds the app from the environment (the same
    settings this process loaded) through ``callcenter.web.wsgi:make_app``; dead workers are respawned."""
    from granian import Granian
    from granian.constants import Interfaces

    _banner(settings, host, port)
    Granian("callcenter.web.wsgi:make_app", address=host, port=port, interface=Interfaces.WSGI, workers=workers,
            blocking_threads=threads, factory=True, respawn_failed_workers=True, log_access=True).serve()  # fmt: skip


def _banner(settings: Settings, host: str, port: int) -> None:
    click.echo(f"callcenter: serving {settings.hotline.hotline.name!r} on http://{host}:{port}/")
    click.echo(f"  database: {settings.database_url.split('@')[-1]}")
    click.echo(f"  redis:    {'in-process emulation' if settings.embedded_redis else 'real server'}")
    click.echo(f"  health:   http://{host}:{port}/readyz")
    demo = [op for op in settings.hotline.operators if op.password]
    if settings.config_file is None and demo:
        click.echo("  demo accounts (username / password):")
        for op in demo:
            click.echo(f"    {op.username:<8} {op.password:<12} {op.role}")
