"""The drill's report: one pydantic model (its JSON schema is committed and tested), a
terminal summary, and a Markdown page with a PNG timeline.

Two clocks, never mixed: ``measured``, ``timeline``, ``steps`` and ``writers`` are the run
against the emulation (moto answers in milliseconds); ``production`` is the same scenario
run by ``switchyard_sim`` on a simulated production clock (the real monitor, step handlers
and runbook ASL, every AWS duration drawn from ``drill/latency_model.toml``), for the
scenarios that simulation models. The PNG shows the production timeline when there is one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
# 2: lost writes before/after the fault, writers over time, the invariant
# 3: ``production`` (the simulated production timeline) replaces ``projected`` (a formula)
SCHEMA_VERSION = 3


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
    detection_seconds: float | None = Field(
        description="fault -> the first monitor evaluation that saw the primary unhealthy (drill clock, against moto)"
    )
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


NO_PRODUCTION_MODEL = "no production-time model of this scenario"


class ProductionStep(_Model):
    """One state of the runbook's ASL as it ran on the production clock."""

    state: str = Field(description="the ASL state (Task, Parallel or Wait)")
    start_seconds: float = Field(description="production seconds after the fault")
    end_seconds: float | None = Field(description="null: still running at the end of the simulation")
    attempts: int = Field(ge=0, description="invocations, Retry attempts included")


class Production(_Model):
    """The scenario on a simulated production clock (``switchyard_sim.timeline.simulate``,
    one run with a fixed seed, the environment as configured): every time is production
    seconds after the fault; null where the run never got there."""

    seed: int
    mode: str = Field(description="the environment's mode as configured (manual: a human starts the runbook)")
    floor_seconds: float = Field(description="this run's physical floor: detection + max(promotion, traffic switch)")
    detection_seconds: float | None = Field(description="the standby's monitor first saw the primary unhealthy")
    decision_seconds: float | None = Field(description="the monitor decided to fail over")
    runbook_started_seconds: float | None
    runbook_ended_seconds: float | None
    runbook_status: str | None = Field(description="null: no runbook started within the simulated hour")
    runbook_error: str | None
    flip_seconds: float | None = Field(description="the standby's desired-state write (the traffic switch on)")
    traffic_moved_seconds: float | None = Field(description="the last client resolves the new region")
    database_writable_seconds: float | None = Field(description="the standby's database accepts writes")
    capacity_ready_seconds: float | None = Field(description="the standby's app tier at its scale-up target")
    rto_seconds: float | None = Field(
        description="max(traffic moved, database writable); null: not restored within the simulated hour"
    )
    steps: list[ProductionStep]


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
    production: Production | None = Field(
        description=f"the scenario on a simulated production clock; null: {NO_PRODUCTION_MODEL}"
    )
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
    lines.append(f"  {production_line(report.production)}")
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


def production_line(production: Production | None) -> str:
    """The production RTO line of the summary (``python -m drill`` prints it)."""
    if production is None:
        return f"production: {NO_PRODUCTION_MODEL}"
    head = f"production (simulated clock, seed {production.seed}, {production.mode} mode): "
    if production.rto_seconds is None:
        verdict = f"RTO not restored ({not_restored_reason(production)})"
    else:
        ratio = production.rto_seconds / production.floor_seconds
        verdict = f"RTO {production.rto_seconds:.0f} s"
    floor = f"floor {production.floor_seconds:.0f} s"
    if production.rto_seconds is not None:
        floor += f", x{ratio:.2f}"
    return (
        f"{head}{verdict} ({floor}); detection {_production_secs(production.detection_seconds)}, "
        f"decision {_production_secs(production.decision_seconds)}, "
        f"runbook started {_production_secs(production.runbook_started_seconds)}, "
        f"flip {_production_secs(production.flip_seconds)}, "
        f"traffic moved {_production_secs(production.traffic_moved_seconds)}, "
        f"database writable {_production_secs(production.database_writable_seconds)}"
    )


def not_restored_reason(production: Production) -> str:
    """Why the production run did not end with traffic on a writable region."""
    if production.runbook_status is None:
        if production.decision_seconds is None:
            return "no decision to fail over within the simulated hour"
        if production.mode == "manual":
            return "manual mode: the monitor recommended the failover; no human starts it in the simulation"
        return "no runbook started within the simulated hour"
    if production.runbook_status != "SUCCEEDED":
        return f"runbook {production.runbook_status}: {production.runbook_error or 'no error name'}"
    missing = [
        name
        for name, value in (
            ("traffic", production.traffic_moved_seconds),
            ("database", production.database_writable_seconds),
        )
        if value is None
    ]
    return f"runbook SUCCEEDED; {' and '.join(missing)} not restored within the simulated hour"


def _production_secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def production_markers(production: Production) -> list[tuple[str, float]]:
    """The moments the PNG and the Markdown table mark, in production seconds after the fault, in order."""
    moments = (
        ("detection", production.detection_seconds),
        ("decision", production.decision_seconds),
        ("runbook started", production.runbook_started_seconds),
        ("flip", production.flip_seconds),
        ("traffic moved", production.traffic_moved_seconds),
        ("database writable", production.database_writable_seconds),
        ("capacity ready", production.capacity_ready_seconds),
        ("runbook ended", production.runbook_ended_seconds),
    )
    return sorted(((name, at) for name, at in moments if at is not None), key=lambda moment: moment[1])


def production_rows(steps: list[ProductionStep]) -> list[tuple[str, list[ProductionStep]]]:
    """Each ASL state with its visits, in order of the first visit (a loop's Wait and Task
    states are visited many times: one row each)."""
    rows: dict[str, list[ProductionStep]] = {}
    for step in sorted(steps, key=lambda item: item.start_seconds):
        rows.setdefault(step.state, []).append(step)
    return list(rows.items())


def _production_markdown(production: Production | None, png_name: str) -> str:
    if production is None:
        return (
            f"## Production timeline\n\n{NO_PRODUCTION_MODEL[0].upper()}{NO_PRODUCTION_MODEL[1:]}: "
            "the times below are measured against the emulation (moto answers in milliseconds), "
            "not production time.\n\n"
        )
    rto = (
        f"{production.rto_seconds:.1f} s"
        if production.rto_seconds is not None
        else f"not restored ({not_restored_reason(production)})"
    )
    events = "".join(f"| {name} | {at:.1f} |\n" for name, at in production_markers(production))
    steps = "".join(
        f"| {state} | {len(visits)} | {visits[0].start_seconds:.1f} | "
        f"{'-' if visits[-1].end_seconds is None else f'{visits[-1].end_seconds:.1f}'} | "
        f"{sum(visit.attempts for visit in visits)} |\n"
        for state, visits in production_rows(production.steps)
    )
    runbook = (
        f"Runbook: **{production.runbook_status}**"
        + (f" ({production.runbook_error})" if production.runbook_error else "")
        if production.runbook_status
        else "No runbook ran."
    )
    return (
        f"## Production timeline: RTO {rto}\n\n"
        "The same scenario on a simulated production clock (`switchyard_sim`: the real monitor, step "
        "handlers and runbook ASL, every AWS duration drawn from `drill/latency_model.toml`), one run "
        f"with seed {production.seed}, the environment as configured ({production.mode} mode). "
        f"This run's floor: {production.floor_seconds:.1f} s. {runbook}\n\n"
        f"![timeline]({png_name})\n\n"
        "| event | production seconds after the fault |\n|---|---|\n"
        f"{events}\n"
        "| state | visits | first start (s) | last end (s) | attempts |\n|---|---|---|---|---|\n"
        f"{steps}\n"
    )


def markdown(report: DrillReport, png_name: str) -> str:
    rows = "\n".join(
        f"| {step.step} | {step.status} | {step.start_seconds:.3f} | {step.end_seconds:.3f} | "
        f"{step.api_calls} | {'yes' if step.critical_path else ''} |"
        for step in report.steps
    )
    checks = "\n".join(f"- {'✅' if e.passed else '❌'} **{e.name}**: {e.detail}" for e in report.expectations)
    emulation_png = "" if report.production else f"![timeline]({png_name})\n\n"
    return (
        f"# Drill report: {report.scenario} on {report.environment}\n\n"
        f"Result: **{'PASSED' if report.passed else 'FAILED'}** · engine `{report.engine}` · "
        f"primary `{report.primary_region}` · standby `{report.standby_region}` · "
        f"active after `{report.active_region_after}`\n\n"
        f"## Expectations\n\n{checks}\n\n"
        + _production_markdown(report.production, png_name)
        + "## Timeline against the emulation (drill clock)\n\n"
        + emulation_png
        + "| step | status | start (s) | end (s) | AWS calls | critical path |\n|---|---|---|---|---|---|\n"
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
    )


def render_timeline(report: DrillReport, path: Path) -> None:
    """The production timeline when the scenario has one (steps as bars on production
    seconds from the fault, markers for detection, decision, flip, traffic moved and
    database writable); otherwise the run against the emulation: the drill's phases on the
    drill clock and a Gantt of the runbook's steps, titled as such."""
    import matplotlib  # noqa: PLC0415 - heavy; only the report needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    if report.production is not None:
        rows = production_rows(report.production.steps)
        fig, ax = plt.subplots(figsize=(11, 2.4 + 0.32 * max(len(rows), 1)))
        _draw_production(ax, report.production, rows)
        fig.suptitle(
            f"Switchyard drill: {report.scenario} ({report.environment}, {report.engine}): production timeline "
            f"(simulated clock, seed {report.production.seed})",
            fontsize=11,
        )
    else:
        steps = report.steps
        fig, (phases, gantt) = plt.subplots(
            2,
            1,
            figsize=(10, 2.6 + 0.4 * max(len(steps), 1)),
            gridspec_kw={"height_ratios": [1, max(len(steps), 1) / 3]},
        )
        _draw_phases(phases, report)
        _draw_steps(gantt, steps)
        fig.suptitle(
            f"Switchyard drill: {report.scenario} ({report.environment}, {report.engine}): measured against "
            f"the emulation (moto), {NO_PRODUCTION_MODEL}",
            fontsize=10,
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


MARKER_COLOURS = {
    "detection": "#f0ad4e",
    "decision": "#d9534f",
    "runbook started": "#777777",
    "flip": "#5bc0de",
    "traffic moved": "green",
    "database writable": "#6f42c1",
    "capacity ready": "#337ab7",
    "runbook ended": "black",
}


def _draw_production(ax: Any, production: Production, rows: list[tuple[str, list[ProductionStep]]]) -> None:
    markers = production_markers(production)
    end = max([at for _, at in markers] + [s.end_seconds or s.start_seconds for s in production.steps] + [60.0])
    for row, (_, visits) in enumerate(rows):
        for visit in visits:
            until = end if visit.end_seconds is None else visit.end_seconds
            colour = "#cccccc" if visit.state.startswith("Poll") else "#9bb7d4"
            ax.barh(row, max(until - visit.start_seconds, end / 400), left=visit.start_seconds, color=colour)
    for index, (name, at) in enumerate(markers):
        ax.axvline(at, color=MARKER_COLOURS.get(name, "black"), linewidth=1.2, linestyle="--")
        ax.text(
            at,
            -0.9 - 0.55 * (index % 3),
            f" {name} {at:.0f} s",
            color=MARKER_COLOURS.get(name, "black"),
            fontsize=7,
        )
    ax.axvline(0, color="black", linewidth=1.0)
    if production.rto_seconds is not None:
        ax.axvspan(0, production.rto_seconds, color="#d9534f", alpha=0.06)
        verdict = f"RTO {production.rto_seconds:.0f} s (this run's floor {production.floor_seconds:.0f} s)"
    else:
        verdict = f"not restored: {not_restored_reason(production)}"
    ax.set_title(verdict, loc="left", fontsize=9)
    if rows:
        ax.set_yticks(range(len(rows)), [state for state, _ in rows], fontsize=8)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no runbook ran", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -2.6)
    ax.set_xlim(-end * 0.02, end * 1.08)
    ax.set_xlabel("production seconds after the fault (simulated clock; grey: Wait states)")


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
    ax.set_xlabel("seconds after the fault or request (drill clock against moto: evaluation and Wait states skipped)")


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
