"""``switchyard.handlers.monitor.handler``: scheduled every minute and on CloudWatch
alarm state changes (EventBridge); evaluates the other region and acts (see
switchyard.monitor). Any other event is rejected before anything is read or written.
Without a desired state it evaluates nothing, logs an ERROR and counts
``DesiredStateMissing`` (the alarm). Every trigger is recorded with its EventBridge id and
time (``trigger#<app>#<region>#<event id>``), duplicates and late events included."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from switchyard.contract import MONITOR
from switchyard.deps import RunbookDeps
from switchyard.handlers.environment import handler_deps, parse_event
from switchyard.handlers.observability import (
    calls_attributed_to,
    logger,
    metric_name,
    metrics,
    report_desired_state_unavailable,
    tracer,
)
from switchyard.monitor import TRIGGER_DUPLICATE, respond_to_trigger, trigger_from_event


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
    resolved = handler_deps(deps)
    received = trigger_from_event(trigger.id, trigger.time, trigger.detail_type, trigger.source, trigger.detail)
    with calls_attributed_to(resolved, MONITOR):
        outcome = respond_to_trigger(resolved, received)
    if outcome.desired_state is not None:
        report_desired_state_unavailable(outcome.desired_state, function=MONITOR)
    logger.info(
        "monitor evaluated",
        extra={
            "trigger": trigger.detail_type,
            "event_id": trigger.id,
            "event_time": trigger.time.isoformat(),
            **outcome.as_dict(),
        },
    )
    if outcome.trigger_record == TRIGGER_DUPLICATE:
        metrics.add_metric(name="DuplicateTrigger", unit=MetricUnit.Count, value=1)
    if outcome.decision is not None:
        metrics.add_metric(name=metric_name("Decision", outcome.decision.value), unit=MetricUnit.Count, value=1)
    if outcome.started_execution:
        metrics.add_metric(name="RunbookStarted", unit=MetricUnit.Count, value=0 if outcome.duplicate else 1)
    return outcome.as_dict()
