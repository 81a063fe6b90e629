"""`callcenter simulate` and `callcenter staffing` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from callcenter.cli import main
from callcenter.simulation.scenario import load_scenario
from callcenter.yamlsrc import ConfigError

EXAMPLE = Path(__file__).parents[2] / "callcenter" / "simulation" / "example_scenario.yaml"
KPIS = (
    "offered answered abandoned answer_rate abandonment_rate asa_seconds aht_seconds service_level occupancy "
    "max_wait_seconds"
).split()


def test_simulate_prints_the_kpis_beside_erlang_a_as_json() -> None:
    args = "simulate --operators 3 --arrival-rate 120 --aht 60 --calls 150 --seed 4 --patience 30 --json"
    result = CliRunner().invoke(main, args.split())
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(KPIS) <= set(document)
    assert document["offered"] == 150
    assert document["prediction"]["model"] == "erlang_a"
    assert 0 < document["prediction"]["abandonment_rate"] < 1


def test_simulate_without_a_scenario_needs_the_queue_options() -> None:
    result = CliRunner().invoke(main, ["simulate", "--operators", "3"])
    assert result.exit_code == 2
    assert "--arrival-rate" in result.output


def test_simulate_runs_a_scenario_file_with_overrides(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    args = ["simulate", "--scenario", str(scenario), "--calls", "120", "--warmup-calls", "0", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["offered"] == 120
    assert set(document["queues"]) == {"general", "technical"}
    assert "prediction" not in document  # no Erlang model for several queues


def test_scenario_errors_name_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("queues:\n  q:\n    arrival_rate_per_hour: -3\n    aht_seconds: 60\noperators: []\n")
    try:
        load_scenario(broken)
    except ConfigError as exc:
        assert f"{broken}:3: queues.q.arrival_rate_per_hour" in str(exc)
    else:
        raise AssertionError("a negative arrival rate was accepted")


def test_staffing_prints_the_table_and_the_required_staff() -> None:
    args = "staffing --arrival-rate 200 --aht 180 --threshold 20 --target-sl 0.8"
    result = CliRunner().invoke(main, args.split())
    assert result.exit_code == 0, result.output
    assert "required: 14 operators" in result.output
    assert "14" in next(line for line in result.output.splitlines() if "<- required" in line)


def test_staffing_with_patience_uses_erlang_a_as_json() -> None:
    args = "staffing --arrival-rate 200 --aht 180 --target-sl 0.8 --patience 120 --json"
    result = CliRunner().invoke(main, args.split())
    document = json.loads(result.output)
    assert document["model"] == "erlang_a"
    assert document["required"] == 12
    assert [row["operators"] for row in document["rows"]][-4:] == [12, 13, 14, 15]
