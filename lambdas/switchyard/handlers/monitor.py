"""``switchyard.handlers.monitor.handler``: scheduled every minute and on CloudWatch
alarm state changes (EventBridge); evaluates the other region and acts (see
switchyard.monitor). Any other event is rejected before anything is read or written."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field, ValidationError

from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import describe_validation_error, handler_deps
from switchyard.handlers.observability import logger, metrics, tracer
from switchyard.monitor import evaluate_once


class MonitorTrigger(EventBridgeModel):
    """The two events the monitor's rules deliver."""

    detail_type: Literal["Scheduled Event", "CloudWatch Alarm State Change"] = Field(alias="detail-type")


class InvalidMonitorEventError(ValueError):
    """The event is not one of the monitor's triggers."""


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:  # noqa: ARG001
    try:
        trigger = MonitorTrigger.model_validate(event)
    except ValidationError as exc:
        metrics.add_metric(name="InputRejected", unit=MetricUnit.Count, value=1)
        raise InvalidMonitorEventError(f"not a monitor trigger: {describe_validation_error(exc)}") from exc
    outcome = evaluate_once(handler_deps(deps))
    logger.info("monitor evaluated", extra={"trigger": trigger.detail_type, **outcome.as_dict()})
    metrics.add_metric(name="Evaluations", unit=MetricUnit.Count, value=1)
    if outcome.decision is not None:
        metrics.add_metric(
            name=f"Decision{outcome.decision.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
        )
    if outcome.started_execution:
        metrics.add_metric(name="RunbookStarted", unit=MetricUnit.Count, value=0 if outcome.duplicate else 1)
    return outcome.as_dict()
