"""A team's own workload (config/byo-example.toml): its AMI per region, its boot script, its
port and both health paths reach the synthesized stacks, and cdk-nag and cfn-lint still pass.

Not in conftest's ENVIRONMENTS on purpose: the example is synthesized once, here, instead
of tripling every topology test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.config import EnvironmentConfig, load_environment, user_data_script
from switchyard.contract import APP_HTTPS_PORT, SIGNAL_HEALTH_CHECK
from tests.stacks.test_topology_app import cfn_lint_errors
from tests.stacks.test_topology_dns import checks_by_name
from tests.stacks.topology import Topology, only_resource, resources_of, topology_of

ROLES = ("primary", "standby")
SETTINGS_MARKER = "SWITCHYARD_SETTINGS"  # the heredoc of the placeholder's settings file
USER_DATA_LIMIT_BYTES = 16 * 1024  # EC2: user data of at most 16 KB before base64


@pytest.fixture(scope="module")
def byo() -> Topology:
    return topology_of(load_environment("byo-example"))


def _region(config: EnvironmentConfig, role: str) -> str:
    return config.regions.primary if role == "primary" else config.regions.standby


def _launch_template(byo: Topology, role: str) -> dict[str, Any]:
    return only_resource(byo.template_json("regional", role), "AWS::EC2::LaunchTemplate")


def _user_data_text(launch_template: dict[str, Any]) -> str:
    """The user data as written in the template (literal parts joined; tokens as JSON)."""
    user_data = launch_template["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    if isinstance(user_data, str):
        return user_data
    parts = user_data["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in parts)


@pytest.mark.parametrize("role", ROLES)
def test_each_region_launches_its_own_configured_ami(byo: Topology, role: str) -> None:
    # GIVEN an environment with an AMI id per region  WHEN synthesized
    template = _launch_template(byo, role)
    region = _region(byo.config, role)
    # THEN the region's launch template launches that region's AMI, under its contract name
    assert byo.config.workload.image_ids is not None
    assert template["LaunchTemplateData"]["ImageId"] == byo.config.workload.image_ids[region]
    assert template["LaunchTemplateName"] == byo.names.launch_template(region)


@pytest.mark.parametrize("role", ROLES)
def test_the_instances_run_the_teams_boot_script_not_the_placeholder(byo: Topology, role: str) -> None:
    # GIVEN the environment's user_data_file  WHEN synthesized
    user_data = _user_data_text(_launch_template(byo, role))
    # THEN the instances boot with that script verbatim, and nothing of the placeholder's
    script = user_data_script(byo.config)
    assert script is not None
    assert user_data == script
    assert "switchyard-placeholder" not in user_data


@pytest.mark.parametrize("role", ROLES)
def test_the_target_group_checks_the_shallow_path_on_the_workload_port(byo: Topology, role: str) -> None:
    # GIVEN the regional stack's target group
    properties = only_resource(byo.template_json("regional", role), "AWS::ElasticLoadBalancingV2::TargetGroup")
    workload = byo.config.workload
    # THEN it forwards to the workload's port and checks the shallow path there
    assert (properties["Port"], properties["Protocol"]) == (workload.port, "HTTP")
    assert properties["HealthCheckPath"] == workload.shallow_health_path


@pytest.mark.parametrize("role", ROLES)
def test_the_instances_accept_only_the_load_balancer_on_the_workload_port(byo: Topology, role: str) -> None:
    # GIVEN every ingress rule of the regional stack
    template = byo.template_json("regional", role)
    instance_group = next(
        logical_id
        for logical_id, group in resources_of(template, "AWS::EC2::SecurityGroup").items()
        if "Application instances" in group["Properties"]["GroupDescription"]
    )
    rules = [
        rule["Properties"]
        for rule in resources_of(template, "AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [instance_group, "GroupId"]}
    ]
    # THEN the instances' only ingress is the workload's port, from the load balancer's group
    assert [(rule["FromPort"], rule["ToPort"]) for rule in rules] == [(byo.config.workload.port,) * 2]
    assert "LoadBalancer" in rules[0]["SourceSecurityGroupId"]["Fn::GetAtt"][0]


@pytest.mark.parametrize("role", ROLES)
def test_route_53_checks_the_deep_path_through_the_load_balancer(byo: Topology, role: str) -> None:
    # GIVEN the region's Route 53 check of its load balancer
    region = _region(byo.config, role)
    checks = checks_by_name(byo.template_json("regional", role))
    _, check = checks[byo.names.health_check(region, SIGNAL_HEALTH_CHECK)]
    # THEN it requests the deep path over HTTPS (the ALB keeps the shallow one)
    assert (check["Type"], check["Port"]) == ("HTTPS", APP_HTTPS_PORT)
    assert check["ResourcePath"] == byo.config.workload.deep_health_path


def test_cdk_nag_reports_no_unacknowledged_finding(byo: Topology) -> None:
    # GIVEN the validation report written during the example's synth
    reports = {report["pluginName"]: report for report in byo.validation_report["pluginReports"]}
    # THEN the AwsSolutions pack passed with no open violation
    assert reports["AwsSolutions"]["conclusion"] == "success"
    assert reports["AwsSolutions"]["violations"] == []


def test_cfn_lint_finds_no_error_in_any_template(byo: Topology) -> None:
    # GIVEN the example's templates  WHEN linted with cfn-lint  THEN nothing at error level
    assert cfn_lint_errors(byo) == []


# -- the placeholder (dev and prod: no [workload] of their own) ------------------------------
def _placeholder_settings(topology: Topology, role: str) -> str:
    text = _user_data_text(_launch_template(topology, role))
    return text[text.index(f"<<'{SETTINGS_MARKER}'") : text.rindex(SETTINGS_MARKER)]


@pytest.mark.parametrize("role", ROLES)
def test_the_placeholder_serves_its_deep_path_from_the_region_database_and_switch(
    topology: Topology, role: str
) -> None:
    # GIVEN an environment without a workload of its own  WHEN synthesized
    settings = _placeholder_settings(topology, role)
    # THEN the instances start the health server, configured with this region's database
    # endpoint, the secret by its contract name, and this region's traffic switch URL
    assert "systemctl enable --now switchyard-placeholder" in _user_data_text(_launch_template(topology, role))
    assert f'"deep_path": "{topology.config.workload.deep_health_path}"' in settings
    assert f'"secret_id": "{topology.names.db_secret}"' in settings
    assert "Endpoint" in settings  # the database's endpoint attribute (a token resolved at deploy)
    assert '"FunctionUrl"' in settings


@pytest.mark.parametrize("role", ROLES)
def test_the_placeholder_instances_read_exactly_their_regions_database_secret(topology: Topology, role: str) -> None:
    # GIVEN the instance role's policy
    template = topology.template_json("regional", role)
    statements = [
        statement
        for logical_id, policy in resources_of(template, "AWS::IAM::Policy").items()
        if logical_id.startswith("AppTierInstanceRole")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    # THEN it may read one secret and nothing else: the primary's own, or the standby's replica by name
    assert {action for statement in statements for action in _as_list(statement["Action"])} <= {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    }
    resources = [resource for statement in statements for resource in _as_list(statement["Resource"])]
    assert len(resources) == 1
    if role == "standby":
        region = topology.config.regions.standby
        secret = f"arn:aws:secretsmanager:{region}:{topology.config.account}:secret:{topology.names.db_secret}-??????"
        assert resources == [secret]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("role", ROLES)
def test_the_placeholder_user_data_stays_within_ec2s_limit(topology: Topology, role: str) -> None:
    # GIVEN the placeholder's user data as synthesized (deploy-time values still tokens)
    size = len(_user_data_text(_launch_template(topology, role)).encode())
    # THEN it leaves room under EC2's 16 KB (raw, before base64) for the resolved endpoints and URL
    assert size < USER_DATA_LIMIT_BYTES - 1024
