"""``switchyard.handlers.traffic_switch.handler``: the regional switch Route 53 reads.

A Lambda function URL behind an HTTPS health check: 200 only when a strongly consistent
read of this region's replica of the desired state says this region is active and not
fenced, else 503. Read-only, one GetItem, in ONE attempt with the best-effort timeouts
(1 s connect, 2 s read; ``switchyard.retry``): Route 53 waits about 2 s for an answer, so
retrying inside the invocation only turns a slow read into a checker timeout, and the
health check's failure threshold already absorbs a single failed read.

No desired state answers 503 too, and raises the alarm (an ERROR line naming the problem
and error code, and a count of ``DesiredStateMissing``):
- the item is missing: 503, as before the item was seeded;
- the read fails (AccessDenied, throttling after the retries, a timeout, a malformed
  item): 503. A region that cannot read
  its own state must not take traffic: answering from a cached verdict could keep a
  region that a newer epoch has fenced in service (at most one active region). The price,
  with Route 53 failing open to the PRIMARY record when both records are unhealthy: if
  the read fails in the active region and the other region's switch rightly says "not
  active", traffic goes to the configured primary whatever the desired state says. That
  is the right region until a failover; after one it is the fenced old primary, which
  refuses writes. The health check's failure threshold absorbs a single failed read; the
  alarm pages an operator for anything longer (runbooks/alarms/desired-state-missing.md).

The URL is public (Route 53's checkers cannot sign requests), so the answer says nothing the
status code does not: ``{"active": true|false}``. Which region is active, the epoch, the
fence and why a read failed are facts an attacker could use (which region to flood so that
both records are unhealthy, when a failover happened); they go to this function's log, in
one line per answer (``switch answered``) or the desired-state-missing ERROR line. The log
names the request only by its source address, method, path and user agent (truncated):
never the whole event, whose headers and query string are whatever the caller sent.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.parser.models import LambdaFunctionUrlModel
from pydantic import ValidationError

from switchyard.contract import TRAFFIC_SWITCH
from switchyard.deps import RunbookDeps
from switchyard.desired_state import DesiredStateUnavailable, read_local_desired
from switchyard.handlers.environment import handler_deps
from switchyard.handlers.observability import calls_attributed_to, logger, report_desired_state_unavailable
from switchyard.model import DesiredState


def switch_answer(region: str, desired: DesiredState | None) -> tuple[int, dict[str, bool]]:
    """The status code and public body for ``region`` given its local desired state (None: no
    desired state). The body repeats the status code and nothing else (module docstring)."""
    active = desired is not None and desired.active_region == region and desired.fenced_region != region
    return (200 if active else 503), {"active": active}


def answer(deps: RunbookDeps) -> tuple[int, dict[str, bool]]:
    """The switch's answer in ``deps.region``: the read (attributed to the traffic switch in
    the call log, when there is one), the alarm's report when there is no desired state, and
    the answer's reasons in the log."""
    with calls_attributed_to(deps, TRAFFIC_SWITCH):
        desired = read_local_desired(deps, best_effort=True)
    if isinstance(desired, DesiredStateUnavailable):
        report_desired_state_unavailable(desired, function=TRAFFIC_SWITCH)
        return switch_answer(deps.region, None)
    status, body = switch_answer(deps.region, desired)
    logger.info(
        "switch answered",
        extra={
            "status": status,
            "active_region": desired.active_region,
            "epoch": desired.epoch,
            "fenced_region": desired.fenced_region,
        },
    )
    return status, body


MAX_LOGGED_CHARS = 100  # per request field: a caller chooses its user agent and path


def request_summary(request: LambdaFunctionUrlModel) -> dict[str, str]:
    """What the log keeps of a request: who asked, how, for what; each value truncated."""
    http = request.requestContext.http
    source = getattr(http.sourceIp, "network_address", http.sourceIp)  # parsed as a /32 (or /128) network
    fields = {"source_ip": str(source), "method": http.method, "path": http.path, "user_agent": http.userAgent}
    return {name: value[:MAX_LOGGED_CHARS] for name, value in fields.items()}


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event is the caller's to fill
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:  # noqa: ARG001
    try:
        request = LambdaFunctionUrlModel.model_validate(event)
    except ValidationError:
        logger.warning("not a function URL request", extra={"event_keys": sorted(map(str, event))[:10]})
        return _response(400, {"error": "not a function URL request"})
    logger.append_keys(**request_summary(request))
    return _response(*answer(handler_deps(deps)))
