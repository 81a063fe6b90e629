"""operators add | list | set-password."""

from __future__ import annotations

import click

from callcenter.bootstrap import build_container
from callcenter.cli import settings_or_exit
from callcenter.hotline import OperatorSeed
from callcenter.operators import OperatorExistsError, OperatorService, WeakPasswordError
from callcenter.storage import db


def _service() -> OperatorService:
    container = build_container(settings_or_exit())
    db.upgrade(container.engine)
    return OperatorService(container.sessions)


@click.group(name="operators")
def operators_group() -> None:
    """Operator accounts."""


@operators_group.command(name="add")
@click.argument("username")
@click.option("--name", required=True, help="Full name shown to leads.")
@click.option("--role", type=click.Choice(["operator", "lead", "admin"]), default="operator", show_default=True)
@click.option("--team", default="first-level", show_default=True)
@click.option("--queue", "queues", multiple=True, help="Queue the operator serves (repeatable).")
@click.option("--skill", "skills", multiple=True, help="skill=level, e.g. internet=3 (repeatable).")
@click.option("--softphone", default="", help="client:<identity> or sip:<uri>; default client:<username>.")
@click.password_option(help="Password (prompted when omitted).")
def add(
    username: str,
    name: str,
    role: str,
    team: str,
    queues: tuple[str, ...],
    skills: tuple[str, ...],
    softphone: str,
    password: str,
) -> None:
    """Create an operator account."""
    try:
        seed = OperatorSeed.model_validate(
            dict(
                username=username,
                name=name,
                role=role,
                team=team,
                queues=queues,
                skills=_parse_skills(skills),
                softphone=softphone,
            )
        )
        view = _service().add(seed, password)
    except (OperatorExistsError, WeakPasswordError, ValueError) as exc:
        raise click.ClickException(_message(exc)) from None
    click.echo(f"created {view.username} ({view.role})")


@operators_group.command(name="list")
def list_operators() -> None:
    """List operator accounts."""
    for op in _service().list():
        queues = ",".join(op.queues) or "-"
        click.echo(f"{op.username:<16} {op.role:<9} {op.team:<14} {queues:<24} {op.name}")


@operators_group.command(name="set-password")
@click.argument("username")
@click.password_option()
def set_password(username: str, password: str) -> None:
    """Replace an operator's password."""
    try:
        _service().set_password(username, password)
    except (LookupError, WeakPasswordError) as exc:
        raise click.ClickException(_message(exc)) from None
    click.echo(f"password of {username} changed")


def _parse_skills(pairs: tuple[str, ...]) -> dict[str, int]:
    skills = {}
    for pair in pairs:
        skill, _, level = pair.partition("=")
        if not level.isdigit():
            raise click.BadParameter(f"{pair!r}: expected skill=level", param_hint="--skill")
        skills[skill] = int(level)
    return skills


def _message(exc: Exception) -> str:
    if isinstance(exc, OperatorExistsError):
        return f"operator {exc} already exists"
    if isinstance(exc, LookupError):
        return f"no operator {exc}"
    return str(exc)


COMMANDS = [operators_group]
