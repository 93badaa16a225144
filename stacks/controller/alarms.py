"""ControllerAlarms: the alarms about Switchyard itself (the runbook failing, the
controller's functions erroring, the desired state unreadable, a fenced region's database
not fenced, the traffic switch throttled), named and described from
switchyard.alarms.

The health-signal alarms live beside what they watch (load balancer, ASG, database).
The traffic switch lives in the regional stack; its throttle alarm is here, addressed by the
switch's contract function name like every cross-stack value, because it is about
Switchyard, not about the application's health: it notifies and is never a decision input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.shared.scope import RegionScope
from switchyard.alarms import alarm_spec
from switchyard.contract import (
    DATABASE_NOT_FENCED_METRIC,
    DESIRED_STATE_MISSING_METRIC,
    METRICS_NAMESPACE,
    TRAFFIC_SWITCH,
)

PERIOD = Duration.minutes(1)
METRICS_PER_ALARM = 10  # CloudWatch's limit for a metric-math alarm


def any_nonzero(metrics: Mapping[str, cloudwatch.IMetric], label: str) -> cloudwatch.MathExpression:
    """The sum of ``metrics`` per period, missing data counted as zero."""
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics),
        using_metrics=dict(metrics),
        label=label,
        period=PERIOD,
    )


def any_occurrence(
    scope: Construct, construct_id: str, *, name: str, description: str, metric: cloudwatch.IMetric
) -> cloudwatch.Alarm:
    """An alarm that fires on one non-zero minute; missing data is not an occurrence."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_name=name,
        alarm_description=description,
        metric=metric,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class ControllerAlarms(Construct):
    """``runbook-failed``, ``controller-errors``, ``desired-state-missing``,
    ``database-not-fenced`` and ``traffic-switch-throttled`` of one region,
    notifying the region's topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        state_machine: sfn.IStateMachine,
        functions: Sequence[lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self._topic = region.topic
        self._region = region
        self.runbook_failed = self._catalogue_alarm(
            "RunbookFailed",
            "runbook-failed",
            any_nonzero(
                {
                    "failed": state_machine.metric_failed(period=PERIOD),
                    "timed_out": state_machine.metric_timed_out(period=PERIOD),
                    "aborted": state_machine.metric_aborted(period=PERIOD),
                },
                label="runbook executions failed, timed out or aborted",
            ),
        )
        self.controller_errors = self._controller_errors(functions)
        self.desired_state_missing = self._catalogue_alarm(
            "DesiredStateMissing", "desired-state-missing", self._regional_count(DESIRED_STATE_MISSING_METRIC)
        )
        self.database_not_fenced = self._catalogue_alarm(
            "DatabaseNotFenced", "database-not-fenced", self._regional_count(DATABASE_NOT_FENCED_METRIC)
        )
        self.traffic_switch_throttled = self._catalogue_alarm(
            "TrafficSwitchThrottled", "traffic-switch-throttled", self._switch_throttles()
        )

    def _regional_count(self, metric_name: str) -> cloudwatch.Metric:
        """A count the controller emits with the one dimension ``Region`` (count_in_region)."""
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"Region": self._region.region},
            statistic="Sum",
            period=PERIOD,
        )

    def _switch_throttles(self) -> cloudwatch.Metric:
        """Requests Lambda refused at the switch's reserved concurrency (HTTP 429 to the caller,
        a Route 53 checker's included): Route 53's checkers alone never need that many, so one
        throttled request in a minute means someone else is calling the public URL."""
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="Throttles",
            dimensions_map={"FunctionName": self._region.names.function(self._region.region, TRAFFIC_SWITCH)},
            statistic="Sum",
            period=PERIOD,
        )

    def _catalogue_alarm(self, construct_id: str, key: str, metric: cloudwatch.IMetric) -> cloudwatch.AlarmBase:
        spec = alarm_spec(key)
        name = self._region.names.alarm(self._region.region, spec.key)
        return self._notify(any_occurrence(self, construct_id, name=name, description=spec.description, metric=metric))

    def _controller_errors(self, functions: Sequence[lambda_.IFunction]) -> cloudwatch.IAlarm:
        """Any function erroring. One metric-math alarm takes at most 10 metrics, so the
        functions are split into parts (without actions) under one composite alarm."""
        spec = alarm_spec("controller-errors")
        name = self._region.names.alarm(self._region.region, spec.key)
        parts = []
        for index, start in enumerate(range(0, len(functions), METRICS_PER_ALARM), start=1):
            chunk = functions[start : start + METRICS_PER_ALARM]
            parts.append(
                any_occurrence(
                    self,
                    f"ControllerErrorsPart{index}",
                    name=f"{name}-part-{index}",
                    description=f"Part {index} of {name} (no actions of its own). Runbook: {spec.runbook_page}",
                    metric=any_nonzero(
                        {f"errors_{number}": fn.metric_errors(period=PERIOD) for number, fn in enumerate(chunk)},
                        label=f"controller function errors, part {index}",
                    ),
                )
            )
        return self._notify(
            cloudwatch.CompositeAlarm(
                self,
                "ControllerErrors",
                composite_alarm_name=name,
                alarm_description=spec.description,
                alarm_rule=cloudwatch.AlarmRule.any_of(*parts),
            )
        )

    def _notify(self, alarm: cloudwatch.AlarmBase) -> cloudwatch.AlarmBase:
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self._topic))
        alarm.add_ok_action(cloudwatch_actions.SnsAction(self._topic))
        return alarm
