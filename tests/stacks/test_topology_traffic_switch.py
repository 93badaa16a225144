"""TrafficSwitch: the function URL Route 53 reads, with read-only access to its own replica."""

from __future__ import annotations

from typing import Any

from switchyard.contract import TRAFFIC_SWITCH, handler_path
from tests.stacks.controller.builders import as_list
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
