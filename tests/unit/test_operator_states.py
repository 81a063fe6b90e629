"""The operator state machine: the table, manual requests, and the Lua copy generated from it."""

from __future__ import annotations

import pytest

from callcenter.domain.operator import (
    ERRORS,
    MANUAL_TARGETS,
    TRANSITIONS,
    AcdError,
    IllegalTransitionError,
    OperatorState,
    can_transition,
    check_manual,
    check_transition,
)
from queueing.scripts import OPERATIONS, source

S = OperatorState


def test_every_state_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(OperatorState)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.OFFLINE, S.AVAILABLE),
        (S.AVAILABLE, S.RESERVED),
        (S.RESERVED, S.ON_CALL),
        (S.ON_CALL, S.WRAP_UP),
        (S.WRAP_UP, S.AVAILABLE),
        (S.RESERVED, S.BREAK),
        (S.BREAK, S.OFFLINE),
        (S.ON_CALL, S.AVAILABLE),
    ],
)
def test_the_call_lifecycle_moves_are_allowed(current, target):
    check_transition("anna", current, target)
    assert can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.OFFLINE, S.ON_CALL),
        (S.ON_CALL, S.OFFLINE),
        (S.ON_CALL, S.BREAK),
        (S.RESERVED, S.OFFLINE),
        (S.AVAILABLE, S.ON_CALL),
        (S.AVAILABLE, S.AVAILABLE),
        (S.WRAP_UP, S.ON_CALL),
        (S.OFFLINE, S.OFFLINE),
    ],
)
def test_moves_outside_the_table_raise_illegal_transition(current, target):
    with pytest.raises(IllegalTransitionError, match="anna"):
        check_transition("anna", current, target)


def test_an_operator_cannot_ask_to_be_on_call_or_ringing():
    for target in set(OperatorState) - MANUAL_TARGETS:
        with pytest.raises(IllegalTransitionError):
            check_manual("anna", S.AVAILABLE, target)
    check_manual("anna", S.AVAILABLE, S.BREAK)


@pytest.mark.parametrize("target", [S.OFFLINE, S.AVAILABLE, S.BREAK])
@pytest.mark.parametrize("current", [S.ON_CALL, S.RESERVED])
def test_an_operator_ringing_or_talking_cannot_leave_by_request(current, target):
    with pytest.raises(IllegalTransitionError):
        check_manual("anna", current, target)


def test_error_codes_map_to_distinct_named_errors():
    assert len(set(ERRORS.values())) == len(ERRORS)
    assert all(issubclass(cls, AcdError) and cls.code == code for code, cls in ERRORS.items())


def test_the_lua_scripts_carry_exactly_the_python_table():
    text = source("set_state")
    for state, targets in TRANSITIONS.items():
        inner = ", ".join(f'["{t.value}"] = true' for t in sorted(targets))
        assert f'["{state.value}"] = {{ {inner} }},' in text
    assert all("local TRANSITIONS" in source(op) for op in ("set_state", "offer", "accept", "hangup"))
    assert all(source(op).endswith(op_tail(op)) for op in OPERATIONS)


def op_tail(operation):
    """The last statement of an operation's own Lua file (the assembled script must end with it)."""
    from queueing.scripts import _read

    return [line.strip() for line in _read(operation).splitlines() if line.strip()][-1]
