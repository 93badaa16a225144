"""The drill's report: one pydantic model (its JSON schema is committed and tested), a
terminal summary, and a Markdown page with a PNG timeline of the critical path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
SCHEMA_VERSION = 2  # 2: lost writes before/after the fault, writers over time, the invariant


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimelineEvent(_Model):
    event: str
    at_seconds: float = Field(description="seconds after the fault was injected (drill clock)")
    detail: str = ""


class StepTiming(_Model):
    step: str
    status: str
    start_seconds: float
    end_seconds: float
    api_calls: int = Field(ge=0)
    mutating_calls: int = Field(ge=0)
    critical_path: bool
    message: str = ""


class Expectation(_Model):
    name: str
    passed: bool
    detail: str


class DataLoss(_Model):
    acknowledged_writes: int = Field(ge=0)
    lost_writes: int = Field(ge=0, description="every acknowledged write the final writer lacks")
    lost_before_fault: int = Field(ge=0, description="lost writes acknowledged before the fault")
    lost_after_fault: int = Field(ge=0, description="lost writes acknowledged after the fault (split-brain writes)")
    lost_sequences: list[int]
    loss_window_seconds: float | None = Field(
        description="measured RPO over every lost write: from the oldest lost write's acknowledgement to the "
        "fault, or to the newest lost write when that was acknowledged after the fault"
    )
    replication_lag_at_fault_seconds: float | None


class Measured(_Model):
    detection_seconds: float | None = Field(description="fault -> decision to fail over (drill clock)")
    runbook_seconds: float | None
    rto_seconds: float | None = Field(description="fault -> traffic answered by the new active region")
    runbook_runs: int = Field(ge=0)
    api_calls: int = Field(ge=0)


class PolicyCheckSummary(_Model):
    """The calls-against-policy check of one run (drill.policy_check)."""

    checked_calls: int = Field(
        ge=0, description="calls made by a Switchyard function, checked against its synthesized IAM policy"
    )
    unlabelled_calls: int = Field(ge=0, description="the drill's own calls (setup, world model): not checked")
    denied_calls: int = Field(ge=0, description="checked calls the function's policy does not allow")
    uncheckable_calls: int = Field(ge=0, description="distinct labelled calls that could not be checked")


class WriterChange(_Model):
    """Who could serve and write, from ``at_seconds`` until the next change (drill.invariants)."""

    at_seconds: float = Field(description="seconds after the fault was injected (drill clock)")
    active_regions: list[str] = Field(description="regions whose traffic switch says on")
    writable_databases: list[str] = Field(description="engine level: reachable, writable, not fenced")
    accepting_databases: list[str] = Field(description="writable AND its region's app tier on: takes client writes")


class InvariantSummary(_Model):
    """Never two writers, over the whole run (drill.invariants)."""

    passed: bool
    samples: int = Field(ge=0)
    max_active_regions: int = Field(ge=0)
    max_accepting_databases: int = Field(ge=0, description="the invariant's count: at most 1")
    max_writable_databases: int = Field(ge=0, description="engine level, reported, not the invariant")
    two_engines_writable_seconds: float = Field(ge=0)
    writes_by_non_writer: int = Field(ge=0, description="acknowledged by a database that was not the writer")


class Projected(_Model):
    detection_seconds: float
    runbook_seconds: float
    traffic_seconds: float
    rto_seconds: float
    sequential_runbook_seconds: float
    breakdown: dict[str, float]


class DrillReport(_Model):
    schema_version: int = SCHEMA_VERSION
    environment: str
    scenario: str
    engine: str
    primary_region: str
    standby_region: str
    active_region_after: str
    passed: bool
    expectations: list[Expectation]
    timeline: list[TimelineEvent]
    steps: list[StepTiming]
    data: DataLoss
    measured: Measured
    projected: Projected | None
    policy: PolicyCheckSummary
    invariant: InvariantSummary
    writers: list[WriterChange] = Field(description="active regions and writable databases over time (changes)")


def json_schema() -> dict[str, Any]:
    return DrillReport.model_json_schema()


def summary(report: DrillReport) -> str:
    """The human summary printed at the end of a drill."""
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [
        f"Drill {report.scenario} on {report.environment} ({report.engine}): {verdict}",
        f"  regions: primary {report.primary_region}, standby {report.standby_region}; "
        f"active after: {report.active_region_after}",
    ]
    measured = report.measured
    lines.append(
        f"  measured (drill clock): detection {_secs(measured.detection_seconds)}, "
        f"runbook {_secs(measured.runbook_seconds)}, RTO {_secs(measured.rto_seconds)}, "
        f"runbook runs {measured.runbook_runs}, AWS calls {measured.api_calls}"
    )
    if report.projected:
        projected = report.projected
        lines.append(
            f"  projected production: detection {projected.detection_seconds:.0f} s + runbook "
            f"{projected.runbook_seconds:.0f} s + traffic {projected.traffic_seconds:.0f} s = RTO "
            f"{projected.rto_seconds:.0f} s (a sequential runbook: {projected.sequential_runbook_seconds:.0f} s)"
        )
    policy = report.policy
    lines.append(
        f"  IAM: {policy.checked_calls} calls checked against the synthesized policies, "
        f"{policy.denied_calls} denied ({policy.unlabelled_calls} drill calls not checked)"
    )
    data = report.data
    window = "" if data.loss_window_seconds is None else f" (RPO {data.loss_window_seconds:.3f} s)"
    lines.append(
        f"  data: {data.lost_writes} of {data.acknowledged_writes} acknowledged writes lost{window}: "
        f"{data.lost_before_fault} acknowledged before the fault, {data.lost_after_fault} after"
    )
    invariant = report.invariant
    lines.append(
        f"  writers: {'ok' if invariant.passed else 'VIOLATED'}: at most {invariant.max_active_regions} active "
        f"region(s), {invariant.max_accepting_databases} accepting database(s) "
        f"({invariant.max_writable_databases} writable at the engine level), "
        f"{invariant.writes_by_non_writer} write(s) taken by a non-writer"
    )
    lines.extend(f"    {_writer_line(change)}" for change in report.writers)
    lines.append("  timeline:")
    lines.extend(f"    {event.at_seconds:9.3f} s  {event.event}  {event.detail}".rstrip() for event in report.timeline)
    if report.steps:
        lines.append("  steps (start-end s, calls, mutating):")
        lines.extend(
            f"    {'*' if step.critical_path else ' '} {step.step:<11} {step.status:<11} "
            f"{step.start_seconds:8.3f}-{step.end_seconds:8.3f}  {step.api_calls:3d}  {step.mutating_calls:3d}"
            for step in report.steps
        )
    lines.append("  expectations:")
    lines.extend(f"    [{'ok' if item.passed else 'FAIL'}] {item.name}: {item.detail}" for item in report.expectations)
    return "\n".join(lines)


def _writer_line(change: WriterChange) -> str:
    def names(regions: list[str]) -> str:
        return ",".join(regions) or "-"

    return (
        f"{change.at_seconds:9.3f} s  active {names(change.active_regions)}; writable "
        f"{names(change.writable_databases)}; accepting {names(change.accepting_databases)}"
    )


def _secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} s"


def write_reports(report: DrillReport, directory: Path) -> dict[str, Path]:
    """Write report.json, report.md and timeline.png under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{report.environment}-{report.scenario}"
    json_path = directory / f"{stem}.json"
    png_path = directory / f"{stem}-timeline.png"
    md_path = directory / f"{stem}.md"
    json_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    render_timeline(report, png_path)
    md_path.write_text(markdown(report, png_path.name), encoding="utf-8")
    return {"json": json_path, "markdown": md_path, "png": png_path}


def markdown(report: DrillReport, png_name: str) -> str:
    rows = "\n".join(
        f"| {step.step} | {step.status} | {step.start_seconds:.3f} | {step.end_seconds:.3f} | "
        f"{step.api_calls} | {'yes' if step.critical_path else ''} |"
        for step in report.steps
    )
    checks = "\n".join(f"- {'✅' if e.passed else '❌'} **{e.name}**: {e.detail}" for e in report.expectations)
    projected = ""
    if report.projected:
        parts = "\n".join(f"| {name} | {seconds:.1f} |" for name, seconds in report.projected.breakdown.items())
        projected = (
            f"\n## Projected production RTO: {report.projected.rto_seconds:.0f} s\n\n"
            "From `drill/latency_model.toml` (documented AWS figures) applied to the measured critical path.\n\n"
            f"| part | seconds |\n|---|---|\n{parts}\n"
        )
    return (
        f"# Drill report: {report.scenario} on {report.environment}\n\n"
        f"Result: **{'PASSED' if report.passed else 'FAILED'}** · engine `{report.engine}` · "
        f"primary `{report.primary_region}` · standby `{report.standby_region}` · "
        f"active after `{report.active_region_after}`\n\n"
        f"## Expectations\n\n{checks}\n\n"
        f"## Timeline\n\n![timeline]({png_name})\n\n"
        "| step | status | start (s) | end (s) | AWS calls | critical path |\n|---|---|---|---|---|---|\n"
        f"{rows}\n\n"
        f"## IAM\n\n{report.policy.checked_calls} AWS calls checked against the calling function's "
        f"synthesized policy; {report.policy.denied_calls} denied.\n\n"
        f"## Data\n\n{report.data.lost_writes} of {report.data.acknowledged_writes} acknowledged writes lost "
        f"({report.data.lost_before_fault} acknowledged before the fault, {report.data.lost_after_fault} after).\n\n"
        f"## Writers over time\n\nNever two writers: **{'held' if report.invariant.passed else 'VIOLATED'}**.\n\n"
        "| at (s) | active regions | writable databases | accepting databases |\n|---|---|---|---|\n"
        + "".join(
            f"| {c.at_seconds:.3f} | {', '.join(c.active_regions) or '-'} | {', '.join(c.writable_databases) or '-'} "
            f"| {', '.join(c.accepting_databases) or '-'} |\n"
            for c in report.writers
        )
        + projected
    )


def render_timeline(report: DrillReport, path: Path) -> None:
    """Two panels: the drill's phases on the drill clock (fault, detection, runbook, traffic
    moved), and a Gantt of the runbook's steps on their own scale, critical path in red."""
    import matplotlib  # noqa: PLC0415 - heavy; only the report needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    steps = report.steps
    fig, (phases, gantt) = plt.subplots(
        2, 1, figsize=(10, 2.6 + 0.4 * max(len(steps), 1)), gridspec_kw={"height_ratios": [1, max(len(steps), 1) / 3]}
    )
    _draw_phases(phases, report)
    _draw_steps(gantt, steps)
    fig.suptitle(f"Switchyard drill: {report.scenario} ({report.environment}, {report.engine})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw_phases(ax: Any, report: DrillReport) -> None:
    events = {event.event: event.at_seconds for event in report.timeline}
    end = max([event.at_seconds for event in report.timeline] + [1.0])
    bars: list[tuple[str, float, float, str]] = []
    decision = events.get("decision: fail over")
    if decision is not None:
        bars.append(("detection", 0.0, decision, "#f0ad4e"))
    runbook_start = report.steps[0].start_seconds if report.steps else None
    if runbook_start is not None:
        bars.append(("runbook", runbook_start, report.steps[-1].end_seconds - runbook_start, "#d9534f"))
    for row, (label, left, width, colour) in enumerate(bars):
        ax.barh(row, max(width, end / 500), left=left, color=colour)
        ax.text(left + width, row, f"  {label} {width:.1f} s", va="center", fontsize=8)
    moved = [at for name, at in events.items() if name.startswith("traffic answered by")]
    for at in moved:
        ax.axvline(at, color="green", linewidth=1.2)
        ax.text(at, len(bars) - 0.4, " traffic moved", color="green", fontsize=8)
    _shade_two_writers(ax, report, end)
    ax.axvline(0, color="black", linewidth=1.0)
    ax.set_yticks(range(len(bars)), [label for label, *_ in bars])
    ax.set_xlim(-end * 0.02, end * 1.25)
    ax.set_xlabel("seconds after the fault or request (drill clock: evaluation waits skipped, runbook in real time)")


def writer_spans(writers: list[WriterChange], end: float) -> list[tuple[WriterChange, float, float]]:
    """Each writer state from the fault (t = 0) on, with the span it held: (state, from, until).
    The state in effect at the fault is the last change before it; no change at all is no span."""
    before = [change for change in writers if change.at_seconds < 0]
    changes = [change for change in writers if change.at_seconds >= 0]
    if before and (not changes or changes[0].at_seconds > 0):
        changes.insert(0, before[-1].model_copy(update={"at_seconds": 0.0}))
    untils = [change.at_seconds for change in changes[1:]] + [end]
    return [(change, change.at_seconds, until) for change, until in zip(changes, untils, strict=False)]


def _shade_two_writers(ax: Any, report: DrillReport, end: float) -> None:
    """Shade in red when two databases accepted writes, in grey when two engines were writable."""
    for change, start, until in writer_spans(report.writers, end):
        if len(change.accepting_databases) > 1:
            ax.axvspan(start, until, color="red", alpha=0.3)
        elif len(change.writable_databases) > 1:
            ax.axvspan(start, until, color="grey", alpha=0.2)
    verdict = "never two writers" if report.invariant.passed else "TWO WRITERS (red)"
    verdict += "; grey: a second engine writable, its app tier refusing"
    ax.text(0.99, 0.02, verdict, transform=ax.transAxes, ha="right", fontsize=8)


def _draw_steps(ax: Any, steps: list[StepTiming]) -> None:
    if not steps:
        ax.text(0.5, 0.5, "no runbook ran", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    origin = steps[0].start_seconds
    for row, step in enumerate(steps):
        width = max(step.end_seconds - step.start_seconds, 1e-3)
        colour = "#d9534f" if step.critical_path else "#9bb7d4"
        ax.barh(row, width, left=step.start_seconds - origin, color=colour, edgecolor="black", linewidth=0.4)
        ax.text(
            step.end_seconds - origin,
            row,
            f" {step.api_calls} calls ({step.mutating_calls} mutating)",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(range(len(steps)), [step.step for step in steps])
    ax.invert_yaxis()
    ax.set_xlim(0, (steps[-1].end_seconds - origin) * 1.3)
    ax.set_xlabel("seconds since the runbook started (against moto); red = critical path, blue = in parallel")


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
