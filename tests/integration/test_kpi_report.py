"""The KPI report: numbers from the same engine, one self-contained HTML file, CSV and JSON, the CLI, the job."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from callcenter.bootstrap import Container
from callcenter.cli import main
from callcenter.kpi import jobs
from callcenter.kpi.report import build_report
from callcenter.kpi.report_render import render
from callcenter.ticket_jobs import register
from tests.support.kpi_data import Dataset, load_into, make_dataset, reference_table

ZONE = ZoneInfo("Europe/Budapest")
DAY = dt.date(2026, 11, 20)
START = dt.datetime.combine(DAY, dt.time(), ZONE)
END = START + dt.timedelta(days=1)


@pytest.fixture
def day_of_calls(container: Container) -> tuple[Container, Dataset]:
    data = make_dataset(5, START.timestamp() + 8 * 3600, 300, 10 * 3600)
    load_into(container, data)
    return container, data


def test_report_totals_and_intervals_come_from_the_kpi_definitions(day_of_calls: tuple[Container, Dataset]) -> None:
    container, data = day_of_calls
    report = build_report(container.engine, container.hotline, START, END, END.timestamp(), "hour")
    want = reference_table(
        data, container.hotline.kpi, START.timestamp(), END.timestamp(), None, "all", END.timestamp()
    )
    total = next(iter(want.values())).calls
    assert (report.total["offered"], report.total["answered"], report.total["abandoned"]) == (
        total.offered,
        total.answered,
        total.abandoned,
    )
    assert sum(r["offered"] for r in report.by_interval) == total.offered
    assert sum(report.csat_distribution.values()) == report.total["csat_responses"]
    busy = [s for s in report.staffing if s["offered"] >= 20]
    assert busy and all(s["erlang_c"] >= 1 and s["erlang_a"] >= 1 for s in busy)
    assert all(s["erlang_a"] <= s["erlang_c"] for s in busy)  # patient-less callers need no more staff
    assert {r["key"] for r in report.by_operator} == {"anna", "bela", "cili"}


def test_html_report_is_one_self_contained_file(day_of_calls: tuple[Container, Dataset], tmp_path: Path) -> None:
    container, _ = day_of_calls
    html = render(build_report(container.engine, container.hotline, START, END, END.timestamp(), "hour"), "html")
    assert html.count("<svg") == 4 and "Staffing" in html and "Definitions" in html
    for outside in ("<script", "<link", "src=", "url(", "https://"):
        assert outside not in html
    assert html.replace('xmlns="http://www.w3.org/2000/svg"', "").count("http://") == 0


def test_csv_and_json_reports_hold_the_same_rows(day_of_calls: tuple[Container, Dataset]) -> None:
    container, _ = day_of_calls
    report = build_report(container.engine, container.hotline, START, END, END.timestamp(), "hour")
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert {r["section"] for r in rows} == {"interval", "queue_interval", "queue", "operator", "total"}
    assert int(next(r for r in rows if r["section"] == "total")["offered"]) == report.total["offered"]
    assert json.loads(render(report, "json"))["total"]["offered"] == report.total["offered"]


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_report_command_writes_the_chosen_format(
    day_of_calls: tuple[Container, Dataset], tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", database_url)
    out = tmp_path / "r.csv"
    args = [
        "report",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-20",
        "--queue",
        "billing",
        "--format",
        "csv",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    keys = {r["key"] for r in csv.DictReader(io.StringIO(out.read_text())) if r["section"] == "queue"}
    assert keys == {"billing"}
    bad = CliRunner().invoke(main, ["report", "--from", "2026-11-21", "--to", "2026-11-19"])
    assert bad.exit_code != 0


def test_daily_job_writes_yesterdays_report_and_schedules_the_next_night_once(
    day_of_calls: tuple[Container, Dataset], tmp_path: Path
) -> None:
    container, _ = day_of_calls
    container.clock = lambda: END.timestamp() + 3600  # 01:00 the next day
    register(container)
    path = jobs.daily_report(container.keys.tag, str(tmp_path))
    assert Path(path).name == "kpi-2026-11-20.html" and "<svg" in Path(path).read_text()
    first = jobs.schedule_daily_report(container, str(tmp_path))
    assert jobs.schedule_daily_report(container, str(tmp_path)) == first
    assert first.endswith("2026-11-22")
