"""The report as JSON, CSV or one self-contained HTML file (inline CSS and SVG, no script, nothing fetched)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import asdict
from html import escape
from typing import Any

from callcenter.kpi.charts import bar_chart, line_chart
from callcenter.kpi.report import Report

COLUMNS = [
    ("offered", "Offered", "n"),
    ("answered", "Answered", "n"),
    ("answer_rate", "Answer rate", "%"),
    ("abandoned", "Abandoned", "n"),
    ("abandonment_rate", "Abandonment", "%"),
    ("short_abandoned", "Short abandons", "n"),
    ("asa_seconds", "ASA", "s"),
    ("aht_seconds", "AHT", "s"),
    ("service_level", "Service level", "%"),
    ("occupancy", "Occupancy", "%"),
    ("csat", "CSAT", "%"),
    ("survey_response_rate", "Survey response", "%"),
    ("tickets_resolved", "Resolved", "n"),
    ("tickets_closed", "Closed", "n"),
    ("fcr_rate", "FCR", "%"),
    ("resolved_without_escalation_rate", "No escalation", "%"),
]


def render(report: Report, fmt: str) -> str:
    """The report in ``fmt``: html, csv or json."""
    return {"html": to_html, "csv": to_csv, "json": to_json}[fmt](report)


def to_json(report: Report) -> str:
    data = asdict(report)
    data.update(start=report.start.isoformat(), end=report.end.isoformat())
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def to_csv(report: Report) -> str:
    """One table: a ``section`` column (interval, queue_interval, queue, operator, total) then every field."""
    sections = [
        ("interval", report.by_interval),
        ("queue_interval", report.by_queue_interval),
        ("queue", report.by_queue),
        ("operator", report.by_operator),
        ("total", [report.total]),
    ]
    names = list(report.total)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", *names])
    for section, rows in sections:
        for row in rows:
            writer.writerow([section, *(_csv_value(row.get(name)) for name in names)])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    return "" if value is None else round(value, 6) if isinstance(value, float) else value


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f}%" if kind == "%" else f"{value:.0f} s" if kind == "s" else f"{value:,}"


def _label(start: str | None, interval: str) -> str:
    if start is None:
        return "total"
    moment = dt.datetime.fromisoformat(start)
    formats = {
        "15min": "%m-%d %H:%M",
        "hour": "%m-%d %H:00",
        "day": "%Y-%m-%d",
        "week": "week of %Y-%m-%d",
        "month": "%Y-%m",
    }
    return moment.strftime(formats[interval])


def _table(rows: list[dict[str, Any]], first: str, label: Any) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for _, title, _ in COLUMNS)
    body = "".join(
        f"<tr><th>{escape(label(row))}</th>"
        + "".join(f"<td>{_cell(row[k], kind)}</td>" for k, _, kind in COLUMNS)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr><th>{escape(first)}</th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _charts(report: Report) -> str:
    one_day = report.end - report.start <= dt.timedelta(days=1)
    short = one_day and report.interval in ("15min", "hour")
    labels = [r["start"][11:16] if short else _label(r["start"], report.interval) for r in report.by_interval]
    series = {name: [r[name] for r in report.by_interval] for name in ("offered", "answered", "abandoned")}
    target = report.staffing_basis.get("target")
    scores = report.csat_distribution
    return "".join(
        [
            bar_chart("Calls offered, answered and abandoned", labels, series),
            line_chart("Service level", labels, [r["service_level"] for r in report.by_interval], target),
            line_chart("ASA (seconds)", labels, [r["asa_seconds"] for r in report.by_interval], percent=False),
            bar_chart("CSAT answers by score", [str(s) for s in scores], {"answers": list(scores.values())}),
        ]
    )


def _staffing_table(report: Report) -> str:
    rows = "".join(
        f"<tr><th>{escape(_label(s['start'], report.interval))}</th><td>{s['offered']}</td>"
        f"<td>{s['arrival_per_hour']:.1f}</td><td>{_cell(s['aht_seconds'], 's')}</td>"
        f"<td>{s.get('erlangs', 0):.2f}</td><td>{_cell(s['erlang_c'], 'n')}</td>"
        f"<td>{_cell(s['erlang_a'], 'n')}</td></tr>"
        for s in report.staffing
    )
    titles = ("Interval", "Offered", "Calls/hour", "AHT", "Erlangs", "Erlang C", "Erlang A")
    head = "<tr>" + "".join(f"<th>{t}</th>" for t in titles) + "</tr>"
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _definitions(report: Report) -> str:
    items = "".join(
        f"<dt>{escape(name)}</dt><dd>{escape(json.dumps(text) if isinstance(text, dict) else str(text))}</dd>"
        for name, text in report.definitions.items()
    )
    return f"<dl>{items}</dl>"


STYLE = """
body{font:13px system-ui,sans-serif;margin:2rem;color:#111827}h1{font-size:1.4rem}
h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.2rem .5rem;border-bottom:1px solid #e5e7eb;text-align:right;white-space:nowrap}
th:first-child{text-align:left}
thead th{color:#6b7280;font-weight:600}svg.chart{width:100%;max-width:760px;display:block;margin:1rem 0}
dt{font-weight:600;margin-top:.4rem}dd{margin-left:1rem;color:#374151}
"""


def to_html(report: Report) -> str:
    """One HTML file with everything inline: open it anywhere, mail it, archive it."""
    period = f"{report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M} ({report.start.tzname()})"
    queues = ", ".join(report.queues) or "all queues"
    basis = report.staffing_basis
    patience = f"{basis['patience_seconds']:.0f} s" if basis.get("patience_seconds") else "not measurable (no abandons)"
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(report.hotline)} KPI report</title>",
        f"<style>{STYLE}</style></head><body><h1>{escape(report.hotline)}: KPI report</h1>",
        f"<p>{escape(period)} · {escape(queues)} · by {escape(report.interval)}</p>",
        "<h2>Total</h2>",
        _table([report.total], "Period", lambda r: "total"),
        "<h2>Charts</h2>",
        _charts(report),
        f"<h2>By {escape(report.interval)}</h2>",
        _table(report.by_interval, "Interval", lambda r: _label(r["start"], report.interval)),
        "<h2>By queue</h2>",
        _table(report.by_queue, "Queue", lambda r: r["key"]),
        f"<h2>By queue and {escape(report.interval)}</h2>",
        _table(
            report.by_queue_interval,
            "Queue · interval",
            lambda r: f"{r['key']} · {_label(r['start'], report.interval)}",
        ),
        "<h2>By operator</h2>",
        _table(report.by_operator, "Operator", lambda r: r["key"]),
        "<h2>Staffing</h2>",
        f"<p>Operators needed per interval for a service level of {basis['target']:.0%} within {basis['threshold']} s, "
        f"from the measured arrival rate and AHT; Erlang A with the callers' patience {escape(patience)}.</p>",
        _staffing_table(report),
        "<h2>Definitions</h2>",
        _definitions(report),
        "</body></html>",
    ]
    return "".join(parts)
