"""The demo's settings and its callers' choices (no I/O)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from callcenter.config import Settings, TwilioSettings
from callcenter.demo.choices import Choices
from callcenter.demo.profile import DEMO_ACCOUNT_SID, DemoOptions, DemoProfile, demo_settings
from callcenter.hotline import load_hotline
from ivr.hours import parse_hours


def test_the_demo_hotline_is_open_at_night_and_on_holidays_and_keeps_the_rest_of_the_file():
    settings = Settings(hotline=load_hotline(None))
    demo = demo_settings(settings, DemoOptions(extra_operators=2))
    christmas_night = dt.datetime(2026, 12, 24, 23, 30, tzinfo=dt.UTC)
    hours = parse_hours(demo.hotline.business_hours.model_dump(), ("business_hours",), [])
    assert hours is not None and hours.is_open(christmas_night)
    assert demo.hotline.queues == settings.hotline.queues and demo.hotline.ivr == settings.hotline.ivr


def test_extra_operators_serve_every_queue_and_the_default_team_is_sized_for_the_target():
    settings = Settings(hotline=load_hotline(None))
    two = demo_settings(settings, DemoOptions(extra_operators=2)).hotline.operators[len(settings.hotline.operators) :]
    assert [op.username for op in two] == ["dora", "erik"]
    assert all(op.queues == tuple(settings.hotline.queues) and op.password is None for op in two)
    quiet = demo_settings(settings, DemoOptions(DemoProfile(calls_per_minute=0.2)))
    busy = demo_settings(settings, DemoOptions(DemoProfile(calls_per_minute=2)))
    assert len(quiet.hotline.operators) < len(busy.hotline.operators)


def test_the_demo_signs_with_its_own_account_unless_one_is_configured_and_leaves_anna_to_the_human():
    settings = Settings(hotline=load_hotline(None))
    assert demo_settings(settings, DemoOptions()).twilio.account_sid == DEMO_ACCOUNT_SID
    mine = dataclasses.replace(settings, twilio=TwilioSettings(account_sid="AC" + "1" * 32, auth_token="t0ken"))
    assert demo_settings(mine, DemoOptions()).twilio.auth_token == "t0ken"
    assert "anna" not in DemoOptions().simulated(settings.hotline)
    assert "anna" in DemoOptions(all_operators=True).simulated(settings.hotline)
    assert "admin" not in DemoOptions(all_operators=True).simulated(settings.hotline)


def test_callers_press_only_keys_the_menu_offers():
    hotline = load_hotline(None)
    choices = Choices(hotline, DemoProfile(), random.Random(1))
    assert {choices.ivr("main") for _ in range(200)} == {"1", "2", "3", "9"}
    assert {choices.ivr("language") for _ in range(50)} <= {"1", "2"}
    assert {choices.survey(1) for _ in range(100)} <= {"1", "2", None}
