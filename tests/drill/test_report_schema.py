"""The drill's JSON report has a committed schema that matches the model."""

from __future__ import annotations

import json

from drill.report import SCHEMA_PATH, json_schema


def test_committed_schema_matches_the_report_model() -> None:
    committed = json.loads(SCHEMA_PATH.read_text())
    assert committed == json.loads(json.dumps(json_schema(), sort_keys=True)), (
        "drill/report.schema.json is stale: regenerate with drill.report.write_schema()"
    )


def test_schema_requires_the_measurements_people_read() -> None:
    schema = json_schema()
    assert {"measured", "projected", "data", "timeline", "steps", "passed"} <= set(schema["required"])
    assert "rto_seconds" in schema["$defs"]["Measured"]["properties"]
