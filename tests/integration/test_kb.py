"""Knowledge base on SQLite FTS5 and PostgreSQL tsvector: ranked, diacritic-insensitive search, suggestions,
IVR self-service messages, drafts from tickets, solve counts."""

from __future__ import annotations

import pytest

from callcenter.domain.access import PermissionDeniedError, Principal
from callcenter.domain.kb import InvalidArticleError
from callcenter.kb import ArticleInput, KbService, TicketNotResolvedError
from callcenter.operators import OperatorService
from callcenter.ticket_views import TicketFilter
from callcenter.tickets import NoSuchArticleError, TicketService
from tests.support.events import answered_call

T0 = 1_800_000_000.0
ANNA = Principal("anna", "operator", "first-level", ("general",))
LEAD = Principal("csilla", "lead", "second-level", ("level2",))
ADMIN = Principal("admin", "admin")


@pytest.fixture
def kb(container):
    return KbService(container.sessions, container.hotline, lambda: T0)


@pytest.fixture
def articles(kb):
    made = [
        ArticleInput(
            title="Elfelejtett jelszó",
            body="A jelszó visszaállítása az ügyfélkapun történik.",
            tags=["fiók"],
            status="published",
        ),
        ArticleInput(
            title="Számla befizetése",
            body="Befizetés átutalással vagy csekken. A jelszó nem kell.",
            tags=["billing"],
            status="published",
        ),
        ArticleInput(
            title="Internet outage in Budapest",
            body="Engineers are working on the fault.",
            language="en",
            status="published",
            ivr_topic="internet",
            ivr_text="There is a known outage.",
        ),
        ArticleInput(title="Jelszó tervezet", body="Még nem publikus jelszó cikk.", status="draft"),
    ]
    return [kb.create(LEAD, data) for data in made]


def test_search_without_accents_finds_accented_words_ranked_by_title_first(kb, articles):
    hits = kb.search(ANNA, "jelszo")
    assert [h.title for h in hits] == ["Elfelejtett jelszó", "Számla befizetése"]
    assert "<mark>jelszó</mark>" in hits[0].snippet_html


def test_search_needs_every_word_and_matches_prefixes(kb, articles):
    assert [h.title for h in kb.search(ANNA, "ugyfelkap jelszo")] == ["Elfelejtett jelszó"]
    assert kb.search(ANNA, "jelszo televizio") == []


def test_search_filters_language_and_hides_drafts_from_operators(kb, articles):
    assert [h.title for h in kb.search(ANNA, "outage", language="en")] == ["Internet outage in Budapest"]
    assert kb.search(ANNA, "outage", language="hu") == []
    assert "Jelszó tervezet" in [h.title for h in kb.search(LEAD, "jelszo", status="draft")]
    with pytest.raises(PermissionDeniedError):
        kb.search(ANNA, "jelszo", status="draft")


def test_snippets_escape_html_of_the_article(kb):
    body = "<script>alert(1)</script> <b>router</b> reset"
    kb.create(LEAD, ArticleInput(title="Reset", body=body, status="published"))
    snippet = kb.search(ANNA, "router")[0].snippet_html
    assert "<script" not in snippet and "<b>" not in snippet and "<mark>router</mark>" in snippet


def test_query_punctuation_cannot_break_the_search_syntax(kb, articles):
    assert [h.title for h in kb.search(ANNA, '"Jelszó* ) & | :* ( -')][:1] == ["Elfelejtett jelszó"]
    assert kb.search(ANNA, "   ") == []


def test_ivr_reads_the_published_article_of_its_topic_and_language(kb, articles):
    assert kb.message_for("internet", "en") == "There is a known outage."
    assert kb.message_for("internet", "hu") is None
    kb.update(LEAD, articles[2].id, ArticleInput(status="archived"))
    assert kb.message_for("internet", "en") is None


def test_operators_write_drafts_only_and_leads_publish(kb):
    with pytest.raises(PermissionDeniedError):
        kb.create(ANNA, ArticleInput(title="x", status="published"))
    draft = kb.create(ANNA, ArticleInput(title="Tipp", body="Kapcsolja ki és be."))
    assert draft.status == "draft" and draft.author == "anna"
    with pytest.raises(PermissionDeniedError):
        kb.update(ANNA, draft.id, ArticleInput(status="published"))
    assert kb.update(LEAD, draft.id, ArticleInput(status="published")).status == "published"
    with pytest.raises(InvalidArticleError):
        kb.update(LEAD, draft.id, ArticleInput(language="de"))
    with pytest.raises(PermissionDeniedError):
        kb.delete(LEAD, draft.id)
    kb.delete(ADMIN, draft.id)
    with pytest.raises(NoSuchArticleError):
        kb.get(ADMIN, draft.id)


def test_resolved_ticket_becomes_a_draft_and_solving_tickets_counts(container, kb, articles):
    OperatorService(container.sessions).seed_from_hotline(container.hotline)
    container.journal.append_many(answered_call("c1", T0))
    container.journal_writer.drain_all()
    tickets = TicketService(container.sessions, container.hotline, lambda: T0 + 600)
    ticket_id = tickets.find(ANNA, TicketFilter()).items[0].id
    tickets.add_note(ANNA, ticket_id, "Az ügyfél elfelejtette a jelszavát, visszaállítottuk.")
    suggestions = {h.title: h for h in kb.suggest_for_ticket(ANNA, ticket_id)}
    assert list(suggestions)[:2] == ["Számla befizetése", "Elfelejtett jelszó"]  # IVR topic billing, then notes
    with pytest.raises(TicketNotResolvedError):
        kb.draft_from_ticket(ANNA, ticket_id)
    tickets.set_disposition(ANNA, ticket_id, "solved")
    solver = suggestions["Elfelejtett jelszó"].id
    tickets.resolve(ANNA, ticket_id, article_id=solver)
    assert kb.get(ANNA, solver).solve_count == 1
    assert kb.search(ANNA, "elfelejtett")[0].solve_count == 1
    draft = kb.draft_from_ticket(ANNA, ticket_id)
    assert (draft.status, draft.source_ticket_id, draft.tags) == ("draft", ticket_id, ["billing"])
    assert "visszaállítottuk" in draft.body


def test_ivr_self_service_node_reads_the_published_article(kb, articles, container):
    import datetime as dt

    from ivr import engine
    from ivr.flow import flow_from_hotline
    from ivr.steps import Digits

    flow = flow_from_hotline(container.hotline)
    monday_morning = dt.datetime(2027, 1, 18, 10, 0, tzinfo=dt.UTC)
    first = engine.start(flow, None, monday_morning, kb)
    english = engine.advance(flow, "language", Digits("2"), first.context, monday_morning, kb)
    internet = engine.advance(flow, "main", Digits("2"), english.context, monday_morning, kb)
    assert "There is a known outage." in repr(internet.steps)
