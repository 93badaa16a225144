"""Read one health metric for many endpoints (cells) in as few calls as AWS allows.

CloudWatch ``GetMetricData`` takes up to 500 metric queries per call, so N cells cost
ceil(N / 500) calls instead of N. Used to evaluate fleets of cells with the same quorum
logic; the regional monitor itself reads a handful of alarms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from switchyard.retry import ClientFactory

MAX_QUERIES_PER_CALL = 500


@dataclass(frozen=True)
class CellMetric:
    """Where one cell's health metric lives (e.g. its ALB's 5xx count)."""

    cell: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str = "Sum"


def calls_needed(cells: int) -> int:
    return math.ceil(cells / MAX_QUERIES_PER_CALL)


def _query(index: int, cell: CellMetric, period_seconds: int) -> dict[str, Any]:
    return {
        "Id": f"c{index}",
        "Label": cell.cell,
        "MetricStat": {
            "Metric": {
                "Namespace": cell.namespace,
                "MetricName": cell.metric,
                "Dimensions": [{"Name": name, "Value": value} for name, value in cell.dimensions],
            },
            "Period": period_seconds,
            "Stat": cell.statistic,
        },
        "ReturnData": True,
    }


def latest_values(
    clients: ClientFactory,
    region: str,
    cells: Sequence[CellMetric],
    *,
    now: datetime,
    lookback: timedelta = timedelta(minutes=5),
    period_seconds: int = 60,
) -> dict[str, float | None]:
    """The newest datapoint per cell (None: no data, which is never read as healthy or failing)."""
    cloudwatch = clients.client("cloudwatch", region)
    values: dict[str, float | None] = {cell.cell: None for cell in cells}
    for start in range(0, len(cells), MAX_QUERIES_PER_CALL):
        batch = cells[start : start + MAX_QUERIES_PER_CALL]
        queries = [_query(start + offset, cell, period_seconds) for offset, cell in enumerate(batch)]
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": now - lookback,
            "EndTime": now,
            "ScanBy": "TimestampDescending",
        }
        while True:
            response = cloudwatch.get_metric_data(**kwargs)
            for result in response.get("MetricDataResults", []):
                index = int(result["Id"][1:])
                points = result.get("Values", [])
                if points and values[cells[index].cell] is None:
                    values[cells[index].cell] = float(points[0])
            token = response.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    return values
