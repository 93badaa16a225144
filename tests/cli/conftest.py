"""Driving the CLI against moto: the same state machine and real handlers as
tests/statemachine (one moto world at a time: mock_aws worlds do not nest)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

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
