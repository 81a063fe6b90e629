"""Documented endpoints: one decorator authenticates, parses and validates the body and query with pydantic,
renders the answer through the response model, and records all of it for the OpenAPI 3.1 document, which
is generated from the app's URL map at ``/api/v1/openapi.json`` (nothing is written by hand).

    @bp.post("/tickets/<int:ticket_id>/notes")
    @endpoint("Add a note", body=NoteIn, response=TicketOut, tag="tickets")
    def add_note(ticket_id: int, body: NoteIn) -> Any: ...

``roles=None`` makes an endpoint public; ``roles=()`` any authenticated role.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from callcenter.web.auth import auth_required
from callcenter.web.errors import problem

ERROR_CODES = {
    401: "no or invalid credentials",
    403: "wrong role, not yours, or missing CSRF token",
    404: "unknown id",
    409: "illegal transition (the reason is in detail)",
    413: "body too large",
    422: "invalid body or query (errors name the fields)",
    429: "too many failed attempts (Retry-After says when to try again)",
}


@dataclass(frozen=True)
class Doc:
    summary: str
    roles: tuple[str, ...] | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    tag: str
    media_type: str
    errors: tuple[int, ...] = ()


class BodyInvalidError(Exception):
    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def endpoint(
    summary: str,
    *,
    roles: tuple[str, ...] | None = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tag: str = "",
    media_type: str = "application/json",
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    doc = Doc(summary, roles, body, query, response, status, tag, media_type, errors)

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def run(**kwargs: Any) -> Any:
            try:
                if body is not None:
                    kwargs["body"] = _parse(body, _json_body(), "body")
                if query is not None:
                    kwargs["query"] = _parse(query, request.args.to_dict(), "query")
            except BodyInvalidError as exc:
                return problem(422, "Unprocessable Content", str(exc), errors=exc.errors)
            return _render(view(**kwargs), response, status)

        guarded = run if roles is None else auth_required(*roles)(run)
        guarded.__openapi__ = doc  # type: ignore[attr-defined]
        return guarded

    return wrap


def _json_body() -> Any:
    if not request.content_length:
        return {}
    data = request.get_json(silent=True)
    if data is None:
        raise BodyInvalidError([{"field": "body", "message": "expected a JSON object"}])
    return data


def _parse(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or where, "message": err["msg"]} for err in exc.errors()
        ]
        raise BodyInvalidError(errors) from None


def _render(result: Any, response: type[BaseModel] | None, status: int) -> Any:
    if isinstance(result, Response | tuple) or response is None:
        return result if result is not None else ("", 204)
    model = result if isinstance(result, response) else response.model_validate(result, from_attributes=True)
    out = jsonify(model.model_dump(mode="json"))
    out.status_code = status
    return out


# -- the document ----------------------------------------------------------------------------------------------
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def build_spec(app: Flask, prefix: str = "/api/") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented endpoint under ``prefix``."""
    routes = []
    for rule in app.url_map.iter_rules():
        doc = getattr(app.view_functions.get(rule.endpoint), "__openapi__", None)
        if doc is not None and rule.rule.startswith(prefix):
            routes.append((rule, doc))
    models = {m for _, d in routes for m in (d.body, d.response, d.query) if m is not None}
    refs, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, Any] = {}
    for rule, doc in sorted(routes, key=lambda item: item[0].rule):
        path = _PARAM.sub(r"{\2}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method.lower(), doc, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "callcenter API", "version": "1"},
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {}), "securitySchemes": _SECURITY},
    }


_SECURITY = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/login gives a token"},
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "console session; state changes need the X-CSRF-Token header",
    },
}


def _operation(rule: Any, method: str, doc: Doc, refs: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": rule.endpoint.replace(".", "_"),
        "tags": [doc.tag] if doc.tag else [],
    }
    params = [_path_param(conv, name) for conv, name in _PARAM.findall(rule.rule)]
    if doc.query is not None:
        params += _query_params(doc.query)
    if params:
        op["parameters"] = params
    if doc.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(doc.body, "validation")]}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if doc.response is not None:
        ok["content"] = {doc.media_type: {"schema": refs[(doc.response, "validation")]}}
    elif doc.media_type != "application/json":
        ok["content"] = {doc.media_type: {"schema": {"type": "string"}}}
    op["responses"] = {str(doc.status if doc.response or doc.media_type != "application/json" else 204): ok}
    op["responses"].update(_errors(doc, bool(_PARAM.search(rule.rule)), method))
    if doc.roles is not None:
        op["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
        op["x-roles"] = list(doc.roles) or ["operator", "lead", "admin"]
    else:
        op["security"] = []
    return op


def _errors(doc: Doc, has_id: bool, method: str) -> dict[str, Any]:
    codes = [422] if doc.body or doc.query else []
    if has_id:
        codes += [404] if method == "get" else [404, 409]
    if doc.roles is not None:
        codes = [401, 403, *codes]
    if doc.body is not None:
        codes.append(413)
    codes += [c for c in doc.errors if c not in codes]
    schema = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
    return {str(c): {"description": ERROR_CODES[c], **schema} for c in sorted(codes)}


def _path_param(converter: str, name: str) -> dict[str, Any]:
    kind = "integer" if converter == "int" else "string"
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]
