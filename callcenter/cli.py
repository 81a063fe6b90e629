"""`callcenter` command line: serve, worker, db, operators, config, plus the commands in callcenter/commands/."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from callcenter import commands as commands_pkg
from callcenter.config import Settings, load_settings
from callcenter.log_masking import install_number_masking
from callcenter.yamlsrc import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def settings_or_exit() -> Settings:
    """Settings from the environment; a configuration error is printed plainly (no traceback), exit 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(f"configuration error:\n{exc}", err=True)
        sys.exit(2)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def main(verbose: bool) -> None:
    """Self-hostable call-center backend for a support hotline."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_number_masking()


def _register_plugins() -> None:
    for info in pkgutil.iter_modules(commands_pkg.__path__):
        module = importlib.import_module(f"{commands_pkg.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_register_plugins()
