"""Reading the ``ivr:`` section into typed nodes, collecting every problem with its YAML path.

Checks that need the whole graph (unknown, unreachable and looping nodes) are in ``ivr.flowcheck``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ivr.flowparts import KEY, Catalogue, ParsedFlow, PartReader
from ivr.hours import parse_hours
from ivr.nodes import (
    BusinessHoursNode,
    CallbackNode,
    Choice,
    EnqueueNode,
    Flow,
    HangupNode,
    MenuNode,
    MessageNode,
    Node,
    SelfServiceNode,
    SetNode,
    Text,
    TransferNode,
    VoicemailNode,
)
from ivr.problems import YamlPath

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

__all__ = ["Catalogue", "FlowReader", "ParsedFlow"]


class FlowReader(PartReader):
    """Turns raw YAML data into nodes; every reader method adds Problems instead of raising."""

    def __init__(self, catalogue: Catalogue, base: YamlPath = ("ivr",)) -> None:
        super().__init__(catalogue, base)
        self.extra: dict[str, tuple[Node, YamlPath]] = {}  # nodes a node adds (a callback offer's booking)

    def read(self, raw: Any) -> ParsedFlow:
        """Read a whole ``ivr:`` mapping (``start`` and ``nodes``)."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("nodes"), Mapping) or not raw["nodes"]:
            self._problem(self.base, "needs 'start' and a mapping of 'nodes'")
            return self.out
        self._fields(raw, self.base, ("start", "nodes"))
        start = self._target(raw, "start", self.base)
        nodes = {}
        for node_id, spec in raw["nodes"].items():
            path = (*self.base, "nodes", node_id)
            self.out.node_paths[str(node_id)] = path
            node = self._node(str(node_id), spec, path)
            if node is not None:
                nodes[str(node_id)] = node
        for extra_id, (extra, path) in self.extra.items():
            if extra_id in nodes:
                self._problem(path, f"node {extra_id!r} clashes with the node this one adds; rename it")
            self.out.node_paths[extra_id], nodes[extra_id] = path, extra
        if start is not None:
            self.out.flow = Flow(start, nodes, self.cat.languages, self.cat.default_language)
        return self.out

    # --- node types -------------------------------------------------------------------------------

    def _node(self, node_id: str, spec: Any, path: YamlPath) -> Node | None:
        if not isinstance(spec, Mapping):
            self._problem(path, "a node must be a mapping with a 'type'")
            return None
        if "type" not in spec:
            self._problem(path, "missing 'type' (" + ", ".join(self._readers()) + ")")
            return None
        reader = self._readers().get(str(spec.get("type")))
        if reader is None:
            self._problem(
                (*path, "type"), f"unknown node type {spec.get('type')!r}; use one of " + ", ".join(self._readers())
            )
            return None
        before = len(self.out.problems)
        node = reader(node_id, spec, path)
        return node if len(self.out.problems) == before else None

    def _readers(self) -> dict[str, Callable[[str, Mapping[str, Any], YamlPath], Node | None]]:
        return {
            "menu": self._menu, "language": self._language, "business_hours": self._business_hours,
            "set": self._set, "message": self._message, "self_service": self._self_service,
            "enqueue": self._enqueue, "callback": self._callback, "voicemail": self._voicemail,
            "transfer": self._transfer, "hangup": self._hangup,
        }  # fmt: skip

    def _menu(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> MenuNode | None:
        self._fields(spec, path, ("prompt", "choices", "on_failure", "timeout_seconds", "retries",
                                  "invalid", "no_input"))  # fmt: skip
        choices = self._choices(spec.get("choices"), (*path, "choices"))
        prompt = self._text(spec, "prompt", path, required=True)
        on_failure = self._target(spec, "on_failure", path)
        if prompt is None or on_failure is None:
            return None
        return MenuNode(
            node_id, prompt, choices, on_failure,
            timeout_seconds=self._int(spec, "timeout_seconds", path, 5, 1, 60),
            retries=self._int(spec, "retries", path, 2, 0, 9),
            invalid=self._text(spec, "invalid", path), no_input=self._text(spec, "no_input", path),
        )  # fmt: skip

    def _language(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> MenuNode | None:
        self._fields(spec, path, ("prompt", "choices", "next", "on_failure", "timeout_seconds", "retries"))
        prompt = self._text(spec, "prompt", path, required=True)
        after = self._target(spec, "next", path)
        on_failure = self._target(spec, "on_failure", path, required=False) or after
        raw = spec.get("choices")
        if not isinstance(raw, Mapping) or not raw:
            self._problem((*path, "choices"), 'map keys to languages, e.g. {"1": hu, "2": en}')
            return None
        choices = self._keys_unique(
            [self._language_choice(k, v, (*path, "choices", k), after or "") for k, v in raw.items()],
            (*path, "choices"),
        )
        if prompt is None or after is None or on_failure is None:
            return None
        return MenuNode(
            node_id, prompt, choices, on_failure,
            timeout_seconds=self._int(spec, "timeout_seconds", path, 5, 1, 60),
            retries=self._int(spec, "retries", path, 1, 0, 9), all_languages=True,
        )  # fmt: skip

    def _business_hours(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> Node | None:
        self._fields(spec, path, ("open", "closed", "holiday", "hours"))
        targets = [self._target(spec, k, path) for k in ("open", "closed")]
        holiday = self._target(spec, "holiday", path, required=False)
        hours = self.cat.hours
        if "hours" in spec:
            hours = parse_hours(spec["hours"], (*path, "hours"), self.out.problems, base=self.cat.hours)
        if hours is not None and not any(hours.weekly.values()):
            self._problem(path, "no opening hours: give this node 'hours' or the hotline 'business_hours.weekly'")
        if targets[0] is None or targets[1] is None or hours is None:
            return None
        return BusinessHoursNode(node_id, targets[0], targets[1], hours, holiday)

    def _set(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> SetNode | None:
        self._fields(spec, path, ("set", "next"))
        assign = self._assign(spec.get("set"), (*path, "set"))
        after = self._target(spec, "next", path)
        return SetNode(node_id, assign, after) if after is not None else None

    def _message(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> MessageNode | None:
        self._fields(spec, path, ("prompt", "next", "reason"))
        prompt = self._text(spec, "prompt", path, required=True)
        after = self._target(spec, "next", path, required=False)
        reason = str(spec.get("reason", "self_served"))
        return MessageNode(node_id, prompt, after, reason) if prompt is not None else None

    def _self_service(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> Node | None:
        self._fields(spec, path, ("topic", "next", "after"))
        after = self._target(spec, "next", path)
        played = self._target(spec, "after", path, required=False)
        topic = spec.get("topic")
        if after is None:
            return None
        return SelfServiceNode(node_id, after, None if topic is None else str(topic), played)

    def _enqueue(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> EnqueueNode | None:
        self._fields(spec, path, ("queue", "priority", "skills", "callback_key", "prompt"))
        queue = self._queue(spec, path)
        key = spec.get("callback_key")
        if key is not None and not KEY.match(str(key)):
            self._problem((*path, "callback_key"), f"callback_key {key!r} is not a phone key (0-9, * or #)")
        return EnqueueNode(
            node_id, queue or "", self._priority(spec, path), self._skills(spec, path),
            None if key is None else str(key), self._text(spec, "prompt", path),
        )  # fmt: skip

    def _callback(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> Node | None:
        self._fields(spec, path, ("queue", "priority", "skills", "prompt", "offer", "key", "decline",
                                  "timeout_seconds"))  # fmt: skip
        queue = self._queue(spec, path)
        booking = CallbackNode(
            node_id, queue or "", self._priority(spec, path), self._skills(spec, path),
            self._text(spec, "prompt", path),
        )  # fmt: skip
        return self._callback_offer(booking, spec, path) if "offer" in spec else booking

    def _callback_offer(self, booking: CallbackNode, spec: Mapping[str, Any], path: YamlPath) -> Node | None:
        """``offer``: ask first; the key books the callback, anything else goes to ``decline`` silently."""
        offer = self._text(spec, "offer", path, required=True)
        decline = self._target(spec, "decline", path)
        key = str(spec.get("key", "1"))
        if not self._key_ok(key, (*path, "key")) or offer is None or decline is None:
            return None
        accepted = replace(booking, id=f"{booking.id}.accepted")
        self.extra[accepted.id] = (accepted, path)
        choice = Choice(key, accepted.id)
        timeout = self._int(spec, "timeout_seconds", path, 5, 1, 60)
        return MenuNode(booking.id, offer, (choice,), decline, timeout, retries=0, invalid=Text({}))

    def _voicemail(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> VoicemailNode | None:
        self._fields(spec, path, ("prompt", "max_seconds", "queue"))
        queue = self._queue(spec, path, required=False)
        return VoicemailNode(
            node_id, self._int(spec, "max_seconds", path, 120, 5, 3600), queue or "",
            self._text(spec, "prompt", path),
        )  # fmt: skip

    def _transfer(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> TransferNode | None:
        self._fields(spec, path, ("queue", "number", "priority", "skills", "prompt"))
        queue = self._queue(spec, path, required=False)
        number = spec.get("number")
        if (queue is None) == (number is None):
            self._problem(path, "a transfer needs exactly one of 'queue' (second level) or 'number'")
        if queue is not None and not self.cat.queues.get(queue, True):
            self._problem((*path, "queue"), f"queue {queue!r} is not second level (set second_level: true)")
        if number is not None and not _E164.match(str(number)):
            self._problem((*path, "number"), f"number {number!r} is not in E.164 form, e.g. +3612345678")
        return TransferNode(
            node_id, queue, None if number is None else str(number), self._priority(spec, path),
            self._skills(spec, path), self._text(spec, "prompt", path),
        )  # fmt: skip

    def _hangup(self, node_id: str, spec: Mapping[str, Any], path: YamlPath) -> HangupNode | None:
        self._fields(spec, path, ("prompt", "reason"))
        return HangupNode(node_id, self._text(spec, "prompt", path), str(spec.get("reason", "hangup")))
