"""Controller: one region's failover controller as one construct.

The functions (with their IAM), the runbook state machine built from
``runbook.asl.json``, the schedules and alarm wiring that wake the monitor and the
reconciler, the operators' access, and the controller's own alarms.
"""

from __future__ import annotations

from pathlib import Path

from constructs import Construct

from stacks.controller.alarms import ControllerAlarms
from stacks.controller.functions import ControllerFunctions
from stacks.controller.operator_access import OperatorAccess
from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from stacks.controller.state_machine import RunbookStateMachine
from stacks.controller.trigger import AutomaticTrigger
from stacks.shared.scope import RegionScope


class Controller(Construct):
    """Everything that decides and acts for ``region``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        definition_path: Path = RUNBOOK_DEFINITION,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions = ControllerFunctions(self, "Functions", region=region)
        self.runbook = RunbookStateMachine(
            self, "Runbook", region=region, step_functions=self.functions.steps, definition_path=definition_path
        )
        self.trigger = AutomaticTrigger(
            self, "Trigger", region=region, monitor=self.functions.monitor, reconciler=self.functions.reconciler
        )
        self.operator_access = OperatorAccess(self, "OperatorAccess", region=region)
        self.alarms = ControllerAlarms(
            self,
            "Alarms",
            region=region,
            state_machine=self.runbook.state_machine,
            functions=list(self.functions.by_purpose.values()),
        )
