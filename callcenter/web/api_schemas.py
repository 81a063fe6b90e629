"""Request and response bodies of the REST API (pydantic; their JSON schemas make the OpenAPI document)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from callcenter.kb import ArticleView
from callcenter.ticket_views import TicketView

Text = Field(min_length=1, max_length=10_000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def out_of(view: type[Any], name: str) -> type[_Out]:
    """The response schema of a service's view dataclass: the same fields by construction, so they cannot drift."""
    hints = get_type_hints(view)
    fields: dict[str, Any] = {f.name: (hints[f.name], ...) for f in dataclasses.fields(view)}
    return create_model(name, __base__=_Out, __module__=__name__, **fields)


# -- auth ------------------------------------------------------------------------------------------------------
class LoginIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    token_name: str = Field("", max_length=100)


class MeOut(_Out):
    username: str
    name: str
    role: str
    team: str
    queues: list[str]
    softphone: str = ""
    sip_uri: str | None = None
    state: str | None = None
    state_since: float | None = None
    state_reason: str | None = None
    call_id: str | None = None


class TokenOut(_Out):
    token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: dt.datetime
    operator: MeOut


class TokenInfoOut(_Out):
    id: int
    name: str
    created_at: dt.datetime | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool


class TokenListOut(_Out):
    items: list[TokenInfoOut]


# -- operators and queues --------------------------------------------------------------------------------------
class StateIn(_In):
    state: Literal["available", "break", "offline"]
    reason: str = Field("", max_length=64)


class AcceptIn(_In):
    call_id: str = Field(min_length=1, max_length=64)


class WrapUpQuery(_In):
    call_id: str = Field("", max_length=64, description="the call wrapped up (default: the ACD's last call)")


class EventsQuery(_In):
    seconds: float = Field(300, ge=0, le=300, description="how long the stream stays open")


class OperatorStateOut(_Out):
    username: str
    state: str
    since: float | None = None
    reason: str | None = None
    call: str | None = None
    queues: list[str] = []


class OperatorListOut(_Out):
    items: list[MeOut]


class QueueOut(_Out):
    name: str
    title: dict[str, str]
    priority: int
    strategy: str
    skills: dict[str, int]
    wrap_up_seconds: int
    max_wait_seconds: int
    second_level: bool


class QueueListOut(_Out):
    items: list[QueueOut]


class QueueLiveOut(_Out):
    queues: dict[str, dict[str, object]]
    operators: dict[str, dict[str, object]]


# -- tickets ---------------------------------------------------------------------------------------------------
if TYPE_CHECKING:  # mypy needs classes; at run time both are built from the service views below

    class TicketOut(_Out): ...

    class ArticleOut(_Out): ...

else:
    TicketOut = out_of(TicketView, "TicketOut")


class TicketPageOut(_Out):
    items: list[TicketOut]
    total: int
    page: int
    per_page: int


class TicketQuery(_In):
    status: str = Field("", description="comma-separated statuses", pattern=r"^[a-z,]*$")
    queue: str = ""
    operator: str = ""
    caller: str = ""
    assigned_group: str = ""
    escalated: bool | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    page: int = Field(1, ge=1)
    per_page: int = Field(25, ge=1, le=100)


class HistoryOut(_Out):
    at: dt.datetime | None
    actor: str
    action: str
    from_status: str
    to_status: str
    detail: dict[str, object]


class HistoryListOut(_Out):
    items: list[HistoryOut]


class NoteIn(_In):
    text: str = Text


class DispositionIn(_In):
    code: str = Field(min_length=1, max_length=64)


class ReasonIn(_In):
    reason: str = Text


class OptionalReasonIn(_In):
    reason: str = Field("", max_length=10_000)


class ResolveIn(_In):
    article_id: int | None = None


class DispositionOut(_Out):
    code: str
    label: dict[str, str]
    resolves: bool


class DispositionListOut(_Out):
    items: list[DispositionOut]


class CallCardOut(_Out):
    call_id: str
    state: str
    caller: str
    caller_name: str
    channel: str
    language: str
    topic: str
    queue: str
    ivr_path: list[str]
    waited_seconds: float | None
    ticket: TicketOut | None
    history: list[TicketOut]


class CurrentCallOut(_Out):
    card: CallCardOut | None


# -- knowledge base --------------------------------------------------------------------------------------------
class SearchQuery(_In):
    q: str = Field(min_length=1, max_length=500)
    language: str = Field("", max_length=8)
    status: Literal["published", "draft", "archived", ""] = "published"
    limit: int = Field(10, ge=1, le=50)


class SearchHitOut(_Out):
    id: int
    title: str
    language: str
    status: str
    tags: list[str]
    rank: float
    snippet_html: str = Field(description="escaped HTML; matches are wrapped in <mark>")
    solve_count: int


class SearchOut(_Out):
    items: list[SearchHitOut]


if not TYPE_CHECKING:
    ArticleOut = out_of(ArticleView, "ArticleOut")


class ArticleListOut(_Out):
    items: list[ArticleOut]


class ArticleQuery(_In):
    status: Literal["published", "draft", "archived", ""] = ""
    tag: str = Field("", max_length=40)


Tag = Field(min_length=1, max_length=40)


class ArticleIn(_In):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field("", max_length=100_000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    language: str | None = Field(None, max_length=8)
    status: Literal["draft", "published", "archived"] = "draft"
    ivr_topic: str = Field("", max_length=64)
    ivr_text: str = Field("", max_length=2_000)


class ArticlePatch(_In):
    title: str | None = Field(None, min_length=1, max_length=300)
    body: str | None = Field(None, max_length=100_000)
    tags: list[str] | None = Field(None, max_length=20)
    language: str | None = Field(None, max_length=8)
    status: Literal["draft", "published", "archived"] | None = None
    ivr_topic: str | None = Field(None, max_length=64)
    ivr_text: str | None = Field(None, max_length=2_000)
