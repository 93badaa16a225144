"""FailoverRecord: each region's failover record, steered by a calculated health check
that needs both the load balancer and the region's traffic switch."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template

from stacks.components.failover_record import FailoverRecord
from switchyard.config import EnvironmentConfig, load_environment
from switchyard.model import Role
from tests.stacks.topology import Topology, bare_stack, only_resource, resources_of

LB_DNS_NAME = "app-123.elb.amazonaws.com"
LB_ZONE = "Z35SXDOTRQ7X7K"
SWITCH_DOMAIN = "abc.lambda-url.us-east-1.on.aws"


def _record_in_bare_stack(config: EnvironmentConfig, role: Role, tmp_path_factory: pytest.TempPathFactory) -> Template:
    region = config.regions.primary if role == "primary" else config.regions.standby
    stack = bare_stack(config, region, tmp_path_factory.mktemp(f"dns-{role}"))
    load_balancer = elbv2.ApplicationLoadBalancer.from_application_load_balancer_attributes(
        stack,
        "LoadBalancer",
        load_balancer_arn=f"arn:aws:elasticloadbalancing:{region}:{config.account}:loadbalancer/app/app/123",
        security_group_id="sg-123",
        load_balancer_dns_name=LB_DNS_NAME,
        load_balancer_canonical_hosted_zone_id=LB_ZONE,
    )
    FailoverRecord(
        stack,
        "Dns",
        dns=config.dns,
        role=role,
        region=region,
        name_prefix="switchyard-dev",
        load_balancer=load_balancer,
        switch_domain_name=SWITCH_DOMAIN,
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def dev_environment() -> EnvironmentConfig:
    return load_environment("dev")


@pytest.fixture(scope="module")
def primary_record(dev_environment: EnvironmentConfig, tmp_path_factory: pytest.TempPathFactory) -> Template:
    return _record_in_bare_stack(dev_environment, "primary", tmp_path_factory)


def _checks_by_type(template: Template) -> dict[str, tuple[str, dict[str, Any]]]:
    checks = template.find_resources("AWS::Route53::HealthCheck")
    return {
        check["Properties"]["HealthCheckConfig"]["Type"]: (logical_id, check["Properties"]["HealthCheckConfig"])
        for logical_id, check in checks.items()
    }


def test_the_primary_region_owns_the_primary_alias_record_on_its_load_balancer(
    primary_record: Template, dev_environment: EnvironmentConfig
) -> None:
    # GIVEN a FailoverRecord for the primary role  WHEN synthesized
    calculated_id, _ = _checks_by_type(primary_record)["CALCULATED"]
    # THEN it is the PRIMARY alias of the configured name, steered by the calculated check
    primary_record.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "HostedZoneId": dev_environment.dns.hosted_zone_id,
            "Name": f"{dev_environment.dns.record_name}.",
            "Type": "A",
            "Failover": "PRIMARY",
            "HealthCheckId": {"Fn::GetAtt": [calculated_id, "HealthCheckId"]},
            "AliasTarget": {"DNSName": LB_DNS_NAME, "HostedZoneId": LB_ZONE, "EvaluateTargetHealth": True},
        },
    )


def test_the_calculated_check_needs_both_the_load_balancer_and_the_traffic_switch(primary_record: Template) -> None:
    # GIVEN the record's health checks
    checks = _checks_by_type(primary_record)
    _, calculated = checks["CALCULATED"]
    # THEN the calculated check's children are exactly the HTTP and HTTPS checks, and both must be healthy
    children = {child["Fn::GetAtt"][0] for child in calculated["ChildHealthChecks"]}
    assert children == {checks["HTTP"][0], checks["HTTPS"][0]}
    assert calculated["HealthThreshold"] == 2


def test_the_load_balancer_check_probes_the_health_path_at_the_configured_pace(
    primary_record: Template, dev_environment: EnvironmentConfig
) -> None:
    # GIVEN the HTTP child check
    _, check = _checks_by_type(primary_record)["HTTP"]
    # THEN it requests /health through the load balancer with the configured interval and threshold
    assert check["FullyQualifiedDomainName"] == LB_DNS_NAME
    assert (check["Port"], check["ResourcePath"]) == (80, "/health")
    assert check["RequestInterval"] == dev_environment.dns.health_check_interval_seconds
    assert check["FailureThreshold"] == dev_environment.dns.health_check_failure_threshold


def test_the_traffic_switch_check_probes_the_function_url_over_https(primary_record: Template) -> None:
    # GIVEN the HTTPS child check
    _, check = _checks_by_type(primary_record)["HTTPS"]
    # THEN it reaches the switch's domain on 443 with SNI (function URLs need it)
    assert check["FullyQualifiedDomainName"] == SWITCH_DOMAIN
    assert (check["Port"], check["EnableSNI"]) == (443, True)


def test_the_standby_region_owns_the_secondary_record(
    dev_environment: EnvironmentConfig, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN a FailoverRecord for the standby role  WHEN synthesized  THEN it is the SECONDARY record
    template = _record_in_bare_stack(dev_environment, "standby", tmp_path_factory)
    template.has_resource_properties("AWS::Route53::RecordSet", {"Failover": "SECONDARY"})


def test_each_regional_stack_holds_its_own_record_and_checks(topology: Topology) -> None:
    for role, failover in (("primary", "PRIMARY"), ("standby", "SECONDARY")):
        # GIVEN the region's regional stack in the whole app
        template = topology.template_json("regional", role)
        record = only_resource(template, "AWS::Route53::RecordSet")
        # THEN it holds exactly its own failover record on the configured name, and three checks
        assert (record["Name"], record["Failover"]) == (f"{topology.config.dns.record_name}.", failover)
        assert len(resources_of(template, "AWS::Route53::HealthCheck")) == 3


def test_the_switch_check_follows_the_regions_own_function_url(topology: Topology) -> None:
    # GIVEN the regional stack's HTTPS check
    template = topology.template_json("regional", "standby")
    https = [
        check["Properties"]["HealthCheckConfig"]
        for check in resources_of(template, "AWS::Route53::HealthCheck").values()
        if check["Properties"]["HealthCheckConfig"]["Type"] == "HTTPS"
    ]
    # THEN its domain is taken from the function URL defined in the same stack
    url_ids = set(resources_of(template, "AWS::Lambda::Url"))
    domain = https[0]["FullyQualifiedDomainName"]
    assert domain["Fn::Select"][0] == 2
    assert domain["Fn::Select"][1]["Fn::Split"][1]["Fn::GetAtt"][0] in url_ids
