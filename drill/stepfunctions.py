"""Run the real runbook state machine locally: moto's Step Functions interpreter executing
``stacks/controller/runbook.asl.json``, with every Lambda task running the REAL step handler in-process.

Why and how (moto 5.2.5, measured):

* ``mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda":
  {"use_docker": False}})`` makes moto interpret the ASL (its port of LocalStack's
  interpreter). A ``lambda:invoke`` task calls moto's Lambda API, which with
  ``use_docker=False`` is ``moto.awslambda_simple.models.LambdaSimpleBackend.invoke``:
  it echoes the payload and never runs code. That method is the seam. While a
  :func:`local_runbook` session is open, it is patched to import the function's
  ``Handler`` (``switchyard.handlers.runbook.<step>``), call it with the decoded payload
  and a Lambda-like context, and return its JSON. An exception becomes what the Lambda
  Python runtime returns (``x-amz-function-error: Unhandled`` and ``{"errorType":
  <class name>, "errorMessage": ...}``), so the state machine's Retry/Catch on error
  names such as ``RetryableStepError`` behave as in AWS.
* The patch is on the class, so it also serves a ``ThreadedMotoServer`` in this process
  (pass ``endpoint_url``; ``MOTO_PORT`` must name its port, which moto's interpreter uses
  to call itself). It cannot reach a moto server in another process.
* Handlers read ``SWITCHYARD_CONFIG`` and ``AWS_REGION`` from the process environment, as
  in Lambda. All functions of one session share one environment and one region, so the
  session sets those variables once (plus ``MOTO_ACCOUNT_ID`` = the configured account,
  so the ARNs computed by ``switchyard.contract`` match moto's account) and restores them
  on exit. Provision resources inside the session so they land in that account.
* ``.waitForTaskToken`` and ``SendTaskSuccess``/``SendTaskFailure`` are supported by
  moto's interpreter (its callback pool), but moto 5.2.5's ``SendTaskFailure`` handler
  drops the ``cause`` (stepfunctions/responses.py passes only ``error``); the session
  patches that one method to pass ``cause`` through as AWS does. The SNS approval request is published to the
  region's notification topic; moto does not store topic messages, so the session
  subscribes an SQS queue to the topic (raw delivery), exactly as a chat or paging
  integration would, and :meth:`LocalRunbook.next_approval_request` reads it.

* moto's interpreter sleeps out a Wait state in real time (``WaitFunction._wait_interval``
  waits on an event for the state's seconds). The runbook loops through Wait states
  (its poll loops, ``switchyard.contract.READINESS_POLL_SECONDS`` each), so a session given
  ``advance_clock`` replaces that wait: each Wait advances the caller's clock by its
  seconds, returns at once, and is recorded in :attr:`LocalRunbook.waits`. moto's Retry
  intervals still sleep in real time (its retrier's ``time.sleep``).

What this is not: no IAM evaluation, no Lambda timeouts or concurrency, no real latency;
the timings in the history are wall-clock times of in-process handlers against moto.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from moto.core.config import DefaultConfig

from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from switchyard.config import EnvironmentConfig
from switchyard.contract import STEP_NAMES, Names, lambda_environment
from switchyard.retry import ApiCallLog
from switchyard_cli.executions import StateVisit, execution_history, state_visits

ASL_PATH = RUNBOOK_DEFINITION  # the file the stacks deploy
MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
RUNBOOK_HANDLER_MODULE = "switchyard.handlers.runbook"
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
_UNSUBSTITUTED = re.compile(r"\$\{[a-z_]+\}")


class HarnessError(RuntimeError):
    """The local harness could not do what was asked (e.g. an execution did not finish in time)."""


LAMBDA_UNKNOWN = "Lambda.Unknown"  # how Step Functions names an invocation the runtime killed


class FunctionDied(BaseException):
    """Raise it inside a handler (e.g. from a botocore hook) to stand for the Lambda runtime
    killing the invocation: a function timeout or running out of memory. It is a
    BaseException so no ``except Exception`` in the controller runs, as none would in
    Lambda. Step Functions reports such an invocation as ``Lambda.Unknown``; the harness
    answers with that errorType, which moto's interpreter uses as the error name."""


def substitutions(config: EnvironmentConfig, region: str, function_arns: Mapping[str, str]) -> dict[str, str]:
    """The ASL substitution values for ``region`` (keys as in docs/architecture.md)."""
    missing = [step for step in STEP_NAMES if step not in function_arns]
    if missing:
        raise ValueError(f"no function ARN for runbook steps {missing}")
    names = Names(config)
    values = {f"{step}_function_arn": function_arns[step] for step in STEP_NAMES}
    values["notification_topic_arn"] = names.topic_arn(region)
    values["state_table_name"] = names.state_table
    return values


def load_definition(asl_path: Path = ASL_PATH) -> dict[str, Any]:
    """The runbook ASL as a mapping (substitution placeholders left in)."""
    definition: dict[str, Any] = json.loads(asl_path.read_text(encoding="utf-8"))
    return definition


def all_states(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state by name, the states of Parallel branches included."""
    states: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        states[name] = state
        for branch in state.get("Branches", []):
            states.update(all_states(branch))
    return states


def render_definition(values: Mapping[str, str], asl_path: Path = ASL_PATH) -> str:
    """The ASL with ``${key}`` replaced as CDK's definition_substitutions would; every key must be used."""
    text = asl_path.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    left = sorted(set(_UNSUBSTITUTED.findall(text)))
    if left:
        raise ValueError(f"{asl_path.name}: no value for substitutions {left}")
    json.loads(text)
    return text


@dataclass(frozen=True)
class ExecutionReport:
    """How an execution ended and the states it went through, in order of entry."""

    arn: str
    name: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    visits: tuple[StateVisit, ...]

    @property
    def states(self) -> list[str]:
        return [visit.name for visit in self.visits]

    def visit(self, state: str) -> StateVisit:
        for candidate in self.visits:
            if candidate.name == state:
                return candidate
        raise KeyError(f"state {state!r} was not entered (entered: {self.states})")


@dataclass(frozen=True)
class ApprovalRequest:
    """An approval request as the state machine published it to the notification topic."""

    task_token: str
    execution: str
    message: dict[str, Any]


@dataclass(frozen=True)
class Invocation:
    """One in-process run of a step handler, as moto's Lambda invoke delivered it."""

    function_name: str
    handler: str
    started_at: float
    finished_at: float
    error_type: str | None


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _import_handler(path: str) -> Callable[[Any, Any], Any]:
    module_name, _, attribute = path.rpartition(".")
    if not module_name:
        raise HarnessError(f"handler {path!r} is not a 'module.function' path")
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
    return handler


def _run_handler_in_process(invocations: list[Invocation], call_log: ApiCallLog | None) -> Callable[..., bytes]:
    """A replacement for ``LambdaSimpleBackend.invoke`` that runs the function's real handler
    (its AWS calls attributed to the step in ``call_log``, as the controller's runner does)."""

    def invoke(  # noqa: PLR0917 - moto's positional signature
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,  # noqa: ARG001 - part of the patched signature
        response_headers: dict[str, str],
    ) -> bytes:
        function = backend.get_function(function_name, qualifier)
        event = json.loads(body) if body else {}
        context = LambdaContext(function.function_name, function.function_arn)
        started = time.monotonic()
        error_type: str | None = None
        step = function.handler.rpartition(".")[2]
        try:
            with call_log.step(step) if call_log else nullcontext():
                payload = json.dumps(_import_handler(function.handler)(event, context))
        except Exception as exc:  # noqa: BLE001 - the Lambda runtime turns any exception into an error payload
            error_type = type(exc).__name__
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps({"errorType": error_type, "errorMessage": str(exc), "stackTrace": []})
        except FunctionDied as died:
            error_type = LAMBDA_UNKNOWN
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps({"errorType": error_type, "errorMessage": f"Task timed out: {died}"})
        invocations.append(Invocation(function.function_name, function.handler, started, time.monotonic(), error_type))
        return payload.encode("utf-8")

    return invoke


@contextmanager
def scoped_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block and restore the previous values after it."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _send_task_failure_with_cause(response: Any) -> Any:
    """moto's SendTaskFailure, passing ``cause`` on to the interpreter as AWS does."""
    from moto.core.responses import EmptyResult  # noqa: PLC0415 - moto only in the harness

    response.stepfunction_backend.send_task_failure(
        response._get_param("taskToken"), error=response._get_param("error"), cause=response._get_param("cause")
    )
    return EmptyResult()


def _configure_moto_server(endpoint_url: str) -> None:
    """A ThreadedMotoServer takes the interpreter/Lambda settings over its moto-api endpoint."""
    request = urllib.request.Request(  # noqa: S310 - the local moto server the caller named
        f"{endpoint_url.rstrip('/')}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310
        pass


class LocalRunbook:
    """One region's runbook deployed into moto: step functions, topic, state machine."""

    def __init__(
        self,
        config: EnvironmentConfig,
        region: str,
        *,
        endpoint_url: str | None = None,
        timeout_seconds: float = 60.0,
        poll_seconds: float = 0.05,
        invocations: list[Invocation] | None = None,
    ) -> None:
        config.regions.other(region)  # a region outside the pair is a caller bug
        self.config = config
        self.region = region
        self.names = Names(config)
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self.invocations: list[Invocation] = invocations if invocations is not None else []
        self._endpoint_url = endpoint_url
        self.waits: list[float] = []  # every Wait state's seconds, in order (sessions with advance_clock)
        self.state_machine_arn = ""
        self._approval_queue_url = ""

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region, endpoint_url=self._endpoint_url)

    # -- deployment ---------------------------------------------------------------------
    def deploy(self) -> str:
        """Create (or update) the step functions, the topic and its approval queue, and the state machine."""
        role_arn = self._ensure_role()
        function_arns = {step: self._ensure_function(step, role_arn) for step in STEP_NAMES}
        topic_arn = self.client("sns").create_topic(Name=self.names.topic(self.region))["TopicArn"]
        self._approval_queue_url = self._subscribe_approval_queue(topic_arn)
        definition = render_definition(substitutions(self.config, self.region, function_arns))
        sfn = self.client("stepfunctions")
        name = self.names.state_machine(self.region)
        existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
        if name in existing:
            sfn.update_state_machine(stateMachineArn=existing[name], definition=definition, roleArn=role_arn)
            self.state_machine_arn = existing[name]
        else:
            created = sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn)
            self.state_machine_arn = created["stateMachineArn"]
        return self.state_machine_arn

    def _ensure_role(self) -> str:
        iam = self.client("iam")
        name = f"{self.names.prefix}-{self.region}-local-runbook"
        try:
            return str(iam.get_role(RoleName=name)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
            return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])

    def _ensure_function(self, step: str, role_arn: str) -> str:
        lambda_client = self.client("lambda")
        name = self.names.function(self.region, step)
        try:
            return str(lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
        except lambda_client.exceptions.ResourceNotFoundException:
            created = lambda_client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role_arn,
                Handler=f"{RUNBOOK_HANDLER_MODULE}.{step}",
                Code={"ZipFile": _placeholder_zip()},
                Timeout=900,
                Environment={"Variables": self.function_environment()},
            )
            return str(created["FunctionArn"])

    def function_environment(self) -> dict[str, str]:
        """What every Switchyard Lambda gets (docs/architecture.md)."""
        return lambda_environment(self.config)

    def _subscribe_approval_queue(self, topic_arn: str) -> str:
        sqs = self.client("sqs")
        queue_url = sqs.create_queue(QueueName=f"{self.names.prefix}-{self.region}-local-approvals")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.client("sns").subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        return str(queue_url)

    # -- executions ---------------------------------------------------------------------
    def start(self, runbook_input: Mapping[str, Any] | str, *, name: str) -> str:
        """Start an execution; ``runbook_input`` is the raw input (a string is sent as is)."""
        body = runbook_input if isinstance(runbook_input, str) else json.dumps(runbook_input)
        started = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=body
        )
        return str(started["executionArn"])

    def run(self, runbook_input: Mapping[str, Any] | str, *, name: str) -> ExecutionReport:
        """Start an execution and wait for it to end."""
        return self.wait(self.start(runbook_input, name=name))

    def wait(self, execution_arn: str) -> ExecutionReport:
        """Poll until the execution ends; HarnessError after ``timeout_seconds``."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] in TERMINAL_STATUSES:
                return self.report(execution_arn, described)
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"execution {described['name']} still {described['status']} after {self.timeout_seconds}s"
                )
            time.sleep(self.poll_seconds)

    def report(self, execution_arn: str, described: Mapping[str, Any] | None = None) -> ExecutionReport:
        """The execution's status, output and per-state history (usable while it runs)."""
        sfn = self.client("stepfunctions")
        described = described or sfn.describe_execution(executionArn=execution_arn)
        output = described.get("output")
        return ExecutionReport(
            arn=execution_arn,
            name=described["name"],
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            visits=tuple(state_visits(execution_history(sfn, execution_arn))),
        )

    # -- approvals ----------------------------------------------------------------------
    def next_approval_request(self, timeout_seconds: float | None = None) -> ApprovalRequest:
        """The next approval request published to the topic; HarnessError when none arrives in time."""
        sqs = self.client("sqs")
        deadline = time.monotonic() + (self.timeout_seconds if timeout_seconds is None else timeout_seconds)
        while time.monotonic() < deadline:
            received = sqs.receive_message(QueueUrl=self._approval_queue_url, MaxNumberOfMessages=1)
            for message in received.get("Messages", []):
                sqs.delete_message(QueueUrl=self._approval_queue_url, ReceiptHandle=message["ReceiptHandle"])
                body = json.loads(message["Body"])
                if body.get("kind") == "approval_request":
                    return ApprovalRequest(body["task_token"], body["execution"], body)
            time.sleep(self.poll_seconds)
        raise HarnessError(f"no approval request on {self.names.topic(self.region)} within the timeout")


def _placeholder_zip() -> bytes:
    """moto needs a code package; the code that runs is the in-process handler."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Switchyard local harness: the handler runs in-process.\n")
    return buffer.getvalue()


def _wait_on_the_clock(advance: Callable[[float], None], waits: list[float]) -> Callable[..., None]:
    """A replacement for moto's ``WaitFunction._wait_interval``: the Wait state's seconds
    elapse on the caller's clock (``advance``) instead of the wall clock, and are recorded."""

    def wait_interval(_: Any, env: Any, wait_seconds: float) -> None:  # noqa: ARG001 - moto's signature
        waits.append(float(wait_seconds))
        advance(float(wait_seconds))

    return wait_interval


@contextmanager
def waits_on_the_clock(advance: Callable[[float], None], waits: list[float]) -> Iterator[list[float]]:
    """While open, every Wait state moto's interpreter runs (in this process) advances
    ``advance``'s clock by its seconds and returns at once, appended to ``waits``."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (  # noqa: PLC0415
        WaitFunction,
    )

    with mock.patch.object(WaitFunction, "_wait_interval", _wait_on_the_clock(advance, waits)):
        yield waits


@contextmanager
def local_runbook(
    config: EnvironmentConfig,
    region: str,
    *,
    endpoint_url: str | None = None,
    timeout_seconds: float = 60.0,
    call_log: ApiCallLog | None = None,
    advance_clock: Callable[[float], None] | None = None,
) -> Iterator[LocalRunbook]:
    """A session in which moto's Lambda invoke runs the real step handlers; yields an undeployed runbook.

    Open it inside ``mock_aws(config=MOTO_CONFIG)`` (or with a ThreadedMotoServer's
    ``endpoint_url``), provision, then call :meth:`LocalRunbook.deploy`. Handlers build
    their own deps from the environment unless the caller overrides them
    (``switchyard.handlers.environment.override_deps``), e.g. to record calls in an
    ApiCallLog or use the modelled database promotions. With ``advance_clock``, Wait
    states advance that clock instead of sleeping (:func:`waits_on_the_clock`; the patch
    is on moto's class, so it covers every runbook of the process while the session is open).
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend  # noqa: PLC0415 - moto only in the harness
    from moto.stepfunctions.responses import StepFunctionResponse  # noqa: PLC0415

    env = {
        "MOTO_ACCOUNT_ID": config.account,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **lambda_environment(config),
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
        _configure_moto_server(endpoint_url)
    runbook = LocalRunbook(config, region, endpoint_url=endpoint_url, timeout_seconds=timeout_seconds)
    with (
        scoped_environment(env),
        mock.patch.object(LambdaSimpleBackend, "invoke", _run_handler_in_process(runbook.invocations, call_log)),
        mock.patch.object(StepFunctionResponse, "send_task_failure", _send_task_failure_with_cause),
        waits_on_the_clock(advance_clock, runbook.waits) if advance_clock else nullcontext(),
    ):
        yield runbook
