"""Operator states of the ACD, the transitions between them and the named errors the ACD raises.

The transition table is the single source of truth: the Lua scripts that change live state in Redis are given
the same table (generated from this one by ``queueing.scripts``), so Python and Redis cannot disagree.
"""

from __future__ import annotations

from enum import StrEnum


class OperatorState(StrEnum):
    """Where an operator is: logged out, free, ringing, talking, finishing paperwork, or pausing."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"


S = OperatorState

TRANSITIONS: dict[OperatorState, frozenset[OperatorState]] = {
    S.OFFLINE: frozenset({S.AVAILABLE, S.BREAK}),
    S.AVAILABLE: frozenset({S.RESERVED, S.BREAK, S.OFFLINE}),
    # reserved -> available: ring-all lost, caller abandoned, or a missed ring; -> break: too many misses.
    S.RESERVED: frozenset({S.ON_CALL, S.AVAILABLE, S.BREAK}),
    S.ON_CALL: frozenset({S.WRAP_UP, S.AVAILABLE}),
    S.WRAP_UP: frozenset({S.AVAILABLE, S.BREAK, S.OFFLINE}),
    S.BREAK: frozenset({S.AVAILABLE, S.BREAK, S.OFFLINE}),
}
"""Allowed ``from -> to`` moves. Everything else raises :class:`IllegalTransitionError`."""

MANUAL_TARGETS: frozenset[OperatorState] = frozenset({S.AVAILABLE, S.BREAK, S.OFFLINE})
"""States an operator (or a lead) may ask for; the others are reached only through call events."""

MANUAL_SOURCES: frozenset[OperatorState] = frozenset({S.OFFLINE, S.AVAILABLE, S.WRAP_UP, S.BREAK})
"""States an operator may leave by request: never while ringing or talking (the call would be orphaned)."""

BREAK_MISSED_CALLS = "missed_calls"
"""Break reason set by the ACD after ``max_missed`` consecutive unanswered rings."""


class AcdError(Exception):
    """Base of every refusal of the ACD; ``code`` is the token the Lua scripts return."""

    code = "ACD"


class IllegalTransitionError(AcdError):
    """The operator's current state does not allow the requested move."""

    code = "ILLEGAL_TRANSITION"


class NoSuchOperatorError(AcdError):
    """The operator is not known to the ACD (not in the hotline file nor configured)."""

    code = "NO_SUCH_OPERATOR"


class NoSuchQueueError(AcdError):
    """The queue is not configured."""

    code = "NO_SUCH_QUEUE"


class NoSuchCallError(AcdError):
    """The call is not (or no longer) live in the ACD."""

    code = "NO_SUCH_CALL"


class CallNotWaitingError(AcdError):
    """The operation needs a waiting (or ringing) call, and this one is connected or ended."""

    code = "CALL_NOT_WAITING"


class CallNotOfferedError(AcdError):
    """The call is not ringing at this operator (already answered elsewhere, or never offered to them)."""

    code = "CALL_NOT_OFFERED"


class CallNotConnectedError(AcdError):
    """The operation needs a call in conversation."""

    code = "CALL_NOT_CONNECTED"


class CallAlreadyQueuedError(AcdError):
    """A call id can be enqueued once; use transfer to move it."""

    code = "CALL_EXISTS"


class NotACallbackError(AcdError):
    """Callback dialling was reported for a call that never asked for a callback."""

    code = "NOT_A_CALLBACK"


ERRORS: dict[str, type[AcdError]] = {
    cls.code: cls
    for cls in (
        IllegalTransitionError,
        NoSuchOperatorError,
        NoSuchQueueError,
        NoSuchCallError,
        CallNotWaitingError,
        CallNotOfferedError,
        CallNotConnectedError,
        CallAlreadyQueuedError,
        NotACallbackError,
    )
}
"""Error code (as returned by a Lua script) -> the named domain error."""


def can_transition(current: OperatorState, target: OperatorState) -> bool:
    """Whether the table allows ``current -> target``."""
    return target in TRANSITIONS[current]


def check_transition(operator: str, current: OperatorState, target: OperatorState) -> None:
    """Raise :class:`IllegalTransitionError` unless the table allows ``current -> target``."""
    if not can_transition(current, target):
        raise IllegalTransitionError(f"operator {operator}: {current} -> {target} is not allowed")


def check_manual(operator: str, current: OperatorState, target: OperatorState) -> None:
    """An operator may only ask for available, break or offline, not while ringing or talking, and only
    along the table."""
    if target not in MANUAL_TARGETS:
        raise IllegalTransitionError(f"operator {operator}: {target} is reached through calls, not by request")
    if current not in MANUAL_SOURCES:
        raise IllegalTransitionError(f"operator {operator}: {current} ends through the call, not by request")
    check_transition(operator, current, target)
