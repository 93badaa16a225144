"""Controller: one construct composes one region's whole controller."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from stacks.controller.controller import Controller
from switchyard.config import EnvironmentConfig
from switchyard.contract import CONTROLLER_PURPOSES
from tests.stacks.controller.builders import BareStack, actions_on, build_controller, role_statements


@pytest.fixture(scope="module")
def built(dev: EnvironmentConfig, runbook_definition: Path) -> tuple[BareStack, Controller, Template]:
    given, controller = build_controller(dev, dev.regions.standby, definition_path=runbook_definition)
    return given, controller, Template.from_stack(given.stack)


def test_creates_every_function_one_state_machine_and_the_triggers(built) -> None:
    _, _, template = built
    template.resource_count_is("AWS::Lambda::Function", len(CONTROLLER_PURPOSES))
    template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    template.resource_count_is("AWS::Events::Rule", 4)


def test_the_runbook_invokes_the_functions_it_created(built) -> None:
    # GIVEN the composed controller
    _, controller, template = built
    (state_machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    substitutions = state_machine["Properties"]["DefinitionSubstitutions"]
    stack = controller.functions.monitor.stack
    # THEN each step's substitution is the ARN of that step's function in this stack
    for step, function in controller.functions.steps.items():
        assert substitutions[f"{step}_function_arn"] == stack.resolve(function.function_arn)


def test_the_monitor_may_start_exactly_the_state_machine_created(built) -> None:
    # GIVEN the state machine's name and the monitor's permission, both from the template
    given, _, template = built
    (state_machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    created = (
        f"arn:aws:states:{given.region}:{given.account}:stateMachine:{state_machine['Properties']['StateMachineName']}"
    )
    # THEN the deterministic ARN the monitor is allowed to start is that of the created state machine
    allowed = actions_on(role_statements(template, "ControllerFunctionsMonitorRole"), "states:StartExecution")
    assert allowed == [created]
