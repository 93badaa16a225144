"""Starting the runbook state machine (Step Functions in the monitor's own region)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.model import check_execution_name
from switchyard.retry import ClientFactory, error_code


@dataclass(frozen=True)
class StartedRun:
    execution_arn: str
    already_existed: bool


class RunbookStarter(Protocol):
    def start(self, region: str, *, name: str, runbook_input: dict[str, Any]) -> StartedRun: ...


class StepFunctionsRunbookStarter:
    """StartExecution with a deterministic name: a duplicate start (same name) finds
    the existing execution instead of starting a second one. The name must be a safe
    execution name (``switchyard.model.check_execution_name``: ASCII letters, digits,
    '-' and '_'), checked before the call: it also becomes part of the lock holder's ARN."""

    def __init__(self, config: EnvironmentConfig, clients: ClientFactory) -> None:
        self._names = Names(config)
        self._clients = clients

    def start(self, region: str, *, name: str, runbook_input: dict[str, Any]) -> StartedRun:
        check_execution_name(name)
        arn = self._names.state_machine_arn(region)
        stepfunctions = self._clients.client("stepfunctions", region)
        try:
            response = stepfunctions.start_execution(
                stateMachineArn=arn, name=name, input=json.dumps(runbook_input, sort_keys=True)
            )
        except Exception as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise
            execution_arn = arn.replace(":stateMachine:", ":execution:") + f":{name}"
            return StartedRun(execution_arn, already_existed=True)
        return StartedRun(str(response["executionArn"]), already_existed=False)
