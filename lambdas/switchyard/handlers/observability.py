"""The one Logger/Tracer/Metrics trio every handler shares."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from switchyard.contract import METRICS_NAMESPACE as NAMESPACE
from switchyard.contract import SERVICE_NAME as SERVICE

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def metric_name(prefix: str, value: str) -> str:
    """``metric_name("Decision", "fail_over") == "DecisionFailOver"``."""
    return prefix + value.title().replace("_", "").replace("-", "")


def count_step(step: str, name: str) -> None:
    """One count with a ``step`` dimension, flushed at once (no shared dimension state, so
    concurrent step handlers in one process, as in the local harness, do not collide).
    Honours POWERTOOLS_METRICS_DISABLED like the shared Metrics object (single_metric does not)."""
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="step", value=step)
