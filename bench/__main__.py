"""``python -m bench``: print Switchyard's benchmark numbers (README "Benchmarks").

- RTO in production time (bench.rto): each automatic scenario ``--runs`` times (default
  200) in both environments, with every AWS duration drawn from the latency model, and
  again with promotions 3x slower; written to ``reports/bench.json`` and printed as a table;
- cold import time of every handler module in a fresh interpreter, and the Lambda asset size;
- ``cdk synth`` time for one environment (when the CDK CLI is installed);
- health evaluation of N = 1, 100, 1000 cells: time and GetMetricData calls.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
logging.getLogger("werkzeug").setLevel(logging.ERROR)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench import rto  # noqa: E402
from switchyard.adapters.metric_batch import CellMetric, latest_values  # noqa: E402
from switchyard.retry import ApiCallLog, ClientFactory  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HANDLER_MODULES = (
    "switchyard.handlers.monitor",
    "switchyard.handlers.runbook",
    "switchyard.handlers.traffic_switch",
    "switchyard.handlers.reconciler",
)


def cold_imports(repeats: int) -> dict[str, float]:
    numbers = {}
    for module in HANDLER_MODULES:
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        samples = [
            float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
            for _ in range(repeats)
        ]
        numbers[f"cold import {module} (ms, median)"] = round(statistics.median(samples) * 1000, 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((ROOT / "lambdas").rglob("*.py")):
            archive.write(path, path.relative_to(ROOT / "lambdas"))
    numbers["Lambda asset, zipped (KiB)"] = round(len(buffer.getvalue()) / 1024, 1)
    return numbers


def synth_time() -> dict[str, float]:
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        return {}
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [str(cdk), "synth", "-c", "env=dev", "--quiet", "-o", out],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        )
        return {"cdk synth -c env=dev, all stacks (s)": round(time.perf_counter() - started, 1)}


def health_evaluation() -> dict[str, float]:
    numbers = {}
    now = datetime.now(UTC)
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-west-2")
        for start in range(0, 1000, 20):
            cloudwatch.put_metric_data(
                Namespace="Switchyard/Cells",
                MetricData=[
                    {
                        "MetricName": "Errors",
                        "Dimensions": [{"Name": "Cell", "Value": f"cell-{i}"}],
                        "Timestamp": now - timedelta(seconds=30),
                        "Value": 0.0,
                    }
                    for i in range(start, start + 20)
                ],
            )
        for count in (1, 100, 1000):
            cells = [
                CellMetric(f"cell-{i}", "Switchyard/Cells", "Errors", (("Cell", f"cell-{i}"),)) for i in range(count)
            ]
            log = ApiCallLog()
            started = time.perf_counter()
            values = latest_values(ClientFactory(call_log=log), "us-west-2", cells, now=now)
            elapsed = time.perf_counter() - started
            if sum(value is not None for value in values.values()) != count:
                raise RuntimeError(f"health evaluation of {count} cells lost values")
            numbers[f"N={count} cells: time (ms)"] = round(elapsed * 1000, 1)
            numbers[f"N={count} cells: GetMetricData calls"] = len(log.operations())
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200, help="simulated runs per scenario (default 200)")
    parser.add_argument("--rto-only", action="store_true", help="only the RTO benchmark (no imports, moto, synth)")
    parser.add_argument("--skip-synth", action="store_true", help="do not time cdk synth")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.perf_counter()
    entries = rto.measure(args.runs)
    rto.write(entries)
    print(f"RTO in production time ({args.runs} simulated runs each, {time.perf_counter() - started:.0f} s)")
    print(f"written to {rto.BENCH_JSON}\n")
    print(rto.table(entries))
    if args.rto_only:
        return 0
    sections = {
        "Handlers": lambda: cold_imports(5),
        "Health evaluation (moto, in-process)": health_evaluation,
    }
    if not args.skip_synth:
        sections["Synth"] = synth_time
    for title, measure in sections.items():
        print(f"\n{title}")
        for name, value in measure().items():
            print(f"  {name:<55} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
