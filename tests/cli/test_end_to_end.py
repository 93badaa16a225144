"""The CLI against a fresh moto world per test: readiness and the approval conversation."""

from __future__ import annotations

import io
import threading
import time

import pytest

from switchyard_cli.cli import ExitCode, main
from tests.cli.conftest import FAST, cli, failover, signed_in_as, started_input
from tests.statemachine.conftest import RunbookWorld


def test_readiness_of_a_healthy_standby_is_ready_and_changes_nothing(standby: RunbookWorld) -> None:
    code, out = cli("readiness", "--env", "dev", "--region", "us-west-2", "--incident", "check-1")
    assert code == ExitCode.OK, out
    assert "READY" in out
    assert standby.mutating_calls() == []


def test_the_requester_is_the_callers_identity(standby: RunbookWorld) -> None:
    cli("readiness", "--env", "dev", "--region", "us-west-2", "--incident", "check-2")
    assert started_input(standby, "dry-run-check-2")["requested_by"] == "user/moto"  # moto's caller ARN


def follow_failover_paused_for_approval(standby: RunbookWorld, out: io.StringIO, code: list[int]) -> threading.Thread:
    """A failover alice started and follows in one terminal, paused for approval (lag 300 s, above budget)."""
    standby.controller.clock.advance(600)
    standby.controller.publish_lag(300.0)
    argv = [*failover("--yes"), *FAST]
    with signed_in_as("alice"):
        runner = threading.Thread(target=lambda: code.append(main(argv, out=out, err=out)))
        runner.start()
        deadline = time.monotonic() + 15
        while "WAITING FOR APPROVAL" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    return runner


def approve(*extra: str) -> tuple[int, str]:
    return cli(
        "approve", "--env", "dev", "--region", "us-west-2", "--execution", "failover-INC-9",
        "--reason", "accept 300 s of lag", "--yes", *extra,
    )  # fmt: skip


def test_approve_finds_the_waiting_execution_and_lets_it_continue(standby: RunbookWorld) -> None:
    # GIVEN a failover alice follows in one terminal, paused for approval (lag above budget)
    follower_out, follower_code = io.StringIO(), list[int]()
    runner = follow_failover_paused_for_approval(standby, follower_out, follower_code)
    # WHEN bob approves it by execution name (the token comes from the history)
    with signed_in_as("bob") as bob:
        code, out = approve()
    runner.join(timeout=30)
    # THEN the approval is accepted as bob, accepting the lag shown, and alice's CLI ends in success
    assert code == ExitCode.OK, out
    assert "replication lag 300.0 s" in out
    assert f"approved failover-INC-9 as {bob}, accepting a lag up to 300.0 s" in out
    assert "switchyard approve --env dev --region us-west-2 --execution failover-INC-9" in follower_out.getvalue()
    assert "someone other than its requester (assumed-role/" in follower_out.getvalue()
    assert follower_code == [ExitCode.OK], follower_out.getvalue()


def test_the_requester_cannot_approve_their_own_failover(standby: RunbookWorld) -> None:
    # GIVEN a failover alice started, paused for approval
    follower_out, follower_code = io.StringIO(), list[int]()
    runner = follow_failover_paused_for_approval(standby, follower_out, follower_code)
    # WHEN alice approves it herself
    with signed_in_as("alice"):
        code, out = approve()
    # THEN the CLI refuses and sends nothing: the execution still waits (bob then rejects it to end the test)
    assert code == ExitCode.USAGE
    assert "approval refused, nothing was sent" in out
    assert "needs a second person's approval" in out
    with signed_in_as("bob"):
        rejected, _ = approve("--reject")
    runner.join(timeout=30)
    assert rejected == ExitCode.OK
    assert follower_code == [ExitCode.RUNBOOK_FAILED]


def test_an_accepted_lag_below_the_measured_one_is_refused_before_sending(standby: RunbookWorld) -> None:
    # GIVEN a failover paused for approval with 300 s of lag
    follower_out, follower_code = io.StringIO(), list[int]()
    runner = follow_failover_paused_for_approval(standby, follower_out, follower_code)
    # WHEN bob approves accepting only 100 s
    with signed_in_as("bob"):
        code, out = approve("--accept-lag", "100")
        # THEN the CLI refuses naming both lags, and sends nothing
        assert code == ExitCode.USAGE
        assert "the approval accepted a lag of 100.0s; the lag is now 300.0s" in out
        rejected, _ = approve("--reject")
    runner.join(timeout=30)
    assert rejected == ExitCode.OK


def test_unlock_releases_a_lock_kept_by_a_finished_execution(standby: RunbookWorld) -> None:
    # GIVEN a finished execution whose lock was kept (as the after-changes failure path does)
    deps = standby.controller.deps(standby.region)
    holder = deps.names.execution_arn(standby.region, "failover-INC-7")
    deps.state.acquire_lock(standby.region, holder=holder, now="2026-01-01T00:00:00+00:00", min_epoch=0)
    standby.runbook.run(standby.request(reason="x"), name="failover-INC-7")  # ends at once: invalid reason
    # WHEN an operator unlocks it
    code, out = cli(
        "unlock", "--env", "dev", "--region", "us-west-2", "--execution", "failover-INC-7",
        "--reason", "state checked by hand", "--yes",
    )  # fmt: skip
    # THEN the lock is free
    assert code == ExitCode.OK, out
    lock = standby.lock()
    assert lock is not None
    assert not lock.held


@pytest.mark.parametrize(("holder_region", "name"), [("us-west-2", "failover-INC-7"), ("us-east-1", "failover-INC-8")])
def test_unlock_refuses_a_lock_held_by_another_execution(standby: RunbookWorld, holder_region: str, name: str) -> None:
    # GIVEN the lock held by another name, or by the same name in the other region's runbook
    deps = standby.controller.deps(standby.region)
    holder = deps.names.execution_arn(holder_region, name)
    deps.state.acquire_lock(standby.region, holder=holder, now="2026-01-01T00:00:00+00:00", min_epoch=0)
    # WHEN an operator unlocks failover-INC-8 of this region's runbook
    code, out = cli(
        "unlock", "--env", "dev", "--region", "us-west-2", "--execution", "failover-INC-8",
        "--reason", "wrong one", "--yes",
    )  # fmt: skip
    # THEN it is refused, naming the holder's ARN, and the lock stays
    assert code == ExitCode.USAGE
    assert f"held by {holder!r}" in out
    lock = standby.lock()
    assert lock is not None
    assert lock.held


def test_readiness_with_a_blocker_exits_not_ready_and_names_it(standby: RunbookWorld) -> None:
    # GIVEN another runbook holds the lock (a preflight blocker)
    store = standby.controller.deps(standby.region).state
    store.acquire_lock(standby.region, holder="failover-INC-7", now="2026-01-01T00:00:00+00:00", min_epoch=0)
    # WHEN an operator checks readiness
    code, out = cli("readiness", "--env", "dev", "--region", "us-west-2", "--incident", "check-3")
    # THEN the dry run itself succeeded but the CLI says NOT READY with the blocker
    assert code == ExitCode.NOT_READY, out
    assert "[blocker] lock" in out
    assert "NOT READY" in out
