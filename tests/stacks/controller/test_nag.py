"""cdk-nag (AwsSolutions and Serverless) on one region's whole controller: nothing unacknowledged, every
acknowledgement with a specific reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.nag import attach_rule_packs
from switchyard.config import EnvironmentConfig
from tests.stacks.controller.builders import build_controller

GENERIC_REASONS = {"", "n/a", "todo", "not needed", "suppressed", "false positive"}


@pytest.fixture(scope="module", params=["dev", "prod"])
def nag_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, runbook_definition: Path
) -> dict[str, Any]:
    """GIVEN one region's controller in a bare stack, checked by AwsSolutions at synth."""
    config: EnvironmentConfig = request.getfixturevalue(request.param)
    outdir = tmp_path_factory.mktemp(f"nag-{request.param}")
    app = cdk.App(outdir=str(outdir))
    build_controller(config, config.regions.standby, definition_path=runbook_definition, app=app)
    attach_rule_packs(app)
    try:
        app.synth()
    except RuntimeError as exc:  # validation failures are read from the report below
        if "Validation failed" not in str(exc):
            raise
    reports = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))["pluginReports"]
    return {
        "violations": [violation for report in reports for violation in report["violations"]],
        "suppressedViolations": [finding for report in reports for finding in report.get("suppressedViolations", [])],
    }


def test_no_unacknowledged_errors(nag_report) -> None:
    # WHEN synthesized  THEN every error-level finding has been acknowledged
    unacknowledged = [
        (violation["ruleName"], [construct["constructPath"] for construct in violation["violatingConstructs"]])
        for violation in nag_report["violations"]
        if violation["severity"] == "error"
    ]
    assert unacknowledged == []


def test_every_acknowledgement_gives_a_specific_reason(nag_report) -> None:
    acknowledged = nag_report["suppressedViolations"]
    assert acknowledged, "expected the documented wildcard and runtime acknowledgements"
    for finding in acknowledged:
        reason = finding["reason"].strip()
        assert reason.lower() not in GENERIC_REASONS, finding["ruleName"]
        assert len(reason) >= 40, (finding["ruleName"], reason)


def test_only_the_expected_rules_are_acknowledged(nag_report) -> None:
    # THEN acknowledgements are limited to wildcard resources (IAM5), the pinned runtime (L1,
    # LatestVersion) and the queues a scheduled, re-reading controller has no use for
    rules = {finding["ruleName"].split("[")[0] for finding in nag_report["suppressedViolations"]}
    assert rules <= {
        "AwsSolutions-IAM5",
        "AwsSolutions-L1",
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaDLQ",
        "Serverless-LambdaAsyncFailureDestination",
        "Serverless-EventBusDLQ",
    }
