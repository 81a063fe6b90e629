"""The parts of a flow node: prompts, keys, choices, targets, queues, skills; each reader adds Problems.

``FlowReader`` (``ivr.flowparse``) builds the nodes from these parts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.hours import Hours
from ivr.nodes import Assignment, Choice, Flow, Text
from ivr.problems import Problem, YamlPath
from ivr.speech import normalize

KEY = re.compile(r"^[0-9*#]{1,4}$")
COMMON_FIELDS = ("type", "comment")
LANGUAGE_NAMES = {"hu": ("magyar", "hungarian"), "en": ("angol", "english")}


@dataclass(frozen=True)
class Catalogue:
    """What the flow may refer to: the hotline's languages, queues (name -> second level?) and skills."""

    languages: tuple[str, ...]
    default_language: str
    queues: Mapping[str, bool]
    skills: frozenset[str]
    hours: Hours | None


@dataclass
class ParsedFlow:
    """The typed flow (None when the section is unusable), its node references and the problems."""

    flow: Flow | None
    node_paths: dict[str, YamlPath] = field(default_factory=dict)
    refs: list[tuple[YamlPath, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class PartReader:
    """Reads the parts nodes share, recording node references and problems in ``out``."""

    def __init__(self, catalogue: Catalogue, base: YamlPath = ("ivr",)) -> None:
        self.cat = catalogue
        self.base = base
        self.out = ParsedFlow(flow=None)

    def _choices(self, raw: Any, path: YamlPath) -> tuple[Choice, ...]:
        if not isinstance(raw, Mapping) or not raw:
            self._problem(path, "a menu needs choices: a mapping of keys to nodes")
            return ()
        read = [self._choice(k, v, (*path, k)) for k, v in raw.items()]
        choices = self._keys_unique(read, path)
        self._phrases_unique([(where, c) for where, c in read if c is not None and c in choices])
        return choices

    def _choice(self, key: Any, spec: Any, path: YamlPath) -> tuple[YamlPath, Choice | None]:
        if isinstance(spec, str):
            spec = {"next": spec}
        if not isinstance(spec, Mapping):
            self._problem(path, "a choice is a node id or a mapping with next, set and speech")
            return path, None
        self._fields(spec, path, ("next", "set", "speech"), common=())
        after = self._target(spec, "next", path)
        assign = self._assign(spec.get("set"), (*path, "set"))
        speech = self._speech(spec.get("speech"), (*path, "speech"))
        if not self._key_ok(key, path) or after is None:
            return path, None
        return path, Choice(str(key), after, assign, speech)

    def _language_choice(self, key: Any, language: Any, path: YamlPath, after: str) -> tuple[YamlPath, Choice | None]:
        if language not in self.cat.languages:
            self._problem(path, f"{language!r} is not a hotline language ({', '.join(self.cat.languages)})")
            return path, None
        if not self._key_ok(key, path):
            return path, None
        names = LANGUAGE_NAMES.get(str(language), (str(language),))
        return path, Choice(str(key), after, Assignment(language=str(language)),
                            {lang: names for lang in self.cat.languages})  # fmt: skip

    def _key_ok(self, key: Any, path: YamlPath) -> bool:
        if isinstance(key, bool) or not KEY.match(str(key)):
            self._problem(path, f'{key!r} is not a phone key: use digits, * or # (quote them: "1")')
            return False
        return True

    def _keys_unique(self, read: list[tuple[YamlPath, Choice | None]], path: YamlPath) -> tuple[Choice, ...]:
        """A key may appear once (``1`` and ``"1"`` are the same key) and may not start a longer key."""
        seen: dict[str, Choice] = {}
        for where, choice in read:
            if choice is None:
                continue
            if choice.key in seen:
                self._problem(where, f"digit used twice: key {choice.key!r} is already a choice of this menu")
                continue
            clash = [k for k in seen if k.startswith(choice.key) or choice.key.startswith(k)]
            if clash:
                self._problem(where, f"digit used twice: key {choice.key!r} and key {clash[0]!r} start alike")
                continue
            seen[choice.key] = choice
        return tuple(seen.values())

    def _phrases_unique(self, read: list[tuple[YamlPath, Choice]]) -> None:
        """One phrase (accents aside) selects one choice: the same words for two keys would be a guess."""
        owner: dict[tuple[str, str], str] = {}
        for where, choice in read:
            for language, phrases in choice.speech.items():
                for phrase in phrases:
                    first = owner.setdefault((language, normalize(phrase)), choice.key)
                    if first != choice.key:
                        self._problem(
                            (*where, "speech", language),
                            f"phrase {phrase!r} is used twice (choices {first!r} and {choice.key!r})",
                        )

    def _speech(self, raw: Any, path: YamlPath) -> dict[str, tuple[str, ...]]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self._problem(path, "speech maps languages to lists of phrases, e.g. {hu: [számla], en: [bill]}")
            return {}
        speech = {}
        for language, phrases in raw.items():
            if language not in self.cat.languages:
                self._problem((*path, language), f"{language!r} is not a hotline language")
                continue
            items = phrases if isinstance(phrases, list | tuple) else [phrases]
            speech[str(language)] = tuple(str(p) for p in items if normalize(str(p)))
        return speech

    def _assign(self, raw: Any, path: YamlPath) -> Assignment:
        if raw is None:
            return Assignment()
        if not isinstance(raw, Mapping):
            self._problem(path, "set takes a mapping of language, topic, skill and priority")
            return Assignment()
        self._fields(raw, path, ("language", "topic", "skill", "priority"), common=())
        language, skill = raw.get("language"), raw.get("skill")
        if language is not None and language not in self.cat.languages:
            self._problem((*path, "language"), f"{language!r} is not a hotline language "
                          f"({', '.join(self.cat.languages)})")  # fmt: skip
        if skill is not None and (not isinstance(skill, str) or skill not in self.cat.skills):
            self._problem((*path, "skill"), f"unknown skill {skill!r} ({', '.join(sorted(self.cat.skills))})")
        topic = raw.get("topic")
        return Assignment(
            None if language is None else str(language), None if topic is None else str(topic),
            None if skill is None else str(skill), self._priority(raw, path),
        )  # fmt: skip

    def _text(self, spec: Mapping[str, Any], key: str, path: YamlPath, required: bool = False) -> Text | None:
        raw = spec.get(key)
        if raw is None:
            if required:
                self._problem(path, f"missing {key!r}: give the text in {', '.join(self.cat.languages)}")
            return None
        if not isinstance(raw, Mapping):
            self._problem((*path, key), f"{key} maps languages to texts, e.g. {{hu: ..., en: ...}}")
            return None
        texts: dict[str, str] = {}
        audio: dict[str, str] = {}
        for language, value in raw.items():
            self._prompt_part(language, value, (*path, key, language), texts, audio)
        for language in self.cat.languages:
            if language not in raw:
                self._problem((*path, key), f"missing prompt for language {language!r}")
        return Text(texts, audio)

    def _prompt_part(self, language: Any, value: Any, path: YamlPath, texts: dict[str, str],
                     audio: dict[str, str]) -> None:  # fmt: skip
        if language not in self.cat.languages:
            self._problem(path, f"prompt for {language!r}, which is not a hotline language")
        elif isinstance(value, Mapping) and value.get("text"):
            texts[language] = str(value["text"])
            if value.get("audio"):
                audio[language] = str(value["audio"])
        elif isinstance(value, str) and value.strip():
            texts[language] = value
        else:
            self._problem(path, "a prompt is a text or {text: ..., audio: URL}")

    def _target(self, spec: Mapping[str, Any], key: str, path: YamlPath, required: bool = True) -> str | None:
        value = spec.get(key)
        if value is None:
            if required:
                self._problem(path, f"missing {key!r} (the node to go to)")
            return None
        if not isinstance(value, str):
            self._problem((*path, key), f"{key} must name a node, got {value!r}")
            return None
        self.out.refs.append(((*path, key), value))
        return value

    def _queue(self, spec: Mapping[str, Any], path: YamlPath, required: bool = True) -> str | None:
        queue = spec.get("queue")
        if queue is None:
            if required:
                self._problem(path, "missing 'queue'")
            return None
        if not isinstance(queue, str) or queue not in self.cat.queues:
            self._problem((*path, "queue"), f"unknown queue {queue!r} ({', '.join(self.cat.queues)})")
        return str(queue)

    def _skills(self, spec: Mapping[str, Any], path: YamlPath) -> dict[str, int]:
        raw = spec.get("skills") or {}
        items = {str(s): 1 for s in raw} if isinstance(raw, list | tuple) else raw
        if not isinstance(items, Mapping):
            self._problem((*path, "skills"), "skills is a list of skills or a mapping skill: minimum level")
            return {}
        for skill, level in items.items():
            if skill not in self.cat.skills:
                self._problem((*path, "skills", skill), f"unknown skill {skill!r}")
            elif not isinstance(level, int) or not 1 <= level <= 10:
                self._problem((*path, "skills", skill), f"level must be 1..10, got {level!r}")
        return {str(s): int(v) for s, v in items.items() if isinstance(v, int)}

    def _priority(self, spec: Mapping[str, Any], path: YamlPath) -> int | None:
        value = spec.get("priority")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            self._problem((*path, "priority"), f"priority must be a whole number, got {value!r}")
            return None
        return value

    def _int(self, spec: Mapping[str, Any], key: str, path: YamlPath, default: int, lo: int, hi: int) -> int:
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self._problem((*path, key), f"{key} must be a whole number from {lo} to {hi}, got {value!r}")
            return default
        return value

    def _fields(self, spec: Mapping[str, Any], path: YamlPath, allowed: tuple[str, ...],
                common: tuple[str, ...] = COMMON_FIELDS) -> None:  # fmt: skip
        for key in spec:
            if key not in allowed and key not in common:
                self._problem((*path, key), f"unknown field {key!r} (allowed: {', '.join(allowed)})")

    def _problem(self, path: YamlPath, message: str) -> None:
        self.out.problems.append(Problem(path, message))
