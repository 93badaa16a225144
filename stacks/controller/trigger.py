"""AutomaticTrigger: what wakes the monitor and the reconciler.

A health alarm fires in the region that is failing, but the monitor that must act runs
in the *other* region (static stability), so each region forwards its own health-alarm
state changes to the other region's default event bus and listens for the other
region's alarms on its own bus.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.shared.policy import acknowledge
from stacks.shared.scope import RegionScope
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.contract import MONITOR_SCHEDULE_SECONDS

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
RECONCILE_EVERY = Duration.minutes(1)
# A stale trigger is worth little: the monitor and reconciler re-read everything anyway.
TARGET_RETRY_ATTEMPTS = 2
TARGET_MAX_EVENT_AGE = Duration.minutes(5)


def health_alarm_pattern(alarm_arns: list[str]) -> events.EventPattern:
    """State changes of exactly these CloudWatch alarms, from CloudWatch itself."""
    return events.EventPattern(source=["aws.cloudwatch"], detail_type=[ALARM_STATE_CHANGE], resources=alarm_arns)


def evaluation_schedule(config: EnvironmentConfig) -> events.Schedule:
    """The monitor's schedule. EventBridge rates are whole minutes: a sub-minute interval
    (one that divides the minute) is invoked once a minute and runs 60 / interval
    evaluations in that invocation (switchyard.handlers.monitor); a whole number of minutes
    is the rate itself."""
    seconds = config.detection.evaluation_interval_seconds
    if seconds < MONITOR_SCHEDULE_SECONDS and MONITOR_SCHEDULE_SECONDS % seconds == 0:
        return events.Schedule.rate(Duration.seconds(MONITOR_SCHEDULE_SECONDS))
    if seconds % MONITOR_SCHEDULE_SECONDS:
        raise ValueError(
            f"environment {config.name!r}: field 'detection.evaluation_interval_seconds': {seconds} neither divides "
            "the minute nor is a whole number of minutes (EventBridge schedules run at minute granularity)"
        )
    return events.Schedule.rate(Duration.minutes(seconds // MONITOR_SCHEDULE_SECONDS))


class AutomaticTrigger(Construct):
    """Schedules and alarm-state wiring for one region's monitor and reconciler."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        monitor: lambda_.IFunction,
        reconciler: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        names, here, other_region = region.names, region.region, region.other_region

        def invoke(function: lambda_.IFunction) -> targets.LambdaFunction:
            return targets.LambdaFunction(
                function, retry_attempts=TARGET_RETRY_ATTEMPTS, max_event_age=TARGET_MAX_EVENT_AGE
            )

        self.monitor_schedule = events.Rule(
            self,
            "MonitorSchedule",
            description="Evaluate the failover decision on a fixed cadence, alarms or not",
            schedule=evaluation_schedule(region.config),
            targets=[invoke(monitor)],
        )
        self.reconciler_schedule = events.Rule(
            self,
            "ReconcilerSchedule",
            description="Converge this region to the desired state (constant work)",
            schedule=events.Schedule.rate(RECONCILE_EVERY),
            targets=[invoke(reconciler)],
        )
        forward_role = iam.Role(
            self,
            "ForwardRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"Forward {here}'s health-alarm changes to {other_region}'s default event bus",
        )
        self.forward_health_alarms = events.Rule(
            self,
            "ForwardHealthAlarms",
            description=(f"Health alarms of {here} -> the monitor in {other_region}, which acts when {here} fails"),
            event_pattern=health_alarm_pattern([names.alarm_arn(here, alarm.key) for alarm in HEALTH_SIGNAL_ALARMS]),
            targets=[
                targets.EventBus(
                    events.EventBus.from_event_bus_arn(
                        self, "OtherRegionBus", names.default_event_bus_arn(other_region)
                    ),
                    role=forward_role,
                )
            ],
        )
        self.watch_other_region = events.Rule(
            self,
            "WatchOtherRegionAlarms",
            description=f"Health alarms of {other_region}, forwarded here -> this region's monitor",
            event_pattern=health_alarm_pattern(
                [names.alarm_arn(other_region, alarm.key) for alarm in HEALTH_SIGNAL_ALARMS]
            ),
            targets=[invoke(monitor)],
        )
        acknowledge(
            self,
            "Serverless-EventBusDLQ",
            "A lost trigger costs at most one schedule period: the monitor evaluates and the reconciler "
            "converges on a fixed schedule whether or not an event arrives, and each run re-reads every "
            "alarm and the state table; a queue of stale triggers would add nothing to act on.",
        )
