"""Ticket lifecycle rules, access rules and KB query folding: pure, no I/O."""

from __future__ import annotations

import pytest

from callcenter.domain import ticket as rules
from callcenter.domain.access import Principal, TicketScope, can_work_on
from callcenter.domain.kb import fold, query_terms, suggestion_terms
from callcenter.domain.ticket import TicketStatus as S

DAY = 86_400.0


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.NEW, S.OPEN, True),
        (S.OPEN, S.ESCALATED, True),
        (S.ESCALATED, S.OPEN, True),
        (S.ESCALATED, S.RESOLVED, True),
        (S.RESOLVED, S.CLOSED, True),
        (S.CLOSED, S.OPEN, True),
        (S.OPEN, S.CLOSED, False),
        (S.NEW, S.CLOSED, False),
        (S.ESCALATED, S.ESCALATED, False),
        (S.CLOSED, S.RESOLVED, False),
    ],
)
def test_transition_table_allows_only_its_moves(current, target, allowed):
    if allowed:
        rules.check_transition(1, current, target, "move")
    else:
        with pytest.raises(rules.IllegalTicketTransitionError, match=f"that is {current.value}"):
            rules.check_transition(1, current, target, "move")


def test_closed_ticket_reopens_within_thirty_days_only():
    rules.check_reopen(1, S.CLOSED, closed_at=0.0, now=30 * DAY)
    with pytest.raises(rules.ReopenWindowClosedError):
        rules.check_reopen(1, S.CLOSED, closed_at=0.0, now=30 * DAY + 1)
    with pytest.raises(rules.IllegalTicketTransitionError):
        rules.check_reopen(1, S.ESCALATED, closed_at=None, now=0.0)


def test_resolving_needs_a_disposition_from_the_hotline_file():
    with pytest.raises(rules.DispositionRequiredError):
        rules.check_resolvable(1, S.OPEN, "")
    assert rules.check_disposition("solved", {"solved": True}) is True
    with pytest.raises(rules.UnknownDispositionError):
        rules.check_disposition("nope", {"solved": True})


def test_auto_close_is_due_after_the_configured_days():
    assert not rules.due_for_auto_close(S.RESOLVED, 0.0, 3 * DAY - 1, 3)
    assert rules.due_for_auto_close(S.RESOLVED, 0.0, 3 * DAY, 3)
    assert not rules.due_for_auto_close(S.RESOLVED, 0.0, 99 * DAY, 0)
    assert not rules.due_for_auto_close(S.OPEN, 0.0, 99 * DAY, 3)


def test_repeat_link_window_of_zero_days_never_links():
    assert rules.repeat_link_cutoff(10 * DAY, 7) == 3 * DAY
    assert rules.repeat_link_cutoff(10 * DAY, 0) == float("inf")


def test_access_operator_own_second_level_pool_lead_team_admin_all():
    scope = TicketScope("anna", ("anna",), "first-level", "open")
    escalated = TicketScope("anna", ("anna",), "level2", "escalated")
    assert can_work_on(Principal("anna", "operator"), scope)
    assert not can_work_on(Principal("bela", "operator"), scope)
    assert can_work_on(Principal("zoli", "operator", queues=("level2",)), escalated)
    assert not can_work_on(Principal("zoli", "operator", queues=("level2",)), scope)
    assert can_work_on(Principal("lead", "lead"), scope, frozenset({"anna"}))
    assert not can_work_on(Principal("lead", "lead"), scope, frozenset({"bela"}))
    assert can_work_on(Principal("root", "admin"), scope)


def test_folding_removes_hungarian_accents_and_query_syntax():
    assert fold("Jelszó ŐRÜLT Ünnep") == "jelszo orult unnep"
    assert query_terms('"Jelszó*" OR (net) jelszo') == ["jelszo", "or", "net"]
    assert suggestion_terms("internet", "[2026-01-01 10:00 anna] A router nem működik 1234") == [
        "internet",
        "mukodik",
        "router",
    ]
