"""``switchyard.handlers.monitor.handler``: scheduled once a minute and on CloudWatch alarm
state changes (EventBridge); evaluates the other region and acts (see switchyard.monitor).
Any other event is rejected before anything is read or written.

The schedule's event runs a minute of evaluations: ``60 / detection.evaluation_interval_seconds``
of them below 60 s, ``interval`` apart, each with its own trigger identity, stopping early
when the function's remaining time could not fit another (switchyard.monitor.run_evaluations).
An alarm's event runs one. Each evaluation first writes this region's heartbeat, and the
scheduled loop writes it every ``HEARTBEAT_SECONDS`` while it sleeps, then on past the minute
(``HEARTBEAT_OVERLAP_SECONDS``) while the next invocation begins; one that cannot be written
logs an ERROR and counts ``HeartbeatNotWritten`` (the invocation goes on: the reconciler's
own heartbeat failure is what fails a function and raises its alarm).
Without a desired state it evaluates nothing, logs an ERROR and counts
``DesiredStateMissing`` (the alarm). Every evaluation's trigger is recorded with its id and
time (``trigger#<app>#<region>#<event id>``), duplicates and late events included. Every
evaluation that decided publishes its verdict, failing sources and hysteresis counts
(``publish_verdict``), which the region's dashboard graphs.

``single_evaluation`` runs exactly one evaluation of an event whatever the interval: for a
caller that ticks once per evaluation interval itself (the drill); it is never deployed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from switchyard.contract import (
    HEARTBEAT_OVERLAP_SECONDS,
    METRICS_NAMESPACE,
    MONITOR,
    MONITOR_FAILING_EVALUATIONS_METRIC,
    MONITOR_FAILING_SIGNALS_METRIC,
    MONITOR_RECOVERING_EVALUATIONS_METRIC,
    MONITOR_SCHEDULE_SECONDS,
    MONITOR_VERDICT_METRIC,
    MONITOR_VERDICT_VALUES,
    monitor_metric_dimensions,
)
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
from switchyard.monitor import (
    TRIGGER_DUPLICATE,
    MonitorOutcome,
    Trigger,
    evaluation_offsets,
    respond_to_trigger,
    run_evaluations,
    trigger_from_event,
)

SCHEDULED_EVENT = "Scheduled Event"


class MonitorTrigger(EventBridgeModel):
    """The two events the monitor's rules deliver."""

    detail_type: Literal["Scheduled Event", "CloudWatch Alarm State Change"] = Field(alias="detail-type")


class InvalidMonitorEventError(ValueError):
    """The event is not one of the monitor's triggers."""


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:
    """The schedule: a minute of evaluations; an alarm state change: one."""
    return _handle(event, context, deps, loop=True)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def single_evaluation(event: dict[str, Any], context: Any, deps: RunbookDeps | None = None) -> dict[str, Any]:
    """Exactly one evaluation of ``event`` (the drill ticks once per evaluation interval)."""
    return _handle(event, context, deps, loop=False)


def _handle(event: dict[str, Any], context: Any, deps: RunbookDeps | None, *, loop: bool) -> dict[str, Any]:
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    trigger = parse_event(MonitorTrigger, event, InvalidMonitorEventError, "a monitor trigger")
    resolved = handler_deps(deps)
    received = trigger_from_event(trigger.id, trigger.time, trigger.detail_type, trigger.source, trigger.detail)
    scheduled = loop and trigger.detail_type == SCHEDULED_EVENT
    offsets = evaluation_offsets(resolved.config.detection) if scheduled else (0,)
    with calls_attributed_to(resolved, MONITOR):
        run = run_evaluations(
            resolved,
            received,
            lambda slot: _evaluate(resolved, slot),
            offsets=offsets,
            remaining_seconds=_remaining_seconds(context),
            beat_until=MONITOR_SCHEDULE_SECONDS + HEARTBEAT_OVERLAP_SECONDS if len(offsets) > 1 else None,
        )
    if run.heartbeat_errors:
        logger.error(
            "heartbeats between evaluations not written",
            extra={"failed": len(run.heartbeat_errors), "first_error": run.heartbeat_errors[0]},
        )
        metrics.add_metric(name="HeartbeatNotWritten", unit=MetricUnit.Count, value=len(run.heartbeat_errors))
    if run.stopped_early or run.skipped_offsets:
        logger.warning(
            "monitor evaluations cut short",
            extra={
                "event_id": trigger.id,
                "evaluations": len(run.outcomes),
                "planned": len(offsets),
                "skipped_offsets": run.skipped_offsets,
                "stopped_early": run.stopped_early,
            },
        )
        metrics.add_metric(name="EvaluationsNotRun", unit=MetricUnit.Count, value=len(offsets) - len(run.outcomes))
    return run.as_dict()


def _evaluate(deps: RunbookDeps, trigger: Trigger) -> MonitorOutcome:
    """One evaluation as the function runs it: heartbeat, decision, record; its log line and metrics."""
    outcome = respond_to_trigger(deps, trigger)
    if outcome.desired_state is not None:
        report_desired_state_unavailable(outcome.desired_state, function=MONITOR)
    if outcome.heartbeat_error is not None:
        key = deps.names.heartbeat_key(deps.region)
        where = {"table": deps.names.state_table, "key": key, "region": deps.region}
        logger.error("heartbeat not written", extra={**where, "error": outcome.heartbeat_error})
        metrics.add_metric(name="HeartbeatNotWritten", unit=MetricUnit.Count, value=1)
    logger.info(
        "monitor evaluated",
        extra={
            "trigger": trigger.detail_type,
            "event_id": trigger.event_id,
            "event_time": trigger.time.isoformat(),
            **outcome.as_dict(),
        },
    )
    if outcome.trigger_record == TRIGGER_DUPLICATE:
        metrics.add_metric(name="DuplicateTrigger", unit=MetricUnit.Count, value=1)
    if outcome.decision is not None:
        metrics.add_metric(name=metric_name("Decision", outcome.decision.value), unit=MetricUnit.Count, value=1)
        publish_verdict(deps, outcome)
    if outcome.started_execution:
        metrics.add_metric(name="RunbookStarted", unit=MetricUnit.Count, value=0 if outcome.duplicate else 1)
    return outcome


def publish_verdict(deps: RunbookDeps, outcome: MonitorOutcome) -> None:
    """The evaluation's verdict, failing sources and hysteresis counts as one EMF document,
    flushed at once with exactly ``monitor_metric_dimensions`` (no ``service``: the dashboard
    selects that set). Only for an evaluation that decided, so one that evaluated nothing
    (active region, no desired state, a late event) leaves a gap, not a false "healthy"."""
    if outcome.decision is None or outcome.watched_region is None:
        return
    emitter = AmazonCloudWatchEMFProvider(namespace=METRICS_NAMESPACE, service="")  # fresh per evaluation
    dimensions = monitor_metric_dimensions(deps.config, region=deps.region, watched_region=outcome.watched_region)
    for dimension, dimension_value in dimensions.items():
        emitter.add_dimension(name=dimension, value=dimension_value)
    values = {
        MONITOR_VERDICT_METRIC: MONITOR_VERDICT_VALUES[outcome.decision],
        MONITOR_FAILING_SIGNALS_METRIC: len(outcome.failing_sources),
        MONITOR_FAILING_EVALUATIONS_METRIC: outcome.failing_evaluations,
        MONITOR_RECOVERING_EVALUATIONS_METRIC: outcome.recovering_evaluations,
    }
    for name, value in values.items():
        emitter.add_metric(name=name, unit=MetricUnit.Count, value=value)
    emitter.flush_metrics()  # one EMF line; nothing when POWERTOOLS_METRICS_DISABLED


def _remaining_seconds(context: Any) -> Callable[[], float | None]:
    """The function's time left (Lambda's context); unbounded for a context without it."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return lambda: None
    return lambda: float(remaining()) / 1000.0
