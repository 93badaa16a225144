"""The one Logger/Tracer/Metrics trio every handler shares, and the reports they all make."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from switchyard.contract import DESIRED_STATE_MISSING_METRIC
from switchyard.contract import METRICS_NAMESPACE as NAMESPACE
from switchyard.contract import SERVICE_NAME as SERVICE
from switchyard.deps import RunbookDeps
from switchyard.desired_state import DesiredStateUnavailable

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

REGION_DIMENSION = "Region"


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


def count_in_region(name: str, region: str) -> None:
    """One count whose only dimension is ``Region``, flushed at once, in the same
    no-shared-state style as :func:`count_step`. No ``service`` dimension (single_metric
    would add one from POWERTOOLS_SERVICE_NAME): the stacks alarm on exactly
    ``{Region: <region>}``, and an alarm only matches a metric's exact dimension set."""
    emitter = AmazonCloudWatchEMFProvider(namespace=NAMESPACE, service="")  # fresh per call
    emitter.add_metric(name=name, unit=MetricUnit.Count, value=1)
    emitter.add_dimension(name=REGION_DIMENSION, value=region)
    emitter.flush_metrics()  # prints one EMF line; nothing when POWERTOOLS_METRICS_DISABLED


def report_desired_state_unavailable(unavailable: DesiredStateUnavailable, *, function: str) -> None:
    """The alarm's input: an ERROR line naming the table, key, region and cause, and a count
    of ``DESIRED_STATE_MISSING_METRIC`` (runbooks/alarms/desired-state-missing.md)."""
    logger.error("desired state unavailable: changing nothing", extra={"function": function, **unavailable.as_dict()})
    count_in_region(DESIRED_STATE_MISSING_METRIC, unavailable.region)


def calls_attributed_to(deps: RunbookDeps, purpose: str) -> AbstractContextManager[None]:
    """Label every AWS call made inside the block with the function's purpose (a
    ``switchyard.contract`` purpose), when the deps record calls (tests, drills)."""
    return deps.call_log.step(purpose) if deps.call_log is not None else nullcontext()
