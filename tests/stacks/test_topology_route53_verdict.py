"""Route53Verdict: each region publishes Route 53's verdict on its load balancer as a pair of
failover A records (PRIMARY "healthy" on the region's load-balancer check, SECONDARY
"unhealthy" without a check), named as the controller resolves them."""

from __future__ import annotations

from typing import Any

from switchyard.contract import (
    SIGNAL_HEALTH_CHECK,
    VERDICT_HEALTHY_ADDRESS,
    VERDICT_TTL_SECONDS,
    VERDICT_UNHEALTHY_ADDRESS,
)
from tests.stacks.test_topology_dns import checks_by_name
from tests.stacks.topology import Topology, resources_of


def verdict_records(template: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The sentinel's records in ``template`` by failover role."""
    records = resources_of(template, "AWS::Route53::RecordSet").values()
    return {
        record["Properties"]["Failover"]: record["Properties"]
        for record in records
        if record["Properties"]["Name"] == name
    }


def test_each_region_publishes_route53s_verdict_on_its_own_load_balancer(topology: Topology) -> None:
    config, names = topology.config, topology.names
    for role, region in (("primary", config.regions.primary), ("standby", config.regions.standby)):
        # GIVEN the region's regional stack in the whole app
        template = topology.template_json("regional", role)
        load_balancer_check, _ = checks_by_name(template)[names.health_check(region, SIGNAL_HEALTH_CHECK)]

        # WHEN its sentinel records are read (by the name the controller resolves)
        records = verdict_records(template, f"{names.verdict_record(region)}.")

        # THEN PRIMARY answers "healthy" on this region's load-balancer check
        assert set(records) == {"PRIMARY", "SECONDARY"}, region
        primary, secondary = records["PRIMARY"], records["SECONDARY"]
        assert primary["ResourceRecords"] == [VERDICT_HEALTHY_ADDRESS]
        assert primary["HealthCheckId"] == {"Fn::GetAtt": [load_balancer_check, "HealthCheckId"]}
        # AND SECONDARY answers "unhealthy" with no check, so Route 53 answers it whenever PRIMARY is unhealthy
        assert secondary["ResourceRecords"] == [VERDICT_UNHEALTHY_ADDRESS]
        assert "HealthCheckId" not in secondary
        # AND both are plain A records (no alias) in the configured zone, with the contract's ids and short TTL
        for failover, record in records.items():
            assert "AliasTarget" not in record
            assert (record["Type"], record["HostedZoneId"]) == ("A", config.dns.hosted_zone_id)
            assert record["SetIdentifier"] == names.verdict_record_set_identifier(region, failover)
            assert record["TTL"] == str(VERDICT_TTL_SECONDS)


def test_the_sentinel_names_are_per_region_and_inside_the_configured_zone(topology: Topology) -> None:
    # GIVEN the contract's sentinel names of the pair
    names, zone = topology.names, topology.config.dns.zone_name
    sentinels = [names.verdict_record(region) for region in topology.config.regions.pair]
    # THEN they differ per region, live in the zone, and are not the application's record
    assert len(set(sentinels)) == 2
    assert all(name.endswith(f".{zone}") for name in sentinels)
    assert topology.config.dns.record_name not in sentinels
    # AND no other stack creates a record on them (each region owns its own pair)
    for role, region in (("primary", topology.config.regions.primary), ("standby", topology.config.regions.standby)):
        other = names.verdict_record(topology.config.regions.other(region))
        assert verdict_records(topology.template_json("regional", role), f"{other}.") == {}
