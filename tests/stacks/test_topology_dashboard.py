"""RegionDashboard: one dashboard per environment and region, named by the contract, showing
the decision signals (every health-signal alarm of the catalogue, Route 53's verdict, the
monitor's verdict and hysteresis), replication lag (database and S3), capacity against target
and the runbook's outcomes, each addressed by its contract name or ARN.

The DashboardBody is an ``Fn::Join`` (the stack's region and Route 53's generated health-check
id are tokens): ``dashboard_body`` resolves it to the JSON CloudWatch receives, with the
region substituted and a ``GetAtt`` written as ``<LogicalId.Attribute>``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.contract import (
    METRICS_NAMESPACE,
    MONITOR_FAILING_EVALUATIONS_METRIC,
    MONITOR_FAILING_SIGNALS_METRIC,
    MONITOR_RECOVERING_EVALUATIONS_METRIC,
    MONITOR_VERDICT_METRIC,
    SIGNAL_HEALTH_CHECK,
    monitor_metric_dimensions,
)
from tests.stacks.topology import Topology, resources_of

ROLES = ("primary", "standby")
MONITOR_METRICS = (
    MONITOR_VERDICT_METRIC,
    MONITOR_FAILING_SIGNALS_METRIC,
    MONITOR_FAILING_EVALUATIONS_METRIC,
    MONITOR_RECOVERING_EVALUATIONS_METRIC,
)


@dataclass(frozen=True)
class GraphedMetric:
    """One metric row of a widget: ``[namespace, name, dim, value, ..., {options}]``."""

    namespace: str
    name: str
    dimensions: dict[str, str]
    options: dict[str, Any]
    widget: dict[str, Any]

    @property
    def region(self) -> str:
        """Where CloudWatch reads it: its own region, else its widget's."""
        return str(self.options.get("region") or self.widget["properties"]["region"])


@dataclass(frozen=True)
class RegionView:
    """One region's dashboard as deployed, beside its regional template."""

    topology: Topology
    role: str
    name: str
    body: dict[str, Any]

    @property
    def region(self) -> str:
        config = self.topology.config
        return config.regions.primary if self.role == "primary" else config.regions.standby

    @property
    def widgets(self) -> list[dict[str, Any]]:
        widgets: list[dict[str, Any]] = self.body["widgets"]
        return widgets

    def metrics(self, name: str) -> list[GraphedMetric]:
        return [metric for metric in graphed_metrics(self.widgets) if metric.name == name]

    def text(self) -> str:
        return json.dumps(self.body)


def dashboard_body(body: Any, *, region: str) -> dict[str, Any]:
    """The dashboard's JSON with the stack's tokens resolved (see the module docstring)."""
    if isinstance(body, str):
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    separator, parts = body["Fn::Join"]
    resolved: dict[str, Any] = json.loads(separator.join(_resolve(part, region=region) for part in parts))
    return resolved


def _resolve(part: Any, *, region: str) -> str:
    if isinstance(part, str):
        return part
    if part == {"Ref": "AWS::Region"}:
        return region
    if "Fn::GetAtt" in part:
        logical_id, attribute = part["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    raise AssertionError(f"unexpected token in the dashboard body: {part}")


def graphed_metrics(widgets: list[dict[str, Any]]) -> list[GraphedMetric]:
    found = []
    for widget in widgets:
        for row in widget.get("properties", {}).get("metrics", []):
            if not isinstance(row[0], str):  # a math expression: none on this dashboard
                continue
            options = row[-1] if isinstance(row[-1], dict) else {}
            pairs = row[2:-1] if options else row[2:]
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            found.append(GraphedMetric(row[0], row[1], dimensions, options, widget))
    return found


def view_of(topology: Topology, role: str) -> RegionView:
    region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
    [dashboard] = resources_of(topology.template_json("regional", role), "AWS::CloudWatch::Dashboard").values()
    properties = dashboard["Properties"]
    return RegionView(
        topology, role, properties["DashboardName"], dashboard_body(properties["DashboardBody"], region=region)
    )


@pytest.fixture(params=ROLES)
def view(request: pytest.FixtureRequest, topology: Topology) -> RegionView:
    """Each region's dashboard of each environment (dev: rds-postgres, prod: aurora-postgres)."""
    return view_of(topology, str(request.param))


def test_each_region_has_one_dashboard_named_by_the_contract(view: RegionView) -> None:
    # GIVEN the region's regional stack  THEN its one dashboard has the contract's name
    assert view.name == view.topology.names.dashboard(view.region)


def test_the_header_names_the_environment_region_role_and_runbooks(view: RegionView) -> None:
    # GIVEN the dashboard's first widget  THEN it says where you are and where the runbooks are
    header = view.widgets[0]
    assert header["type"] == "text"
    markdown = header["properties"]["markdown"]
    for fact in (view.topology.config.name, view.region, view.role, "runbooks/README.md"):
        assert fact in markdown


def test_every_health_signal_alarm_of_the_region_is_shown_with_its_status_and_graph(view: RegionView) -> None:
    # GIVEN the catalogue's health signals (iterated: a new alarm must appear by itself)
    arns = [view.topology.names.alarm_arn(view.region, spec.key) for spec in HEALTH_SIGNAL_ALARMS]
    # THEN one status widget lists exactly those alarms, and each has its own graph
    [status] = [widget for widget in view.widgets if widget["type"] == "alarm"]
    assert status["properties"]["alarms"] == arns
    graphed = [arn for widget in view.widgets for arn in widget["properties"].get("annotations", {}).get("alarms", [])]
    assert graphed == arns


def test_route53s_load_balancer_check_status_is_read_in_us_east_1(view: RegionView) -> None:
    # GIVEN the region's load-balancer health check (the decision's Route 53 signal)
    template = view.topology.template_json("regional", view.role)
    checks = resources_of(template, "AWS::Route53::HealthCheck")
    check_name = view.topology.names.health_check(view.region, SIGNAL_HEALTH_CHECK)
    [check_id] = [
        logical_id
        for logical_id, check in checks.items()
        if {"Key": "Name", "Value": check_name} in check["Properties"].get("HealthCheckTags", [])
    ]
    # THEN HealthCheckStatus of that check is graphed from us-east-1, where Route 53 publishes it
    [status] = view.metrics("HealthCheckStatus")
    assert (status.namespace, status.dimensions) == ("AWS/Route53", {"HealthCheckId": f"<{check_id}.HealthCheckId>"})
    assert status.region == "us-east-1"
    assert status.widget["properties"]["region"] == "us-east-1"


@pytest.mark.parametrize("metric_name", MONITOR_METRICS)
def test_the_monitors_verdict_and_hysteresis_come_from_each_monitor_that_watches_the_region(
    view: RegionView, metric_name: str
) -> None:
    # GIVEN the monitors that evaluate this region: the peer's while it is active, its own in self-watch
    config = view.topology.config
    expected = {
        observer: monitor_metric_dimensions(config, region=observer, watched_region=view.region)
        for observer in config.regions.pair
    }
    # THEN the metric is graphed once per monitor, with its exact dimensions, read where it is published
    graphed = view.metrics(metric_name)
    assert {metric.region: metric.dimensions for metric in graphed} == expected
    assert {metric.namespace for metric in graphed} == {METRICS_NAMESPACE}


def test_the_hysteresis_graphs_carry_the_configured_thresholds(view: RegionView) -> None:
    # GIVEN the environment's detection settings
    detection = view.topology.config.detection
    thresholds = {
        MONITOR_FAILING_SIGNALS_METRIC: detection.quorum,
        MONITOR_FAILING_EVALUATIONS_METRIC: detection.fail_after_evaluations,
        MONITOR_RECOVERING_EVALUATIONS_METRIC: detection.recover_after_evaluations,
    }
    for metric_name, threshold in thresholds.items():
        # THEN each count's graph has its threshold as a horizontal annotation
        [widget] = {id(metric.widget): metric.widget for metric in view.metrics(metric_name)}.values()
        values = [annotation["value"] for annotation in widget["properties"]["annotations"]["horizontal"]]
        assert values == [threshold], metric_name


def test_database_replication_lag_is_the_configured_engines_metric_against_the_rpo_budget(view: RegionView) -> None:
    # GIVEN the environment's engine (dev: rds-postgres, prod: aurora-postgres)
    config, names = view.topology.config, view.topology.names
    aurora = config.database.engine == "aurora-postgres"
    metric_name = "AuroraGlobalDBReplicationLag" if aurora else "ReplicaLag"
    expected = {
        region: {"DBClusterIdentifier": names.db_cluster(region)}
        if aurora
        else {"DBInstanceIdentifier": names.db_instance(region)}
        for region in config.regions.pair
    }
    # THEN the lag each region's replica reports is graphed where it is reported
    graphed = view.metrics(metric_name)
    assert {metric.region: metric.dimensions for metric in graphed} == expected
    # AND the RPO budget is drawn in the metric's unit (Aurora's lag is in milliseconds)
    widget = graphed[0].widget
    [budget] = widget["properties"]["annotations"]["horizontal"]
    assert budget["value"] == config.rpo_budget_seconds * (1000 if aurora else 1)


def test_s3_replication_metrics_are_those_of_the_primary_buckets_replication_rule(view: RegionView) -> None:
    # GIVEN the primary's data bucket and its replication rule to the standby, as synthesized
    config, names = view.topology.config, view.topology.names
    primary, standby = config.regions.pair
    storage = view.topology.template_json("storage", "primary")
    [bucket] = [
        resource
        for resource in resources_of(storage, "AWS::S3::Bucket").values()
        if resource["Properties"].get("BucketName") == names.bucket(primary)
    ]
    rule_ids = [rule["Id"] for rule in bucket["Properties"]["ReplicationConfiguration"]["Rules"]]
    assert rule_ids == [names.replication_rule(standby)]  # the contract's rule is the deployed one
    expected = {
        "SourceBucket": names.bucket(primary),
        "DestinationBucket": names.bucket(standby),
        "RuleId": rule_ids[0],
    }
    for metric_name in ("ReplicationLatency", "OperationsPendingReplication"):
        # THEN each replication metric of that rule is graphed in the source bucket's region
        forward = [metric for metric in view.metrics(metric_name) if metric.region == primary]
        assert [(metric.namespace, metric.dimensions) for metric in forward] == [("AWS/S3", expected)]


def test_s3_replication_metrics_include_the_reverse_rule_back_to_the_primary(view: RegionView) -> None:
    # GIVEN the standby's reverse rule (it carries writes back once the standby is active)
    config, names = view.topology.config, view.topology.names
    primary, standby = config.regions.pair
    expected = {
        "SourceBucket": names.bucket(standby),
        "DestinationBucket": names.bucket(primary),
        "RuleId": names.replication_rule(primary),
    }
    for metric_name in ("ReplicationLatency", "OperationsPendingReplication"):
        # THEN its metrics are graphed too, in the standby's region
        reverse = [metric for metric in view.metrics(metric_name) if metric.region == standby]
        assert [(metric.namespace, metric.dimensions) for metric in reverse] == [("AWS/S3", expected)]


def test_capacity_graphs_in_service_against_desired_and_the_standby_scale_up_target(view: RegionView) -> None:
    # GIVEN the region's ASG and the configured capacity
    names, capacity = view.topology.names, view.topology.config.capacity
    group = {"AutoScalingGroupName": names.asg(view.region)}
    # THEN in-service and desired instances are graphed together, with the scale-up target drawn
    [in_service] = view.metrics("GroupInServiceInstances")
    [desired] = view.metrics("GroupDesiredCapacity")
    assert (in_service.dimensions, desired.dimensions) == (group, group)
    assert in_service.widget is desired.widget
    annotations = in_service.widget["properties"]["annotations"]["horizontal"]
    assert {"value": capacity.standby_scale_up_target, "label": "standby scale-up target", "yAxis": "left"} in (
        annotations
    )


def test_the_asg_publishes_the_group_metrics_the_dashboard_graphs(view: RegionView) -> None:
    # GIVEN the region's ASG  THEN group metrics collection covers in-service and desired capacity
    template = view.topology.template_json("regional", view.role)
    [group] = resources_of(template, "AWS::AutoScaling::AutoScalingGroup").values()
    [collection] = group["Properties"]["MetricsCollection"]
    assert collection["Granularity"] == "1Minute"
    # no Metrics list means every group metric (GroupMetrics.all())
    assert {"GroupInServiceInstances", "GroupDesiredCapacity"} <= set(
        collection.get("Metrics", ["GroupInServiceInstances", "GroupDesiredCapacity"])
    )


def test_the_runbooks_execution_outcomes_are_graphed_for_the_regions_state_machine(view: RegionView) -> None:
    # GIVEN the region's runbook state machine (contract ARN)
    machine = view.topology.names.state_machine_arn(view.region)
    for outcome in ("ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        # THEN each outcome is counted for exactly that state machine, in its region
        [metric] = view.metrics(outcome)
        assert (metric.namespace, metric.dimensions, metric.region) == (
            "AWS/States",
            {"StateMachineArn": machine},
            view.region,
        )


def test_the_latest_executions_are_queried_from_the_runbooks_log_group(view: RegionView) -> None:
    # GIVEN the runbook's log group, as the controller stack creates it
    log_group = view.topology.names.state_machine_log_group(view.region)
    controller = view.topology.template_json("controller", view.role)
    groups = resources_of(controller, "AWS::Logs::LogGroup").values()
    assert log_group in [group["Properties"].get("LogGroupName") for group in groups]
    # THEN a Logs Insights widget in the region reads it for the executions' ends
    [query] = [widget for widget in view.widgets if widget["type"] == "log"]
    assert query["properties"]["region"] == view.region
    assert query["properties"]["query"].startswith(f"SOURCE '{log_group}'")
    assert "ExecutionFailed" in query["properties"]["query"]
