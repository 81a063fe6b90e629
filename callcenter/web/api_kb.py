"""REST API v1: the knowledge base (search, CRUD, a draft from a resolved ticket)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from callcenter.kb import ArticleInput
from callcenter.web import services
from callcenter.web.api_schemas import (
    ArticleIn,
    ArticleListOut,
    ArticleOut,
    ArticlePatch,
    ArticleQuery,
    SearchHitOut,
    SearchOut,
    SearchQuery,
)
from callcenter.web.auth import current_principal
from callcenter.web.openapi import endpoint

bp = Blueprint("api_v1_kb", __name__, url_prefix="/api/v1/kb")
TAG = "knowledge base"


@bp.get("/search")
@endpoint(
    "Ranked, diacritic-insensitive full-text search with snippets", query=SearchQuery, response=SearchOut, tag=TAG
)
def search(query: SearchQuery) -> Any:
    hits = services.kb().search(current_principal(), query.q, query.language or None, query.status or None, query.limit)
    return SearchOut(items=[SearchHitOut.model_validate(h) for h in hits])


@bp.get("/articles")
@endpoint("Articles (published, plus drafts one may see)", query=ArticleQuery, response=ArticleListOut, tag=TAG)
def list_articles(query: ArticleQuery) -> Any:
    items = services.kb().browse(current_principal(), query.status or None, query.tag)
    return ArticleListOut(items=[ArticleOut.model_validate(a) for a in items])


@bp.post("/articles")
@endpoint("Create an article (operators: drafts only)", body=ArticleIn, response=ArticleOut, status=201, tag=TAG)
def create_article(body: ArticleIn) -> Any:
    return services.kb().create(current_principal(), ArticleInput(**body.model_dump()))


@bp.get("/articles/<int:article_id>")
@endpoint("One article", response=ArticleOut, tag=TAG)
def get_article(article_id: int) -> Any:
    return services.kb().get(current_principal(), article_id)


@bp.patch("/articles/<int:article_id>")
@endpoint("Change an article (status changes: leads and admins)", body=ArticlePatch, response=ArticleOut, tag=TAG)
def update_article(article_id: int, body: ArticlePatch) -> Any:
    return services.kb().update(current_principal(), article_id, ArticleInput(**body.model_dump()))


@bp.delete("/articles/<int:article_id>")
@endpoint("Delete an article", roles=("admin",), tag=TAG)
def delete_article(article_id: int) -> Any:
    services.kb().delete(current_principal(), article_id)
    return None


@bp.post("/articles/from-ticket/<int:ticket_id>")
@endpoint("A draft pre-filled from a resolved ticket", response=ArticleOut, status=201, tag=TAG)
def article_from_ticket(ticket_id: int) -> Any:
    return services.kb().draft_from_ticket(current_principal(), ticket_id)
