"""The region's health-signal alarms (switchyard.alarms) beside the resources they watch.

Missing data is chosen per alarm, deliberately:
- alb-5xx: NOT_BREACHING. An idle load balancer publishes no 5xx datapoints; silence is
  not a server error, and a dead backend is caught by unhealthy-hosts.
- unhealthy-hosts: BREACHING. The load balancer publishes HealthyHostCount every minute
  while it exists, so silence means the region (or its metrics) went dark.
- database-unavailable: BREACHING. The alarm watches whether the database reports at all;
  a database that stopped reporting is unavailable as far as failover is concerned.
- steady-state: NOT_BREACHING. The application publishes its request counts only while it
  serves requests; an idle region (the standby before a failover) has none, and idle is not
  failing. Below ``min_requests_per_minute`` the success rate counts as 100 %.
- replication-lag: NOT_BREACHING. Missing lag is not evidence of lag (a promoted replica
  stops reporting it); a silent database is already caught by database-unavailable.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from stacks.shared.scope import RegionScope
from switchyard.alarms import alarm_spec

SERVER_ERROR_PERCENT = 5.0
"""5xx responses (load balancer + targets) as a share of requests that counts as failing."""
MIN_REQUESTS_FOR_ERROR_RATE = 20
"""Below this many requests per period the error rate is too noisy to act on."""


def steady_state_success_rate(region: RegionScope, period: cdk.Duration) -> cloudwatch.MathExpression:
    """The share of the application's requests that succeeded in a period (percent), from the
    two counts it publishes (``workload.steady_state``); 100 below the minimum request count."""
    steady = region.config.workload.steady_state
    minimum = steady.min_requests_per_minute * max(1, int(period.to_seconds()) // 60)
    dimensions = {"Application": region.config.application, "Region": region.region}

    def count(metric_name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=steady.namespace,
            metric_name=metric_name,
            dimensions_map=dimensions,
            statistic="Sum",
            period=period,
        )

    return cloudwatch.MathExpression(
        expression=(
            f"IF(FILL(succeeded, 0) + FILL(failed, 0) >= {minimum}, "
            "100 * FILL(succeeded, 0) / (FILL(succeeded, 0) + FILL(failed, 0)), 100)"
        ),
        using_metrics={"succeeded": count(steady.succeeded_metric), "failed": count(steady.failed_metric)},
        label="successful requests (% of requests)",
        period=period,
    )


class HealthAlarms(Construct):
    """alb-5xx, unhealthy-hosts, database-unavailable, steady-state and (standby) replication-lag."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_group: elbv2.ApplicationTargetGroup,
        database_availability: cloudwatch.IMetric,
        replication_lag: cloudwatch.IMetric | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._region = region
        config = region.config
        # never the sub-minute evaluation interval: the load balancer's metrics are standard
        # resolution (60 s minimum period); see Detection.alarm_period_seconds
        period = cdk.Duration.seconds(config.detection.alarm_period_seconds)
        lb_metrics = load_balancer.metrics
        server_error_rate = cloudwatch.MathExpression(
            expression=(
                f"IF(FILL(requests, 0) >= {MIN_REQUESTS_FOR_ERROR_RATE}, "
                "100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)"
            ),
            using_metrics={
                "requests": lb_metrics.request_count(period=period),
                "elb5xx": lb_metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=period),
                "target5xx": lb_metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period),
            },
            label="5xx responses (% of requests)",
            period=period,
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._add(
            "alb-5xx",
            server_error_rate,
            threshold=SERVER_ERROR_PERCENT,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self._add(
            "unhealthy-hosts",
            target_group.metrics.healthy_host_count(period=period, statistic="Minimum"),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )
        self._add(
            "database-unavailable",
            database_availability,
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )
        self._add(
            "steady-state",
            steady_state_success_rate(region, period),
            threshold=config.workload.steady_state.min_success_percent,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if replication_lag is not None:
            self._add(
                "replication-lag",
                replication_lag,
                threshold=config.rpo_budget_seconds,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

    def _add(
        self,
        key: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        missing: cloudwatch.TreatMissingData,
    ) -> None:
        spec = alarm_spec(key)
        evaluations = self._region.config.detection.alarm_evaluation_periods
        alarm = cloudwatch.Alarm(
            self,
            key,
            alarm_name=self._region.names.alarm(self._region.region, key),
            alarm_description=spec.description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluations,
            datapoints_to_alarm=evaluations,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self._region.topic))
        alarm.add_ok_action(actions.SnsAction(self._region.topic))
        self.alarms[key] = alarm
