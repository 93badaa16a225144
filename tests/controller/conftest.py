"""Fixtures for controller tests: a provisioned moto topology per engine, deps wired to
it with the modelled database promotions, a call log and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from drill.provision import ProvisionedTopology, provision, publish_replication_lag
from switchyard.adapters.database import (
    Database,
    ModelledAuroraGlobalFailover,
    ModelledRdsPromotion,
    ReplicationLagReader,
)
from switchyard.config import EnvironmentConfig
from switchyard.deps import ReadinessPolling, RunbookDeps, build_runbook_deps
from switchyard.model import Action, RunbookInput
from switchyard.retry import ApiCallLog, ClientFactory, EventHook, RetryPolicy
from switchyard.runbook_state import RunbookState


@dataclass
class SteppingClock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Controller:
    """Everything a test needs to run steps against one provisioned environment."""

    config: EnvironmentConfig
    topology: ProvisionedTopology
    call_log: ApiCallLog
    clock: SteppingClock
    sleeps: list[float]
    hooks: list[EventHook]

    def deps(self, region: str | None = None, **overrides: Any) -> RunbookDeps:
        region = region or self.config.regions.standby
        clients = ClientFactory(
            call_log=self.call_log,
            retry_policy=RetryPolicy(sleep=self.sleeps.append, random=lambda: 0.5),
            event_hooks=self.hooks,
        )
        bookkeeping = ClientFactory()
        lag = ReplicationLagReader(clients, self.clock)
        database: Database = (
            ModelledRdsPromotion(self.config, clients, lag, bookkeeping)
            if self.config.database.engine == "rds-postgres"
            else ModelledAuroraGlobalFailover(self.config, clients, lag, bookkeeping)
        )
        options: dict[str, Any] = {
            "database": database,
            "readiness": ReadinessPolling(attempts=3, interval_seconds=1.0),
            **overrides,
        }
        return build_runbook_deps(
            self.config, region, clients=clients, clock=self.clock, sleep=self.sleeps.append, **options
        )

    def publish_lag(self, seconds: float) -> None:
        publish_replication_lag(self.config, seconds, at=self.clock() - timedelta(seconds=30))


def failover_state(config: EnvironmentConfig, **changes: Any) -> RunbookState:
    request = RunbookInput(
        action=changes.pop("action", Action.FAILOVER),
        target_region=changes.pop("target_region", config.regions.standby),
        reason="primary region failing",
        incident_id="INC-42",
        requested_by="tests",
    )
    return RunbookState(request=request, execution=changes.pop("execution", "failover-test-1"), **changes)


def _controller(config: EnvironmentConfig) -> Iterator[Controller]:
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("MOTO_ACCOUNT_ID", config.account)  # ARNs from Names carry the config's account
        clock = SteppingClock()
        topology = provision(config, now=clock() - timedelta(days=1))
        yield Controller(config, topology, ApiCallLog(), clock, [], [])


@pytest.fixture
def rds(dev_config: EnvironmentConfig) -> Iterator[Controller]:
    """dev: RDS PostgreSQL primary + cross-region replica, automatic mode."""
    yield from _controller(dev_config)


@pytest.fixture
def aurora(prod_config: EnvironmentConfig) -> Iterator[Controller]:
    """prod: Aurora PostgreSQL global database, manual mode."""
    yield from _controller(prod_config)


@pytest.fixture(params=["rds", "aurora"])
def controller(request: pytest.FixtureRequest) -> Controller:
    """Both engines."""
    return request.getfixturevalue(request.param)
