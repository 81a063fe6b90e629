"""What simulated callers press and reply: IVR menu digits, the callback key, survey answers, SMS replies.

Menu choices come from the hotline file's IVR nodes (any hotline works); the demo hotline's menus get weights
that make a plausible mix (most callers in Hungarian, billing and internet the commonest topics).
"""

from __future__ import annotations

import random
from typing import Any

from callcenter.demo.profile import DemoProfile
from callcenter.hotline import Hotline

SILENCE = None
KNOWN_WEIGHTS: dict[str, dict[str, float]] = {
    "language": {"1": 0.8, "2": 0.2},
    "main": {"1": 0.45, "2": 0.3, "3": 0.2, "9": 0.05},
    "outage_menu": {"1": 0.75, "": 0.25},  # the rest are helped by the outage message and hang up
}
SCORES = ("1", "2", "3", "4", "5")
SCORE_WEIGHTS = (0.04, 0.06, 0.15, 0.35, 0.4)


class Choices:
    """The callers' side of every Gather, drawn from one seeded stream."""

    def __init__(self, hotline: Hotline, profile: DemoProfile, rng: random.Random):
        self.hotline, self.profile, self.rng = hotline, profile, rng
        nodes: dict[str, Any] = hotline.ivr.get("nodes", {}) if hotline.ivr else {}
        self.menus = {name: list((node.get("choices") or {}).keys()) for name, node in nodes.items()}

    def ivr(self, node: str) -> str | None:
        """A menu key (None: the caller says nothing)."""
        weights = KNOWN_WEIGHTS.get(node)
        keys = [str(k) for k in self.menus.get(node, [])]
        if weights and set(weights) - {""} <= set(keys):
            key = self.rng.choices(list(weights), list(weights.values()))[0]
            return key or SILENCE
        return self.rng.choice(keys) if keys else SILENCE

    def callback_key(self, key: str) -> str | None:
        return key if key and self.rng.random() < self.profile.callback_key_probability else SILENCE

    def survey(self, index: int) -> str | None:
        """The answer to survey question ``index`` (None: skipped)."""
        questions = self.hotline.survey.questions
        if not 0 <= index < len(questions) or self.rng.random() < self.profile.survey_skip_probability:
            return SILENCE
        if questions[index].kind == "yes_no":
            return "1" if self.rng.random() < 0.8 else "2"
        return self.rng.choices(SCORES, SCORE_WEIGHTS)[0]

    def sms(self, index: int) -> str:
        answer = self.survey(index)
        return answer if answer is not None else self.rng.choice(("ok", "5", "jó volt"))

    def think(self) -> float:
        return self.rng.uniform(*self.profile.think_seconds)

    def barge_in(self) -> float:
        """How much of a menu's prompt the caller hears before pressing (keys interrupt a Gather's prompt)."""
        return self.rng.uniform(0.3, 1.0)

    def speech(self, text: str) -> float:
        rate = self.profile.speech_chars_per_second
        return len(text.strip()) / rate if rate > 0 else 0.0
