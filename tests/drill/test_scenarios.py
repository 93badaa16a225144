"""Every drill scenario runs end to end in both environments (moto server, real handlers,
real state machine, every AWS call checked against its function's synthesized IAM policy)
and its expectations hold; the numbers it reports are consistent with each other."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import pytest

from drill.report import SCHEMA_PATH, DrillReport, write_reports
from drill.runner import run_scenario
from drill.scenarios import SCENARIOS
from switchyard.config import load_environment
from switchyard_sim.timeline import SIM_SCENARIOS

pytestmark = pytest.mark.drill

ENVIRONMENTS = ("dev", "prod")  # rds-postgres in automatic mode; aurora-postgres in manual mode


@functools.cache
def scenario_reports(environment: str) -> dict[str, DrillReport]:
    """Every scenario of ``environment``, run once per test session."""
    config = load_environment(environment)
    return {name: run_scenario(config, scenario) for name, scenario in SCENARIOS.items()}


@pytest.fixture(scope="module")
def reports() -> dict[str, DrillReport]:
    return scenario_reports("dev")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_expectations_hold(environment: str, name: str) -> None:
    report = scenario_reports(environment)[name]
    failed = [f"{item.name}: {item.detail}" for item in report.expectations if not item.passed]
    assert report.passed, failed
    assert report.expectations, "a scenario without expectations proves nothing"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_call_of_the_scenario_is_denied_by_its_functions_policy(environment: str, name: str) -> None:
    # GIVEN the scenario's report  THEN its calls were checked against the synthesized policies, none denied
    policy = scenario_reports(environment)[name].policy
    assert policy.checked_calls > 0
    assert (policy.denied_calls, policy.uncheckable_calls) == (0, 0), policy


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_report_validates_against_the_committed_schema(environment: str, name: str) -> None:
    document = json.loads(scenario_reports(environment)[name].model_dump_json())
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_report_is_written_and_drawn(environment: str, name: str, tmp_path: Path) -> None:
    # GIVEN the scenario's report  WHEN written as `make drill` writes it (JSON, Markdown, PNG)
    written = write_reports(scenario_reports(environment)[name], tmp_path)
    # THEN every file exists and is not empty
    assert written, "no report written"
    assert all(path.stat().st_size > 0 for path in written.values()), written


def test_region_outage_timeline_is_ordered_and_consistent(reports: dict[str, DrillReport]) -> None:
    report = reports["region-outage"]
    events = [event.event for event in report.timeline]
    assert events.index("fault injected") < events.index("detected") < events.index("decision: fail over")
    assert events.index("decision: fail over") < events.index("runbook started")
    measured = report.measured
    assert measured.detection_seconds is not None
    assert measured.rto_seconds is not None
    # the decision needs fail_after_evaluations evaluations, evaluation_interval_seconds apart, and the dwell
    detection = load_environment("dev").detection
    assert measured.rto_seconds >= max(
        detection.fail_after_evaluations * detection.evaluation_interval_seconds, detection.dwell_seconds
    )
    assert measured.rto_seconds > measured.detection_seconds


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_only_the_simulated_scenarios_report_a_production_timeline(environment: str, name: str) -> None:
    # GIVEN any scenario's report  THEN it has a production timeline exactly when the simulation models it
    production = scenario_reports(environment)[name].production
    assert (production is not None) == (name in SIM_SCENARIOS)
    if production is not None:
        assert production.detection_seconds is not None, "the simulated fault was never detected"


def test_region_outage_runs_scale_up_beside_fence_and_promote(reports: dict[str, DrillReport]) -> None:
    steps = {step.step: step for step in reports["region-outage"].steps}
    assert steps["scale_up"].start_seconds < steps["promote"].end_seconds
    assert steps["fence"].end_seconds <= steps["promote"].start_seconds
    assert steps["promote"].end_seconds <= steps["flip"].start_seconds
    assert steps["promote"].mutating_calls >= 1, "the promotion is an AWS call the drill counts"


def test_monitoring_blind_never_starts_a_runbook(reports: dict[str, DrillReport]) -> None:
    report = reports["monitoring-blind"]
    assert report.measured.runbook_runs == 0
    assert report.steps == []
    assert report.active_region_after == report.primary_region


def test_switchover_loses_nothing_while_writes_flow(reports: dict[str, DrillReport]) -> None:
    data = reports["switchover"].data
    assert data.acknowledged_writes > 0
    assert data.lost_writes == 0


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_reports_its_writers_over_time(environment: str, name: str) -> None:
    # GIVEN any scenario's report  THEN the never-two-writers history was sampled and checked
    report = scenario_reports(environment)[name]
    assert report.invariant.samples > 10
    assert report.writers, "the history starts with the steady state"
    assert report.writers[0].active_regions == [report.primary_region]
    assert any(item.name.startswith("never two writers") for item in report.expectations)
    assert report.data.lost_before_fault + report.data.lost_after_fault == report.data.lost_writes


def test_partition_keeps_one_writer_on_the_primary(reports: dict[str, DrillReport]) -> None:
    report = reports["partition"]
    assert report.measured.runbook_runs == 0
    assert {tuple(change.accepting_databases) for change in report.writers} == {(report.primary_region,)}


def test_old_primary_returns_reports_the_engine_level_window(reports: dict[str, DrillReport]) -> None:
    # the returning old primary is writable at the engine level until its reconciler fences it,
    # and the report says so, while no client could get a write acknowledged by it
    invariant = reports["old-primary-returns"].invariant
    assert invariant.max_accepting_databases == 1
    assert invariant.max_writable_databases == 2
    assert invariant.two_engines_writable_seconds > 0
