"""The runbook ASL as a document: every task bounded, retried with jitter and caught;
the dry-run and failure paths cannot reach a mutating step."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from drill.stepfunctions import ASL_PATH, all_states, load_definition, render_definition, substitutions
from switchyard.config import EnvironmentConfig
from switchyard.contract import STEP_NAMES

DEFINITION = load_definition()
STATES = all_states(DEFINITION)
TASKS = {name: state for name, state in STATES.items() if state["Type"] == "Task"}
MUTATING_STEPS = {"lock", "fence", "promote", "scale_up", "flip", "release", "record"}
TRAFFIC_STEPS = {"fence", "promote", "scale_up", "wait_ready", "flip", "verify"}
DOCUMENTED_KEYS = {f"{step}_function_arn" for step in STEP_NAMES} | {"notification_topic_arn", "state_table_name"}


def step_of(state: dict[str, Any]) -> str | None:
    """The runbook step a Lambda task invokes, from its ``${<step>_function_arn}``."""
    match = re.fullmatch(r"\$\{(\w+)_function_arn\}", state.get("Parameters", {}).get("FunctionName", ""))
    return match.group(1) if match else None


def successors(name: str) -> Iterator[str]:
    state = STATES[name]
    for key in ("Next", "Default"):
        if key in state:
            yield state[key]
    for rule in state.get("Choices", []):
        yield rule["Next"]
    for catcher in state.get("Catch", []):
        yield catcher["Next"]
    for branch in state.get("Branches", []):
        yield branch["StartAt"]


def reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(successors(name))
    return seen


def steps_reachable(start: str) -> set[str]:
    return {step for name in reachable(start) if (step := step_of(STATES[name]))}


def enclosing_parallel(task: str) -> dict[str, Any] | None:
    for state in DEFINITION["States"].values():
        for branch in state.get("Branches", []):
            if task in all_states(branch):
                return state
    return None


def test_the_first_states_refuse_input_that_is_not_an_object_then_run_the_validate_handler() -> None:
    # GIVEN the definition WHEN reading its start
    first = DEFINITION["States"][DEFINITION["StartAt"]]
    # THEN it reads the input from the context object without applying a path to it
    # (a path over a null input is an uncatchable States.Runtime in Step Functions)
    assert first["Type"] == "Pass"
    assert first["InputPath"] is None
    assert first["Parameters"] == {"input.$": "$$.Execution.Input"}
    # AND a Choice sends null, strings, numbers and booleans to a Fail named Switchyard.InvalidInput
    choice = DEFINITION["States"][first["Next"]]
    assert choice["Type"] == "Choice"
    (rule,) = choice["Choices"]
    assert {next(iter(set(test) - {"Variable"})) for test in rule["Or"]} == {
        "IsNull",
        "IsString",
        "IsNumeric",
        "IsBoolean",
    }
    assert DEFINITION["States"][rule["Next"]] | {"Cause": ""} == {
        "Type": "Fail",
        "Error": "Switchyard.InvalidInput",
        "Cause": "",
    }
    # AND everything else goes straight to the Task invoking validate, before any other task
    assert step_of(DEFINITION["States"][choice["Default"]]) == "validate"


def test_every_runbook_step_has_a_task() -> None:
    invoked = {step_of(state) for state in TASKS.values()}
    assert set(STEP_NAMES) <= invoked


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_has_a_timeout(name: str) -> None:
    timeout = TASKS[name].get("TimeoutSeconds")
    assert isinstance(timeout, int)
    assert 0 < timeout <= 3600


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_retries_with_capped_backoff_and_full_jitter(name: str) -> None:
    retriers = TASKS[name].get("Retry")
    assert retriers, f"{name} has no Retry"
    for retrier in retriers:
        assert retrier["JitterStrategy"] == "FULL"
        assert retrier["BackoffRate"] > 1
        assert 1 <= retrier["MaxAttempts"] <= 5
        assert retrier["MaxDelaySeconds"] >= retrier["IntervalSeconds"]
        assert "States.ALL" not in retrier["ErrorEquals"], "only retryable errors are retried"


@pytest.mark.parametrize("name", sorted(n for n, s in TASKS.items() if step_of(s)))
def test_lambda_tasks_retry_service_errors_and_the_handlers_retryable_error(name: str) -> None:
    retried = {error for retrier in TASKS[name]["Retry"] for error in retrier["ErrorEquals"]}
    assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "RetryableStepError"} <= retried


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_is_caught(name: str) -> None:
    # GIVEN a task WHEN it fails for any reason THEN its own Catch, or its Parallel's, takes over
    own = TASKS[name].get("Catch", [])
    parallel = enclosing_parallel(name)
    catchers = own or (parallel or {}).get("Catch", [])
    assert any("States.ALL" in catcher["ErrorEquals"] for catcher in catchers)


@pytest.mark.parametrize("name", sorted(n for n, s in TASKS.items() if step_of(s)))
def test_step_outputs_are_shaped_so_no_raw_sdk_response_is_kept(name: str) -> None:
    selector = TASKS[name]["ResultSelector"]
    assert all(value.startswith("$.Payload.") for value in selector.values())


def test_every_transition_names_an_existing_state() -> None:
    targets = {target for name in STATES for target in successors(name)}
    assert targets <= set(STATES)


def test_every_state_is_reachable_from_the_start() -> None:
    assert reachable(DEFINITION["StartAt"]) == set(STATES)


def test_every_fail_state_tells_a_human_why() -> None:
    fails = [state for state in STATES.values() if state["Type"] == "Fail"]
    assert fails
    for state in fails:
        assert "Error" in state or "ErrorPath" in state
        assert "Cause" in state or "CausePath" in state


def test_dry_run_reaches_only_preflight() -> None:
    # GIVEN the dry-run branch WHEN following every transition THEN only the preflight handler can run
    dry_run = next(r["Next"] for r in STATES["IsDryRun"]["Choices"] if r.get("StringEquals") == "dry-run")
    assert steps_reachable(dry_run) == {"preflight"}


@pytest.mark.parametrize("failure", ["FailedWithoutLock", "FailedBeforeChanges", "FailedAfterChanges"])
def test_failure_paths_never_touch_traffic(failure: str) -> None:
    assert not steps_reachable(failure) & TRAFFIC_STEPS


def test_lock_is_released_only_when_nothing_changed() -> None:
    assert "release" in steps_reachable("FailedBeforeChanges")
    assert "release" not in steps_reachable("FailedAfterChanges")
    assert "release" not in steps_reachable("FailedWithoutLock")


def test_failures_after_fencing_began_keep_the_lock() -> None:
    # GIVEN every catch and safe stop from the parallel fence/promote/flip onwards THEN they lead to FailedAfterChanges
    after = ["TakeOver", "WaitReady", "Verify"]
    for name in after:
        assert {c["Next"] for c in STATES[name]["Catch"]} == {"FailedAfterChanges"}
        assert STATES[name]["Catch"][0]["ResultPath"] == "$.error"


def test_approval_waits_for_a_task_token_sent_to_the_topic() -> None:
    approval = STATES["RequestApproval"]
    assert approval["Resource"] == "arn:aws:states:::sns:publish.waitForTaskToken"
    assert approval["Parameters"]["TopicArn"] == "${notification_topic_arn}"
    message = approval["Parameters"]["Message"]
    assert message["task_token.$"] == "$$.Task.Token"
    assert message["preflight.$"] == "$.results.preflight"  # carries lag, approval reason and findings


def test_only_documented_substitution_keys_are_used() -> None:
    used = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text(encoding="utf-8")))
    assert used <= DOCUMENTED_KEYS
    assert {f"{step}_function_arn" for step in STEP_NAMES} | {"notification_topic_arn"} <= used


def test_render_fills_every_placeholder(dev_config: EnvironmentConfig) -> None:
    arns = {step: f"arn:aws:lambda:us-west-2:111111111111:function:{step}" for step in STEP_NAMES}
    text = render_definition(substitutions(dev_config, "us-west-2", arns))
    assert "${" not in text
    assert arns["flip"] in text


def test_render_refuses_a_missing_function(dev_config: EnvironmentConfig) -> None:
    arns = {step: "arn" for step in STEP_NAMES if step != "verify"}
    with pytest.raises(ValueError, match="verify"):
        substitutions(dev_config, "us-west-2", arns)
