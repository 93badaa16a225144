"""``switchyard.handlers.traffic_switch.handler``: the regional switch Route 53 reads.

A Lambda function URL behind an HTTPS health check: 200 when this region's replica of
the desired state says this region is active and not fenced, else 503. Read-only, one
GetItem; a table it cannot read also answers 503 (a region that cannot read its own
state must not take traffic).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.parser.models import LambdaFunctionUrlModel
from pydantic import ValidationError

from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import handler_deps
from switchyard.handlers.observability import logger
from switchyard.model import DesiredState


def switch_answer(region: str, desired: DesiredState | None) -> tuple[int, dict[str, Any]]:
    """The status code and body for ``region`` given its local desired state."""
    if desired is None:
        return 503, {"region": region, "active": False, "why": "no desired state"}
    active = desired.active_region == region and desired.fenced_region != region
    body = {"region": region, "active": active, "epoch": desired.epoch, "active_region": desired.active_region}
    return (200 if active else 503), body


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:  # noqa: ARG001
    try:
        LambdaFunctionUrlModel.model_validate(event)
    except ValidationError:
        return _response(400, {"error": "not a function URL request"})
    resolved = handler_deps(deps)
    try:
        desired = resolved.state.read_desired(resolved.region)
    except Exception as exc:  # noqa: BLE001 - unreadable state means "not active here"
        logger.warning("state table unreadable", extra={"error": str(exc)})
        return _response(503, {"region": resolved.region, "active": False, "why": "state table unreadable"})
    status, body = switch_answer(resolved.region, desired)
    return _response(status, body)
