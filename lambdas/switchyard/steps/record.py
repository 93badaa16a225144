"""record: one append-only audit record of the run and one SNS notification.

The record says who/what triggered it and why, the evidence (preflight's observations),
the epoch, any approval, each step's status, message and duration, every fence of the old
region with how it was verified (``fences``, from the fence step), and the lost-writes
record a data-losing promotion left (``lost_writes``: its key; the old primary's snapshot
is added to that record when it is taken, and the reconciler logs it). Written once per
execution (conditional put, keyed by the execution ARN, so same-named runs in two regions
keep two records); a re-run finds it and changes nothing. A dry run records
nothing (zero mutating calls); its result is the preflight output itself.
"""

from __future__ import annotations

from typing import Any

from switchyard.deps import RunbookDeps
from switchyard.model import StepResult, StepStatus
from switchyard.runbook_state import RunbookState
from switchyard.steps._common import start


def outcome_of(state: RunbookState) -> str:
    """``needs_human`` if any step stopped for a person, else ``succeeded``."""
    statuses = {result.status for result in state.results.values()}
    if StepStatus.NEEDS_HUMAN in statuses or StepStatus.FAILED in statuses:
        return "needs_human"
    return "succeeded"


def audit_record(state: RunbookState, deps: RunbookDeps) -> dict[str, Any]:
    preflight = state.result("preflight")
    fence = state.result("fence")
    promote = state.result("promote")
    return {
        "kind": "runbook",
        "environment": deps.config.name,
        "application": deps.config.application,
        "execution": state.holder,
        "epoch": state.epoch,
        "outcome": outcome_of(state),
        "request": state.request.model_dump(mode="json"),
        "approval": state.approval.model_dump(mode="json") if state.approval else None,
        "evidence": preflight.observed if preflight else {},
        "fences": (fence.observed.get("fences") if fence else None) or {},
        "lost_writes": promote.observed.get("lost_writes_record") if promote else None,
        "steps": {
            name: {
                "status": str(result.status),
                "message": result.message,
                "duration_ms": result.duration_ms,
                "actions": result.actions,
            }
            for name, result in state.results.items()
        },
        "recorded_at": deps.now_iso(),
        "recorded_in": deps.region,
    }


def record_and_notify(state: RunbookState, deps: RunbookDeps) -> StepResult:
    run = start("record", state, deps)
    if skipped := run.skip_dry_run():
        return skipped
    if deps.state.read_audit(run.target, execution=state.holder) is not None:
        return run.finish(StepStatus.NOOP, f"audit record for {state.holder} already written")
    record = audit_record(state, deps)
    subject = f"Switchyard {deps.config.name}: {state.request.action} to {run.target} {record['outcome']}"
    message_id = deps.notifier.publish(run.target, subject=subject, message=record)
    run.did(f"published notification {message_id}", "published notification", message_id=message_id)
    if deps.state.append_audit(run.target, execution=state.holder, record=record):
        run.did(f"appended audit record for {state.holder}", "appended audit record", outcome=record["outcome"])
    run.observed.update({"outcome": record["outcome"], "message_id": message_id})
    return run.finish(StepStatus.DONE, f"recorded {record['outcome']} for {state.holder}")
