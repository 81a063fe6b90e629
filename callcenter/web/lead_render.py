"""Server-side rendering of the lead dashboard: the page, and the fragments each update replaces.

The publisher renders the fragments once per change for every connected lead (no app context needed), and
the page's script only swaps them in, so there is one rendering code path for the first view and updates.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

FRAGMENTS = ("totals", "alerts", "queues", "operators", "states")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("callcenter.web", "lead_templates"), autoescape=select_autoescape())
    env.filters.update(pct=_pct, secs=_secs)
    return env


_ENV = _environment()


def fragments(state: dict[str, Any]) -> dict[str, Any]:
    """HTML of every replaceable part of the page, plus the raw state's clock and the chart."""
    parts: dict[str, Any] = {name: _ENV.get_template(f"_{name}.html").render(s=state) for name in FRAGMENTS}
    parts.update(chart=state["chart"], generated_at=state["generated_at"])
    return parts


def message(state: dict[str, Any]) -> str:
    """The Server-Sent Events payload of one update (JSON of the fragments)."""
    return json.dumps(fragments(state), separators=(",", ":"))


def page(state: dict[str, Any], title: str, script_url: str, style_url: str) -> str:
    """The whole dashboard page, rendered with the current state (works before any script runs)."""
    parts = fragments(state)
    parts["chart"] = Markup(parts["chart"])  # our own SVG, built from numbers and escaped labels
    return _ENV.get_template("lead.html").render(
        title=title,
        script_url=script_url,
        style_url=style_url,
        p={k: Markup(v) if isinstance(v, str) else v for k, v in parts.items()},
    )
