"""RunbookStateMachine: the runbook definition as a logged, traced, bounded state machine."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from stacks.controller.functions import FUNCTION_TIMEOUTS
from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from stacks.controller.state_machine import RUNBOOK_TIMEOUT, RunbookStateMachine, definition_substitution_keys
from switchyard.config import EnvironmentConfig
from switchyard.contract import STEP_NAMES
from tests.stacks.controller.builders import BareStack, actions_on, as_list, bare_stack, minimal_runbook_definition


def add_runbook(given: BareStack, definition_path: Path) -> RunbookStateMachine:
    steps = {
        step: lambda_.Function.from_function_arn(given.stack, f"Step{step}", given.function_arn(step))
        for step in STEP_NAMES
    }
    return RunbookStateMachine(
        given.stack,
        "Runbook",
        region=given.scope,
        step_functions=steps,
        definition_path=definition_path,
    )


@pytest.fixture(scope="module")
def built(dev: EnvironmentConfig, runbook_definition: Path) -> tuple[BareStack, Template]:
    given = bare_stack(dev, dev.regions.primary)
    add_runbook(given, runbook_definition)
    return given, Template.from_stack(given.stack)


@pytest.fixture(scope="module")
def state_machine(built) -> dict[str, Any]:
    _, template = built
    (resource,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    return resource["Properties"]


@pytest.fixture(scope="module")
def role_statements(built) -> list[dict[str, Any]]:
    _, template = built
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def tasks(states: Mapping[str, Any], caught_by_parent: bool = False) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Every Task state with whether an enclosing Parallel catches its errors."""
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state, caught_by_parent
        for branch in state.get("Branches", []):
            yield from tasks(branch["States"], caught_by_parent or bool(state.get("Catch")))


def test_is_a_standard_state_machine_named_for_its_region(built, state_machine) -> None:
    given, _ = built
    assert state_machine["StateMachineName"] == given.names.state_machine(given.region)
    assert state_machine["StateMachineType"] == "STANDARD"


def test_logs_everything_with_execution_data_to_an_encrypted_log_group(built, state_machine) -> None:
    # GIVEN the state machine's logging configuration
    _, template = built
    logging = state_machine["LoggingConfiguration"]
    log_group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    log_group = template.find_resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]
    # THEN it logs ALL with execution data, into a log group encrypted with the key
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    assert "KmsKeyId" in log_group
    assert log_group["RetentionInDays"] >= 30


def test_is_traced(state_machine) -> None:
    assert state_machine["TracingConfiguration"] == {"Enabled": True}


def test_has_a_state_machine_timeout(state_machine) -> None:
    assert json.loads(state_machine["DefinitionString"])["TimeoutSeconds"] > 0


def test_substitutes_every_documented_key(state_machine) -> None:
    assert set(state_machine["DefinitionSubstitutions"]) == set(definition_substitution_keys())


def test_role_invokes_only_the_step_functions(built, role_statements) -> None:
    given, _ = built
    invoked = actions_on(role_statements, "lambda:InvokeFunction")
    assert sorted(invoked) == sorted(given.function_arn(step) for step in STEP_NAMES)


def test_role_publishes_only_to_the_topic(built, role_statements) -> None:
    given, _ = built
    assert actions_on(role_statements, "sns:Publish") == [given.names.topic_arn(given.region)]


def test_role_calls_no_other_service_than_it_needs(role_statements) -> None:
    services = {action.split(":")[0] for statement in role_statements for action in as_list(statement["Action"])}
    assert services <= {"lambda", "sns", "kms", "logs", "xray", "dynamodb"}


@pytest.fixture(scope="module")
def project_definition(state_machine) -> dict[str, Any]:
    """The project's own runbook definition, as rendered into the state machine."""
    if not RUNBOOK_DEFINITION.is_file():
        pytest.skip("stacks/controller/runbook.asl.json is not written yet")
    return json.loads(state_machine["DefinitionString"])


def test_every_task_of_the_runbook_retries_with_full_jitter(project_definition) -> None:
    for name, state, _ in tasks(project_definition["States"]):
        assert state.get("Retry"), name
        assert {retry.get("JitterStrategy") for retry in state["Retry"]} == {"FULL"}, name


def test_every_task_of_the_runbook_has_a_timeout(project_definition) -> None:
    assert [name for name, state, _ in tasks(project_definition["States"]) if not state.get("TimeoutSeconds")] == []


def test_every_task_of_the_runbook_is_caught(project_definition) -> None:
    states = project_definition["States"]
    assert [name for name, state, by_parent in tasks(states) if not (state.get("Catch") or by_parent)] == []


def test_every_step_task_outlasts_its_function(project_definition) -> None:
    # GIVEN each task that invokes a step function
    for name, state, _ in tasks(project_definition["States"]):
        function = state.get("Parameters", {}).get("FunctionName", "")
        step = function.removeprefix("${").removesuffix("_function_arn}")
        if step in STEP_NAMES:
            # THEN its task timeout is longer than the function's, so a slow step fails as a Lambda error
            assert state["TimeoutSeconds"] > FUNCTION_TIMEOUTS[step].to_seconds(), name


def write_definition(tmp_path: Path, definition: dict[str, Any]) -> Path:
    path = tmp_path / "runbook.asl.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    return path


def definition_file(tmp_path: Path, **task: Any) -> Path:
    """The stand-in runbook with one extra Task state."""
    definition = minimal_runbook_definition()
    definition["States"]["extra"] = {"Type": "Task", "End": True, **task}
    return write_definition(tmp_path, definition)


def test_a_dynamodb_task_is_allowed_only_on_the_local_table(dev: EnvironmentConfig, tmp_path: Path) -> None:
    # GIVEN a definition that reads the state table directly
    given = bare_stack(dev, dev.regions.primary)
    add_runbook(given, definition_file(tmp_path, Resource="arn:aws:states:::dynamodb:getItem"))
    statements = [
        statement
        for policy in Template.from_stack(given.stack).find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    # THEN the role may GetItem on this region's replica only
    assert actions_on(statements, "dynamodb:GetItem") == [
        f"arn:aws:dynamodb:{given.region}:{given.account}:table/{given.names.state_table}"
    ]


def test_an_integration_it_cannot_scope_fails_the_synth(dev: EnvironmentConfig, tmp_path: Path) -> None:
    given = bare_stack(dev, dev.regions.primary)
    with pytest.raises(ValueError, match="ecs:runTask"):
        add_runbook(given, definition_file(tmp_path, Resource="arn:aws:states:::ecs:runTask.sync"))


def test_an_unknown_substitution_key_fails_the_synth(dev: EnvironmentConfig, tmp_path: Path) -> None:
    given = bare_stack(dev, dev.regions.primary)
    path = definition_file(tmp_path, Resource="${missing_function_arn}")
    with pytest.raises(ValueError, match="missing_function_arn"):
        add_runbook(given, path)


def test_a_definition_without_a_timeout_gets_the_default(dev: EnvironmentConfig, tmp_path: Path) -> None:
    # GIVEN a definition that states no TimeoutSeconds
    given = bare_stack(dev, dev.regions.primary)
    # WHEN built into the state machine
    add_runbook(given, write_definition(tmp_path, minimal_runbook_definition()))
    (resource,) = Template.from_stack(given.stack).find_resources("AWS::StepFunctions::StateMachine").values()
    # THEN the whole execution is bounded by the default runbook timeout
    assert json.loads(resource["Properties"]["DefinitionString"])["TimeoutSeconds"] == RUNBOOK_TIMEOUT.to_seconds()


def test_a_definition_keeps_its_own_timeout(dev: EnvironmentConfig, tmp_path: Path) -> None:
    given = bare_stack(dev, dev.regions.primary)
    add_runbook(given, write_definition(tmp_path, {**minimal_runbook_definition(), "TimeoutSeconds": 1234}))
    (resource,) = Template.from_stack(given.stack).find_resources("AWS::StepFunctions::StateMachine").values()
    assert json.loads(resource["Properties"]["DefinitionString"])["TimeoutSeconds"] == 1234
