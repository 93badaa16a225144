"""GIVEN the real monitor over the provisioned world WHEN it evaluates THEN each evaluation that
decided publishes one EMF document with its verdict, its failing sources and its hysteresis
counts, dimensioned exactly as the dashboard selects them (switchyard.contract); one that
evaluated nothing publishes none.

Route 53's verdicts are stated per test (tests.controller.route53_verdicts: moto says
"Success" for every check and resolves no name); every other read is the monitor's own call
against moto, checked against its IAM policy at teardown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.contract import (
    METRICS_NAMESPACE,
    MONITOR_FAILING_EVALUATIONS_METRIC,
    MONITOR_FAILING_SIGNALS_METRIC,
    MONITOR_RECOVERING_EVALUATIONS_METRIC,
    MONITOR_VERDICT_METRIC,
    MONITOR_VERDICT_VALUES,
    monitor_metric_dimensions,
)
from switchyard.deps import RunbookDeps
from switchyard.model import Decision
from tests.controller.conftest import Controller, StaticProbe
from tests.controller.local_https import resolve_loopback_only
from tests.controller.route53_verdicts import route53_sees

VERDICT_METRICS = (
    MONITOR_VERDICT_METRIC,
    MONITOR_FAILING_SIGNALS_METRIC,
    MONITOR_FAILING_EVALUATIONS_METRIC,
    MONITOR_RECOVERING_EVALUATIONS_METRIC,
)


@pytest.fixture(autouse=True)
def metrics_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_loopback_only(monkeypatch)


def watching(ctl: Controller, region: str, *, failing: bool) -> RunbookDeps:
    """``region``'s monitor, seeing the other (active) region failing everywhere or healthy everywhere."""
    watched = ctl.config.regions.other(region)
    ctl.alarm_everything(watched, "ALARM" if failing else "OK")
    probe = StaticProbe(healthy=not failing)
    return route53_sees(ctl.deps(region, probe=probe), probe, {watched: failing})


def verdict_documents(output: str) -> list[dict[str, Any]]:
    """The EMF documents on stdout that carry the monitor's verdict."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    return [document for document in documents if MONITOR_VERDICT_METRIC in document]


def value(document: dict[str, Any], name: str) -> float:
    """One metric's value in an EMF document (EMF lists a metric's values)."""
    [number] = document[name]
    return float(number)


def values(document: dict[str, Any]) -> dict[str, float]:
    return {name: value(document, name) for name in VERDICT_METRICS}


def test_a_healthy_evaluation_publishes_verdict_zero_with_the_dashboards_dimensions(
    rds: Controller, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the primary healthy, watched by the standby's monitor
    primary, standby = rds.config.regions.pair
    deps = watching(rds, standby, failing=False)

    # WHEN the monitor evaluates once
    [outcome] = rds.evaluate(deps, 1)

    # THEN one document: verdict 0, nothing failing, no hysteresis, in the namespace and with
    # exactly the dimensions the dashboard selects (no service dimension)
    assert outcome["decision"] == Decision.HEALTHY
    [document] = verdict_documents(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    dimensions = monitor_metric_dimensions(rds.config, region=standby, watched_region=primary)
    assert directive["Namespace"] == METRICS_NAMESPACE
    assert directive["Dimensions"] == [list(dimensions)]
    assert {name: document[name] for name in dimensions} == dimensions
    assert {metric["Name"] for metric in directive["Metrics"]} == set(VERDICT_METRICS)
    assert values(document) == {
        MONITOR_VERDICT_METRIC: 0.0,
        MONITOR_FAILING_SIGNALS_METRIC: 0.0,
        MONITOR_FAILING_EVALUATIONS_METRIC: 0.0,
        MONITOR_RECOVERING_EVALUATIONS_METRIC: 0.0,
    }


def test_a_failing_region_publishes_the_fail_over_verdict_and_its_failing_sources(
    rds: Controller, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the primary failing: its alarms, Route 53's verdict and the standby's probe (dev
    # fails over on the first evaluation with quorum; its heartbeat was never seen: missing data)
    standby = rds.config.regions.standby
    rds.state_machine(standby)
    deps = watching(rds, standby, failing=True)

    # WHEN the monitor evaluates once
    [outcome] = rds.evaluate(deps, 1)

    # THEN the verdict is fail over (2), three sources fail (quorum 2), one evaluation with quorum
    assert outcome["decision"] == Decision.FAIL_OVER
    [document] = verdict_documents(capsys.readouterr().out)
    assert values(document) == {
        MONITOR_VERDICT_METRIC: float(MONITOR_VERDICT_VALUES[Decision.FAIL_OVER]),
        MONITOR_FAILING_SIGNALS_METRIC: 3.0,
        MONITOR_FAILING_EVALUATIONS_METRIC: 1.0,
        MONITOR_RECOVERING_EVALUATIONS_METRIC: 0.0,
    }


def test_recovery_counts_evaluations_without_quorum_while_the_failure_episode_is_open(
    rds: Controller, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one evaluation of a failing primary (the standby's runbook is a stand-in: nothing moves)
    standby = rds.config.regions.standby
    rds.state_machine(standby)
    rds.evaluate(watching(rds, standby, failing=True), 1)
    capsys.readouterr()

    # WHEN the primary is healthy again for three evaluations
    outcomes = rds.evaluate(watching(rds, standby, failing=False), 3)

    # THEN each is healthy (0) and counts towards recovery (recover_after_evaluations is 60 in
    # dev), while the episode's count of evaluations with quorum stays until it closes
    assert [outcome["decision"] for outcome in outcomes] == [Decision.HEALTHY] * 3
    documents = verdict_documents(capsys.readouterr().out)
    assert [value(document, MONITOR_VERDICT_METRIC) for document in documents] == [0.0, 0.0, 0.0]
    assert [value(document, MONITOR_RECOVERING_EVALUATIONS_METRIC) for document in documents] == [1.0, 2.0, 3.0]
    assert [value(document, MONITOR_FAILING_EVALUATIONS_METRIC) for document in documents] == [1.0, 1.0, 1.0]


def test_an_evaluation_that_decides_nothing_publishes_no_verdict(
    rds: Controller, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the seeded state: the primary active, watched by the standby, not by itself
    primary = rds.config.regions.primary
    deps = rds.deps(primary, probe=StaticProbe(healthy=True))

    # WHEN the primary's monitor evaluates
    [outcome] = rds.evaluate(deps, 1)

    # THEN it decided nothing and published no verdict (a gap on the dashboard, not a false 0)
    assert outcome["decision"] is None
    assert verdict_documents(capsys.readouterr().out) == []
