"""``python -m drill``: the local game day (the README's ``make drill``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

# The controller's Powertools logger, metrics and tracer read these when first imported.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log

from drill.report import summary, write_reports  # noqa: E402
from drill.runner import DEFAULT_REPLICATION_LAG_SECONDS, DrillError, run_scenario  # noqa: E402
from drill.scenarios import SCENARIOS  # noqa: E402
from switchyard.config import ConfigError, load_environment  # noqa: E402

DEFAULT_REPORTS = Path("reports")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m drill",
        description=(
            "Fail a region against an embedded AWS emulation and measure detection, RTO and RPO; for the "
            "scenarios the production-time simulation models, report the production timeline and RTO too."
        ),
    )
    parser.add_argument("--env", default="dev", help="environment in config/<env>.toml (default: dev)")
    parser.add_argument(
        "--scenario",
        default="region-outage",
        choices=[*SCENARIOS, "all"],
        help="fault to inject (default: region-outage); 'all' runs every scenario",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of the summary")
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="where to write the reports")
    parser.add_argument(
        "--replication-lag",
        type=float,
        default=DEFAULT_REPLICATION_LAG_SECONDS,
        help=f"seconds the standby's database lags the primary's (default {DEFAULT_REPLICATION_LAG_SECONDS})",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        for scenario in SCENARIOS.values():
            print(f"{scenario.name:<22} {scenario.summary}")
        return 0
    if args.replication_lag < 0:
        print("drill: --replication-lag must be >= 0 seconds", file=sys.stderr)
        return 2
    try:
        config = load_environment(args.env)
    except ConfigError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 2
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    failed = []
    for name in names:
        progress = (lambda line: print(line, file=sys.stderr)) if args.json else print
        try:
            report = run_scenario(
                config, SCENARIOS[name], progress=progress, replication_lag_seconds=args.replication_lag
            )
        except DrillError as exc:
            print(f"drill {name}: could not finish: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        written = write_reports(report, args.reports)
        if args.json:
            print(report.model_dump_json(indent=2))
        else:
            print(summary(report))
            print(f"  reports: {', '.join(str(path) for path in written.values())}")
        if not report.passed:
            failed.append(name)
            reasons = "; ".join(item.name for item in report.expectations if not item.passed)
            print(f"drill {name}: expectations not met: {reasons}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
