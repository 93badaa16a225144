"""The RTO benchmark: each automatic scenario, hundreds of runs, in production time.

Every run is ``switchyard_sim.timeline.simulate``: the real monitor, step handlers and
runbook ASL on a simulated clock, with every AWS duration drawn from
``drill/latency_model.toml``. Both environments run in automatic mode (prod is manual in
its config; switched for the measurement). A stress run repeats each scenario with every
database promotion 3x slower. The results go to ``reports/bench.json`` and a table.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from switchyard.config import EnvironmentConfig, load_environment
from switchyard_sim.latency import LatencyModel, floor_seconds, load_model
from switchyard_sim.timeline import SIM_SCENARIOS, RunResult, simulate, summarize

ENVIRONMENTS = ("dev", "prod")
SLOW_PROMOTION_FACTOR = 3.0
SLOW_SUFFIX = "+slow-promotion"
BENCH_JSON = Path("reports") / "bench.json"
PHASES = (
    "detected_s",
    "decided_s",
    "runbook_started_s",
    "flipped_s",
    "database_writable_s",
    "traffic_moved_s",
    "capacity_ready_s",
)


def automatic(config: EnvironmentConfig) -> EnvironmentConfig:
    """The environment as measured: automatic mode, everything else as configured."""
    return config.model_copy(update={"mode": "automatic"})


def runs_of(config: EnvironmentConfig, model: LatencyModel, scenario: str, runs: int) -> list[RunResult]:
    return [simulate(config, model, SIM_SCENARIOS[scenario], seed) for seed in range(runs)]


def entry(results: list[RunResult], *, scenario: str, floor: float) -> dict[str, Any]:
    """One line of bench.json: the required keys, then the median of each phase and why runs failed."""
    summary = summarize(results, scenario=scenario, floor=floor).as_dict()
    phases = {}
    for phase in PHASES:
        values = [getattr(result, phase) for result in results if getattr(result, phase) is not None]
        phases[phase] = round(statistics.median(values), 1) if values else None
    failures = Counter(
        f"{result.runbook_status or 'no runbook'}: {result.runbook_error or 'traffic or database not restored'}"
        for result in results
        if result.failed
    )
    return {**summary, "median_phase_s": phases, "failures": dict(failures)}


def measure(runs: int, environments: Iterable[str] = ENVIRONMENTS) -> list[dict[str, Any]]:
    model = load_model()
    slow = model.with_slower_promotion(SLOW_PROMOTION_FACTOR)
    entries = []
    for env in environments:
        config = automatic(load_environment(env))
        for scenario in SIM_SCENARIOS:
            for latency, name in ((model, scenario), (slow, scenario + SLOW_SUFFIX)):
                results = runs_of(config, latency, scenario, runs)
                entries.append(entry(results, scenario=name, floor=floor_seconds(latency, config)))
    return entries


def write(entries: list[dict[str, Any]], path: Path = BENCH_JSON) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")


def table(entries: list[dict[str, Any]]) -> str:
    """The README's table (markdown)."""
    lines = [
        "| env | scenario | runs | p50 RTO (s) | p95 RTO (s) | max (s) | floor (s) "
        "| p50 / floor | p95 / floor | failed runs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for item in entries:
        floor = item["floor_s"]

        def ratio(value: float | None, floor: float = floor) -> str:
            return "-" if value is None else f"{value / floor:.2f}"

        lines.append(
            f"| {item['env']} | {item['scenario']} | {item['runs']} | {item['p50_s']} | {item['p95_s']} | "
            f"{item['max_s']} | {floor} | {ratio(item['p50_s'])} | {ratio(item['p95_s'])} | {item['failed_runs']} |"
        )
    return "\n".join(lines)
