"""ControllerAlarms: the catalogue's non-health alarms, notifying the topic, linking their runbook."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from stacks.controller.alarms import ControllerAlarms
from switchyard.alarms import ALARMS, alarm_spec
from switchyard.config import EnvironmentConfig
from switchyard.contract import (
    CONTROLLER_PURPOSES,
    DATABASE_NOT_FENCED_METRIC,
    DESIRED_STATE_MISSING_METRIC,
    METRICS_NAMESPACE,
)
from tests.stacks.controller.builders import BareStack, bare_stack

CONTROLLER_ALARM_KEYS = ("runbook-failed", "controller-errors", "desired-state-missing", "database-not-fenced")
RUNBOOK_LINK = re.compile(r"Runbook: (runbooks/[a-z0-9/_-]+\.md)$")


@pytest.fixture(scope="module")
def built(dev: EnvironmentConfig) -> tuple[BareStack, Template]:
    given = bare_stack(dev, dev.regions.primary)
    functions = [
        lambda_.Function.from_function_arn(given.stack, f"Fn{purpose}", given.function_arn(purpose))
        for purpose in CONTROLLER_PURPOSES
    ]
    ControllerAlarms(
        given.stack,
        "Alarms",
        region=given.scope,
        state_machine=sfn.StateMachine.from_state_machine_name(
            given.stack, "Runbook", given.names.state_machine(given.region)
        ),
        functions=functions,
    )
    return given, Template.from_stack(given.stack)


@pytest.fixture(scope="module")
def alarms_by_name(built) -> dict[str, dict[str, Any]]:
    _, template = built
    found = {}
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        found[alarm["Properties"]["AlarmName"]] = alarm["Properties"]
    for alarm in template.find_resources("AWS::CloudWatch::CompositeAlarm").values():
        found[alarm["Properties"]["AlarmName"]] = alarm["Properties"]
    return found


def test_the_controller_alarms_are_the_catalogues_non_health_alarms_it_owns() -> None:
    # GIVEN the catalogue  THEN the alarms this construct owns are in it and are not health signals
    assert all(not alarm_spec(key).health_signal for key in CONTROLLER_ALARM_KEYS)
    assert set(CONTROLLER_ALARM_KEYS) <= {alarm.key for alarm in ALARMS}


@pytest.mark.parametrize("key", CONTROLLER_ALARM_KEYS)
def test_alarm_is_named_per_the_catalogue_and_notifies_the_topic(built, alarms_by_name, key: str) -> None:
    given, _ = built
    alarm = alarms_by_name[given.names.alarm(given.region, key)]
    topic = given.names.topic_arn(given.region)
    assert alarm["AlarmActions"] == [topic]
    assert alarm["OKActions"] == [topic]


@pytest.mark.parametrize("key", CONTROLLER_ALARM_KEYS)
def test_alarm_description_links_its_runbook_page(built, alarms_by_name, key: str) -> None:
    # GIVEN the alarm's description
    given, _ = built
    description = alarms_by_name[given.names.alarm(given.region, key)]["AlarmDescription"]
    # THEN it ends with a repository-relative link to the page the catalogue names
    # (that every catalogue page exists is the runbooks' own test)
    link = RUNBOOK_LINK.search(description)
    assert link is not None, description
    assert link.group(1) == alarm_spec(key).runbook_page


def test_runbook_failed_counts_failed_timed_out_and_aborted_executions(built, alarms_by_name) -> None:
    given, _ = built
    alarm = alarms_by_name[given.names.alarm(given.region, "runbook-failed")]
    metrics = {query["MetricStat"]["Metric"]["MetricName"] for query in alarm["Metrics"] if "MetricStat" in query}
    assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}


def test_controller_errors_covers_every_controller_function(built, alarms_by_name) -> None:
    # GIVEN the parts under the controller-errors composite alarm
    given, _ = built
    name = given.names.alarm(given.region, "controller-errors")
    parts = [alarm for alarm_name, alarm in alarms_by_name.items() if alarm_name.startswith(f"{name}-part-")]
    watched = [
        query["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
        for part in parts
        for query in part["Metrics"]
        if "MetricStat" in query
    ]
    # THEN every function's Errors is watched exactly once, within CloudWatch's 10 metrics per alarm
    assert sorted(watched) == sorted(given.names.function(given.region, purpose) for purpose in CONTROLLER_PURPOSES)
    assert all(len([q for q in part["Metrics"] if "MetricStat" in q]) <= 10 for part in parts)
    assert all("AlarmActions" not in part for part in parts)


def test_controller_errors_fires_when_any_part_fires(built, alarms_by_name) -> None:
    given, _ = built
    name = given.names.alarm(given.region, "controller-errors")
    rule = alarms_by_name[name]["AlarmRule"]
    parts = [alarm_name for alarm_name in alarms_by_name if alarm_name.startswith(f"{name}-part-")]
    assert len(parts) >= 2
    assert " OR " in str(rule)


@pytest.mark.parametrize(
    ("key", "metric"),
    [("desired-state-missing", DESIRED_STATE_MISSING_METRIC), ("database-not-fenced", DATABASE_NOT_FENCED_METRIC)],
)
def test_regional_count_alarms_fire_on_the_metric_the_controller_publishes(
    built, alarms_by_name, key: str, metric: str
) -> None:
    # GIVEN the alarm on a count the controller emits per region  WHEN synthesized
    given, _ = built
    alarm = alarms_by_name[given.names.alarm(given.region, key)]
    # THEN it watches the contract's metric for this region and fires on one datapoint
    assert (alarm["Namespace"], alarm["MetricName"]) == (METRICS_NAMESPACE, metric)
    assert alarm["Dimensions"] == [{"Name": "Region", "Value": given.region}]
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (1, 1, "notBreaching")
