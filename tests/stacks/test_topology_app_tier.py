"""AppTier and Network: capacities by role, launch template hardening, VPC per region."""

from __future__ import annotations

import pytest

from stacks.components.app_tier import min_capacity_for
from switchyard.contract import APP_HTTP_PORT, APP_HTTPS_PORT
from tests.stacks.topology import Topology, only_resource, resources_of


def test_the_primary_group_runs_at_its_desired_size(topology: Topology) -> None:
    # GIVEN the primary's regional stack
    group = only_resource(topology.template_json("regional", "primary"), "AWS::AutoScaling::AutoScalingGroup")
    capacity = topology.config.capacity
    # THEN it is named by Names and sized primary_desired..max
    assert group["AutoScalingGroupName"] == topology.names.asg(topology.config.regions.primary)
    assert (int(group["MinSize"]), int(group["MaxSize"])) == (capacity.primary_desired, capacity.max)


def test_the_standby_group_idles_at_its_warm_minimum_but_can_grow_to_max(topology: Topology) -> None:
    # GIVEN the standby's regional stack
    group = only_resource(topology.template_json("regional", "standby"), "AWS::AutoScaling::AutoScalingGroup")
    capacity = topology.config.capacity
    # THEN it idles at the warm minimum and may scale to the same max as the primary
    assert group["AutoScalingGroupName"] == topology.names.asg(topology.config.regions.standby)
    assert (int(group["MinSize"]), int(group["MaxSize"])) == (capacity.standby_warm_min, capacity.max)


def test_deploys_never_reset_a_size_the_controller_chose(topology: Topology) -> None:
    # GIVEN both groups  THEN none pins DesiredCapacity (CloudFormation starts at MinSize and a
    # later deploy would otherwise shrink a standby the runbook scaled up)
    for role in ("primary", "standby"):
        group = only_resource(topology.template_json("regional", role), "AWS::AutoScaling::AutoScalingGroup")
        assert "DesiredCapacity" not in group, role


@pytest.mark.parametrize(("role", "expected"), [("primary", 6), ("standby", 2)])
def test_min_capacity_follows_the_role(topology_prod: Topology, role: str, expected: int) -> None:
    # GIVEN prod's capacities  WHEN asking the minimum for a role  THEN it is that role's size
    assert min_capacity_for(role, topology_prod.config.capacity) == expected  # type: ignore[arg-type]


def test_instances_use_a_launch_template_with_imdsv2_and_encrypted_volumes(topology: Topology) -> None:
    # GIVEN the standby's regional stack
    template = topology.template_json("regional", "standby")
    group = only_resource(template, "AWS::AutoScaling::AutoScalingGroup")
    data = only_resource(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
    # THEN the group launches from the template (no launch configuration)
    assert "LaunchTemplate" in group
    assert resources_of(template, "AWS::AutoScaling::LaunchConfiguration") == {}
    # AND instances require IMDSv2 tokens and boot from encrypted EBS
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert all(device["Ebs"]["Encrypted"] is True for device in data["BlockDeviceMappings"])
    assert data["InstanceType"] == topology.config.capacity.instance_type


def test_the_group_replaces_instances_the_load_balancer_finds_unhealthy(topology: Topology) -> None:
    # GIVEN the primary's group  THEN it uses ELB health checks and reports scaling to the region's topic
    group = only_resource(topology.template_json("regional", "primary"), "AWS::AutoScaling::AutoScalingGroup")
    assert group["HealthCheckType"] == "ELB"
    topic_arns = [config["TopicARN"] for config in group["NotificationConfigurations"]]
    assert topic_arns == [topology.names.topic_arn(topology.config.regions.primary)]


def test_each_region_gets_its_own_cidr_and_flow_logs(topology: Topology) -> None:
    network = topology.config.network
    for role, cidr in (("primary", network.primary_cidr), ("standby", network.standby_cidr)):
        # GIVEN the region's regional stack
        template = topology.template_json("regional", role)
        # THEN its VPC uses the configured CIDR and every packet decision is logged
        assert only_resource(template, "AWS::EC2::VPC")["CidrBlock"] == cidr
        flow_log = only_resource(template, "AWS::EC2::FlowLog")
        assert (flow_log["TrafficType"], flow_log["LogDestinationType"]) == ("ALL", "s3")


def test_the_vpc_spans_the_configured_number_of_zones(topology: Topology) -> None:
    # GIVEN the primary's VPC  THEN it has one public subnet and one NAT gateway per configured AZ
    template = topology.template_json("regional", "primary")
    zones = {subnet["Properties"]["AvailabilityZone"] for subnet in resources_of(template, "AWS::EC2::Subnet").values()}
    assert len(zones) == topology.config.network.max_azs
    assert len(resources_of(template, "AWS::EC2::NatGateway")) == topology.config.network.max_azs


def test_the_load_balancer_logs_every_request(topology: Topology) -> None:
    # GIVEN the region's load balancer  THEN access logging is on and invalid headers are dropped
    balancer = only_resource(topology.template_json("regional", "primary"), "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {attribute["Key"]: attribute["Value"] for attribute in balancer["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def _listeners(template: dict) -> dict[int, dict]:
    return {
        int(listener["Properties"]["Port"]): listener["Properties"]
        for listener in resources_of(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }


def test_the_load_balancer_serves_the_contracts_endpoint_over_https(topology: Topology) -> None:
    for role in ("primary", "standby"):
        # GIVEN the region's load balancer listeners
        region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
        listeners = _listeners(topology.template_json("regional", role))
        https = listeners[APP_HTTPS_PORT]
        # THEN the contract's port serves HTTPS with the region's configured certificate, TLS 1.2 allowed
        # (Route 53's HTTPS checks need TLS 1.2 or older)
        assert https["Protocol"] == "HTTPS"
        assert https["Certificates"] == [{"CertificateArn": topology.config.dns.certificate_arns[region]}]
        assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        # AND plain HTTP only redirects there, permanently
        (action,) = listeners[APP_HTTP_PORT]["DefaultActions"]
        assert action["Type"] == "redirect"
        assert action["RedirectConfig"]["Protocol"] == "HTTPS"
        assert action["RedirectConfig"]["Port"] == str(APP_HTTPS_PORT)
        assert action["RedirectConfig"]["StatusCode"] == "HTTP_301"


def test_the_load_balancer_opens_https_and_the_redirect_only(topology: Topology) -> None:
    # GIVEN the load balancer's security group  THEN the internet reaches 443 and 80 (redirect) only
    template = topology.template_json("regional", "primary")
    groups = [
        group["Properties"]
        for group in resources_of(template, "AWS::EC2::SecurityGroup").values()
        if "HTTPS entry point" in group["Properties"]["GroupDescription"]
    ]
    (group,) = groups
    opened = {(rule["CidrIp"], rule["FromPort"], rule["ToPort"]) for rule in group["SecurityGroupIngress"]}
    assert opened == {("0.0.0.0/0", APP_HTTPS_PORT, APP_HTTPS_PORT), ("0.0.0.0/0", APP_HTTP_PORT, APP_HTTP_PORT)}


def test_the_load_balancer_checks_the_instances_shallow_path_not_the_deep_one(topology: Topology) -> None:
    # GIVEN the target group  THEN the load balancer checks the workload's shallow path on its port:
    # a failing dependency (the deep path) must never make the group replace healthy instances
    workload = topology.config.workload
    target_group = only_resource(
        topology.template_json("regional", "primary"), "AWS::ElasticLoadBalancingV2::TargetGroup"
    )
    assert (target_group["Protocol"], target_group["Port"]) == ("HTTP", workload.port)
    assert target_group["HealthCheckPath"] == workload.shallow_health_path != workload.deep_health_path
