"""The collaborators every runbook step and handler receives, built by one factory.

``build_runbook_deps(config, region, clients=..., clock=...)`` wires the boto3
adapters for the configured engine; tests and the drill replace any of them by keyword
(e.g. ``database=ModelledAuroraGlobalFailover(...)``). Nothing here creates a client:
the ClientFactory does that on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from switchyard.adapters.compute import AutoScalingCompute, Compute
from switchyard.adapters.database import (
    AuroraGlobalDatabase,
    Database,
    RdsReplicaDatabase,
    ReplicationLagReader,
)
from switchyard.adapters.dns import Route53FailoverRecords, TrafficRecords
from switchyard.adapters.functions import FunctionWarmer, LambdaFunctionWarmer
from switchyard.adapters.health import AwsHealthSignals, HealthSignals, HttpProbe
from switchyard.adapters.notifications import Notifier, SnsNotifier
from switchyard.adapters.protection import AwsProtection, Protection
from switchyard.adapters.runbook_starter import RunbookStarter, StepFunctionsRunbookStarter
from switchyard.adapters.state import DynamoStateStore, StateStore
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names, ReadinessPolling
from switchyard.retry import ApiCallLog, ClientFactory

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunbookDeps:
    config: EnvironmentConfig
    region: str  # where this code runs
    clients: ClientFactory
    database: Database
    compute: Compute
    state: StateStore
    notifier: Notifier
    health: HealthSignals
    traffic_records: TrafficRecords
    runbook_starter: RunbookStarter
    function_warmer: FunctionWarmer  # the reconciler's warm-up of its region's step functions
    protection: Protection  # S3 replication health and backup recovery points (preflight)
    clock: Clock
    sleep: Callable[[float], None]
    readiness: ReadinessPolling = field(default_factory=ReadinessPolling)

    @property
    def names(self) -> Names:
        return Names(self.config)

    @property
    def call_log(self) -> ApiCallLog | None:
        return self.clients.call_log

    def now_iso(self) -> str:
        return self.clock().isoformat()


def build_runbook_deps(
    config: EnvironmentConfig,
    region: str,
    *,
    clients: ClientFactory | None = None,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    **overrides: Any,
) -> RunbookDeps:
    """Wire the real adapters; any field of RunbookDeps can be overridden by keyword."""
    clients = clients or ClientFactory()
    lag = ReplicationLagReader(clients, clock)
    database: Database = (
        RdsReplicaDatabase(config, clients, lag)
        if config.database.engine == "rds-postgres"
        else AuroraGlobalDatabase(config, clients, lag)
    )
    defaults: dict[str, Any] = {
        "config": config,
        "region": region,
        "clients": clients,
        "database": database,
        "compute": AutoScalingCompute(config, clients),
        "state": DynamoStateStore(config, clients),
        "notifier": SnsNotifier(config, clients),
        "health": AwsHealthSignals(config, clients, HttpProbe(), clock),
        "traffic_records": Route53FailoverRecords(config, clients),
        "runbook_starter": StepFunctionsRunbookStarter(config, clients),
        "function_warmer": LambdaFunctionWarmer(config, clients),
        "protection": AwsProtection(config, clients, clock),
        "clock": clock,
        "sleep": sleep,
    }
    unknown = set(overrides) - set(defaults) - {"readiness"}
    if unknown:
        raise TypeError(f"unknown RunbookDeps fields: {sorted(unknown)}")
    return RunbookDeps(**{**defaults, **overrides})
