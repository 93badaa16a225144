"""The drill's production section: the simulated production timeline of a scenario the
simulation models (switchyard_sim), said to be absent for the others; its summary line,
Markdown and PNG; and the moto Wait states that advance the drill clock instead of sleeping."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drill.clock import DrillClock
from drill.report import (
    NO_PRODUCTION_MODEL,
    DataLoss,
    DrillReport,
    InvariantSummary,
    Measured,
    PolicyCheckSummary,
    Production,
    markdown,
    not_restored_reason,
    production_line,
    production_rows,
    render_timeline,
)
from drill.runner import PRODUCTION_SEED, production_of, production_timeline
from drill.scenarios import SCENARIOS
from drill.stepfunctions import waits_on_the_clock
from switchyard.config import EnvironmentConfig
from switchyard_sim.timeline import SIM_SCENARIOS, RunResult, StepSpan


def _restored_run() -> RunResult:
    run = RunResult("dev", "region-outage", seed=7, floor_s=344.21)
    run.detected_s, run.decided_s, run.runbook_started_s = 40.04, 70.0, 71.0
    run.flipped_s, run.traffic_moved_s, run.database_writable_s = 75.0, 181.0, 372.55
    run.capacity_ready_s, run.runbook_ended_s, run.runbook_status = 300.0, 380.0, "SUCCEEDED"
    run.steps = [
        StepSpan("Validate", 71.0, 72.0, 1),
        StepSpan("WaitReady", 80.0, 81.0, 1),
        StepSpan("PollReadinessAgain", 81.0, 91.0, 1),
        StepSpan("WaitReady", 91.0, None, 2),
    ]
    return run


def _production(**changes: object) -> Production:
    return production_of(_restored_run(), mode="automatic").model_copy(update=changes)


def _report(production: Production | None) -> DrillReport:
    return DrillReport(
        environment="dev",
        scenario="region-outage",
        engine="rds-postgres",
        primary_region="us-east-1",
        standby_region="us-west-2",
        active_region_after="us-west-2",
        passed=True,
        expectations=[],
        timeline=[],
        steps=[],
        data=DataLoss(
            acknowledged_writes=0,
            lost_writes=0,
            lost_before_fault=0,
            lost_after_fault=0,
            lost_sequences=[],
            loss_window_seconds=None,
            replication_lag_at_fault_seconds=None,
        ),
        measured=Measured(detection_seconds=None, runbook_seconds=None, rto_seconds=None, runbook_runs=0, api_calls=0),
        production=production,
        policy=PolicyCheckSummary(checked_calls=0, unlabelled_calls=0, denied_calls=0, uncheckable_calls=0),
        invariant=InvariantSummary(
            passed=True,
            samples=0,
            max_active_regions=1,
            max_accepting_databases=1,
            max_writable_databases=1,
            two_engines_writable_seconds=0.0,
            writes_by_non_writer=0,
        ),
        writers=[],
    )


def test_production_section_takes_every_time_from_the_simulated_run() -> None:
    # GIVEN a simulated run that restored service  WHEN it becomes the report's section
    production = production_of(_restored_run(), mode="automatic")
    # THEN the times are the run's, rounded as the simulation reports them, RTO = max(traffic, database)
    assert (production.detection_seconds, production.decision_seconds, production.flip_seconds) == (40.0, 70.0, 75.0)
    assert production.rto_seconds == 372.6
    assert (production.seed, production.floor_seconds) == (7, 344.2)
    assert [(step.state, step.end_seconds) for step in production.steps][-1] == ("WaitReady", None)


def test_scenarios_the_simulation_does_not_model_have_no_production_section(dev_config: EnvironmentConfig) -> None:
    # GIVEN a drill scenario the production simulation does not model  THEN no section, not a guess
    unmodelled = next(scenario for name, scenario in SCENARIOS.items() if name not in SIM_SCENARIOS)
    assert production_timeline(dev_config, unmodelled) is None


@pytest.mark.parametrize("name", list(SIM_SCENARIOS))
def test_modelled_scenarios_report_their_simulated_run_with_the_fixed_seed(
    dev_config: EnvironmentConfig, name: str
) -> None:
    # GIVEN a scenario the simulation models  WHEN the drill asks for its production timeline
    production = production_timeline(dev_config, SCENARIOS[name])
    # THEN it is one simulated run with the drill's seed, as configured, that at least detected the fault
    assert production is not None
    assert (production.seed, production.mode) == (PRODUCTION_SEED, dev_config.mode)
    assert production.detection_seconds is not None
    assert production.floor_seconds > production.detection_seconds


def test_prod_is_simulated_in_its_configured_manual_mode(prod_config: EnvironmentConfig) -> None:
    # GIVEN prod (manual mode)  WHEN the drill asks for region-outage's production timeline
    production = production_timeline(prod_config, SCENARIOS["region-outage"])
    # THEN the mode is not switched: the section says manual, and the line says why nothing ran if nothing did
    assert production is not None
    assert production.mode == "manual"
    if production.runbook_status is None:
        assert "manual mode" in production_line(production)


def test_summary_line_gives_the_production_rto_and_the_floor() -> None:
    line = production_line(_production())
    assert "RTO 373 s" in line
    assert "floor 344 s" in line
    assert "traffic moved 181 s" in line


def test_summary_line_says_not_restored_and_why_for_a_failed_run() -> None:
    # GIVEN a run whose runbook failed before the database was writable
    production = _production(
        runbook_status="FAILED",
        runbook_error="Switchyard.FailedAfterChanges",
        rto_seconds=None,
        traffic_moved_seconds=None,
    )
    # THEN the line names the failure instead of an RTO
    assert "RTO not restored (runbook FAILED: Switchyard.FailedAfterChanges)" in production_line(production)


def test_manual_mode_without_a_runbook_is_explained_as_waiting_for_a_human() -> None:
    production = _production(mode="manual", runbook_status=None, rto_seconds=None, runbook_started_seconds=None)
    assert "no human starts it" in not_restored_reason(production)


def test_no_production_model_is_said_explicitly() -> None:
    assert production_line(None) == f"production: {NO_PRODUCTION_MODEL}"
    assert NO_PRODUCTION_MODEL in markdown(_report(None), "timeline.png").lower()


def test_markdown_shows_the_production_table() -> None:
    # GIVEN a report with a production section  WHEN rendered as Markdown
    page = markdown(_report(_production()), "timeline.png")
    # THEN it has the RTO, each event and one row per ASL state (a loop's visits on one row)
    assert "## Production timeline: RTO 372.6 s" in page
    assert "| database writable | 372.6 |" in page
    assert "| WaitReady | 2 | 80.0 | - | 3 |" in page


def test_loop_visits_share_one_row_in_order_of_first_visit() -> None:
    rows = production_rows(_production().steps)
    assert [(state, len(visits)) for state, visits in rows] == [
        ("Validate", 1),
        ("WaitReady", 2),
        ("PollReadinessAgain", 1),
    ]


@pytest.mark.parametrize("production", [None, "restored", "nothing ran"])
def test_png_is_drawn_for_production_and_emulation_timelines(production: str | None, tmp_path: Path) -> None:
    # GIVEN a production timeline, one where no runbook ran, or none at all
    section = {
        None: None,
        "restored": _production(),
        "nothing ran": _production(steps=[], runbook_status=None, rto_seconds=None),
    }[production]
    path = tmp_path / "timeline.png"
    # WHEN drawn  THEN a PNG is written
    render_timeline(_report(section), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_wait_state_advances_the_drill_clock_instead_of_sleeping() -> None:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (  # noqa: PLC0415
        WaitFunction,
    )

    # GIVEN the drill clock and the session's Wait patch
    clock = DrillClock()
    waits: list[float] = []
    with waits_on_the_clock(clock.advance, waits):
        before, started = clock(), time.monotonic()
        # WHEN moto's interpreter waits out a 10 s Wait state
        WaitFunction._wait_interval(object(), object(), 10)  # type: ignore[arg-type]
        # THEN the drill clock moved 10 s, the wall clock did not, and the wait is recorded
        assert clock() - before >= 10.0
        assert time.monotonic() - started < 1.0
    assert waits == [10.0]
