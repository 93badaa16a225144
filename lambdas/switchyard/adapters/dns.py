"""The Route 53 record edit: the best-effort fallback of the traffic flip.

Route 53 record changes go through its control plane in us-east-1, which a regional
failover must not depend on; the flip itself is a write to the desired-state table.
The failover records carry ``SetIdentifier = Names.failover_record_set_identifier(region)``;
the fallback makes the target's record PRIMARY and the other one SECONDARY in one
atomic change batch, with short timeouts and a single attempt.
"""

from __future__ import annotations

from typing import Any, Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.retry import ClientFactory

ROUTE53_REGION = "us-east-1"


class TrafficRecords(Protocol):
    def make_primary(self, region: str) -> bool:
        """Make ``region``'s failover record PRIMARY; False when nothing had to change."""
        ...


class Route53FailoverRecords:
    def __init__(self, config: EnvironmentConfig, clients: ClientFactory) -> None:
        self._config = config
        self._names = Names(config)
        self._clients = clients

    def make_primary(self, region: str) -> bool:
        route53 = self._clients.client("route53", ROUTE53_REGION, best_effort=True)
        record_name = self._config.dns.record_name.rstrip(".") + "."
        response = route53.list_resource_record_sets(
            HostedZoneId=self._config.dns.hosted_zone_id, StartRecordName=record_name, MaxItems="10"
        )
        records = [
            record
            for record in response.get("ResourceRecordSets", [])
            if record["Name"] == record_name and record.get("Failover")
        ]
        changes: list[dict[str, Any]] = []
        for record in records:
            wanted = (
                "PRIMARY"
                if record.get("SetIdentifier") == self._names.failover_record_set_identifier(region)
                else "SECONDARY"
            )
            if record["Failover"] != wanted:
                changes.append({"Action": "UPSERT", "ResourceRecordSet": {**record, "Failover": wanted}})
        if not changes:
            return False
        route53.change_resource_record_sets(
            HostedZoneId=self._config.dns.hosted_zone_id,
            ChangeBatch={"Comment": f"switchyard: make {region} primary", "Changes": changes},
        )
        return True
