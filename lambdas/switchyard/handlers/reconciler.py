"""``switchyard.handlers.reconciler.handler``: scheduled constant work (see switchyard.reconciler)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import handler_deps, parse_event
from switchyard.handlers.observability import logger, metrics, tracer
from switchyard.reconciler import reconcile_region


class InvalidReconcilerEventError(ValueError):
    """The event is not the reconciler's schedule."""


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:  # noqa: ARG001
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    parse_event(EventBridgeModel, event, InvalidReconcilerEventError, "a scheduled event")
    convergence = reconcile_region(handler_deps(deps))
    logger.info("region reconciled", extra=convergence.as_dict())
    changed = convergence.after != convergence.before
    metrics.add_metric(name="CapacityConverged", unit=MetricUnit.Count, value=1 if changed else 0)
    return convergence.as_dict()
