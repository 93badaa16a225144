"""ControllerAlarms: the alarms about Switchyard itself (the runbook failing, the
controller's functions erroring, the desired state unreadable), named and described from
switchyard.alarms.

The health-signal alarms live beside what they watch (load balancer, ASG, database).
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
from switchyard.contract import DESIRED_STATE_MISSING_METRIC, METRICS_NAMESPACE

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


class ControllerAlarms(Construct):
    """``runbook-failed``, ``controller-errors`` and ``desired-state-missing`` of one region,
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
        names = region.names
        runbook_failed = alarm_spec("runbook-failed")
        self.runbook_failed = self._notify(
            cloudwatch.Alarm(
                self,
                "RunbookFailed",
                alarm_name=names.alarm(region.region, runbook_failed.key),
                alarm_description=runbook_failed.description,
                metric=any_nonzero(
                    {
                        "failed": state_machine.metric_failed(period=PERIOD),
                        "timed_out": state_machine.metric_timed_out(period=PERIOD),
                        "aborted": state_machine.metric_aborted(period=PERIOD),
                    },
                    label="runbook executions failed, timed out or aborted",
                ),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        self.controller_errors = self._controller_errors(region=region, functions=functions)
        desired_state_missing = alarm_spec("desired-state-missing")
        self.desired_state_missing = self._notify(
            cloudwatch.Alarm(
                self,
                "DesiredStateMissing",
                alarm_name=names.alarm(region.region, desired_state_missing.key),
                alarm_description=desired_state_missing.description,
                metric=cloudwatch.Metric(
                    namespace=METRICS_NAMESPACE,
                    metric_name=DESIRED_STATE_MISSING_METRIC,
                    dimensions_map={"Region": region.region},
                    statistic="Sum",
                    period=PERIOD,
                ),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def _controller_errors(self, *, region: RegionScope, functions: Sequence[lambda_.IFunction]) -> cloudwatch.IAlarm:
        """Any function erroring. One metric-math alarm takes at most 10 metrics, so the
        functions are split into parts (without actions) under one composite alarm."""
        spec = alarm_spec("controller-errors")
        name = region.names.alarm(region.region, spec.key)
        parts = []
        for index, start in enumerate(range(0, len(functions), METRICS_PER_ALARM), start=1):
            chunk = functions[start : start + METRICS_PER_ALARM]
            parts.append(
                cloudwatch.Alarm(
                    self,
                    f"ControllerErrorsPart{index}",
                    alarm_name=f"{name}-part-{index}",
                    alarm_description=f"Part {index} of {name} (no actions of its own). Runbook: {spec.runbook_page}",
                    metric=any_nonzero(
                        {f"errors_{number}": fn.metric_errors(period=PERIOD) for number, fn in enumerate(chunk)},
                        label=f"controller function errors, part {index}",
                    ),
                    threshold=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
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
