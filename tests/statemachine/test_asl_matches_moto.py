"""The simulated-clock interpreter (switchyard_sim.asl) against moto's Step Functions
interpreter on the real runbook ASL: the same scripted step handlers, the same path.

Each case scripts what every step handler answers (a StepResult payload or an errorType)
and runs the rendered runbook once under moto (its Lambda invoke patched to answer from
the script, as drill/stepfunctions.py patches it to run the real handlers) and once under
switchyard_sim.asl. Both must visit the same states, end with the same status, error and
cause, and produce the same output. States inside the Parallel interleave by thread timing
in moto, so they are compared as a multiset; the rest in order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
import simpy
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from drill.stepfunctions import MOTO_CONFIG, ExecutionReport, LocalRunbook, load_definition, local_runbook
from switchyard.config import EnvironmentConfig
from switchyard_sim.asl import Execution, StateMachine, TaskFailure, execution_of, run
from tests.fakes import step_result

REQUEST = {
    "action": "failover",
    "target_region": "",  # set to the runbook's region
    "reason": "primary region failing",
    "incident_id": "INC-42",
    "requested_by": "tests",
}


@dataclass
class Script:
    """What each step answers, call after call (the last answer repeats); a str is an errorType."""

    answers: dict[str, list[Any]] = field(default_factory=dict)

    def answer(self, step: str, call: int) -> Any:
        default = {
            "lock": step_result("lock", epoch=1),
            "preflight": step_result("preflight", approval_required=False),
        }.get(step, step_result(step))
        scripted = self.answers.get(step, [default])
        return scripted[min(call, len(scripted) - 1)]


CASES = {
    "happy-path": Script(),
    "input-rejected": Script({"validate": [step_result("validate", "needs_human")]}),
    "preflight-needs-human": Script({"preflight": [step_result("preflight", "needs_human", approval_required=False)]}),
    "fence-retried-then-done": Script({"fence": ["RetryableStepError", step_result("fence")]}),
}


class Calls:
    """Counts calls per step so each interpreter walks the same script."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.counts: dict[str, int] = {}

    def next(self, step: str) -> Any:
        call = self.counts.get(step, 0)
        self.counts[step] = call + 1
        return self.script.answer(step, call)


def step_of_function(function_name: str) -> str:
    """``${wait_ready_function_arn}`` (raw ASL) -> ``wait_ready``."""
    return function_name.removeprefix("${").removesuffix("_function_arn}")


def run_in_moto(runbook: LocalRunbook, script: Script, name: str) -> ExecutionReport:
    calls = Calls(script)

    def scripted_invoke(
        backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        step = backend.get_function(function_name, qualifier).handler.rpartition(".")[2]
        answer = calls.next(step)
        if isinstance(answer, str):
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = {"errorType": answer, "errorMessage": f"scripted {answer}", "stackTrace": []}
        return json.dumps(answer).encode("utf-8")

    with mock.patch.object(LambdaSimpleBackend, "invoke", scripted_invoke):
        return runbook.run(REQUEST | {"target_region": runbook.region}, name=name)


def run_simulated(region: str, script: Script, execution_arn: str, name: str) -> Execution:
    calls = Calls(script)
    env = simpy.Environment()

    def invoke(function_name: str, payload: Any) -> Generator[simpy.Event, Any, Any]:
        yield env.timeout(1)
        answer = calls.next(step_of_function(function_name))
        if isinstance(answer, str):
            raise TaskFailure(answer, json.dumps({"errorType": answer, "errorMessage": f"scripted {answer}"}))
        return answer

    process = run(
        env,
        StateMachine(load_definition()),
        REQUEST | {"target_region": region},
        name=name,
        execution_arn=execution_arn,
        invoke=invoke,
        rng=random.Random(1),
    )
    env.run(until=process)
    return execution_of(process)


def parallel_states() -> set[str]:
    definition = load_definition()
    return {
        name
        for state in definition["States"].values()
        for branch in state.get("Branches", [])
        for name in branch["States"]
    }


@pytest.fixture(scope="module")
def moto_runbook(dev_config_module: EnvironmentConfig) -> Iterator[LocalRunbook]:
    """The standby region's runbook deployed into moto once for every case; Retry intervals
    are recorded instead of slept (moto's retrier sleeps in real time)."""
    region = dev_config_module.regions.standby
    with (
        mock_aws(config=MOTO_CONFIG),
        local_runbook(dev_config_module, region, timeout_seconds=30) as runbook,
        mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=lambda _seconds: None)),
    ):
        runbook.deploy()
        yield runbook


@pytest.fixture(scope="module")
def dev_config_module() -> EnvironmentConfig:
    from switchyard.config import load_environment  # noqa: PLC0415 - as tests/conftest.py builds it

    return load_environment("dev")


@pytest.mark.parametrize("case", sorted(CASES))
def test_simulated_interpreter_takes_the_same_path_as_moto(moto_runbook: LocalRunbook, case: str) -> None:
    # GIVEN the same scripted handlers under moto's interpreter and under switchyard_sim.asl
    script = CASES[case]
    name = f"compare-{case}"

    # WHEN the real runbook runs in both
    moto_report = run_in_moto(moto_runbook, script, name)
    simulated = run_simulated(moto_runbook.region, script, moto_report.arn, name)

    # THEN they visit the same states, end the same way and produce the same output
    inside = parallel_states()
    assert [s for s in simulated.states if s not in inside] == [s for s in moto_report.states if s not in inside]
    assert sorted(simulated.states) == sorted(moto_report.states)
    assert (simulated.status, simulated.error, simulated.cause) == (
        moto_report.status,
        moto_report.error,
        moto_report.cause,
    )
    assert simulated.output == moto_report.output
