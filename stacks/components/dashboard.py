"""RegionDashboard: one CloudWatch dashboard per environment and region (``Names.dashboard``),
what an operator opens first in an incident.

Top to bottom: who this is (environment, region, deployed role, runbook pages); the decision
signals about this region (its health-signal alarms from the catalogue, Route 53's verdict on
its load balancer, and the verdict of every monitor that evaluates it, with the hysteresis
counts against their thresholds); replication (the database's lag against the RPO budget,
S3's replication latency and backlog); capacity against target; the runbook's executions and
their outcomes; the traffic switch's public URL (requests, throttles, concurrency against its
reservation: what a flood of it looks like).

Every resource is addressed by its contract name or ARN (``switchyard.contract``), never by a
reference into another stack: the alarms, the ASG and the database live in this stack, the
runbook and its log group in the controller stack, the data buckets in the storage stacks.
The one exception is Route 53's health-check id, which AWS generates: the check is created by
this stack (``FailoverRecord``) and passed in.

Cross-region series carry their own region (``Metric(region=...)``): Route 53's metrics live in
us-east-1 only, the verdict on this region is published by the other region's monitor (and by
this region's own in self-watch), and replication lag is reported where the replica is.
Nothing here is math across regions.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from stacks.shared.scope import RegionScope
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.contract import (
    METRICS_NAMESPACE,
    MONITOR_FAILING_EVALUATIONS_METRIC,
    MONITOR_FAILING_SIGNALS_METRIC,
    MONITOR_RECOVERING_EVALUATIONS_METRIC,
    MONITOR_VERDICT_METRIC,
    MONITOR_VERDICT_VALUES,
    REPLICA_LAG_NAMESPACE,
    SIGNAL_HEALTH_CHECK,
    TRAFFIC_SWITCH,
    monitor_metric_dimensions,
)
from switchyard.model import Decision

ROUTE53_METRICS_REGION = "us-east-1"  # Route 53 publishes health-check metrics in us-east-1 only
MINUTE = cdk.Duration.minutes(1)
RUNBOOK_PERIOD = cdk.Duration.minutes(5)
RUNBOOK_OUTCOMES = ("ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
# the runbook's history at LogLevel.ALL: one event per execution's end, newest first
RUNBOOK_OUTCOME_QUERY = (
    "fields @timestamp, type, execution_arn",
    'filter type in ["ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"]',
    "sort @timestamp desc",
    "limit 10",
)
RUNBOOK_PAGES = (
    "runbooks/README.md",
    "runbooks/automatic-failover.md",
    "runbooks/manual-failover.md",
    "runbooks/planned-switchover.md",
    "runbooks/failback.md",
    "runbooks/approval-decisions.md",
)
FULL_WIDTH = 24
HEIGHT = 6


class RegionDashboard(Construct):
    """The dashboard of one region (``Names.dashboard(region)``)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, region: RegionScope, load_balancer_check_id: str
    ) -> None:
        super().__init__(scope, construct_id)
        self._region = region
        names = region.names
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=names.dashboard(region.region),
            default_interval=cdk.Duration.hours(3),
        )
        alarms = self._health_alarms()
        self.dashboard.add_widgets(self._header())
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Health-signal alarms (decision inputs)",
                alarms=alarms,
                width=8,
                height=HEIGHT,
            ),
            self._route53_verdict(load_balancer_check_id),
            self._monitor_graph(
                "Monitor verdict on this region (0 healthy, 1 degraded, 2 fail over, 3 both unhealthy)",
                MONITOR_VERDICT_METRIC,
                [
                    cloudwatch.HorizontalAnnotation(value=value, label=str(decision))
                    for decision, value in MONITOR_VERDICT_VALUES.items()
                    if decision is not Decision.HEALTHY
                ],
            ),
        )
        # each health-signal alarm's metric against its threshold
        self.dashboard.add_widgets(
            *(
                cloudwatch.AlarmWidget(title=f"alarm {spec.key}", alarm=alarm, width=8, height=HEIGHT)
                for spec, alarm in zip(HEALTH_SIGNAL_ALARMS, alarms, strict=True)
            )
        )
        detection = region.config.detection
        self.dashboard.add_widgets(
            self._monitor_graph(
                "Failing signal sources vs quorum",
                MONITOR_FAILING_SIGNALS_METRIC,
                [cloudwatch.HorizontalAnnotation(value=detection.quorum, label="quorum")],
            ),
            self._monitor_graph(
                "Consecutive evaluations with quorum",
                MONITOR_FAILING_EVALUATIONS_METRIC,
                [cloudwatch.HorizontalAnnotation(value=detection.fail_after_evaluations, label="fail after")],
            ),
            self._monitor_graph(
                "Evaluations towards recovery (open failure episode)",
                MONITOR_RECOVERING_EVALUATIONS_METRIC,
                [cloudwatch.HorizontalAnnotation(value=detection.recover_after_evaluations, label="recover after")],
            ),
        )
        self.dashboard.add_widgets(self._database_lag(), *self._s3_replication())
        self.dashboard.add_widgets(self._capacity(), self._runbook_outcomes(), self._runbook_history())
        self.dashboard.add_widgets(self._traffic_switch())

    # -- who and where ---------------------------------------------------------------------
    def _header(self) -> cloudwatch.TextWidget:
        region, names, config = self._region, self._region.names, self._region.config
        machine = names.state_machine_arn(region.region)
        console = f"https://{region.region}.console.aws.amazon.com"
        alarm_pages = ", ".join(f"`{spec.runbook_page}`" for spec in HEALTH_SIGNAL_ALARMS)
        lines = [
            f"# Switchyard {config.name}: {region.region} ({region.role})",
            f"Application `{config.application}`, deployed role **{region.role}**, peer region "
            f"`{region.other_region}`, mode **{config.mode}**. Which region is active right now lives in the "
            f"state table (`switchyard status`), not in this role.",
            f"Runbook state machine: [{names.state_machine(region.region)}]"
            f"({console}/states/home?region={region.region}#/statemachines/view/{machine}). "
            f"Runbooks (in the Switchyard repository): {', '.join(f'`{page}`' for page in RUNBOOK_PAGES)}; "
            f"alarm pages: {alarm_pages}.",
        ]
        return cloudwatch.TextWidget(markdown="\n\n".join(lines), width=FULL_WIDTH, height=4)

    # -- decision signals ------------------------------------------------------------------
    def _health_alarms(self) -> list[cloudwatch.IAlarm]:
        """Every health-signal alarm of the catalogue, by its contract ARN (a new one shows by itself)."""
        names, here = self._region.names, self._region.region
        return [
            cloudwatch.Alarm.from_alarm_arn(self, f"Alarm-{spec.key}", names.alarm_arn(here, spec.key))
            for spec in HEALTH_SIGNAL_ALARMS
        ]

    def _route53_verdict(self, health_check_id: str) -> cloudwatch.GraphWidget:
        status = cloudwatch.Metric(
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions_map={"HealthCheckId": health_check_id},
            statistic="Minimum",
            period=MINUTE,
            region=ROUTE53_METRICS_REGION,
            label=f"Route 53 {SIGNAL_HEALTH_CHECK} check (1 healthy, 0 unhealthy)",
        )
        return cloudwatch.GraphWidget(
            title="Route 53's verdict on the load balancer (deep health path)",
            left=[status],
            left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
            region=ROUTE53_METRICS_REGION,
            width=8,
            height=HEIGHT,
        )

    def _monitor_graph(
        self, title: str, metric_name: str, annotations: Sequence[cloudwatch.HorizontalAnnotation]
    ) -> cloudwatch.GraphWidget:
        """``metric_name`` as published about this region by each monitor that evaluates it: the
        peer's (while this region is active) and this region's own (self-watch, after a failover)."""
        config, here = self._region.config, self._region.region
        series = [
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=metric_name,
                dimensions_map=monitor_metric_dimensions(config, region=observer, watched_region=here),
                statistic="Maximum",
                period=MINUTE,
                region=observer,
                label=f"{observer}'s monitor" + (" (self-watch)" if observer == here else ""),
            )
            for observer in (self._region.other_region, here)
        ]
        return cloudwatch.GraphWidget(
            title=title,
            left=series,
            left_annotations=list(annotations),
            left_y_axis=cloudwatch.YAxisProps(min=0),
            width=8,
            height=HEIGHT,
        )

    # -- replication -----------------------------------------------------------------------
    def _database_lag(self) -> cloudwatch.GraphWidget:
        """The lag each region's replica reports (the standby's, or the old primary's once it
        rejoined as a replica), against the RPO budget; the metrics the lag alarm uses."""
        config, names = self._region.config, self._region.names
        budget = config.rpo_budget_seconds
        metrics = {region: names.replica_lag_metric(region) for region in config.regions.pair}
        series = [
            cloudwatch.Metric(
                namespace=REPLICA_LAG_NAMESPACE,
                metric_name=metric.name,
                dimensions_map={metric.dimension: metric.identifier},
                statistic="Maximum",
                period=MINUTE,
                region=region,
                label=f"replica in {region}",
            )
            for region, metric in metrics.items()
        ]
        lag = metrics[config.regions.standby]
        unit = lag.unit  # the engine's own unit (Aurora: milliseconds)
        return cloudwatch.GraphWidget(
            title=f"Database replication lag ({config.database.engine}, {unit})",
            left=series,
            left_annotations=[
                cloudwatch.HorizontalAnnotation(value=budget * lag.units_per_second, label=f"RPO budget {budget} s")
            ],
            left_y_axis=cloudwatch.YAxisProps(min=0, label=unit, show_units=False),
            width=12,
            height=HEIGHT,
        )

    def _s3_replication(self) -> list[cloudwatch.GraphWidget]:
        """Each direction's replication rule (Replication Time Control metrics), reported in the
        source bucket's region: the primary's bucket to the standby's, and the reverse rule that
        carries writes back once the standby is active (it idles until then)."""
        config, names = self._region.config, self._region.names
        directions = [(source, config.regions.other(source)) for source in config.regions.pair]

        def s3_series(metric_name: str) -> list[cloudwatch.IMetric]:
            return [
                cloudwatch.Metric(
                    namespace="AWS/S3",
                    metric_name=metric_name,
                    dimensions_map={
                        "SourceBucket": names.bucket(source),
                        "DestinationBucket": names.bucket(destination),
                        "RuleId": names.replication_rule(destination),
                    },
                    statistic="Maximum",
                    period=MINUTE,
                    region=source,
                    label=f"{source} -> {destination}",
                )
                for source, destination in directions
            ]

        return [
            cloudwatch.GraphWidget(
                title="S3 replication latency (s)",
                left=s3_series("ReplicationLatency"),
                left_y_axis=cloudwatch.YAxisProps(min=0),
                width=6,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="S3 operations pending replication",
                left=s3_series("OperationsPendingReplication"),
                left_y_axis=cloudwatch.YAxisProps(min=0),
                width=6,
                height=HEIGHT,
            ),
        ]

    # -- capacity and the runbook ----------------------------------------------------------
    def _capacity(self) -> cloudwatch.GraphWidget:
        """The ASG's in-service instances against its desired capacity (group metrics) and the
        configured targets: the standby's warm minimum and scale-up target, the primary's size."""
        names, here, capacity = self._region.names, self._region.region, self._region.config.capacity

        def group_metric(metric_name: str, label: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/AutoScaling",
                metric_name=metric_name,
                dimensions_map={"AutoScalingGroupName": names.asg(here)},
                statistic="Average",
                period=MINUTE,
                label=label,
            )

        return cloudwatch.GraphWidget(
            title="Capacity: in service vs desired",
            left=[
                group_metric("GroupInServiceInstances", "in service"),
                group_metric("GroupDesiredCapacity", "desired"),
            ],
            left_annotations=[
                cloudwatch.HorizontalAnnotation(
                    value=capacity.standby_scale_up_target, label="standby scale-up target"
                ),
                cloudwatch.HorizontalAnnotation(value=capacity.standby_warm_min, label="standby warm minimum"),
                cloudwatch.HorizontalAnnotation(value=capacity.primary_desired, label="primary desired"),
            ],
            left_y_axis=cloudwatch.YAxisProps(min=0),
            width=8,
            height=HEIGHT,
        )

    def _runbook_outcomes(self) -> cloudwatch.GraphWidget:
        """How the region's runbook executions ended, per five minutes."""
        machine = self._region.names.state_machine_arn(self._region.region)
        return cloudwatch.GraphWidget(
            title="Runbook executions by outcome",
            left=[
                cloudwatch.Metric(
                    namespace="AWS/States",
                    metric_name=outcome,
                    dimensions_map={"StateMachineArn": machine},
                    statistic="Sum",
                    period=RUNBOOK_PERIOD,
                    label=outcome.removeprefix("Executions").lower(),
                )
                for outcome in RUNBOOK_OUTCOMES
            ],
            view=cloudwatch.GraphWidgetView.BAR,
            width=8,
            height=HEIGHT,
        )

    def _traffic_switch(self) -> cloudwatch.GraphWidget:
        """The switch's public URL: requests and throttles per minute (the throttle alarm's metric),
        and its concurrency against its reservation. Not a decision signal: a flood shows here and
        in ``traffic-switch-throttled``, never in the monitor's verdict."""
        names, here = self._region.names, self._region.region
        function_name = names.function(here, TRAFFIC_SWITCH)
        reserved = self._region.config.traffic_switch.reserved_concurrency

        def switch_metric(metric_name: str, statistic: str, label: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name=metric_name,
                dimensions_map={"FunctionName": function_name},
                statistic=statistic,
                period=MINUTE,
                label=label,
            )

        return cloudwatch.GraphWidget(
            title="Traffic switch (public URL): requests, throttles, concurrency vs reserved",
            left=[
                switch_metric("UrlRequestCount", "Sum", "URL requests per minute"),
                switch_metric("Throttles", "Sum", "throttled per minute (alarm traffic-switch-throttled)"),
            ],
            right=[switch_metric("ConcurrentExecutions", "Maximum", "concurrent executions")],
            right_annotations=[cloudwatch.HorizontalAnnotation(value=reserved, label="reserved concurrency")],
            left_y_axis=cloudwatch.YAxisProps(min=0),
            right_y_axis=cloudwatch.YAxisProps(min=0),
            width=12,
            height=HEIGHT,
        )

    def _runbook_history(self) -> cloudwatch.LogQueryWidget:
        """The latest executions' outcomes from the runbook's own log (Logs Insights)."""
        names, here = self._region.names, self._region.region
        return cloudwatch.LogQueryWidget(
            title="Latest runbook executions (newest first)",
            log_group_names=[names.state_machine_log_group(here)],
            query_lines=list(RUNBOOK_OUTCOME_QUERY),
            view=cloudwatch.LogQueryVisualizationType.TABLE,
            region=here,
            width=8,
            height=HEIGHT,
        )
