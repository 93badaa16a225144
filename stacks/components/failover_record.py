"""The region's Route 53 failover record and the health checks that steer it.

A calculated health check needs both children healthy: an HTTP check through the
region's load balancer (the application answers) and an HTTPS check on the region's
traffic switch (the desired state says this region is active). A dark region fails
both by itself, so the standby never needs the failed region to take traffic from it.
"""

from __future__ import annotations

from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from constructs import Construct

from stacks.components.app_tier import APP_PORT, HEALTH_PATH
from switchyard.config import Dns
from switchyard.model import Role

FAILOVER_BY_ROLE: dict[Role, str] = {"primary": "PRIMARY", "standby": "SECONDARY"}


class FailoverRecord(Construct):
    """PRIMARY (primary region) or SECONDARY (standby) alias record on ``dns.record_name``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dns: Dns,
        role: Role,
        region: str,
        name_prefix: str,
        load_balancer: elbv2.IApplicationLoadBalancer,
        switch_domain_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.load_balancer_check = self._endpoint_check(
            "LoadBalancerCheck",
            name=f"{name_prefix}-{region}-load-balancer",
            check_type="HTTP",
            domain_name=load_balancer.load_balancer_dns_name,
            port=APP_PORT,
            path=HEALTH_PATH,
            dns=dns,
        )
        self.switch_check = self._endpoint_check(
            "TrafficSwitchCheck",
            name=f"{name_prefix}-{region}-traffic-switch",
            check_type="HTTPS",
            domain_name=switch_domain_name,
            port=443,
            path="/",
            dns=dns,
        )
        children = [self.load_balancer_check.attr_health_check_id, self.switch_check.attr_health_check_id]
        self.region_check = route53.CfnHealthCheck(
            self,
            "RegionCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CALCULATED", child_health_checks=children, health_threshold=len(children)
            ),
            health_check_tags=[_name_tag(f"{name_prefix}-{region}-region")],
        )
        self.record = route53.CfnRecordSet(
            self,
            "Record",
            hosted_zone_id=dns.hosted_zone_id,
            name=f"{dns.record_name}.",
            type="A",
            set_identifier=f"{name_prefix}-{region}",
            failover=FAILOVER_BY_ROLE[role],
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
        check_type: str,
        domain_name: str,
        port: int,
        path: str,
        dns: Dns,
    ) -> route53.CfnHealthCheck:
        return route53.CfnHealthCheck(
            self,
            construct_id,
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type=check_type,
                fully_qualified_domain_name=domain_name,
                port=port,
                resource_path=path,
                request_interval=dns.health_check_interval_seconds,
                failure_threshold=dns.health_check_failure_threshold,
                enable_sni=True if check_type == "HTTPS" else None,
            ),
            health_check_tags=[_name_tag(name)],
        )


def _name_tag(value: str) -> route53.CfnHealthCheck.HealthCheckTagProperty:
    return route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=value)
