"""A cdk-nag acknowledgement that matches no finding fails synth (stacks.nag), in-process
and through app.py as the CDK CLI runs it."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

import app as cdk_app
from stacks.nag import StaleAcknowledgementError, attach_rule_packs, check_acknowledgements
from stacks.shared.policy import acknowledge

# An SNS topic without an SSL-only policy: AwsSolutions reports SNS3 on it.
TOPIC_FINDINGS = ("AwsSolutions-SNS3",)
NO_SUCH_FINDING = "AwsSolutions-IAM5[Resource::*]"  # the stack has no IAM at all
REASON = "acknowledged on purpose by this test, with a reason of more than six words"


def topic_app(outdir: Path, *, extra: str | None = None) -> cdk.App:
    """A one-topic app checked by Switchyard's rule packs, its finding acknowledged,
    plus ``extra`` acknowledged on the topic when given."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Nag", env=cdk.Environment(account="111111111111", region="us-east-1"))
    topic = sns.Topic(stack, "Topic")
    for finding in (*TOPIC_FINDINGS, *([extra] if extra else [])):
        acknowledge(topic, finding, REASON)
    attach_rule_packs(app)
    return app


def test_acknowledgements_that_all_match_pass(tmp_path: Path) -> None:
    # GIVEN an app whose acknowledgement suppresses a finding
    app = topic_app(tmp_path)
    assembly = app.synth()
    # WHEN checked  THEN nothing is stale
    check_acknowledgements(app, assembly.directory)
    report = json.loads((tmp_path / "validation-report.json").read_text(encoding="utf-8"))
    suppressed = {v["ruleName"] for p in report["pluginReports"] for v in p.get("suppressedViolations", [])}
    assert set(TOPIC_FINDINGS) <= suppressed


def test_an_acknowledgement_that_matches_nothing_fails(tmp_path: Path) -> None:
    # GIVEN an acknowledgement of a finding the app does not have
    app = topic_app(tmp_path, extra=NO_SUCH_FINDING)
    assembly = app.synth()
    # WHEN checked  THEN it is named, with the construct it was given on
    with pytest.raises(StaleAcknowledgementError) as raised:
        check_acknowledgements(app, assembly.directory)
    message = str(raised.value)
    assert f"AwsSolutions::{NO_SUCH_FINDING} on Nag/Topic" in message
    assert "1 cdk-nag acknowledgement(s)" in message


def test_cdk_synth_through_app_py_exits_on_a_stale_acknowledgement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN app.py's main, as the CDK CLI runs it with -c env=dev (the CLI hands the context and
    # the output directory to the app), composing an app with a stale acknowledgement
    cli_app = cdk.App
    monkeypatch.setattr(cdk_app.cdk, "App", lambda: cli_app(context={"env": "dev"}, outdir=str(tmp_path)))

    def compose_with_stale_acknowledgement(app: cdk.App, config: object) -> None:
        stack = cdk.Stack(app, "Nag", env=cdk.Environment(account="111111111111", region="us-east-1"))
        topic = sns.Topic(stack, "Topic")
        for finding in (*TOPIC_FINDINGS, NO_SUCH_FINDING):
            acknowledge(topic, finding, REASON)
        attach_rule_packs(app)

    monkeypatch.setattr(cdk_app, "compose_app", compose_with_stale_acknowledgement)
    # WHEN synthesized  THEN the process exits with the stale acknowledgement named
    with pytest.raises(SystemExit) as exited:
        cdk_app.main()
    assert "match no finding" in str(exited.value.code)
    assert NO_SUCH_FINDING in str(exited.value.code)
