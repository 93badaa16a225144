"""Route 53's verdict on the region's load balancer, published through DNS (the sentinel).

A pair of failover A records on ``Names.verdict_record(region)``: PRIMARY answers
``VERDICT_HEALTHY_ADDRESS`` and carries the region's load-balancer health check
(``SIGNAL_HEALTH_CHECK``, the one FailoverRecord creates); SECONDARY answers
``VERDICT_UNHEALTHY_ADDRESS`` and has no health check, so Route 53 answers it whenever the
PRIMARY's check is unhealthy. The addresses are TEST-NET-1 (RFC 5737) and never routed:
nobody connects to them, the monitor only reads which one Route 53 answers.

Why: Route 53's API (``GetHealthCheckStatus``) lives in us-east-1, so with us-east-1 dark
the other region could not read Route 53's verdict, and a dark us-east-1 would never get
the outside failing signal its failover needs. DNS answers come from Route 53's global
data plane, which keeps answering, and keeps following health checks, without the control
plane (see ``switchyard.adapters.health`` for the sources). The TTL is short
(``VERDICT_TTL_SECONDS``) because it bounds how stale a cached verdict can be.
"""

from __future__ import annotations

from aws_cdk import aws_route53 as route53
from constructs import Construct

from stacks.shared.scope import RegionScope
from switchyard.contract import VERDICT_ADDRESS_BY_FAILOVER, VERDICT_TTL_SECONDS


class Route53Verdict(Construct):
    """The sentinel records of ``region``, steered by its load balancer's health check."""

    def __init__(
        self, scope: Construct, construct_id: str, *, region: RegionScope, load_balancer_check_id: str
    ) -> None:
        super().__init__(scope, construct_id)
        names, dns = region.names, region.config.dns
        self.records: dict[str, route53.CfnRecordSet] = {}
        for failover, address in VERDICT_ADDRESS_BY_FAILOVER.items():
            self.records[failover] = route53.CfnRecordSet(
                self,
                failover.capitalize(),
                hosted_zone_id=dns.hosted_zone_id,
                name=f"{names.verdict_record(region.region)}.",
                type="A",
                ttl=str(VERDICT_TTL_SECONDS),
                resource_records=[address],
                set_identifier=names.verdict_record_set_identifier(region.region, failover),
                failover=failover,
                # only the PRIMARY is checked: an unchecked SECONDARY is what Route 53 answers
                # whenever the PRIMARY is unhealthy
                health_check_id=load_balancer_check_id if failover == "PRIMARY" else None,
            )
