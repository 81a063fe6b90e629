"""The ACD's Lua scripts: loaded from ``queueing/lua``, assembled with a shared library, run by EVALSHA.

Every script is ``header + core.lua + operators.lua + calls.lua + <operation>.lua``. The header is generated
here from the two single sources of truth: the key templates of :mod:`queueing.keys` (as Lua functions of
the hotline prefix, passed as ``KEYS[1]`` so Redis Cluster routes the call to the hotline's slot) and the
operator transition table of :mod:`callcenter.domain.operator`.

Argument convention: ``ARGV[1..4] = now, event id base, today, random seed``; operation arguments follow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import redis
from redis.commands.core import Script

from callcenter.domain.operator import MANUAL_SOURCES, MANUAL_TARGETS, TRANSITIONS
from queueing.keys import Keys
from queueing.script_call import run_script

LIBRARY = ("core", "operators", "calls")
OPERATIONS = (
    "set_state",
    "enqueue",
    "offer",
    "accept",
    "no_answer",
    "hangup",
    "wrap_up_done",
    "abandon",
    "transfer",
    "request_callback",
    "callback_dialled",
    "tick",
    "position",
    "snapshot",
)
_KEY_FUNCTIONS = (
    "queue_waiting",
    "queue_operators",
    "queue_stats",
    "queue_config",
    "queue_available",
    "queue_staffed",
    "operator",
    "operator_skills",
    "call",
)
_KEY_CONSTANTS = ("journal", "acd_timers", "acd_meta", "queues", "operators")
_TAG = "\x00tag\x00"
_FUNCTION = re.compile(r"^local function (\w+)")
_LOCALS = re.compile(r"^local ([\w, ]+?)\s*=")
_WORD = re.compile(r"[A-Za-z_]\w*")
_MARK = "\x01"


def _lua_str(text: str) -> str:
    return json.dumps(text)


def _key_header() -> list[str]:
    keys = Keys(tag=_TAG)
    lines = ["local P = KEYS[1]"]
    for name in _KEY_FUNCTIONS:
        head, tail = getattr(keys, name)(_MARK).removeprefix(keys.prefix).split(_MARK)
        lines.append(f"local function k_{name}(x) return P .. {_lua_str(head)} .. x .. {_lua_str(tail)} end")
    for name in _KEY_CONSTANTS:
        lines.append(f"local K_{name} = P .. {_lua_str(getattr(keys, name).removeprefix(keys.prefix))}")
    return lines


def _state_header() -> list[str]:
    rows = []
    for state, targets in sorted(TRANSITIONS.items()):
        inner = ", ".join(f"[{_lua_str(t.value)}] = true" for t in sorted(targets))
        rows.append(f"  [{_lua_str(state.value)}] = {{ {inner} }},")
    manual = ", ".join(f"[{_lua_str(t.value)}] = true" for t in sorted(MANUAL_TARGETS))
    sources = ", ".join(f"[{_lua_str(t.value)}] = true" for t in sorted(MANUAL_SOURCES))
    return [
        "local TRANSITIONS = {",
        *rows,
        "}",
        f"local MANUAL = {{ {manual} }}",
        f"local MANUAL_FROM = {{ {sources} }}",
    ]


def _read(name: str) -> str:
    return resources.files("queueing").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


def _blocks(text: str) -> list[tuple[set[str], str]]:
    """Top-level definitions of Lua text: (names defined, text), each starting at a column-0 ``local``."""
    blocks: list[tuple[set[str], list[str]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        if line.startswith("local "):
            blocks.append((_defined(line), []))
        blocks[-1][1].append(stripped)
    return [(names, "\n".join(lines)) for names, lines in blocks]


def _defined(line: str) -> set[str]:
    match = _FUNCTION.match(line) or _LOCALS.match(line)
    return set(re.split(r"\s*,\s*", match.group(1))) if match else set()


def _needed(blocks: list[tuple[set[str], str]], body: str) -> list[str]:
    """The definitions the body uses, directly or through other definitions, in their original order."""
    wanted, used = set(_WORD.findall(body)), [False] * len(blocks)
    changed = True
    while changed:
        changed = False
        for i, (names, text) in enumerate(blocks):
            if not used[i] and names & wanted:
                used[i], changed = True, True
                wanted |= set(_WORD.findall(text))
    return [text for i, (_, text) in enumerate(blocks) if used[i]]


@cache
def source(operation: str) -> str:
    """The Lua text of one operation: the generated header and the shared library, reduced to the
    definitions the operation uses (the in-process emulation compiles a script on every call), then the
    operation's own body."""
    library = "\n".join(["\n".join(_key_header()), "\n".join(_state_header()), *(_read(n) for n in LIBRARY)])
    body = "\n".join(line.strip() for line in _read(operation).splitlines() if not line.strip().startswith("--"))
    return "\n".join([*_needed(_blocks(library), body), body])


class Scripts:
    """The registered scripts of one Redis client: ``scripts.run("offer", keys, args)`` is one EVALSHA."""

    def __init__(self, client: redis.Redis) -> None:
        self._scripts: dict[str, Script] = {op: client.register_script(source(op)) for op in OPERATIONS}

    def run(self, operation: str, keys: Keys, args: Sequence[Any]) -> Any:
        """Run one operation for the hotline of ``keys`` (EVALSHA, falling back to EVAL once if unloaded)."""
        return run_script(self._scripts[operation], [keys.prefix], args)
