"""Many cells' health metrics are read in batches of 500 queries per GetMetricData call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws

from switchyard.adapters.metric_batch import CellMetric, calls_needed, latest_values
from switchyard.retry import ApiCallLog, ClientFactory


def _cells(count: int) -> list[CellMetric]:
    return [CellMetric(f"cell-{i}", "Switchyard/Cells", "Errors", (("Cell", f"cell-{i}"),)) for i in range(count)]


def test_calls_needed_rounds_up_per_500() -> None:
    assert [calls_needed(n) for n in (1, 500, 501, 1000)] == [1, 1, 2, 2]


@mock_aws
def test_reads_each_cell_latest_value_in_batched_calls() -> None:
    # GIVEN 600 cells, of which two published a datapoint
    now = datetime.now(UTC)
    cloudwatch = boto3.client("cloudwatch", region_name="us-west-2")
    for cell, value in (("cell-3", 7.0), ("cell-550", 1.0)):
        cloudwatch.put_metric_data(
            Namespace="Switchyard/Cells",
            MetricData=[
                {
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": "Cell", "Value": cell}],
                    "Timestamp": now - timedelta(seconds=30),
                    "Value": value,
                }
            ],
        )
    log = ApiCallLog()
    # WHEN the values are read
    values = latest_values(ClientFactory(call_log=log), "us-west-2", _cells(600), now=now)
    # THEN two calls covered all 600 and missing data stays None
    assert log.operations() == ["GetMetricData", "GetMetricData"]
    assert values["cell-3"] == 7.0
    assert values["cell-550"] == 1.0
    assert values["cell-0"] is None
    assert len(values) == 600
