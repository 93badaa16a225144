"""The one Logger/Tracer/Metrics trio every handler shares."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "switchyard"
NAMESPACE = "Switchyard"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def metric_name(prefix: str, value: str) -> str:
    """``metric_name("Decision", "fail_over") == "DecisionFailOver"``."""
    return prefix + value.title().replace("_", "").replace("-", "")
