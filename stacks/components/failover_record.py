"""The region's Route 53 failover record and the health checks that steer it.

A calculated health check needs both children healthy: an HTTPS check of the region's
load balancer on ``Names.app_endpoint`` (the application's deep health path: it answers only
while its dependencies do, as the monitor's probe sees it)
and an HTTPS check of the region's traffic switch on ``SWITCH_ENDPOINT`` (the desired state
says this region is active). Names and set identifiers come from ``switchyard.contract``. A dark region fails
both by itself, so the standby never needs the failed region to take traffic from it.
"""

from __future__ import annotations

from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from constructs import Construct

from stacks.shared.scope import RegionScope
from switchyard.config import Dns
from switchyard.contract import FAILOVER_BY_ROLE, SWITCH_ENDPOINT, Endpoint


class FailoverRecord(Construct):
    """PRIMARY (primary region) or SECONDARY (standby) alias record on ``dns.record_name``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        load_balancer: elbv2.IApplicationLoadBalancer,
        switch_domain_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        names, dns = region.names, region.config.dns
        self.load_balancer_check = self._endpoint_check(
            "LoadBalancerCheck",
            name=names.health_check(region.region, "load-balancer"),
            endpoint=names.app_endpoint,
            domain_name=load_balancer.load_balancer_dns_name,
            dns=dns,
        )
        self.switch_check = self._endpoint_check(
            "TrafficSwitchCheck",
            name=names.health_check(region.region, "traffic-switch"),
            endpoint=SWITCH_ENDPOINT,
            domain_name=switch_domain_name,
            dns=dns,
        )
        children = [self.load_balancer_check.attr_health_check_id, self.switch_check.attr_health_check_id]
        self.region_check = route53.CfnHealthCheck(
            self,
            "RegionCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CALCULATED", child_health_checks=children, health_threshold=len(children)
            ),
            health_check_tags=[_name_tag(names.health_check(region.region, "region"))],
        )
        self.record = route53.CfnRecordSet(
            self,
            "Record",
            hosted_zone_id=dns.hosted_zone_id,
            name=f"{dns.record_name}.",
            type="A",
            set_identifier=names.failover_record_set_identifier(region.region),
            failover=FAILOVER_BY_ROLE[region.role],
            health_check_id=self.region_check.attr_health_check_id,
            alias_target=route53.CfnRecordSet.AliasTargetProperty(
                dns_name=load_balancer.load_balancer_dns_name,
                hosted_zone_id=load_balancer.load_balancer_canonical_hosted_zone_id,
                evaluate_target_health=True,
            ),
        )

    def _endpoint_check(
        self,
        construct_id: str,
        *,
        name: str,
        endpoint: Endpoint,
        domain_name: str,
        dns: Dns,
    ) -> route53.CfnHealthCheck:
        return route53.CfnHealthCheck(
            self,
            construct_id,
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type=endpoint.scheme.upper(),
                fully_qualified_domain_name=domain_name,
                port=endpoint.port,
                resource_path=endpoint.path,
                request_interval=dns.health_check_interval_seconds,
                failure_threshold=dns.health_check_failure_threshold,
                enable_sni=True if endpoint.scheme == "https" else None,
            ),
            health_check_tags=[_name_tag(name)],
        )


def _name_tag(value: str) -> route53.CfnHealthCheck.HealthCheckTagProperty:
    return route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=value)
