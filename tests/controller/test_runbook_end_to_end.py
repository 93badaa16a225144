"""GIVEN a provisioned environment WHEN the whole runbook runs THEN the standby takes
over in the safe order, for both database engines."""

from __future__ import annotations

import time
from datetime import timedelta

from switchyard.model import StepStatus
from switchyard.retry import EventHook
from tests.controller.conftest import Controller, failover_state
from tests.controller.runner import run_runbook

CRITICAL_OPERATIONS = {
    "PromoteReadReplica": "promote",
    "SwitchoverGlobalCluster": "promote",
    "FailoverGlobalCluster": "promote",
}


def test_full_runbook_fences_then_promotes_then_is_ready_then_flips(controller: Controller) -> None:
    # GIVEN the standby lags 1 s (within both budgets) and an approval (prod is manual mode)
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = failover_state(controller.config, approval=controller.approval())

    # WHEN the runbook runs
    outcome = run_runbook(state, deps)

    # THEN every step succeeded
    assert outcome.stopped_at is None, outcome.state.results
    assert all(result.ok for result in outcome.state.results.values())
    # AND the mutating calls happened in the order fence -> promote -> ready -> flip
    steps_with_mutations = [call.step for call in controller.call_log.mutating()]
    first = {name: steps_with_mutations.index(name) for name in ("fence", "promote", "flip")}
    assert first["fence"] < first["promote"] < first["flip"]
    all_calls = controller.call_log.snapshot()
    promote_call = next(i for i, call in enumerate(all_calls) if call.operation in CRITICAL_OPERATIONS)
    ready_calls = [i for i, call in enumerate(all_calls) if call.step == "wait_ready"]
    flip_write = next(i for i, call in enumerate(all_calls) if call.step == "flip" and call.operation == "PutItem")
    assert promote_call < min(ready_calls)
    assert max(ready_calls) < flip_write
    # AND the desired state in the target region says the standby is active at the lock's epoch
    desired = deps.state.read_desired(controller.config.regions.standby)
    assert desired is not None
    assert (desired.active_region, desired.epoch, desired.fenced_region) == (
        controller.config.regions.standby,
        outcome.state.epoch,
        controller.config.regions.primary,
    )


def test_scale_up_overlaps_fence_and_promote(controller: Controller) -> None:
    # GIVEN scale-up's capacity change is held back until a promotion has been issued
    # (it can only ever be released if scale_up runs alongside fence -> promote)
    controller.publish_lag(1.0)
    released: list[bool] = []

    def wait_for_promotion(**_: object) -> None:
        deadline = time.monotonic() + 10
        while not set(controller.call_log.operations()) & set(CRITICAL_OPERATIONS):
            if time.monotonic() > deadline:
                raise AssertionError("scale_up was not running alongside promote")
            time.sleep(0.01)
        released.append(True)

    controller.hooks.append(EventHook("before-call.auto-scaling.SetDesiredCapacity", wait_for_promotion))
    deps = controller.deps()
    state = failover_state(controller.config, approval=controller.approval())

    # WHEN the runbook runs
    outcome = run_runbook(state, deps)

    # THEN scale_up began before the promotion and its capacity change went out after it
    assert outcome.stopped_at is None, outcome.state.results
    assert outcome.status("scale_up") is StepStatus.DONE
    assert released == [True]
    calls = controller.call_log.snapshot()
    scale_up_began = min(i for i, call in enumerate(calls) if call.step == "scale_up")
    fence_began = min(i for i, call in enumerate(calls) if call.step == "fence")
    promotion = next(i for i, call in enumerate(calls) if call.operation in CRITICAL_OPERATIONS)
    assert scale_up_began < promotion
    assert fence_began < promotion


def test_rerunning_a_finished_runbook_changes_nothing(controller: Controller) -> None:
    # GIVEN a runbook that completed
    controller.publish_lag(1.0)
    deps = controller.deps()
    state = failover_state(controller.config, approval=controller.approval())
    run_runbook(state, deps)
    before = len(controller.call_log.mutating())

    # WHEN the same execution runs again (a crash-and-retry of the whole execution)
    controller.clock.advance(timedelta(seconds=30).total_seconds())
    rerun = run_runbook(state, deps)

    # THEN every step is a no-op and no mutating call was made
    statuses = {name: result.status for name, result in rerun.state.results.items()}
    assert set(statuses.values()) <= {StepStatus.NOOP}, statuses
    assert len(controller.call_log.mutating()) == before
