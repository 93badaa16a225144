"""Driving the CLI against moto: the same state machine and real handlers as
tests/statemachine (one moto world at a time: mock_aws worlds do not nest)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from switchyard.config import EnvironmentConfig
from switchyard_cli.cli import main
from tests.statemachine.conftest import RunbookWorld, runbook_world

FAST = ["--poll-seconds", "0.1"]


@pytest.fixture
def standby(dev_config: EnvironmentConfig) -> Iterator[RunbookWorld]:
    """A fresh standby runbook, handlers wired to the controller's deps."""
    with runbook_world(dev_config, dev_config.regions.standby) as world, world.handlers():
        yield world


@contextmanager
def signed_in_as(person: str, *, role: str = "switchyard-dev-us-west-2-operator") -> Iterator[str]:
    """CLI calls inside run with ``role`` assumed as session ``person``; yields the identity the
    CLI records (``assumed-role/<role>/<person>``). moto's STS remembers the assumed session,
    so GetCallerIdentity answers with it; the default boto3 session is rebuilt from the
    environment so the CLI's clients pick the credentials up."""
    sts = boto3.client("sts", region_name="us-west-2")
    account = sts.get_caller_identity()["Account"]
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName=person)["Credentials"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
        patch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
        patch.setattr(boto3, "DEFAULT_SESSION", None)
        yield f"assumed-role/{role}/{person}"


def cli(*argv: str) -> tuple[int, str]:
    """Run the CLI in-process (moto intercepts its AWS calls); exit code and everything it printed."""
    out = io.StringIO()
    code = main([*argv, *FAST], out=out, err=out, ask=lambda _: "")
    return code, out.getvalue()


def failover(*extra: str, incident: str = "INC-9") -> list[str]:
    target = ["--env", "dev", "--region", "us-west-2"]
    return ["failover", *target, "--reason", "primary down", "--incident", incident, *extra]


def executions(world: RunbookWorld) -> list[dict[str, Any]]:
    listed = world.sfn.list_executions(stateMachineArn=world.runbook.state_machine_arn)["executions"]
    return list(listed)


def started_input(world: RunbookWorld, name: str) -> dict[str, Any]:
    """The input the CLI started execution ``name`` with."""
    arn = next(e["executionArn"] for e in executions(world) if e["name"] == name)
    value: dict[str, Any] = json.loads(world.sfn.describe_execution(executionArn=arn)["input"])
    return value
