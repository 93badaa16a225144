"""One non-interactive CLI failover against moto, run once; each test reads what it left."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from switchyard.config import load_environment
from switchyard_cli.cli import ExitCode
from tests.cli.conftest import cli, executions, failover, signed_in_as, started_input
from tests.statemachine.conftest import RunbookWorld, runbook_world


@dataclass(frozen=True)
class AfterFailover:
    world: RunbookWorld
    code: int
    out: str
    requester: str


@pytest.fixture(scope="module")
def after_failover() -> Iterator[AfterFailover]:
    config = load_environment("dev")
    with runbook_world(config, config.regions.standby) as world, world.handlers():
        with signed_in_as("alice") as alice:
            code, out = cli(*failover("--yes"))
        yield AfterFailover(world, code, out, alice)


def test_failover_shows_each_step_and_a_summary(after_failover: AfterFailover) -> None:
    # GIVEN a healthy standby WHEN an operator ran a non-interactive failover
    out = after_failover.out
    # THEN it exited 0 after printing each step as it ran and a summary naming the new active region
    assert after_failover.code == ExitCode.OK, out
    # (states as the definition orders them: where the flip sits is the ASL's, not this test's)
    assert out.index("-> TakeLock") < out.index("-> Promote")
    assert "-> FlipTraffic" in out
    assert "promote: done" in out
    assert "RUNBOOK SUCCEEDED: us-west-2 is active" in out
    desired = after_failover.world.desired()
    assert desired is not None
    assert desired.active_region == "us-west-2"
    # the requester is alice's identity from her credentials
    assert started_input(after_failover.world, "failover-INC-9")["requested_by"] == after_failover.requester


def test_status_reports_desired_state_lock_and_runs(after_failover: AfterFailover) -> None:
    code, out = cli("status", "--env", "dev", "--region", "us-west-2")
    assert code == ExitCode.OK, out
    assert "desired: active us-west-2, epoch 1" in out
    assert "lock: free, last holder arn:aws:states:us-west-2:111111111111:execution:" in out
    assert "-runbook:failover-INC-9, epoch" in out
    assert "run: failover-INC-9" in out


def test_repeating_a_finished_action_does_not_start_a_second_run(after_failover: AfterFailover) -> None:
    code, out = cli(*failover("--yes"))
    assert code == ExitCode.USAGE
    assert "--attempt 2" in out
    assert [e["name"] for e in executions(after_failover.world)] == ["failover-INC-9"]


def test_approve_refuses_an_execution_that_is_not_waiting(after_failover: AfterFailover) -> None:
    code, out = cli(
        "approve", "--env", "dev", "--region", "us-west-2", "--execution", "failover-INC-9",
        "--reason", "too late", "--yes",
    )  # fmt: skip
    assert code == ExitCode.USAGE
    assert "not waiting for an approval" in out


def test_an_unconfirmed_failover_starts_nothing(after_failover: AfterFailover) -> None:
    code, out = cli(*failover(incident="INC-10"))
    assert code == ExitCode.DECLINED
    assert "nothing was started" in out
    assert "failover-INC-10" not in [e["name"] for e in executions(after_failover.world)]
