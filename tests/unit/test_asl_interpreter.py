"""The ASL interpreter on a simulated clock (switchyard_sim.asl): each feature on a small
definition, then the real runbook ASL (the file the stacks deploy) with scripted tasks.

Pure: no moto, no CDK, no drill. Times are simulated seconds; nothing sleeps.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy

from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from switchyard_sim.asl import Execution, StateMachine, TaskFailure, UnsupportedAsl, execution_of, run
from tests.fakes import step_result

ARN = "arn:aws:states:us-west-2:111111111111:execution:runbook:exec-1"


def task(**fields: Any) -> dict[str, Any]:
    """A lambda:invoke Task calling function ``f`` with the whole input as payload."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "ResultSelector": {"value.$": "$.Payload"},
    } | fields


def machine(states: dict[str, Any], start: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states} | fields


class Scripted:
    """An invoke process: each call takes ``duration`` simulated seconds, then raises the next
    scripted error (a string) or returns the next scripted payload; the last entry repeats."""

    def __init__(self, env: simpy.Environment, outcomes: list[Any], duration: float = 0.0) -> None:
        self.env = env
        self.outcomes = outcomes
        self.duration = duration
        self.calls: list[tuple[float, str, Any]] = []

    def __call__(self, function_name: str, payload: Any) -> Generator[simpy.Event, Any, Any]:
        self.calls.append((self.env.now, function_name, payload))
        yield self.env.timeout(self.duration)
        outcome = self.outcomes[min(len(self.calls) - 1, len(self.outcomes) - 1)]
        if isinstance(outcome, str):
            raise TaskFailure(outcome, f"{outcome} from {function_name}")
        return outcome


def run_scripted(
    definition: dict[str, Any],
    outcomes: list[Any],
    execution_input: Any = None,
    *,
    duration: float = 0.0,
    rng: random.Random | None = None,
) -> tuple[Execution, Scripted]:
    env = simpy.Environment()
    scripted = Scripted(env, outcomes, duration)
    process = run(
        env,
        StateMachine(definition),
        {} if execution_input is None else execution_input,
        name="exec-1",
        execution_arn=ARN,
        invoke=scripted,
        rng=rng or random.Random(0),
    )
    env.run(until=process)
    return execution_of(process), scripted


def attempt_starts(execution: Execution, state: str) -> list[float]:
    return [attempt.started_at for attempt in execution.visit(state).attempts]


# -- Retry ------------------------------------------------------------------------------------


def test_retry_without_jitter_waits_interval_times_backoff_to_the_power_of_the_retry() -> None:
    # GIVEN a task that fails twice then succeeds, Interval 2 s and BackoffRate 3
    retry = {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "JitterStrategy": "NONE"}
    definition = machine({"Call": task(Retry=[retry], End=True)})

    # WHEN it runs
    execution, _ = run_scripted(definition, ["Boom", "Boom", {"ok": True}])

    # THEN the retries start 2 s and then 6 s after the previous failure, and it succeeds
    assert attempt_starts(execution, "Call") == [0, 2, 8]
    assert (execution.status, execution.output) == ("SUCCEEDED", {"value": {"ok": True}})


def test_full_jitter_draws_each_delay_uniformly_up_to_the_computed_interval() -> None:
    # GIVEN FULL jitter and a seeded rng
    retry = {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "JitterStrategy": "FULL"}
    definition = machine({"Call": task(Retry=[retry], End=True)})
    expected_rng = random.Random(7)
    first, second = expected_rng.uniform(0, 2), expected_rng.uniform(0, 6)

    # WHEN it runs with the same seed
    execution, _ = run_scripted(definition, ["Boom", "Boom", {}], rng=random.Random(7))

    # THEN the delays are exactly those draws
    assert attempt_starts(execution, "Call") == pytest.approx([0, first, first + second])


def test_max_delay_caps_the_interval_and_max_attempts_ends_the_retries() -> None:
    # GIVEN Interval 10 s x 10 per retry, capped at 15 s, 3 attempts, and a task that always fails
    retry = {"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "BackoffRate": 10, "MaxDelaySeconds": 15}
    definition = machine({"Call": task(Retry=[retry], End=True)})

    # WHEN it runs
    execution, scripted = run_scripted(definition, ["Boom"])

    # THEN it tries 4 times, 10, 15 and 15 s apart, then fails with the task's error
    assert attempt_starts(execution, "Call") == [0, 10, 25, 40]
    assert (execution.status, execution.error, len(scripted.calls)) == ("FAILED", "Boom", 4)


def test_max_attempts_zero_never_retries() -> None:
    # GIVEN a retrier with MaxAttempts 0
    retry = {"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}
    definition = machine({"Call": task(Retry=[retry], End=True)})

    # WHEN the task fails
    _, scripted = run_scripted(definition, ["Boom", {}])

    # THEN it was called once
    assert len(scripted.calls) == 1


def test_task_failed_does_not_match_a_timeout() -> None:
    # GIVEN a Retry on States.TaskFailed and a task slower than its TimeoutSeconds
    retry = {"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 5}
    definition = machine({"Call": task(Retry=[retry], TimeoutSeconds=30, End=True)})

    # WHEN it runs
    execution, scripted = run_scripted(definition, [{}], duration=100)

    # THEN the timeout is not retried
    assert (execution.error, len(scripted.calls)) == ("States.Timeout", 1)


# -- TimeoutSeconds, Catch, Runtime errors ------------------------------------------------------


def test_a_task_slower_than_its_timeout_fails_with_states_timeout_at_exactly_the_timeout() -> None:
    # GIVEN a task with TimeoutSeconds 30 whose function takes 100 s
    definition = machine({"Call": task(TimeoutSeconds=30, End=True)})

    # WHEN it runs
    execution, _ = run_scripted(definition, [{}], duration=100)

    # THEN the attempt fails with States.Timeout at t=30 and so does the execution
    attempt = execution.visit("Call").attempts[0]
    assert (attempt.ended_at, attempt.error) == (30, "States.Timeout")
    assert (execution.status, execution.error, execution.stopped_at) == ("FAILED", "States.Timeout", 30)


def test_catch_puts_the_error_at_its_result_path_and_keeps_the_input() -> None:
    # GIVEN a task whose Catch writes the error to $.error
    catch = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}
    definition = machine({"Call": task(Catch=[catch], Next="Done"), "Done": {"Type": "Succeed"}})

    # WHEN the task fails
    execution, _ = run_scripted(definition, ["Boom"], {"keep": 1})

    # THEN the next state gets the input with the error object added
    assert execution.output == {"keep": 1, "error": {"Error": "Boom", "Cause": "Boom from f"}}
    assert execution.states == ["Call", "Done"]


def test_a_missing_path_is_states_runtime_which_no_catch_handles() -> None:
    # GIVEN a task whose Parameters read a field the input lacks, and a Catch on States.ALL
    catch = {"ErrorEquals": ["States.ALL"], "Next": "Done"}
    parameters = {"FunctionName": "f", "Payload": {"x.$": "$.missing"}}
    definition = machine({"Call": task(Parameters=parameters, Catch=[catch], End=True), "Done": {"Type": "Succeed"}})

    # WHEN it runs
    execution, scripted = run_scripted(definition, [{}])

    # THEN the execution fails with States.Runtime and the function is never called
    assert (execution.status, execution.error, scripted.calls) == ("FAILED", "States.Runtime", [])


def test_the_lambda_response_is_wrapped_as_step_functions_does() -> None:
    # GIVEN a task with no ResultSelector
    definition = machine({"Call": {k: v for k, v in task(End=True).items() if k != "ResultSelector"}})

    # WHEN it runs
    execution, _ = run_scripted(definition, [{"a": 1}])

    # THEN the payload sits under Payload beside StatusCode 200
    assert (execution.output["Payload"], execution.output["StatusCode"]) == ({"a": 1}, 200)


def test_an_execution_past_its_timeout_is_timed_out() -> None:
    # GIVEN a machine with TimeoutSeconds 50 and a 40 s task run twice
    definition = machine({"One": task(Next="Two"), "Two": task(End=True)}, TimeoutSeconds=50)

    # WHEN it runs
    execution, _ = run_scripted(definition, [{}], duration=40)

    # THEN it is TIMED_OUT at t=50
    assert (execution.status, execution.error, execution.stopped_at) == ("TIMED_OUT", "States.Timeout", 50)


# -- Parallel ---------------------------------------------------------------------------------


def parallel_machine() -> dict[str, Any]:
    slow = {
        "StartAt": "Slow",
        "States": {"Slow": task(Next="AfterSlow"), "AfterSlow": {"Type": "Pass", "End": True}},
    }
    fast = {
        "StartAt": "Fast",
        "States": {
            "Fast": {"Type": "Wait", "Seconds": 5, "Next": "Broken"},
            "Broken": {"Type": "Fail", "Error": "Branch.Broke", "Cause": "fast branch"},
        },
    }
    catch = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}
    return machine(
        {
            "Both": {"Type": "Parallel", "Branches": [slow, fast], "Catch": [catch], "End": True},
            "Caught": {"Type": "Wait", "Seconds": 200, "End": True},  # outlives the slow task
        }
    )


def test_a_failing_branch_fails_the_parallel_at_once_and_stops_its_sibling() -> None:
    # GIVEN a Parallel whose second branch fails at t=5 while the first runs a 100 s task
    # WHEN it runs
    execution, _ = run_scripted(parallel_machine(), [{}], duration=100)

    # THEN the Parallel's Catch runs at t=5 and the slow branch never reaches its next state, even at t=205
    assert execution.output["error"] == {"Error": "Branch.Broke", "Cause": "fast branch"}
    assert execution.visit("Caught").entered_at == 5
    assert "AfterSlow" not in execution.states
    assert execution.visit("Slow").exited_at is None


def test_parallel_output_is_the_list_of_branch_outputs_on_one_clock() -> None:
    # GIVEN two branches waiting 30 s and 10 s
    branches = [
        {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": seconds, "Next": "P"},
                "P": {"Type": "Pass", "Result": seconds, "End": True},
            },
        }
        for seconds in (30, 10)
    ]
    definition = machine({"Both": {"Type": "Parallel", "Branches": branches, "End": True}})

    # WHEN it runs
    execution, _ = run_scripted(definition, [{}])

    # THEN they ran concurrently (30 s in all) and the output lists them in branch order
    assert (execution.output, execution.stopped_at) == ([30, 10], 30)


# -- Wait, Pass, Fail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wait", "execution_input", "expected"),
    [
        ({"Seconds": 42}, {}, 42),
        ({"SecondsPath": "$.delay"}, {"delay": 7}, 7),
        ({"Timestamp": "2026-01-01T00:01:40Z"}, {}, 100),
        ({"TimestampPath": "$.at"}, {"at": "2026-01-01T00:00:20+00:00"}, 20),
        ({"Timestamp": "2025-01-01T00:00:00Z"}, {}, 0),
    ],
)
def test_wait_elapses_on_the_simulated_clock(wait: dict[str, Any], execution_input: Any, expected: float) -> None:
    # GIVEN a Wait state (t=0 is 2026-01-01T00:00:00Z)
    definition = machine({"Wait": {"Type": "Wait", "End": True} | wait})

    # WHEN it runs
    execution, _ = run_scripted(definition, [{}], execution_input)

    # THEN it ends that many simulated seconds later
    assert execution.stopped_at == expected


def test_pass_applies_input_path_parameters_result_path_and_output_path() -> None:
    # GIVEN a Pass that reshapes part of its input and the context object
    definition = machine(
        {
            "Shape": {
                "Type": "Pass",
                "InputPath": "$.a",
                "Parameters": {"b.$": "$.b[1]", "who.$": "$$.Execution.Name"},
                "ResultPath": "$.a.shaped",
                "OutputPath": "$.a",
                "End": True,
            }
        }
    )

    # WHEN it runs
    execution, _ = run_scripted(definition, [{}], {"a": {"b": [1, 2]}, "other": 0})

    # THEN the result is placed in the input at ResultPath and OutputPath selects from there
    assert execution.output == {"b": [1, 2], "shaped": {"b": 2, "who": "exec-1"}}


def test_result_path_null_discards_the_result() -> None:
    definition = machine({"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": None, "End": True}})
    execution, _ = run_scripted(definition, [{}], {"keep": True})
    assert execution.output == {"keep": True}


def test_fail_takes_its_error_and_cause_from_paths_and_intrinsics() -> None:
    # GIVEN a Fail with ErrorPath and a States.Format CausePath
    definition = machine({"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('n={}', $.n)"}})

    # WHEN it runs
    execution, _ = run_scripted(definition, [{}], {"e": "My.Error", "n": 3})

    # THEN the execution fails with them
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "My.Error", "n=3")


# -- Choice -----------------------------------------------------------------------------------

DATA = {"s": "abc", "n": 5, "b": True, "z": None, "other": 7, "t": "2026-01-01T00:00:00Z", "u": "2026-06-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        ({"Variable": "$.s", "StringEquals": "abc"}, True),
        ({"Variable": "$.n", "StringEquals": "5"}, False),
        ({"Variable": "$.b", "BooleanEquals": True}, True),
        ({"Variable": "$.nope", "IsPresent": False}, True),
        ({"Variable": "$.z", "IsNull": True}, True),
        ({"Variable": "$.s", "IsString": True}, True),
        ({"Variable": "$.b", "IsNumeric": True}, False),
        ({"Variable": "$.n", "NumericLessThan": 6}, True),
        ({"Variable": "$.n", "NumericGreaterThanEquals": 5}, True),
        ({"Variable": "$.n", "NumericEquals": 4}, False),
        ({"Variable": "$.n", "NumericLessThanPath": "$.other"}, True),
        ({"Variable": "$.n", "NumericGreaterThanPath": "$.other"}, False),
        ({"Variable": "$.t", "TimestampLessThan": "2026-03-01T00:00:00Z"}, True),
        ({"Variable": "$.t", "TimestampLessThanPath": "$.u"}, True),
        ({"And": [{"Variable": "$.b", "BooleanEquals": True}, {"Variable": "$.n", "NumericEquals": 5}]}, True),
        ({"Or": [{"Variable": "$.b", "BooleanEquals": False}, {"Variable": "$.s", "IsString": False}]}, False),
        ({"Not": {"Variable": "$.s", "StringEquals": "x"}}, True),
    ],
)
def test_choice_operators(rule: dict[str, Any], matches: bool) -> None:
    # GIVEN a Choice with one rule and a Default
    definition = machine(
        {
            "C": {"Type": "Choice", "Choices": [rule | {"Next": "Yes"}], "Default": "No"},
            "Yes": {"Type": "Succeed"},
            "No": {"Type": "Succeed"},
        }
    )

    # WHEN it runs on DATA
    execution, _ = run_scripted(definition, [{}], DATA)

    # THEN it takes the rule's Next exactly when the rule holds
    assert execution.states[-1] == ("Yes" if matches else "No")


def test_no_matching_choice_without_default_fails_with_no_choice_matched() -> None:
    definition = machine(
        {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringEquals": "x", "Next": "Y"}]},
            "Y": {"Type": "Succeed"},
        }
    )
    execution, _ = run_scripted(definition, [{}], DATA)
    assert execution.error == "States.NoChoiceMatched"


def test_a_choice_on_a_missing_variable_is_a_runtime_error() -> None:
    # GIVEN a comparison (not IsPresent) on a field the input lacks
    definition = machine(
        {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.nope", "IsNull": True, "Next": "Y"}], "Default": "Y"},
            "Y": {"Type": "Succeed"},
        }
    )

    # WHEN it runs
    execution, _ = run_scripted(definition, [{}], DATA)

    # THEN the execution fails with States.Runtime, as AWS does (moto would take the Default)
    assert execution.error == "States.Runtime"


# -- intrinsics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.Format('a {} b {} c', $.s, $.n)", "a x b 3 c"),
        ("States.Format('quote \\' brace \\{\\} slash \\\\ {}', $.s)", "quote ' brace {} slash \\ x"),
        ("States.Format('{} {} {}', $.o, $.l, $.z)", "{k=1} [1, true] null"),
        ("States.JsonMerge($.o, $.p, false)", {"k": 2, "j": 3}),
        ("States.MathAdd($.n, 4)", 7),
        ("States.StringToJson('{\"v\": 1}')", {"v": 1}),
        ("States.Format('{}', States.MathAdd($.n, 1))", "4"),
    ],
)
def test_intrinsic_functions(expression: str, expected: Any) -> None:
    # GIVEN a Pass whose Parameters call an intrinsic
    definition = machine({"P": {"Type": "Pass", "Parameters": {"out.$": expression}, "End": True}})

    # WHEN it runs
    execution, _ = run_scripted(
        definition, [{}], {"s": "x", "n": 3, "o": {"k": 1}, "p": {"k": 2, "j": 3}, "l": [1, True], "z": None}
    )

    # THEN the value is AWS's
    assert execution.output == {"out": expected}


# -- what is not implemented ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"Type": "Map", "End": True}, "S: Type 'Map'"),
        ({"Type": "Pass", "End": True, "Assign": {}}, "S: Assign"),
        (task(End=True, HeartbeatSeconds=10), "S: HeartbeatSeconds"),
        (task(End=True, Resource="arn:aws:states:::dynamodb:getItem"), "S: Resource"),
        ({"Type": "Pass", "Parameters": {"x.$": "$.a[*]"}, "End": True}, "S: Parameters: x.$: path"),
        ({"Type": "Pass", "Parameters": {"x.$": "States.Hash($.a, 'MD5')"}, "End": True}, "States.Hash"),
        (task(End=True, Retry=[{"ErrorEquals": ["X"], "JitterStrategy": "PARTIAL"}]), "JitterStrategy"),
        ({"Type": "Choice", "Choices": [{"Variable": "$.a", "StringMatches": "x*", "Next": "S"}]}, "StringMatches"),
    ],
)
def test_unsupported_asl_is_refused_on_load(state: dict[str, Any], message: str) -> None:
    # GIVEN a definition using something the interpreter does not implement
    # WHEN it is compiled  THEN UnsupportedAsl names the state and the field
    with pytest.raises(UnsupportedAsl, match=message.replace("[", r"\[").replace("*", r"\*").replace("$", r"\$")):
        StateMachine(machine({"S": state}))


# -- the real runbook ---------------------------------------------------------------------------

RUNBOOK = json.loads(RUNBOOK_DEFINITION.read_text(encoding="utf-8"))
REQUEST = {
    "action": "failover",
    "target_region": "us-west-2",
    "reason": "primary region failing",
    "incident_id": "INC-42",
    "requested_by": "tests",
}
STEP_SECONDS = 10.0


def step_of(function_name: str) -> str:
    """``${wait_ready_function_arn}`` -> ``wait_ready`` (the raw ASL's placeholder)."""
    return function_name.removeprefix("${").removesuffix("_function_arn}")


class Handlers:
    """Scripted step handlers: each takes STEP_SECONDS; ``failures[step]`` is raised by every call."""

    def __init__(
        self, env: simpy.Environment, *, approval_required: bool = False, failures: dict[str, str] | None = None
    ) -> None:
        self.env = env
        self.approval_required = approval_required
        self.failures = failures or {}
        self.calls: list[tuple[float, str]] = []

    def __call__(self, function_name: str, payload: Any) -> Generator[simpy.Event, Any, Any]:
        step = step_of(function_name)
        self.calls.append((self.env.now, step))
        yield self.env.timeout(STEP_SECONDS)
        if step in self.failures:
            raise TaskFailure(self.failures[step], json.dumps({"errorType": self.failures[step]}))
        if step == "lock":
            return step_result(step, epoch=1)
        if step == "preflight":
            return step_result(step, approval_required=self.approval_required)
        return step_result(step)


class UpperBound(random.Random):
    """An rng whose FULL-jitter draw is always the top of the range: the longest schedule."""

    def uniform(self, a: float, b: float) -> float:
        return b


def run_runbook(
    handlers_for: Callable[[simpy.Environment], Handlers], *, rng: random.Random | None = None, publish: Any = None
) -> tuple[Execution, Handlers]:
    env = simpy.Environment()
    handlers = handlers_for(env)
    process = run(
        env,
        StateMachine(RUNBOOK),
        REQUEST,
        name="exec-1",
        execution_arn=ARN,
        invoke=handlers,
        publish=publish(env) if publish else None,
        rng=rng or random.Random(3),
    )
    env.run(until=process)
    return execution_of(process), handlers


def test_runbook_happy_path_succeeds_fencing_before_promoting() -> None:
    # GIVEN every step answers done after 10 s
    # WHEN the real runbook runs
    execution, _ = run_runbook(Handlers)

    # THEN it succeeds, checking the input is an object, then validating, first,
    # fencing before promoting, verifying after both
    states = execution.states
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert states[:3] == ["TakeInput", "IsInputAnObject", "Validate"]
    assert states.index("Fence") < states.index("Promote") < states.index("Verify")
    assert states[-1] == "RunbookSucceeded"
    assert execution.output["results"]["verify"]["status"] == "done"


def test_runbook_scale_up_runs_concurrently_with_fence() -> None:
    # GIVEN every step takes 10 s
    execution, _ = run_runbook(Handlers)

    # THEN scale-up and the other branch (traffic, then fence, then promotion) start at the same
    # simulated instant (the Parallel)
    branch = execution.visit("TakeOver").entered_at
    assert execution.visit("ScaleUp").entered_at == branch
    assert execution.visit("FlipTrafficFirst").entered_at == branch
    assert execution.visit("Fence").entered_at == execution.visit("FlipTrafficFirst").exited_at


def wait_ready_retrier() -> tuple[str, dict[str, Any]]:
    """The Task that invokes wait_ready and its retrier for RetryableStepError, read from the ASL."""
    for name, state in StateMachine(RUNBOOK).root.states.items():
        if step_of(state.raw.get("Parameters", {}).get("FunctionName", "")) == "wait_ready":
            retry = next(r for r in state.raw["Retry"] if "RetryableStepError" in r["ErrorEquals"])
            return name, retry
    raise AssertionError("no wait_ready task at the top level of the runbook")


def test_runbook_wait_ready_never_ready_retries_its_budget_then_takes_the_failure_path() -> None:
    # GIVEN wait_ready raises RetryableStepError every time, and jitter at its maximum
    state, retry = wait_ready_retrier()

    # WHEN the runbook runs
    execution, _ = run_runbook(
        lambda env: Handlers(env, failures={"wait_ready": "RetryableStepError"}), rng=UpperBound()
    )

    # THEN wait_ready is tried 1 + MaxAttempts times, the retry delays add up to the Retry block's
    # capped exponential schedule, and the run ends on the failure path with the lock kept
    starts = attempt_starts(execution, state)
    waits = [later - (earlier + STEP_SECONDS) for earlier, later in itertools.pairwise(starts)]
    allowed = [
        min(retry["IntervalSeconds"] * retry["BackoffRate"] ** n, retry["MaxDelaySeconds"])
        for n in range(retry["MaxAttempts"])
    ]
    assert waits == pytest.approx(allowed)
    assert (execution.status, execution.error) == ("FAILED", "Switchyard.FailedAfterChanges")
    assert "Verify" not in execution.states


def approver(answer: Any) -> Callable[[simpy.Environment], Callable[..., Generator[simpy.Event, Any, Any]]]:
    """A publish process: the operator answers 600 s after the request (``answer`` may be an error name)."""

    def bind(env: simpy.Environment) -> Callable[..., Generator[simpy.Event, Any, Any]]:
        def publish(parameters: dict[str, Any], token: str) -> Generator[simpy.Event, Any, Any]:
            assert parameters["Message"]["task_token"] == token
            yield env.timeout(600)
            if isinstance(answer, str):
                raise TaskFailure(answer, "rejected by oncall")
            return answer

        return publish

    return bind


APPROVAL = {
    "approved_by": "oncall",
    "approved_at": "2026-01-01T00:05:00Z",
    "note": "lag accepted",
    "accepted_lag_seconds": 12.5,
}


def test_runbook_waits_for_an_approval_and_carries_it_on() -> None:
    # GIVEN preflight asks for approval and the operator approves after 600 s
    # WHEN the runbook runs
    execution, _ = run_runbook(lambda env: Handlers(env, approval_required=True), publish=approver(APPROVAL))

    # THEN the approval request lasted 600 s and the approval is in the output
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.visit("RequestApproval").seconds == 600
    assert execution.output["approval"] == APPROVAL


def test_runbook_rejected_approval_changes_nothing_and_releases_the_lock() -> None:
    # GIVEN the operator rejects
    execution, handlers = run_runbook(
        lambda env: Handlers(env, approval_required=True), publish=approver("Switchyard.ApprovalRejected")
    )

    # THEN the run fails before changes, releases the lock, and never fenced
    assert (execution.status, execution.error) == ("FAILED", "Switchyard.FailedBeforeChanges")
    assert "ReleaseLockAfterFailure" in execution.states
    assert "fence" not in [step for _, step in handlers.calls]
