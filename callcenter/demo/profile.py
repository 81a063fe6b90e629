"""How the demo's people behave (rates and durations), and the settings a demo run serves with.

Durations are in real seconds. The defaults give a small, busy but healthy call center: a few calls a minute,
conversations of two to four minutes, a team sized with Erlang C for the queues' service-level target.
Tests use a fast profile (:meth:`DemoProfile.fast`) so that whole calls take a second or two.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from dataclasses import dataclass

from callcenter.config import Settings, TwilioSettings
from callcenter.hotline import BusinessHours, Hotline, OperatorSeed
from callcenter.staffing import UnreachableTargetError, required_staff

DEMO_ACCOUNT_SID = "AC" + "de" * 16
DEMO_CALLER_ID = "+3612345678"
HUMAN_OPERATOR = "anna"  # left for the person trying the console, unless every operator is simulated
MAX_EXTRA_OPERATORS = 40
EXTRA_NAMES = (
    "dora", "erik", "fanni", "gabor", "hanna", "imre", "jozsef", "kata", "laszlo", "marta", "norbert",
    "orsolya", "peter", "reka", "sandor", "timea", "viktor", "zsofia", "adam", "boglarka",
)  # fmt: skip


@dataclass(frozen=True)
class DemoProfile:
    """Rates, probabilities and (min, max) or median durations of the simulated people."""

    calls_per_minute: float = 1.0  # per queue of the hotline; --demo-rate
    speech_chars_per_second: float = 15.0  # how long a <Say> takes; 0: instantly
    think_seconds: tuple[float, float] = (1.0, 4.0)  # before pressing a key
    wait_turn_seconds: float = 20.0  # one turn of the queue's hold music
    ring_seconds: tuple[float, float] = (2.0, 8.0)  # until a simulated operator picks up
    answer_probability: float = 0.94  # the rest ring until the timeout (RONA)
    talk_median_seconds: float = 170.0  # lognormal talk time: median, and sigma of its logarithm
    talk_sigma: float = 0.35
    operator_hangs_up: float = 0.8  # else the caller hangs up first (then the SMS survey may follow)
    patience_mean_seconds: float = 240.0  # exponential: callers waiting longer hang up (abandon)
    callback_key_probability: float = 0.02  # per wait turn
    survey_hangup_probability: float = 0.1
    survey_skip_probability: float = 0.1
    sms_reply_probability: float = 0.6
    sms_reply_seconds: tuple[float, float] = (10.0, 60.0)
    wrap_up_seconds: tuple[float, float] = (8.0, 40.0)  # capped by the queue's wrap_up_seconds (then the ACD ends it)
    break_per_hour: float = 1.5  # how often an available operator takes a break
    break_seconds: tuple[float, float] = (60.0, 300.0)
    repeat_caller_probability: float = 0.15  # a caller of the last hour calls again (linked ticket, FCR)
    operator_check_seconds: float = 1.0
    timeout_scale: float = 1.0  # Twilio's own waits (Gather and Dial timeouts, pauses, recordings)
    human_wait_seconds: float = 10.0  # the console's operator available this long without a call: make room
    make_room_seconds: tuple[float, float] = (20.0, 60.0)  # back-office break of who was idle longer

    @classmethod
    def fast(cls, calls_per_minute: float = 60.0) -> DemoProfile:
        """Everything in a second or two (tests): the same paths, compressed."""
        return cls(calls_per_minute=calls_per_minute, speech_chars_per_second=0.0, think_seconds=(0.05, 0.2),
                   wait_turn_seconds=0.5, ring_seconds=(0.1, 0.3), talk_median_seconds=1.0, talk_sigma=0.3,
                   patience_mean_seconds=30.0, sms_reply_seconds=(0.2, 0.5), wrap_up_seconds=(0.2, 0.5),
                   break_per_hour=60.0, break_seconds=(0.5, 1.0), operator_check_seconds=0.2,
                   timeout_scale=0.05, human_wait_seconds=0.5, make_room_seconds=(0.2, 0.5))  # fmt: skip

    @property
    def handle_seconds(self) -> float:
        """Mean handle time: ring, talk (lognormal mean) and wrap-up."""
        talk = self.talk_median_seconds * math.exp(self.talk_sigma**2 / 2)
        return sum(self.ring_seconds) / 2 + talk + sum(self.wrap_up_seconds) / 2


@dataclass(frozen=True)
class DemoOptions:
    """What ``serve --demo`` was asked for."""

    profile: DemoProfile = DemoProfile()
    all_operators: bool = False
    extra_operators: int | None = None  # None: sized with Erlang C
    seed: int | None = None

    def humans(self, hotline: Hotline) -> list[str]:
        """ACD operators the demo leaves to people (the console's)."""
        simulated = set(self.simulated(hotline))
        return [op.username for op in hotline.operators if op.queues and op.username not in simulated]

    def simulated(self, hotline: Hotline) -> list[str]:
        """The operators the demo plays: every ACD operator but the human's (unless all are simulated)."""
        names = [op.username for op in hotline.operators if op.queues]
        return [n for n in names if self.all_operators or n != HUMAN_OPERATOR]


def demo_settings(settings: Settings, options: DemoOptions) -> Settings:
    """The settings a demo serves with: always open, enough simulated operators, a Twilio account to sign with."""
    hotline = settings.hotline
    open_all_week = BusinessHours(
        timezone=hotline.business_hours.timezone, weekly={day: ("00:00-24:00",) for day in _WEEK}, holidays=()
    )
    count = options.extra_operators
    if count is None:
        count = _team_size(hotline, options.profile) - len(options.simulated(hotline))
    extras = tuple(_extra_operator(hotline, i) for i in range(max(0, min(count, MAX_EXTRA_OPERATORS))))
    hotline = hotline.model_copy(update={"business_hours": open_all_week, "operators": hotline.operators + extras})
    twilio = settings.twilio
    if not twilio.configured:
        twilio = TwilioSettings(account_sid=DEMO_ACCOUNT_SID, auth_token=secrets.token_hex(16))
    twilio = dataclasses.replace(twilio, caller_id=twilio.caller_id or DEMO_CALLER_ID)
    return dataclasses.replace(settings, hotline=hotline, twilio=twilio)


_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _team_size(hotline: Hotline, profile: DemoProfile) -> int:
    """Operators Erlang C needs for the hotline's calls at the queues' mean target, plus one for breaks."""
    queues = list(hotline.queues.values())
    rate = profile.calls_per_minute * len(queues) / 60.0
    target = sum(q.service_level_target for q in queues) / len(queues) if queues else 0.8
    threshold = hotline.kpi.service_level_threshold_seconds
    try:
        return required_staff(rate, profile.handle_seconds, threshold, target) + 1
    except UnreachableTargetError:
        return MAX_EXTRA_OPERATORS


def _extra_operator(hotline: Hotline, index: int) -> OperatorSeed:
    """A simulated operator serving every queue with every skill (no password: nobody logs in as them)."""
    base = EXTRA_NAMES[index % len(EXTRA_NAMES)]
    username = base if index < len(EXTRA_NAMES) else f"{base}{index // len(EXTRA_NAMES) + 1}"
    taken = {op.username for op in hotline.operators}
    username = username if username not in taken else f"demo_{username}"
    return OperatorSeed(
        username=username,
        name=f"{username.capitalize()} (demo)",
        queues=tuple(hotline.queues),
        skills={skill: 3 for skill in hotline.skills},
        softphone=f"client:{username}",
    )
