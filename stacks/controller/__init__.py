"""The controller of one region: functions, runbook state machine, triggers, operator
access and the controller's own alarms, composed by :func:`add_controller`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.controller.alarms import ControllerAlarms
from stacks.controller.functions import ControllerFunctions
from stacks.controller.operator_access import OperatorAccess
from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from stacks.controller.state_machine import RunbookStateMachine
from stacks.controller.trigger import AutomaticTrigger
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names

__all__ = [
    "AutomaticTrigger",
    "Controller",
    "ControllerAlarms",
    "ControllerFunctions",
    "OperatorAccess",
    "RunbookStateMachine",
    "add_controller",
]


@dataclass(frozen=True)
class Controller:
    """What :func:`add_controller` created."""

    functions: ControllerFunctions
    runbook: RunbookStateMachine
    trigger: AutomaticTrigger
    operator_access: OperatorAccess
    alarms: ControllerAlarms


def add_controller(
    scope: Construct,
    *,
    config: EnvironmentConfig,
    region: str,
    names: Names,
    key: kms.IKey,
    topic: sns.ITopic,
    table_name: str,
    definition_path: Path = RUNBOOK_DEFINITION,
) -> Controller:
    """Add one region's controller to ``scope`` (the region's controller stack)."""
    functions = ControllerFunctions(
        scope, "Functions", config=config, region=region, names=names, key=key, topic=topic, table_name=table_name
    )
    runbook = RunbookStateMachine(
        scope,
        "Runbook",
        region=region,
        names=names,
        key=key,
        topic=topic,
        table_name=table_name,
        step_functions=functions.steps,
        definition_path=definition_path,
    )
    trigger = AutomaticTrigger(
        scope,
        "Trigger",
        config=config,
        region=region,
        names=names,
        monitor=functions.monitor,
        reconciler=functions.reconciler,
    )
    operator_access = OperatorAccess(
        scope,
        "OperatorAccess",
        config=config,
        region=region,
        names=names,
        key=key,
        topic_arn=topic.topic_arn,
        table_name=table_name,
    )
    alarms = ControllerAlarms(
        scope,
        "Alarms",
        region=region,
        names=names,
        topic=topic,
        state_machine=runbook.state_machine,
        functions=list(functions.by_purpose.values()),
    )
    return Controller(
        functions=functions, runbook=runbook, trigger=trigger, operator_access=operator_access, alarms=alarms
    )
