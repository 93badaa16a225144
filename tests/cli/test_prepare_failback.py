"""``switchyard prepare-failback``: starts the primary's runbook with the prepare-failback
action (always the configured primary), follows it and ends with the readiness it reports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchyard.config import EnvironmentConfig
from switchyard_cli.cli import ExitCode, build_parser
from tests.cli.conftest import cli, started_input
from tests.controller.test_prepare_failback import publish_lag
from tests.statemachine.conftest import RunbookWorld, runbook_world

PREPARE = ["prepare-failback", "--env", "dev", "--reason", "primary region recovered", "--incident", "INC-7"]


@pytest.fixture
def primary(dev_config: EnvironmentConfig) -> Iterator[RunbookWorld]:
    """dev (RDS): the primary's runbook after a failover; the standby's database is the writer."""
    with runbook_world(dev_config, dev_config.regions.primary) as world, world.handlers():
        east, west = dev_config.regions.pair
        world.controller.deps(west).database.promote(west, primary_reachable=True)
        world.controller.standby_active(epoch=2)
        publish_lag(world.controller, east, 0.0)
        yield world


def test_prepare_failback_targets_the_configured_primary_without_a_region_flag() -> None:
    # GIVEN / WHEN the command is parsed without --region THEN it parses (the target is implied)
    args = build_parser().parse_args([*PREPARE, "--yes"])
    assert (args.command, args.region) == ("prepare-failback", None)


def test_prepare_failback_to_the_standby_is_refused_before_any_call(dev_config: EnvironmentConfig) -> None:
    # GIVEN --region naming the standby WHEN the command runs THEN a usage error names the rule
    code, out = cli(*PREPARE, "--region", dev_config.regions.standby, "--yes")
    assert code == ExitCode.USAGE
    assert "prepare-failback returns to the configured primary" in out


def test_prepare_failback_runs_the_rebuild_and_reports_ready(primary: RunbookWorld) -> None:
    # GIVEN the standby active and the old primary a standalone instance
    # WHEN the operator runs the command
    code, out = cli(*PREPARE, "--yes")

    # THEN it started the primary's runbook with the action, followed it, and reports ready
    assert code == ExitCode.OK, out
    assert started_input(primary, "prepare-failback-INC-7")["action"] == "prepare-failback"
    assert "READY FOR FAILBACK" in out
    assert "switchyard failback --env dev" in out
    assert "DeleteDBInstance" in primary.mutating_calls()
