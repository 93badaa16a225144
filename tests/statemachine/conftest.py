"""A provisioned moto environment with one region's runbook deployed, executed by moto's
Step Functions interpreter, every task running the real step handler in-process
(drill/stepfunctions.py). Deps come from the controller's test fixture: the modelled
database promotions, a call log and a stepping clock.

moto's interpreter sleeps out a Wait state in real time (``WaitFunction._wait_interval``);
here each Wait advances the test's clock instead (``local_runbook(advance_clock=...)``, the
drill's patch) and is recorded in ``RunbookWorld.waits``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from drill.provision import provision
from drill.stepfunctions import MOTO_CONFIG, ExecutionReport, LocalRunbook, local_runbook
from switchyard.adapters.state import LockRecord
from switchyard.config import EnvironmentConfig
from switchyard.handlers.environment import override_deps
from switchyard.model import DesiredState
from switchyard.retry import ApiCallLog
from switchyard.runbook_state import Approval
from tests.controller.conftest import Controller, SteppingClock, assert_calls_allowed

UNDER_BUDGET_LAG_SECONDS = 1.0


@dataclass
class RunbookWorld:
    """One region's runbook in a provisioned moto environment."""

    controller: Controller
    runbook: LocalRunbook
    waits: list[float]  # every Wait state's seconds, in order (each advanced the clock)

    @property
    def config(self) -> EnvironmentConfig:
        return self.controller.config

    @property
    def region(self) -> str:
        return self.runbook.region

    def request(self, **changes: Any) -> dict[str, Any]:
        """A valid failover input for this region, with ``changes`` applied (None removes a field)."""
        request = {
            "action": "failover",
            "target_region": self.region,
            "reason": "primary region failing",
            "incident_id": "INC-42",
            "requested_by": "tests",
        } | changes
        return {key: value for key, value in request.items() if value is not None}

    @contextmanager
    def handlers(self) -> Iterator[None]:
        """Handlers invoked inside use the controller's deps (built now, so faults injected before apply)."""
        with override_deps(self.controller.deps(self.region)):
            yield

    def run(self, runbook_input: dict[str, Any] | str, *, name: str) -> ExecutionReport:
        with self.handlers():
            return self.runbook.run(runbook_input, name=name)

    def desired(self, region: str | None = None) -> DesiredState | None:
        return self.controller.deps(self.region).state.read_desired(region or self.region)

    def lock(self) -> LockRecord | None:
        return self.controller.deps(self.region).state.read_lock(self.region)

    def mutating_calls(self) -> list[str]:
        return self.controller.call_log.operations(mutating_only=True)

    def approve(
        self,
        task_token: str,
        note: str,
        *,
        approved_by: str = "oncall",
        accepted_lag_seconds: float | None = None,
        age_seconds: float = 0.0,
    ) -> None:
        """Approve as ``switchyard approve`` does: by someone other than the requester
        (``tests``), accepting the lag last published unless told otherwise, given now."""
        accepted = self.controller.published_lag if accepted_lag_seconds is None else accepted_lag_seconds
        approval = Approval(
            approved_by=approved_by,
            approved_at=self.controller.clock() - timedelta(seconds=age_seconds),
            note=note,
            accepted_lag_seconds=accepted,
        )
        self.sfn.send_task_success(taskToken=task_token, output=approval.model_dump_json())

    def reject(self, task_token: str, cause: str) -> None:
        self.sfn.send_task_failure(taskToken=task_token, error="Switchyard.ApprovalRejected", cause=cause)

    @property
    def sfn(self) -> Any:
        return boto3.client("stepfunctions", region_name=self.region)


@contextmanager
def runbook_world(config: EnvironmentConfig, region: str) -> Iterator[RunbookWorld]:
    call_log = ApiCallLog()
    clock = SteppingClock()
    with (
        mock_aws(config=MOTO_CONFIG),
        local_runbook(config, region, timeout_seconds=30, call_log=call_log, advance_clock=clock.advance) as runbook,
    ):
        topology = provision(config)
        controller = Controller(config, topology, call_log, clock, [], [])
        controller.publish_lag(UNDER_BUDGET_LAG_SECONDS)
        runbook.deploy()
        yield RunbookWorld(controller, runbook, runbook.waits)
    assert_calls_allowed(controller)


@pytest.fixture
def standby(dev_config: EnvironmentConfig) -> Iterator[RunbookWorld]:
    """dev (RDS, automatic mode): the standby region's runbook, primary active at epoch 0."""
    with runbook_world(dev_config, dev_config.regions.standby) as world:
        yield world


def output_results(report: ExecutionReport) -> dict[str, Any]:
    assert report.output is not None, f"{report.status}: {report.error} {report.cause}"
    results: dict[str, Any] = report.output["results"]
    return results
