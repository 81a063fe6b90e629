"""The IVR's journal facts: every input (IVR_INPUT) and every way out of the IVR without a queue (IVR_EXIT).

The call summary takes the IVR path, language and topic of a call from these (``callcenter.domain.call_summary``),
and the KPIs count self-served calls by the IVR_EXIT reason.
"""

from __future__ import annotations

from typing import Any

from callcenter.domain.events import EventType
from ivr.steps import CallContext, Digits, Fact, Speech, UserInput


def input_fact(node_id: str, user_input: UserInput, choice: str | None, ctx: CallContext) -> Fact:
    """IVR_INPUT with what was given and chosen, and the language and topic the call has now."""
    data: dict[str, Any] = {"node": node_id, "attempt": ctx.retries + 1, "choice": choice}
    data.update(language=ctx.language, topic=ctx.topic)
    if isinstance(user_input, Digits):
        data.update(kind="dtmf", input=user_input.digits)
    elif isinstance(user_input, Speech):
        data.update(kind="speech", input=user_input.text, confidence=user_input.confidence)
    else:
        data.update(kind="timeout", input="")
    return Fact(EventType.IVR_INPUT, data)


def exit_fact(node_id: str, reason: str, ctx: CallContext) -> Fact:
    """IVR_EXIT: where and why the caller left the IVR, the path taken and what was learnt."""
    return Fact(
        EventType.IVR_EXIT,
        {
            "node": node_id,
            "reason": reason,
            "path": list(ctx.path),
            "language": ctx.language,
            "topic": ctx.topic,
            "after_hours": ctx.after_hours,
        },
    )
