"""Reading a runbook execution through the Step Functions API: its history as state
visits (for progress lines and timelines) and the approval it may be waiting for.

Shared by the CLI and the local harness (drill/stepfunctions.py), so both read an
execution the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

APPROVAL_RESOURCE_SUFFIX = "sns:publish.waitForTaskToken"
REJECTION_ERROR = "Switchyard.ApprovalRejected"


@dataclass(frozen=True)
class StateVisit:
    """One state's time in an execution (Parallel branches' states included)."""

    name: str
    kind: str  # Task, Choice, Pass, Parallel, Succeed, Fail
    entered_at: datetime
    exited_at: datetime | None

    @property
    def seconds(self) -> float | None:
        return None if self.exited_at is None else (self.exited_at - self.entered_at).total_seconds()


@dataclass(frozen=True)
class PendingApproval:
    """The approval request an execution is paused on (from its TaskScheduled event)."""

    task_token: str
    request: dict[str, Any]


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every history event of the execution, oldest first."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return sorted(events, key=lambda event: event["id"])
        kwargs["nextToken"] = page["nextToken"]


def state_visits(events: Iterable[dict[str, Any]]) -> list[StateVisit]:
    """Pair StateEntered/StateExited events into visits, in order of entry."""
    open_visits: dict[str, list[int]] = {}
    entered: list[tuple[str, str, datetime]] = []
    exited: dict[int, datetime] = {}
    for event in sorted(events, key=lambda e: e["id"]):
        if details := event.get("stateEnteredEventDetails"):
            open_visits.setdefault(details["name"], []).append(len(entered))
            entered.append((details["name"], event["type"].removesuffix("StateEntered"), event["timestamp"]))
        elif (details := event.get("stateExitedEventDetails")) and open_visits.get(details["name"]):
            exited[open_visits[details["name"]].pop(0)] = event["timestamp"]
    return [StateVisit(name, kind, at, exited.get(index)) for index, (name, kind, at) in enumerate(entered)]


def pending_approval(events: Iterable[dict[str, Any]]) -> PendingApproval | None:
    """The approval request the execution waits on now, or None.

    The token is in the scheduled task's parameters (``$$.Task.Token`` in the SNS message);
    an approval task that has since succeeded, failed or timed out is not pending.
    """
    pending: PendingApproval | None = None
    for event in sorted(events, key=lambda e: e["id"]):
        scheduled = event.get("taskScheduledEventDetails")
        if scheduled and scheduled.get("resource", "").endswith("publish.waitForTaskToken"):
            message = json.loads(scheduled["parameters"]).get("Message", {})
            request = json.loads(message) if isinstance(message, str) else message
            pending = PendingApproval(request["task_token"], request)
        elif pending and event["type"] in {"TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStateExited"}:
            pending = None
    return pending
