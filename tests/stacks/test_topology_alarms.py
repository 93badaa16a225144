"""HealthAlarms: the catalogue's health signals (plus replication lag in the standby)
beside the resources they watch, named by Names and linked to their runbook pages."""

from __future__ import annotations

from typing import Any

from switchyard.alarms import HEALTH_SIGNAL_ALARMS, alarm_spec
from tests.stacks.topology import Topology, resources_of

MISSING_DATA = {
    "alb-5xx": "notBreaching",
    "unhealthy-hosts": "breaching",
    "database-unavailable": "breaching",
    "steady-state": "notBreaching",
    "replication-lag": "notBreaching",
}


def _alarms(topology: Topology, role: str) -> dict[str, dict[str, Any]]:
    region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
    prefix = topology.names.alarm(region, "")
    return {
        alarm["Properties"]["AlarmName"].removeprefix(prefix): alarm["Properties"]
        for alarm in resources_of(topology.template_json("regional", role), "AWS::CloudWatch::Alarm").values()
    }


def test_the_primary_has_every_health_signal_alarm_and_no_lag_alarm(topology: Topology) -> None:
    # GIVEN the primary's regional stack  THEN it has exactly the catalogue's health signals
    assert set(_alarms(topology, "primary")) == {spec.key for spec in HEALTH_SIGNAL_ALARMS}


def test_the_standby_adds_the_replication_lag_alarm(topology: Topology) -> None:
    # GIVEN the standby's regional stack  THEN it watches the health signals and replication lag
    assert set(_alarms(topology, "standby")) == {spec.key for spec in HEALTH_SIGNAL_ALARMS} | {"replication-lag"}


def test_every_alarm_links_its_runbook_page_and_notifies_the_regions_topic(topology: Topology) -> None:
    for role in ("primary", "standby"):
        # GIVEN each alarm of the region
        region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
        for key, alarm in _alarms(topology, role).items():
            # THEN the description names the runbook page and both transitions reach the topic
            assert alarm_spec(key).runbook_page in alarm["AlarmDescription"]
            assert alarm["AlarmActions"] == [topology.names.topic_arn(region)]
            assert alarm["OKActions"] == [topology.names.topic_arn(region)]


def test_missing_data_is_treated_as_each_alarm_documents(topology: Topology) -> None:
    # GIVEN every alarm  THEN missing data is treated as chosen (see stacks/components/health_alarms.py)
    for key, alarm in _alarms(topology, "standby").items():
        assert alarm["TreatMissingData"] == MISSING_DATA[key], key


def test_alarms_fire_after_the_configured_number_of_evaluations_and_never_on_one_minute(topology: Topology) -> None:
    # GIVEN the primary's alarms  THEN each needs fail_after_evaluations breaching periods in a
    # row, and at least two (one breaching minute of one metric is a blip, not a failure)
    detection = topology.config.detection
    evaluations = max(detection.fail_after_evaluations, 2)
    for alarm in _alarms(topology, "primary").values():
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (evaluations, evaluations)


def _periods(value: Any) -> list[int]:
    """Every ``Period`` in an alarm's properties (its own, or each metric's in a math expression)."""
    if isinstance(value, dict):
        own = [int(value["Period"])] if "Period" in value else []
        return own + [period for key, item in value.items() if key != "Period" for period in _periods(item)]
    if isinstance(value, list):
        return [period for item in value for period in _periods(item)]
    return []


def test_alarm_periods_stay_at_a_minute_under_sub_minute_evaluations(topology: Topology) -> None:
    # GIVEN evaluations every 10 s (the default) and every alarm of both regions
    assert topology.config.detection.evaluation_interval_seconds < 60
    for role in ("primary", "standby"):
        for key, alarm in _alarms(topology, role).items():
            # THEN each period is 60 s: the load balancer's and RDS's metrics are standard resolution
            periods = _periods(alarm)
            assert periods, key
            assert set(periods) == {60}, (role, key, periods)


def test_rds_replication_lag_watches_the_replica_against_the_rpo_budget(topology_dev: Topology) -> None:
    # GIVEN dev (rds-postgres)  WHEN reading the standby's lag alarm
    alarm = _alarms(topology_dev, "standby")["replication-lag"]
    # THEN it is the replica's ReplicaLag (seconds) above the configured RPO budget
    assert alarm["MetricName"] == "ReplicaLag"
    assert alarm["Dimensions"] == [
        {"Name": "DBInstanceIdentifier", "Value": topology_dev.names.db_instance(topology_dev.config.regions.standby)}
    ]
    assert alarm["Threshold"] == topology_dev.config.rpo_budget_seconds
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_aurora_replication_lag_converts_global_lag_to_seconds(topology_prod: Topology) -> None:
    # GIVEN prod (aurora-postgres)  WHEN reading the standby's lag alarm
    alarm = _alarms(topology_prod, "standby")["replication-lag"]
    metrics = {query["Id"]: query for query in alarm["Metrics"]}
    # THEN it divides the secondary cluster's AuroraGlobalDBReplicationLag (ms) by 1000
    lag = metrics["lag"]["MetricStat"]["Metric"]
    assert lag["MetricName"] == "AuroraGlobalDBReplicationLag"
    assert lag["Dimensions"][0]["Value"] == topology_prod.names.db_cluster(topology_prod.config.regions.standby)
    assert any(query.get("Expression") == "lag / 1000" for query in metrics.values())
    assert alarm["Threshold"] == topology_prod.config.rpo_budget_seconds


def test_the_steady_state_alarm_watches_the_applications_success_rate_in_its_region(topology: Topology) -> None:
    # GIVEN the primary's steady-state alarm
    region = topology.config.regions.primary
    steady = topology.config.workload.steady_state
    alarm = _alarms(topology, "primary")["steady-state"]
    # THEN it fires below the configured success rate, on the two counts the application publishes
    # in the configured namespace, for this application and region
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", steady.min_success_percent)
    stats = {query["Id"]: query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query}
    assert {metric["MetricName"] for metric in stats.values()} == {steady.succeeded_metric, steady.failed_metric}
    for metric in stats.values():
        assert metric["Namespace"] == steady.namespace
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dimensions == {"Application": topology.config.application, "Region": region}
    (expression,) = [query["Expression"] for query in alarm["Metrics"] if "Expression" in query]
    # AND a minute with too few requests counts as 100 % (idle is not failing)
    assert f">= {steady.min_requests_per_minute}" in expression
    assert expression.endswith(", 100)")
