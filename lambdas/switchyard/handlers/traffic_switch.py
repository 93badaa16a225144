"""``switchyard.handlers.traffic_switch.handler``: the regional switch Route 53 reads.

A Lambda function URL behind an HTTPS health check: 200 only when a strongly consistent
read of this region's replica of the desired state says this region is active and not
fenced, else 503. Read-only, one GetItem, in ONE attempt with the best-effort timeouts
(1 s connect, 2 s read; ``switchyard.retry``): Route 53 waits about 2 s for an answer, so
retrying inside the invocation only turns a slow read into a checker timeout, and the
health check's failure threshold already absorbs a single failed read.

No desired state answers 503 too, and raises the alarm (an ERROR line and a count of
``DesiredStateMissing``):
- the item is missing: 503 "no desired state", as before the item was seeded;
- the read fails (AccessDenied, throttling after the retries, a timeout, a malformed
  item): 503 "desired state unreadable", with the error code. A region that cannot read
  its own state must not take traffic: answering from a cached verdict could keep a
  region that a newer epoch has fenced in service (at most one active region). The price,
  with Route 53 failing open to the PRIMARY record when both records are unhealthy: if
  the read fails in the active region and the other region's switch rightly says "not
  active", traffic goes to the configured primary whatever the desired state says. That
  is the right region until a failover; after one it is the fenced old primary, which
  refuses writes. The health check's failure threshold absorbs a single failed read; the
  alarm pages an operator for anything longer (runbooks/alarms/desired-state-missing.md).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.parser.models import LambdaFunctionUrlModel
from pydantic import ValidationError

from switchyard.contract import TRAFFIC_SWITCH
from switchyard.deps import RunbookDeps
from switchyard.desired_state import MISSING, DesiredStateUnavailable, read_local_desired
from switchyard.handlers.environment import handler_deps
from switchyard.handlers.observability import calls_attributed_to, logger, report_desired_state_unavailable
from switchyard.model import DesiredState


def switch_answer(region: str, desired: DesiredState | None) -> tuple[int, dict[str, Any]]:
    """The status code and body for ``region`` given its local desired state."""
    if desired is None:
        return 503, {"region": region, "active": False, "why": "no desired state"}
    active = desired.active_region == region and desired.fenced_region != region
    body = {"region": region, "active": active, "epoch": desired.epoch, "active_region": desired.active_region}
    return (200 if active else 503), body


def unavailable_answer(unavailable: DesiredStateUnavailable) -> tuple[int, dict[str, Any]]:
    """503 without a desired state: missing answers as before seeding, a failed read says so."""
    if unavailable.problem == MISSING:
        return switch_answer(unavailable.region, None)
    why = {"why": "desired state unreadable", "error_code": unavailable.error_code}
    return 503, {"region": unavailable.region, "active": False, **why}


def answer(deps: RunbookDeps) -> tuple[int, dict[str, Any]]:
    """The switch's answer in ``deps.region``: the read (attributed to the traffic switch in
    the call log, when there is one), the alarm's report when there is no desired state."""
    with calls_attributed_to(deps, TRAFFIC_SWITCH):
        desired = read_local_desired(deps, best_effort=True)
    if isinstance(desired, DesiredStateUnavailable):
        report_desired_state_unavailable(desired, function=TRAFFIC_SWITCH)
        return unavailable_answer(desired)
    return switch_answer(deps.region, desired)


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:  # noqa: ARG001
    try:
        LambdaFunctionUrlModel.model_validate(event)
    except ValidationError:
        return _response(400, {"error": "not a function URL request"})
    return _response(*answer(handler_deps(deps)))
