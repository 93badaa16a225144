"""FailoverRecord: each region's failover record, steered by a calculated health check
that needs both the load balancer and the region's traffic switch; names from the contract."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template

from stacks.components.failover_record import FailoverRecord
from stacks.shared.grants import FAILOVER_RECORD_TYPES
from switchyard.config import EnvironmentConfig, load_environment
from switchyard.contract import APP_HTTPS_PORT, FAILOVER_BY_ROLE, HEALTH_CHECK_PURPOSES, SWITCH_ENDPOINT, Names
from switchyard.model import Role
from tests.stacks.topology import Topology, bare_region_scope, resources_of

LB_DNS_NAME = "app-123.elb.amazonaws.com"
LB_ZONE = "Z35SXDOTRQ7X7K"
SWITCH_DOMAIN = "abc.lambda-url.us-east-1.on.aws"


def _record_in_bare_stack(config: EnvironmentConfig, role: Role, tmp_path_factory: pytest.TempPathFactory) -> Template:
    region = config.regions.primary if role == "primary" else config.regions.standby
    scope = bare_region_scope(config, region, tmp_path_factory.mktemp(f"dns-{role}"))
    stack = scope.key.stack
    load_balancer = elbv2.ApplicationLoadBalancer.from_application_load_balancer_attributes(
        stack,
        "LoadBalancer",
        load_balancer_arn=f"arn:aws:elasticloadbalancing:{region}:{config.account}:loadbalancer/app/app/123",
        security_group_id="sg-123",
        load_balancer_dns_name=LB_DNS_NAME,
        load_balancer_canonical_hosted_zone_id=LB_ZONE,
    )
    FailoverRecord(stack, "Dns", region=scope, load_balancer=load_balancer, switch_domain_name=SWITCH_DOMAIN)
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def dev_environment() -> EnvironmentConfig:
    return load_environment("dev")


@pytest.fixture(scope="module")
def primary_record(dev_environment: EnvironmentConfig, tmp_path_factory: pytest.TempPathFactory) -> Template:
    return _record_in_bare_stack(dev_environment, "primary", tmp_path_factory)


def checks_by_name(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every health check by its ``Name`` tag: (logical id, HealthCheckConfig)."""
    found = {}
    for logical_id, check in resources_of(template, "AWS::Route53::HealthCheck").items():
        tags = {tag["Key"]: tag["Value"] for tag in check["Properties"].get("HealthCheckTags", [])}
        found[tags["Name"]] = (logical_id, check["Properties"]["HealthCheckConfig"])
    return found


def _by_purpose(template: Template, config: EnvironmentConfig) -> dict[str, tuple[str, dict[str, Any]]]:
    region = config.regions.primary
    checks = checks_by_name(template.to_json())
    return {purpose: checks[Names(config).health_check(region, purpose)] for purpose in HEALTH_CHECK_PURPOSES}


def test_the_primary_region_owns_the_primary_alias_record_on_its_load_balancer(
    primary_record: Template, dev_environment: EnvironmentConfig
) -> None:
    # GIVEN a FailoverRecord for the primary role  WHEN synthesized
    calculated_id, _ = _by_purpose(primary_record, dev_environment)["region"]
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


def test_the_calculated_check_needs_both_the_load_balancer_and_the_traffic_switch(
    primary_record: Template, dev_environment: EnvironmentConfig
) -> None:
    # GIVEN the record's health checks
    checks = _by_purpose(primary_record, dev_environment)
    _, calculated = checks["region"]
    # THEN the calculated check's children are exactly the load balancer and switch checks, both required
    children = {child["Fn::GetAtt"][0] for child in calculated["ChildHealthChecks"]}
    assert children == {checks["load-balancer"][0], checks["traffic-switch"][0]}
    assert (calculated["Type"], calculated["HealthThreshold"]) == ("CALCULATED", 2)


def test_the_load_balancer_check_requests_what_the_probe_requests(
    primary_record: Template, dev_environment: EnvironmentConfig
) -> None:
    # GIVEN the load balancer's check
    _, check = _by_purpose(primary_record, dev_environment)["load-balancer"]
    # THEN it requests the workload's deep health path over HTTPS 443 (what the probe requests), at the
    # configured pace, with SNI
    assert check["FullyQualifiedDomainName"] == LB_DNS_NAME
    deep = dev_environment.workload.deep_health_path
    assert (check["Type"], check["Port"], check["ResourcePath"]) == ("HTTPS", APP_HTTPS_PORT, deep)
    assert Names(dev_environment).probe_url.endswith(f":{APP_HTTPS_PORT}{deep}".replace(":443", ""))
    assert check["EnableSNI"] is True
    assert check["RequestInterval"] == dev_environment.dns.health_check_interval_seconds
    assert check["FailureThreshold"] == dev_environment.dns.health_check_failure_threshold


def test_the_traffic_switch_check_probes_the_function_url_over_https(
    primary_record: Template, dev_environment: EnvironmentConfig
) -> None:
    # GIVEN the traffic switch's check
    _, check = _by_purpose(primary_record, dev_environment)["traffic-switch"]
    # THEN it reaches the switch's domain on the contract's endpoint with SNI (function URLs need it)
    assert check["FullyQualifiedDomainName"] == SWITCH_DOMAIN
    assert (check["Type"], check["Port"], check["ResourcePath"]) == (
        "HTTPS",
        SWITCH_ENDPOINT.port,
        SWITCH_ENDPOINT.path,
    )
    assert check["EnableSNI"] is True


def test_the_standby_region_owns_the_secondary_record(
    dev_environment: EnvironmentConfig, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN a FailoverRecord for the standby role  WHEN synthesized  THEN it is the SECONDARY record
    template = _record_in_bare_stack(dev_environment, "standby", tmp_path_factory)
    template.has_resource_properties("AWS::Route53::RecordSet", {"Failover": "SECONDARY"})


def test_deployed_health_check_names_and_record_identifiers_are_the_contracts(topology: Topology) -> None:
    for role in ("primary", "standby"):
        # GIVEN the region's regional stack in the whole app
        region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
        template = topology.template_json("regional", role)
        application = f"{topology.config.dns.record_name}."
        records = [
            resource["Properties"]
            for resource in resources_of(template, "AWS::Route53::RecordSet").values()
            if resource["Properties"]["Name"] == application
        ]
        assert len(records) == 1, f"one failover record on {application}, found {len(records)}"
        record = records[0]
        # THEN its record and the Name tags of its three checks are exactly what the controller looks up
        assert (record["Name"], record["Failover"]) == (f"{topology.config.dns.record_name}.", FAILOVER_BY_ROLE[role])
        assert record["SetIdentifier"] == topology.names.failover_record_set_identifier(region)
        expected = {topology.names.health_check(region, purpose) for purpose in HEALTH_CHECK_PURPOSES}
        assert set(checks_by_name(template)) == expected


def test_the_switch_check_follows_the_regions_own_function_url(topology: Topology) -> None:
    # GIVEN the regional stack's traffic-switch check
    region = topology.config.regions.standby
    template = topology.template_json("regional", "standby")
    _, check = checks_by_name(template)[topology.names.health_check(region, "traffic-switch")]
    # THEN its domain is taken from the function URL defined in the same stack
    url_ids = set(resources_of(template, "AWS::Lambda::Url"))
    domain = check["FullyQualifiedDomainName"]
    assert domain["Fn::Select"][0] == 2
    assert domain["Fn::Select"][1]["Fn::Split"][1]["Fn::GetAtt"][0] in url_ids


def test_the_record_edit_grant_covers_the_deployed_failover_records(topology: Topology) -> None:
    # GIVEN the application's failover records as deployed in both regions
    name = topology.config.dns.record_name + "."
    records = [
        resource["Properties"]
        for template in topology.all_templates.values()
        for resource in resources_of(template, "AWS::Route53::RecordSet").values()
        if resource["Properties"]["Name"] == name and "Failover" in resource["Properties"]
    ]
    # THEN the flip's record edit (ChangeResourceRecordSetsRecordTypes) may upsert each of their types
    assert len(records) == 2
    assert {record["Type"] for record in records} <= set(FAILOVER_RECORD_TYPES)
