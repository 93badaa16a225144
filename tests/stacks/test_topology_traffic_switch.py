"""TrafficSwitch: the function URL Route 53 reads, with read-only access to its own replica,
its own reserved concurrency, and the alarm that notifies when a flood of the public URL is
throttled (never a health signal)."""

from __future__ import annotations

import json
from typing import Any

from switchyard.alarms import HEALTH_SIGNAL_ALARMS, alarm_spec
from switchyard.contract import TRAFFIC_SWITCH, handler_path
from tests.stacks.controller.builders import as_list
from tests.stacks.test_topology_dashboard import view_of
from tests.stacks.topology import Topology, only_resource, resources_of


def _switch_function(template: dict[str, Any], function_name: str) -> tuple[str, dict[str, Any]]:
    functions = [
        (logical_id, resource["Properties"])
        for logical_id, resource in resources_of(template, "AWS::Lambda::Function").items()
        if resource["Properties"].get("FunctionName") == function_name
    ]
    assert len(functions) == 1
    return functions[0]


def test_the_switch_runs_the_traffic_switch_handler_from_the_lambdas_asset(topology: Topology) -> None:
    # GIVEN the standby's regional stack
    region = topology.config.regions.standby
    template = topology.template_json("regional", "standby")
    _, function = _switch_function(template, topology.names.function(region, "traffic-switch"))
    # THEN it calls the contract's handler path on Python 3.12 with the environment's config
    assert function["Handler"] == handler_path(TRAFFIC_SWITCH) == "switchyard.handlers.traffic_switch.handler"
    assert function["Runtime"] == "python3.12"
    assert "S3Key" in function["Code"]
    assert function["Environment"]["Variables"]["SWITCHYARD_CONFIG"] == topology.config.model_dump_json()


def test_the_switch_url_is_public_for_route_53_health_checkers(topology: Topology) -> None:
    # GIVEN the primary's regional stack  THEN the switch has an unauthenticated URL (health checkers
    # cannot sign requests) pointing at the switch function
    template = topology.template_json("regional", "primary")
    function_id, _ = _switch_function(
        template, topology.names.function(topology.config.regions.primary, "traffic-switch")
    )
    url = only_resource(template, "AWS::Lambda::Url")
    assert url["AuthType"] == "NONE"
    assert url["TargetFunctionArn"]["Fn::GetAtt"][0] == function_id


def test_the_switch_may_only_read_its_own_regions_table_replica(topology: Topology) -> None:
    # GIVEN the primary's regional stack and its policies' DynamoDB statements
    config = topology.config
    template = topology.template_json("regional", "primary")
    statements = [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(action).startswith("dynamodb:") for action in as_list(statement["Action"]))
    ]
    # THEN the only DynamoDB access is reading the local replica by its deterministic ARN
    local_table = topology.names.state_table_arn(config.regions.primary)
    assert [statement["Resource"] for statement in statements] == [local_table]
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert actions == {"dynamodb:GetItem"}


# -- a public URL with a cap: reserved concurrency and the throttle alarm ---------------------
ROLES = ("primary", "standby")
THROTTLED = "traffic-switch-throttled"


def _region(topology: Topology, role: str) -> str:
    return topology.config.regions.primary if role == "primary" else topology.config.regions.standby


def test_the_switch_reserves_the_configured_concurrency_in_both_regions(topology: Topology) -> None:
    for role in ROLES:
        # GIVEN each region's switch function
        region = _region(topology, role)
        _, function = _switch_function(
            topology.template_json("regional", role), topology.names.function(region, TRAFFIC_SWITCH)
        )
        # THEN it has its own reservation, the configured one (CKV_AWS_115): a flood of its public
        # URL is throttled there and never reaches the unreserved pool the runbook shares
        assert function["ReservedConcurrentExecutions"] == topology.config.traffic_switch.reserved_concurrency


def test_the_switch_is_the_only_reservation_the_account_must_spare_per_region(topology: Topology) -> None:
    # GIVEN every function of every stack of the environment, by the region its stack deploys to
    reserved: dict[str, list[int]] = {}
    for stack in topology.assembly.stacks:
        for resource in resources_of(stack.template, "AWS::Lambda::Function").values():
            if "ReservedConcurrentExecutions" in resource["Properties"]:
                reserved.setdefault(stack.environment.region, []).append(
                    resource["Properties"]["ReservedConcurrentExecutions"]
                )
    # THEN each region of the pair reserves exactly the switch's share and nothing else (what
    # docs/architecture.md tells the account to keep: 100 unreserved on top of this)
    share = topology.config.traffic_switch.reserved_concurrency
    assert reserved == {region: [share] for region in topology.config.regions.pair}


def _controller_alarm(topology: Topology, role: str, key: str) -> dict[str, Any]:
    name = topology.names.alarm(_region(topology, role), key)
    [alarm] = [
        resource["Properties"]
        for resource in resources_of(topology.template_json("controller", role), "AWS::CloudWatch::Alarm").values()
        if resource["Properties"]["AlarmName"] == name
    ]
    return alarm


def _topic_id(topology: Topology, role: str) -> str:
    """The logical id of the region's notification topic (the controller stack creates it)."""
    name = topology.names.topic(_region(topology, role))
    topics = resources_of(topology.template_json("controller", role), "AWS::SNS::Topic")
    [logical_id] = [logical_id for logical_id, topic in topics.items() if topic["Properties"]["TopicName"] == name]
    return logical_id


def test_a_throttled_switch_notifies_its_regions_topic(topology: Topology) -> None:
    for role in ROLES:
        # GIVEN each region's throttle alarm (controller stack) and its switch function (regional stack)
        region = _region(topology, role)
        alarm = _controller_alarm(topology, role, THROTTLED)
        switch_name = topology.names.function(region, TRAFFIC_SWITCH)
        _switch_function(topology.template_json("regional", role), switch_name)  # the name it watches exists
        # THEN it fires on one throttled request in a minute of that function
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == (
            "AWS/Lambda",
            "Throttles",
            "Sum",
            60,
        )
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": switch_name}]
        assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
            1,
        )
        assert alarm["TreatMissingData"] == "notBreaching"  # no request throttled publishes nothing
        # AND both transitions reach the region's topic, and the description links the runbook page
        topic = {"Ref": _topic_id(topology, role)}
        assert (alarm["AlarmActions"], alarm["OKActions"]) == ([topic], [topic])
        assert alarm["AlarmDescription"].endswith(f"Runbook: {alarm_spec(THROTTLED).runbook_page}")


def test_the_throttle_alarm_is_never_a_health_signal(topology: Topology) -> None:
    # GIVEN the catalogue THEN the throttle alarm is not an input of the failover decision
    assert not alarm_spec(THROTTLED).health_signal
    assert THROTTLED not in {spec.key for spec in HEALTH_SIGNAL_ALARMS}
    # AND no EventBridge rule of the environment wakes the monitor on its state changes, while
    # the rules do name the health-signal alarms (the check reads the patterns that matter)
    patterns = json.dumps(
        [
            rule["Properties"].get("EventPattern", {})
            for template in topology.all_templates.values()
            for rule in resources_of(template, "AWS::Events::Rule").values()
        ]
    )
    for role in ROLES:
        region = _region(topology, role)
        assert topology.names.alarm(region, HEALTH_SIGNAL_ALARMS[0].key) in patterns
        assert topology.names.alarm(region, THROTTLED) not in patterns


def test_the_dashboard_shows_a_flood_of_the_switch_against_its_reservation(topology: Topology) -> None:
    for role in ROLES:
        # GIVEN each region's dashboard
        view = view_of(topology, role)
        switch_name = topology.names.function(view.region, TRAFFIC_SWITCH)
        # THEN it graphs the switch's URL requests, throttles (the alarm's metric) and concurrency
        graphed = {
            metric.name: metric
            for metric in view.metrics("UrlRequestCount")
            + view.metrics("Throttles")
            + view.metrics("ConcurrentExecutions")
        }
        assert set(graphed) == {"UrlRequestCount", "Throttles", "ConcurrentExecutions"}
        for metric in graphed.values():
            assert (metric.namespace, metric.dimensions) == ("AWS/Lambda", {"FunctionName": switch_name})
        # AND the concurrency is drawn against the configured reservation
        [widget] = {id(metric.widget): metric.widget for metric in graphed.values()}.values()
        annotations = widget["properties"]["annotations"]["horizontal"]
        assert [(line["value"], line["label"]) for line in annotations] == [
            (topology.config.traffic_switch.reserved_concurrency, "reserved concurrency")
        ]
