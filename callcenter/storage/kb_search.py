"""Knowledge-base full-text search with the database's own engine (schema: migration 0002).

SQLite: FTS5 ``MATCH`` ranked by ``bm25`` (title weighs most), ``snippet()``. PostgreSQL: ``@@`` on the generated
``search_vector`` ranked by ``ts_rank_cd``, ``ts_headline`` with the ``cc_search`` configuration. Both return
snippets with the matches between \\x02 and \\x03, which :func:`snippet_html` turns into escaped HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

OPEN, CLOSE = "\x02", "\x03"

_SQLITE = """
SELECT a.id AS id, bm25(kb_articles_fts, 10.0, 1.0, 4.0, 4.0) AS rank,
       snippet(kb_articles_fts, -1, char(2), char(3), '…', 16) AS snippet
FROM kb_articles_fts JOIN kb_articles a ON a.id = kb_articles_fts.rowid
WHERE kb_articles_fts MATCH :query {where}
ORDER BY rank, a.id LIMIT :limit
"""

_POSTGRESQL = """
SELECT a.id AS id, ts_rank_cd(a.search_vector, q.simple) AS rank,
       ts_headline('cc_search', a.title || ' — ' || a.body, q.folding,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=24, MinWords=8') AS snippet
FROM kb_articles a,
     (SELECT to_tsquery('simple', :query) AS simple, to_tsquery('cc_search', :query) AS folding) q
WHERE a.search_vector @@ q.simple {where}
ORDER BY rank DESC, a.id LIMIT :limit
"""


@dataclass(frozen=True)
class RawHit:
    article_id: int
    rank: float
    snippet: str


def snippet_html(snippet: str) -> str:
    """The snippet as safe HTML: everything escaped, matches in <mark>."""
    return html.escape(snippet).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


class KbSearch:
    """Runs a ranked search over folded query terms (all of them, or any of them for suggestions)."""

    def __init__(self, engine: Engine):
        self._postgresql = engine.dialect.name == "postgresql"

    def search(
        self,
        session: Session,
        terms: list[str],
        *,
        any_term: bool,
        status: str | None,
        language: str | None,
        limit: int,
    ) -> list[RawHit]:
        """Ranked hits (best first) among articles of ``status`` and ``language`` (None: any)."""
        if not terms:
            return []
        where, params = "", {"limit": limit, "query": self._query(terms, any_term)}
        if status:
            where += " AND a.status = :status"
            params["status"] = status
        if language:
            where += " AND a.language = :language"
            params["language"] = language
        sql = (_POSTGRESQL if self._postgresql else _SQLITE).format(where=where)
        rows = session.execute(text(sql), params).all()
        return [RawHit(int(r.id), float(r.rank), str(r.snippet or "")) for r in rows]

    def _query(self, terms: list[str], any_term: bool) -> str:
        """Prefix match on every term; terms are folded ``\\w+`` words, safe in both query syntaxes."""
        if self._postgresql:
            return (" | " if any_term else " & ").join(f"{t}:*" for t in terms)
        return (" OR " if any_term else " ").join(f'"{t}"*' for t in terms)
