"""AutomaticTrigger: schedules, and health-alarm changes routed to the monitor that acts."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from stacks.controller.trigger import AutomaticTrigger, evaluation_schedule
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from tests.stacks.controller.builders import BareStack, bare_stack

ALARM_SOURCE = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}


@pytest.fixture(scope="module")
def built(dev: EnvironmentConfig) -> tuple[BareStack, dict[str, dict[str, Any]]]:
    given = bare_stack(dev, dev.regions.primary)
    AutomaticTrigger(
        given.stack,
        "Trigger",
        region=given.scope,
        monitor=lambda_.Function.from_function_arn(given.stack, "Monitor", given.function_arn("monitor")),
        reconciler=lambda_.Function.from_function_arn(given.stack, "Reconciler", given.function_arn("reconciler")),
    )
    rules = Template.from_stack(given.stack).find_resources("AWS::Events::Rule")
    return given, {logical_id: rule["Properties"] for logical_id, rule in rules.items()}


def rule(rules: dict[str, dict[str, Any]], prefix: str) -> dict[str, Any]:
    (properties,) = [properties for logical_id, properties in rules.items() if logical_id.startswith(prefix)]
    return properties


def health_alarm_arns(given: BareStack, region: str) -> list[str]:
    return [given.names.alarm_arn(region, alarm.key) for alarm in HEALTH_SIGNAL_ALARMS]


def test_monitor_is_invoked_every_minute_at_sub_minute_evaluations(built) -> None:
    # GIVEN dev's sub-minute evaluations (5 s)  THEN the schedule invokes the monitor once a minute
    # (EventBridge rates are whole minutes; the invocation runs the minute's evaluations)
    given, rules = built
    assert given.config.detection.evaluation_interval_seconds < 60
    schedule = rule(rules, "TriggerMonitorSchedule")
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    assert schedule["Targets"][0]["Arn"] == given.function_arn("monitor")


@pytest.mark.parametrize(
    ("seconds", "expression"),
    [(5, "rate(1 minute)"), (30, "rate(1 minute)"), (60, "rate(1 minute)"), (120, "rate(2 minutes)")],
)
def test_the_schedule_follows_the_interval(dev: EnvironmentConfig, seconds: int, expression: str) -> None:
    # GIVEN an evaluation interval  WHEN scheduled  THEN once a minute below a minute, else the interval
    config = dev.model_copy(
        update={"detection": dev.detection.model_copy(update={"evaluation_interval_seconds": seconds})}
    )
    assert evaluation_schedule(config).expression_string == expression


def test_reconciler_runs_on_a_schedule(built) -> None:
    given, rules = built
    schedule = rule(rules, "TriggerReconcilerSchedule")
    assert schedule["ScheduleExpression"].startswith("rate(")
    assert schedule["Targets"][0]["Arn"] == given.function_arn("reconciler")


def test_this_regions_health_alarms_go_to_the_other_regions_bus(built) -> None:
    # GIVEN the forwarding rule of the primary region
    given, rules = built
    forward = rule(rules, "TriggerForwardHealthAlarms")
    # THEN it matches exactly this region's health-signal alarms, from CloudWatch
    assert forward["EventPattern"] == {**ALARM_SOURCE, "resources": health_alarm_arns(given, given.region)}
    # AND it puts them on the other region's default bus with a role
    (target,) = forward["Targets"]
    assert target["Arn"] == f"arn:aws:events:{given.other_region}:{given.account}:event-bus/default"
    assert "RoleArn" in target


def test_the_other_regions_health_alarms_wake_the_local_monitor(built) -> None:
    given, rules = built
    watch = rule(rules, "TriggerWatchOtherRegionAlarms")
    assert watch["EventPattern"] == {**ALARM_SOURCE, "resources": health_alarm_arns(given, given.other_region)}
    assert [target["Arn"] for target in watch["Targets"]] == [given.function_arn("monitor")]


def test_every_target_retries_a_bounded_number_of_times(built) -> None:
    _, rules = built
    lambda_targets = [
        target for properties in rules.values() for target in properties["Targets"] if ":lambda:" in target["Arn"]
    ]
    assert lambda_targets
    for target in lambda_targets:
        assert target["RetryPolicy"]["MaximumRetryAttempts"] <= 3
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 600


@pytest.mark.parametrize("seconds", [90, 45])
def test_an_interval_that_neither_divides_the_minute_nor_is_whole_minutes_is_refused(
    dev: EnvironmentConfig, seconds: int
) -> None:
    # GIVEN an evaluation interval EventBridge cannot schedule (model_copy skips the config's own check)
    config = dev.model_copy(
        update={"detection": dev.detection.model_copy(update={"evaluation_interval_seconds": seconds})}
    )
    # WHEN scheduled  THEN the error names the field
    with pytest.raises(ValueError, match=r"detection\.evaluation_interval_seconds"):
        evaluation_schedule(config)
