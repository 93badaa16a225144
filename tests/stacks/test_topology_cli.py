"""The app as the CDK CLI runs it: ``cdk synth -c env=<name>`` offline, with no credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.synthesis import REPOSITORY_ROOT
from tests.stacks.topology import STACK_KINDS

CDK_CLI = REPOSITORY_ROOT / "node_modules" / ".bin" / "cdk"


def _environment_without_aws_credentials(tmp_path: Path) -> dict[str, str]:
    """The test process's environment minus every AWS credential source."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "CDK_"))}
    missing = str(tmp_path / "no-such-file")
    environment.update(
        AWS_CONFIG_FILE=missing,
        AWS_SHARED_CREDENTIALS_FILE=missing,
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return environment


def _run_app(context: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run app.py the way the CLI does (context in CDK_CONTEXT_JSON), without the CLI."""
    environment = _environment_without_aws_credentials(tmp_path)
    environment.update(CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(tmp_path / "out"))
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPOSITORY_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_an_unknown_environment_fails_naming_it_and_the_known_ones(tmp_path: Path) -> None:
    # GIVEN an environment that has no config file  WHEN the app runs
    result = _run_app({"env": "staging-eu"}, tmp_path)
    # THEN it fails before building anything, naming the environment and the known ones
    assert result.returncode != 0
    assert "'staging-eu'" in result.stderr
    assert "known: byo-example, dev, prod" in result.stderr
    assert list((tmp_path / "out").glob("*.template.json")) == []


def test_a_missing_environment_fails_with_how_to_choose_one(tmp_path: Path) -> None:
    # GIVEN no -c env  WHEN the app runs  THEN it says how to pass one and lists the choices
    result = _run_app({}, tmp_path)
    assert result.returncode != 0
    assert "-c env=<name>" in result.stderr
    assert "dev, prod" in result.stderr


def _cdk_synth(env_name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "-c", f"env={env_name}", "--output", str(tmp_path / "cdk.out")],
        cwd=REPOSITORY_ROOT,
        env=_environment_without_aws_credentials(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.synth
@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_the_cli_synthesizes_every_stack_offline_without_credentials(env_name: str, tmp_path: Path) -> None:
    # GIVEN no AWS credentials anywhere  WHEN the pinned CLI synthesizes the environment
    result = _cdk_synth(env_name, tmp_path)
    # THEN it succeeds and writes a template for each kind of stack in both regions
    assert result.returncode == 0, result.stderr[-3000:]
    templates = list((tmp_path / "cdk.out").glob("*.template.json"))
    assert len(templates) == len(STACK_KINDS) * 2
    assert all(path.name.startswith(f"switchyard-{env_name}-") for path in templates)


@pytest.mark.synth
def test_the_cli_fails_on_an_unknown_environment_naming_it(tmp_path: Path) -> None:
    # GIVEN an unknown environment  WHEN the pinned CLI synthesizes it  THEN it fails naming it
    result = _cdk_synth("nope", tmp_path)
    assert result.returncode != 0
    assert "environment 'nope': unknown environment" in result.stderr
