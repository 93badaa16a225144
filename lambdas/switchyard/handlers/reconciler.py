"""``switchyard.handlers.reconciler.handler``: scheduled constant work (see switchyard.reconciler).

No desired state: it changes nothing, logs an ERROR and counts ``DesiredStateMissing``
(the alarm). A heartbeat it could not write fails the invocation after converging, so
the function's error alarm says that the other region sees this one as stale.

A fenced region whose database may still take writes while no runbook is in progress
(RDS refused to stop it, an Aurora writer not demoted) logs an ERROR and counts
``DatabaseNotFenced`` every run until it is: the page that a human must look."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from switchyard.contract import DATABASE_NOT_FENCED_METRIC, RECONCILER, WARM_UP_FAILED_METRIC
from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import handler_deps, parse_event
from switchyard.handlers.observability import (
    calls_attributed_to,
    count_in_region,
    logger,
    metrics,
    report_desired_state_unavailable,
    tracer,
)
from switchyard.reconciler import IMAGE_UNAVAILABLE_METRIC, reconcile_region


class InvalidReconcilerEventError(ValueError):
    """The event is not the reconciler's schedule."""


class HeartbeatNotWrittenError(RuntimeError):
    """This region's heartbeat could not be written (the convergence itself still ran)."""


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:  # noqa: ARG001
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    parse_event(EventBridgeModel, event, InvalidReconcilerEventError, "a scheduled event")
    resolved = handler_deps(deps)
    with calls_attributed_to(resolved, RECONCILER):
        convergence = reconcile_region(resolved)
    if convergence.desired_state is not None:
        report_desired_state_unavailable(convergence.desired_state, function=RECONCILER)
    logger.info("region reconciled", extra=convergence.as_dict())
    metrics.add_metric(name="CapacityConverged", unit=MetricUnit.Count, value=1 if convergence.changed else 0)
    warm_up_failures = convergence.warm_up_failures or {}
    for function, error in warm_up_failures.items():  # best-effort: reported, never fails the run
        logger.warning("step function not warmed", extra={"function": function, "error": error})
    metrics.add_metric(name=WARM_UP_FAILED_METRIC, unit=MetricUnit.Count, value=len(warm_up_failures))
    if convergence.image_unavailable or convergence.image_error is not None:  # reported only: nothing changes
        image = convergence.image.as_observed() if convergence.image else None
        logger.error(
            "launch image not available",
            extra={"region": resolved.region, "image": image, "error": convergence.image_error},
        )
    metrics.add_metric(
        name=IMAGE_UNAVAILABLE_METRIC, unit=MetricUnit.Count, value=1 if convergence.image_unavailable else 0
    )
    if convergence.needs_human and convergence.database_fence is not None:
        fence = convergence.database_fence
        logger.error(
            "fenced region's database may still take writes",
            extra={"region": resolved.region, "database": fence.key, "fence": fence.label},
        )
        count_in_region(DATABASE_NOT_FENCED_METRIC, resolved.region)  # the database-not-fenced alarm
    if convergence.heartbeat_error is not None:
        key = resolved.names.heartbeat_key(resolved.region)
        where = {"table": resolved.names.state_table, "key": key, "region": resolved.region}
        logger.error("heartbeat not written", extra={**where, "error": convergence.heartbeat_error})
        raise HeartbeatNotWrittenError(f"{key} not written in {resolved.region}: {convergence.heartbeat_error}")
    return convergence.as_dict()
