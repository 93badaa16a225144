"""The reconciler's warm-up in the synthesized IAM: it may invoke exactly its own region's
runbook step functions, and no other controller function may invoke any function."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from switchyard.config import EnvironmentConfig
from switchyard.contract import CONTROLLER_PURPOSES, RECONCILER, STEP_NAMES
from tests.stacks.controller.builders import BareStack, actions_on, build_controller, role_statements


def role_prefix(purpose: str) -> str:
    """The logical id prefix of the controller function's role (ControllerFunctions<Purpose>Role)."""
    return f"ControllerFunctions{purpose.title().replace('_', '')}Role"


@pytest.fixture(scope="module", params=["dev-standby", "prod-primary"])
def controller(
    request: pytest.FixtureRequest, dev: EnvironmentConfig, prod: EnvironmentConfig, runbook_definition: Path
) -> tuple[BareStack, Template]:
    config = dev if request.param == "dev-standby" else prod
    region = config.regions.standby if request.param == "dev-standby" else config.regions.primary
    given, _ = build_controller(config, region, definition_path=runbook_definition)
    return given, Template.from_stack(given.stack)


def test_the_reconciler_may_invoke_exactly_its_regions_step_functions(controller) -> None:
    # GIVEN one region's synthesized controller
    given, template = controller

    # WHEN the reconciler's policy is read
    invocable = actions_on(role_statements(template, role_prefix(RECONCILER)), "lambda:InvokeFunction")

    # THEN it names each runbook step function of this region once, by its contract ARN, and nothing else
    assert sorted(invocable) == sorted(given.function_arn(step) for step in STEP_NAMES)


def test_no_other_controller_function_may_invoke_a_function(controller) -> None:
    # GIVEN one region's synthesized controller
    _, template = controller

    # WHEN every other controller function's policy is read
    others = {purpose: role_statements(template, role_prefix(purpose)) for purpose in CONTROLLER_PURPOSES}
    del others[RECONCILER]
    assert all(others.values()), "every controller function has a policy to read"
    invokers = {purpose for purpose, statements in others.items() if actions_on(statements, "lambda:InvokeFunction")}

    # THEN none may invoke a function (the state machine's own role invokes the steps)
    assert invokers == set()


def test_a_warm_up_is_never_retried_and_expires_within_a_minute(controller) -> None:
    # GIVEN one region's synthesized controller  THEN every step function drops a failed or
    # throttled asynchronous invocation (a warm-up) instead of retrying it; no other function does
    _, template = controller
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig")
    assert len(configs) == len(STEP_NAMES)
    for config in configs.values():
        assert config["Properties"]["MaximumRetryAttempts"] == 0
        assert config["Properties"]["MaximumEventAgeInSeconds"] == 60
