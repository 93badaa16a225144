"""``switchyard.handlers.monitor.handler``: scheduled every minute and on CloudWatch
alarm state changes (EventBridge); evaluates the other region and acts (see
switchyard.monitor). Any other event is rejected before anything is read or written."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import handler_deps, parse_event
from switchyard.handlers.observability import logger, metric_name, metrics, tracer
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
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    trigger = parse_event(MonitorTrigger, event, InvalidMonitorEventError, "a monitor trigger")
    outcome = evaluate_once(handler_deps(deps))
    logger.info("monitor evaluated", extra={"trigger": trigger.detail_type, **outcome.as_dict()})
    if outcome.decision is not None:
        metrics.add_metric(name=metric_name("Decision", outcome.decision.value), unit=MetricUnit.Count, value=1)
    if outcome.started_execution:
        metrics.add_metric(name="RunbookStarted", unit=MetricUnit.Count, value=0 if outcome.duplicate else 1)
    return outcome.as_dict()
