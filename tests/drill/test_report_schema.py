"""The drill's JSON report has a committed schema that matches the model."""

from __future__ import annotations

import json

from drill.report import SCHEMA_PATH, WriterChange, json_schema, writer_spans


def test_committed_schema_matches_the_report_model() -> None:
    committed = json.loads(SCHEMA_PATH.read_text())
    assert committed == json.loads(json.dumps(json_schema(), sort_keys=True)), (
        "drill/report.schema.json is stale: regenerate with drill.report.write_schema()"
    )


def test_schema_requires_the_measurements_people_read() -> None:
    schema = json_schema()
    assert {"measured", "production", "data", "timeline", "steps", "passed"} <= set(schema["required"])
    assert "projected" not in schema["properties"], "the projection formula is gone"
    assert "rto_seconds" in schema["$defs"]["Measured"]["properties"]


def _change(at: float, *accepting: str) -> WriterChange:
    regions = list(accepting)
    return WriterChange(at_seconds=at, active_regions=regions, writable_databases=regions, accepting_databases=regions)


def test_writer_spans_start_at_the_fault_with_the_state_then_in_effect() -> None:
    # GIVEN one change before the fault and one after  WHEN spanned up to t = 10
    spans = writer_spans([_change(-5.0, "a"), _change(4.0, "b")], 10.0)
    # THEN the state before the fault holds from 0 to the change, then the new one to the end
    assert [(change.accepting_databases, start, until) for change, start, until in spans] == [
        (["a"], 0.0, 4.0),
        (["b"], 4.0, 10.0),
    ]


def test_writer_spans_of_a_run_without_changes_after_the_fault() -> None:
    # GIVEN only the steady state before the fault (nothing changed: monitoring-blind)  THEN it spans the run
    assert [(start, until) for _, start, until in writer_spans([_change(-1.0, "a")], 7.0)] == [(0.0, 7.0)]
    # AND no history at all is no span (nothing to shade), not an error
    assert writer_spans([], 7.0) == []
