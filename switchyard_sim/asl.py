"""An exact interpreter of the Amazon States Language subset the runbook uses, on a SimPy clock.

Why: moto's interpreter runs in real time in threads (Retry intervals are ``time.sleep``),
so the runbook cannot run in production time there. Here every Wait and Retry interval
elapses on ``env`` and every task lasts as long as the caller's ``invoke``/``publish``
process takes; the interpreter itself takes zero simulated time per transition. Given the
same ``rng`` (used for FULL jitter only) a run is deterministic.

What it implements is checked when a :class:`StateMachine` is built: any other state
type, field, resource, path or intrinsic raises :class:`UnsupportedAsl`, so a change to the
ASL cannot be silently mis-simulated. Behaviour follows the AWS Step Functions developer
guide; where it is modelled rather than known, the comment says so.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import simpy

from switchyard_sim.jsonpath import (
    RUNTIME,
    Call,
    Path,
    StatesError,
    Template,
    UnsupportedAsl,
    compile_expression,
    compile_path,
    compile_template,
    evaluate,
)

__all__ = [
    "Attempt",
    "Execution",
    "StateMachine",
    "StatesError",
    "TaskFailure",
    "UnsupportedAsl",
    "Visit",
    "execution_of",
    "run",
]

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
SNS_PUBLISH_WAIT = "arn:aws:states:::sns:publish.waitForTaskToken"
TIMEOUT = "States.Timeout"
ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
NO_CHOICE = "States.NoChoiceMatched"
DEFAULT_ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)  # simulated t=0 as a timestamp (context object, Wait)

Invoke = Callable[[str, Any], Generator[simpy.Event, Any, Any]]
Publish = Callable[[dict[str, Any], str], Generator[simpy.Event, Any, Any]]


class TaskFailure(StatesError):  # noqa: N818 - the name callers raise
    """Raised by ``invoke``/``publish``: the task failed with ``error`` (a Lambda errorType such as
    ``RetryableStepError`` or ``Lambda.Unknown``, or an SNS/callback error) and ``cause``."""


@dataclass
class Attempt:
    """One try of a Task (or Parallel), in simulated seconds; ``error`` None when it succeeded."""

    started_at: float
    ended_at: float | None = None
    error: str | None = None


@dataclass
class Visit:
    """One state's time in an execution; ``exited_at`` stays None for a state that was stopped."""

    name: str
    type: str
    entered_at: float
    exited_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        return None if self.exited_at is None else self.exited_at - self.entered_at


@dataclass
class Execution:
    """How an execution ended: status SUCCEEDED, FAILED or TIMED_OUT, and every state visited."""

    name: str
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    visits: list[Visit]
    started_at: float
    stopped_at: float

    @property
    def states(self) -> list[str]:
        return [visit.name for visit in self.visits]

    def visit(self, state: str) -> Visit:
        """The first visit of ``state``."""
        for candidate in self.visits:
            if candidate.name == state:
                return candidate
        raise KeyError(f"state {state!r} was not entered (entered: {self.states})")


# -- the definition, compiled --------------------------------------------------------------

_COMMON = {"Type", "Comment"}
_FIELDS: dict[str, set[str]] = {
    "Task": _COMMON
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "InputPath", "OutputPath"}
    | {"TimeoutSeconds", "Retry", "Catch", "Next", "End"},
    "Parallel": _COMMON
    | {"Branches", "Parameters", "ResultSelector", "ResultPath", "InputPath", "OutputPath"}
    | {"Retry", "Catch", "Next", "End"},
    "Pass": _COMMON | {"Result", "Parameters", "ResultPath", "InputPath", "OutputPath", "Next", "End"},
    "Choice": _COMMON | {"Choices", "Default", "InputPath", "OutputPath"},
    "Wait": _COMMON
    | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "InputPath", "OutputPath"}
    | {"Next", "End"},
    "Succeed": _COMMON | {"InputPath", "OutputPath"},
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
}
_TASK_PARAMETERS = {LAMBDA_INVOKE: {"FunctionName", "Payload"}, SNS_PUBLISH_WAIT: {"TopicArn", "Message", "Subject"}}
_RETRY_FIELDS = {"ErrorEquals", "IntervalSeconds", "BackoffRate", "MaxAttempts", "MaxDelaySeconds", "JitterStrategy"}
_CATCH_FIELDS = {"ErrorEquals", "Next", "ResultPath"}
_MACHINE_FIELDS = {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
_BRANCH_FIELDS = {"Comment", "StartAt", "States"}

_STRING_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": lambda a, b: a == b,
    "StringLessThan": lambda a, b: a < b,
    "StringGreaterThan": lambda a, b: a > b,
    "StringLessThanEquals": lambda a, b: a <= b,
    "StringGreaterThanEquals": lambda a, b: a >= b,
}
_NUMERIC_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "NumericEquals": lambda a, b: a == b,
    "NumericLessThan": lambda a, b: a < b,
    "NumericGreaterThan": lambda a, b: a > b,
    "NumericLessThanEquals": lambda a, b: a <= b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}
_TIMESTAMP_OPS: dict[str, Callable[[Any, Any], bool]] = {
    name.replace("Numeric", "Timestamp"): op for name, op in _NUMERIC_OPS.items()
}
_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsString": lambda v: isinstance(v, str),
    "IsNumeric": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: _timestamp(v) is not None,
}


def _timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as Step Functions accepts it (a 'T' and a zone), else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _comparable(op: str, value: Any) -> Any:
    """The value an operator compares, or None when its type does not fit (the rule is then false)."""
    if op in _STRING_OPS:
        return value if isinstance(value, str) else None
    if op in _NUMERIC_OPS:
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if op in _TIMESTAMP_OPS:
        return _timestamp(value)
    return value if isinstance(value, bool) else None  # BooleanEquals


_COMPARISONS = {**_STRING_OPS, **_NUMERIC_OPS, **_TIMESTAMP_OPS, "BooleanEquals": lambda a, b: a == b}


@dataclass(frozen=True)
class Rule:
    """A compiled Choice rule: And/Or/Not of data tests ``Variable <op> value``."""

    op: str  # And, Or, Not, IsPresent, a type test or a comparison
    variable: Path | None = None
    value: Any = None  # the literal, or the Path of a ``...Path`` comparison
    children: tuple[Rule, ...] = ()
    next: str | None = None

    def matches(self, data: Any, context: Any) -> bool:  # noqa: PLR0911 - one return per operator kind
        if self.op == "And":
            return all(child.matches(data, context) for child in self.children)
        if self.op == "Or":
            return any(child.matches(data, context) for child in self.children)
        if self.op == "Not":
            return not self.children[0].matches(data, context)
        assert self.variable is not None
        if self.op == "IsPresent":
            return self.variable.exists(data, context) is self.value
        # AWS fails the Choice with States.Runtime ("The choice state's condition path
        # references an invalid value") when Variable is missing, for every operator but
        # IsPresent; moto 5 evaluates such a rule to false instead.
        variable = self.variable.get(data, context)
        if self.op in _TYPE_TESTS:
            return _TYPE_TESTS[self.op](variable) is self.value
        base = self.op.removesuffix("Path")
        expected = self.value.get(data, context) if isinstance(self.value, Path) else self.value
        left, right = _comparable(base, variable), _comparable(base, expected)
        if left is None or right is None:
            return False
        return _COMPARISONS[base](left, right)


def _compile_rule(rule: Mapping[str, Any], where: str, *, top: bool) -> Rule:
    keys = set(rule) - {"Next", "Comment"}
    nxt = rule.get("Next")
    if top and not isinstance(nxt, str):
        raise UnsupportedAsl(f"{where}: Choices without Next")
    if not top and "Next" in rule:
        raise UnsupportedAsl(f"{where}: Next in a nested rule")
    for combinator in ("And", "Or"):
        if keys == {combinator}:
            children = tuple(_compile_rule(child, where, top=False) for child in rule[combinator])
            return Rule(combinator, children=children, next=nxt)
    if keys == {"Not"}:
        return Rule("Not", children=(_compile_rule(rule["Not"], where, top=False),), next=nxt)
    ops = keys - {"Variable"}
    if "Variable" not in keys or len(ops) != 1:
        raise UnsupportedAsl(f"{where}: choice rule {sorted(keys)}")
    (op,) = ops
    variable = compile_path(rule["Variable"], where=where)
    value = rule[op]
    if op == "IsPresent" or op in _TYPE_TESTS:
        if not isinstance(value, bool):
            raise UnsupportedAsl(f"{where}: {op}")
        return Rule(op, variable, value, next=nxt)
    base = op.removesuffix("Path")
    if base not in _COMPARISONS:
        raise UnsupportedAsl(f"{where}: {op}")
    if op.endswith("Path"):
        return Rule(op, variable, compile_path(value, where=where), next=nxt)
    if base in _TIMESTAMP_OPS and _timestamp(value) is None:
        raise UnsupportedAsl(f"{where}: {op} {value!r}")
    return Rule(op, variable, value, next=nxt)


@dataclass(frozen=True)
class Retrier:
    errors: tuple[str, ...]
    interval: float
    backoff: float
    max_attempts: int
    max_delay: float | None
    full_jitter: bool

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry ``retry_number`` (1-based).

        AWS Step Functions developer guide, "Handling errors in Step Functions workflows",
        Retry fields (and aws_cdk.aws_stepfunctions.JitterType): the interval before the
        n-th retry is ``IntervalSeconds * BackoffRate ** (n - 1)``, capped at
        ``MaxDelaySeconds`` when set; JitterStrategy FULL draws the delay uniformly
        in ``[0, that capped interval]``, NONE (the default) uses it as is.
        """
        computed = self.interval * self.backoff ** (retry_number - 1)
        if self.max_delay is not None:
            computed = min(computed, self.max_delay)
        return rng.uniform(0.0, computed) if self.full_jitter else computed


@dataclass(frozen=True)
class Catcher:
    errors: tuple[str, ...]
    next: str
    result_path: Path | None


def _matches(errors: tuple[str, ...], error: str) -> bool:
    """ErrorEquals semantics: States.ALL matches any error, States.TaskFailed any error but
    States.Timeout; neither matches States.Runtime, which no Retry or Catch handles."""
    if error == RUNTIME:
        return False
    return error in errors or ALL in errors or (TASK_FAILED in errors and error != TIMEOUT)


_UNSET: Any = object()


@dataclass
class State:
    """One compiled state."""

    name: str
    type: str
    raw: Mapping[str, Any]
    next: str | None = None
    input_path: Path | Any | None = _UNSET
    output_path: Path | Any | None = _UNSET
    result_path: Path | Any | None = _UNSET
    parameters: Any = _UNSET
    result_selector: Any = _UNSET
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()
    rules: tuple[Rule, ...] = ()
    branches: tuple[Branch, ...] = ()
    error: str | Path | Call | None = None
    cause: str | Path | Call | None = None
    wait: Path | float | datetime | None = None


@dataclass
class Branch:
    """A state graph: the machine itself or one Parallel branch."""

    start_at: str
    states: dict[str, State]


def _optional_path(state: Mapping[str, Any], key: str, where: str, *, result_path: bool = False) -> Any:
    if key not in state:
        return _UNSET
    if state[key] is None:
        return None
    return compile_path(state[key], where=f"{where}: {key}", result_path=result_path)


def _compile_state(name: str, raw: Mapping[str, Any], where: str) -> State:  # noqa: PLR0912, PLR0915 - one block per state type
    kind = raw.get("Type")
    if kind not in _FIELDS:
        raise UnsupportedAsl(f"{where}: Type {kind!r}")
    for key in raw:
        if key not in _FIELDS[kind]:
            raise UnsupportedAsl(f"{where}: {key}")
    state = State(name, kind, raw)
    if kind not in {"Choice", "Succeed", "Fail"}:
        if raw.get("End") is True:
            if "Next" in raw:
                raise UnsupportedAsl(f"{where}: Next and End")
        elif isinstance(raw.get("Next"), str):
            state.next = raw["Next"]
        else:
            raise UnsupportedAsl(f"{where}: Next")
    state.input_path = _optional_path(raw, "InputPath", where)
    state.output_path = _optional_path(raw, "OutputPath", where)
    state.result_path = _optional_path(raw, "ResultPath", where, result_path=True)
    if "Parameters" in raw:
        state.parameters = compile_template(raw["Parameters"], where=f"{where}: Parameters")
    if "ResultSelector" in raw:
        state.result_selector = compile_template(raw["ResultSelector"], where=f"{where}: ResultSelector")
    if kind == "Task":
        resource = raw.get("Resource")
        if resource not in _TASK_PARAMETERS:
            raise UnsupportedAsl(f"{where}: Resource {resource!r}")
        parameters = raw.get("Parameters", {})
        for key in parameters:
            if key.removesuffix(".$") not in _TASK_PARAMETERS[resource]:
                raise UnsupportedAsl(f"{where}: Parameters.{key}")
        timeout = raw.get("TimeoutSeconds", 99999999)
        if not isinstance(timeout, int) or timeout <= 0:
            raise UnsupportedAsl(f"{where}: TimeoutSeconds")
    if kind in {"Task", "Parallel"}:
        state.retriers = tuple(_compile_retrier(r, f"{where}: Retry") for r in raw.get("Retry", []))
        state.catchers = tuple(_compile_catcher(c, f"{where}: Catch") for c in raw.get("Catch", []))
    if kind == "Parallel":
        state.branches = tuple(
            _compile_branch(branch, f"{where}: Branches[{index}]", _BRANCH_FIELDS)
            for index, branch in enumerate(raw.get("Branches", []))
        )
        if not state.branches:
            raise UnsupportedAsl(f"{where}: Branches")
    if kind == "Choice":
        choices = raw.get("Choices")
        if not isinstance(choices, list) or not choices:
            raise UnsupportedAsl(f"{where}: Choices")
        state.rules = tuple(_compile_rule(rule, f"{where}: Choices", top=True) for rule in choices)
    if kind == "Wait":
        given = [key for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if key in raw]
        if len(given) != 1:
            raise UnsupportedAsl(f"{where}: exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
        (key,) = given
        if key.endswith("Path"):
            state.wait = compile_path(raw[key], where=f"{where}: {key}")
        elif key == "Seconds":
            if not isinstance(raw[key], int) or raw[key] < 0:
                raise UnsupportedAsl(f"{where}: Seconds")
            state.wait = float(raw[key])
        else:
            stamp = _timestamp(raw[key])
            if stamp is None:
                raise UnsupportedAsl(f"{where}: Timestamp")
            state.wait = stamp
    if kind == "Fail":
        for literal, path, attribute in (("Error", "ErrorPath", "error"), ("Cause", "CausePath", "cause")):
            if literal in raw and path in raw:
                raise UnsupportedAsl(f"{where}: {literal} and {path}")
            if path in raw:
                setattr(state, attribute, compile_expression(raw[path], where=f"{where}: {path}"))
            elif literal in raw:
                setattr(state, attribute, str(raw[literal]))
    return state


def _compile_retrier(raw: Mapping[str, Any], where: str) -> Retrier:
    for key in raw:
        if key not in _RETRY_FIELDS:
            raise UnsupportedAsl(f"{where}: {key}")
    jitter = raw.get("JitterStrategy", "NONE")
    if jitter not in {"FULL", "NONE"}:
        raise UnsupportedAsl(f"{where}: JitterStrategy {jitter!r}")
    return Retrier(
        errors=tuple(raw["ErrorEquals"]),
        interval=float(raw.get("IntervalSeconds", 1)),
        backoff=float(raw.get("BackoffRate", 2.0)),
        max_attempts=int(raw.get("MaxAttempts", 3)),
        max_delay=float(raw["MaxDelaySeconds"]) if "MaxDelaySeconds" in raw else None,
        full_jitter=jitter == "FULL",
    )


def _compile_catcher(raw: Mapping[str, Any], where: str) -> Catcher:
    for key in raw:
        if key not in _CATCH_FIELDS:
            raise UnsupportedAsl(f"{where}: {key}")
    result_path = raw.get("ResultPath", "$")
    return Catcher(
        errors=tuple(raw["ErrorEquals"]),
        next=raw["Next"],
        result_path=None if result_path is None else compile_path(result_path, where=where, result_path=True),
    )


def _compile_branch(raw: Mapping[str, Any], where: str, allowed: set[str]) -> Branch:
    for key in raw:
        if key not in allowed:
            raise UnsupportedAsl(f"{where}: {key}")
    states = {name: _compile_state(name, state, name) for name, state in raw["States"].items()}
    targets = [raw["StartAt"]]
    for state in states.values():
        targets += [state.next] if state.next else []
        targets += [catcher.next for catcher in state.catchers]
        targets += [rule.next for rule in state.rules if rule.next]
        targets += [state.raw["Default"]] if "Default" in state.raw else []
    for target in targets:
        if target not in states:
            raise UnsupportedAsl(f"{where}: no state {target!r}")
    return Branch(raw["StartAt"], states)


class StateMachine:
    """A definition compiled and checked: UnsupportedAsl("<state>: <field>") for anything not implemented."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition = definition
        self.root = _compile_branch(definition, "(machine)", _MACHINE_FIELDS)
        if definition.get("QueryLanguage", "JSONPath") != "JSONPath":
            raise UnsupportedAsl("(machine): QueryLanguage")
        self.timeout_seconds: int | None = definition.get("TimeoutSeconds")


# -- running it ------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Stopped(Exception):  # noqa: N818 - a marker, not an error
    """A branch that was interrupted (a sibling failed, or the execution timed out)."""


def _outcome(process: simpy.Process) -> tuple[Any, Any]:
    """The (error, output) pair a guarded process ended with."""
    return cast("tuple[Any, Any]", process.value)


class _Run:
    """One execution's interpreter state."""

    def __init__(  # noqa: PLR0917
        self,
        env: simpy.Environment,
        machine: StateMachine,
        name: str,
        arn: str,
        invoke: Invoke,
        publish: Publish | None,
        rng: random.Random,
        origin: datetime,
    ) -> None:
        self.env = env
        self.machine = machine
        self.name = name
        self.arn = arn
        self.invoke = invoke
        self.publish = publish
        self.rng = rng
        self.origin = origin
        self.visits: list[Visit] = []
        self.started_at = env.now
        self.tokens = 0
        self.input: Any = None  # the execution input, as the context object's Execution.Input

    def now_iso(self) -> str:
        return _iso(self.origin + timedelta(seconds=self.env.now))

    def context(self, state: str, entered: str, retry_count: int, token: str | None = None) -> dict[str, Any]:
        context: dict[str, Any] = {
            "Execution": {
                "Id": self.arn,
                "Name": self.name,
                "StartTime": _iso(self.origin + timedelta(seconds=self.started_at)),
                "Input": copy.deepcopy(self.input),
            },
            "StateMachine": {"Id": self.arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]},
            "State": {"Name": state, "EnteredTime": entered, "RetryCount": retry_count},
        }
        if token is not None:
            context["Task"] = {"Token": token}
        return context

    # -- whole executions ----------------------------------------------------------------
    def execute(self, execution_input: Any) -> Generator[simpy.Event, Any, Execution]:
        self.input = copy.deepcopy(execution_input)
        body = self.env.process(self.guard(self.run_branch(self.machine.root, execution_input)))
        timeout = self.machine.timeout_seconds
        if timeout is None:
            yield body
        else:
            yield body | self.env.timeout(timeout)
        if not body.triggered:
            body.interrupt("execution timed out")
            return self.finish("TIMED_OUT", None, TIMEOUT, "The execution timed out (TimeoutSeconds)")
        error, output = _outcome(body)
        if error is None:
            return self.finish("SUCCEEDED", output, None, None)
        return self.finish("FAILED", None, error.error, error.cause)

    def finish(self, status: str, output: Any, error: str | None, cause: str | None) -> Execution:
        return Execution(self.name, self.arn, status, output, error, cause, self.visits, self.started_at, self.env.now)

    def guard(self, body: Generator[simpy.Event, Any, Any]) -> Generator[simpy.Event, Any, tuple[Any, Any]]:
        """Run ``body`` as a process that never fails: (error, None), (None, output) or (_Stopped, None)."""
        try:
            output = yield from body
        except StatesError as error:
            return error, None
        except simpy.Interrupt:
            return _Stopped(), None
        return None, output

    def run_branch(self, branch: Branch, data: Any) -> Generator[simpy.Event, Any, Any]:
        """Run a state graph from its StartAt to a terminal state; its output, or StatesError."""
        name: str | None = branch.start_at
        while name is not None:
            state = branch.states[name]
            visit = Visit(name, state.type, self.env.now)
            self.visits.append(visit)
            try:
                name, data = yield from self.run_state(state, data, visit)
            except StatesError:
                visit.exited_at = self.env.now
                raise
            visit.exited_at = self.env.now
        return data

    def run_state(self, state: State, data: Any, visit: Visit) -> Generator[simpy.Event, Any, tuple[str | None, Any]]:
        entered = self.now_iso()
        context = self.context(state.name, entered, 0)
        if state.type == "Fail":
            visit.exited_at = self.env.now
            raise StatesError(self.fail_field(state.error, data, context), self.fail_field(state.cause, data, context))
        effective = self.input_of(state, data)
        if state.type == "Choice":
            for rule in state.rules:
                if rule.matches(effective, context):
                    return rule.next, self.output_of(state, effective)
            if "Default" in state.raw:
                return state.raw["Default"], self.output_of(state, effective)
            raise StatesError(NO_CHOICE, f"No Choice Rule matched in state '{state.name}'")
        if state.type == "Succeed":
            return None, self.output_of(state, effective)
        if state.type == "Wait":
            yield self.env.timeout(self.wait_seconds(state, effective, context))
            return state.next, self.output_of(state, effective)
        if state.type == "Pass":
            if "Result" in state.raw:
                result = copy.deepcopy(state.raw["Result"])
            else:
                result = self.parameters(state, effective, context)
            return state.next, self.output_of(state, self.result_into(state, data, result))
        return (yield from self.run_with_retry(state, data, effective, visit, entered))

    # -- paths ---------------------------------------------------------------------------
    def input_of(self, state: State, data: Any) -> Any:
        if state.input_path is _UNSET:
            return data
        if state.input_path is None:
            return {}
        return copy.deepcopy(state.input_path.get(data, {}))

    def parameters(self, state: State, effective: Any, context: dict[str, Any]) -> Any:
        if state.parameters is _UNSET:
            return effective
        if isinstance(state.parameters, Template):
            return state.parameters.render(effective, context)
        return copy.deepcopy(state.parameters)

    def result_into(self, state: State, data: Any, result: Any) -> Any:
        if state.result_path is _UNSET:
            return result
        if state.result_path is None:
            return data
        return state.result_path.put(data, result)

    def output_of(self, state: State, data: Any) -> Any:
        if state.output_path is _UNSET:
            return data
        if state.output_path is None:
            return {}
        return copy.deepcopy(state.output_path.get(data, {}))

    def fail_field(self, value: str | Path | Call | None, data: Any, context: dict[str, Any]) -> str:
        if value is None or isinstance(value, str):
            return value or ""
        result = evaluate(value, data, context)
        if not isinstance(result, str):
            raise StatesError(RUNTIME, "Fail ErrorPath/CausePath must give a string")
        return result

    def wait_seconds(self, state: State, effective: Any, context: dict[str, Any]) -> float:
        wait = state.wait
        if isinstance(wait, Path):
            value = wait.get(effective, context)
            if "SecondsPath" in state.raw:
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise StatesError(RUNTIME, f"SecondsPath '{wait.text}' is not a non-negative integer")
                return float(value)
            stamp = _timestamp(value)
            if stamp is None:
                raise StatesError(RUNTIME, f"TimestampPath '{wait.text}' is not a timestamp")
            wait = stamp
        if isinstance(wait, datetime):
            return max(0.0, (wait - self.origin).total_seconds() - self.env.now)
        assert isinstance(wait, float)
        return wait

    # -- Task and Parallel -----------------------------------------------------------------
    def run_with_retry(
        self, state: State, data: Any, effective: Any, visit: Visit, entered: str
    ) -> Generator[simpy.Event, Any, tuple[str | None, Any]]:
        """Attempts of a Task/Parallel under its Retry, then its Catch; errors from the path
        processing (States.Runtime) fail the execution, as in AWS."""
        retries = [0] * len(state.retriers)
        retry_count = 0
        while True:
            attempt = Attempt(self.env.now)
            visit.attempts.append(attempt)
            try:
                result = yield from self.attempt(state, effective, entered, retry_count)
            except StatesError as error:
                attempt.ended_at, attempt.error = self.env.now, error.error
                index = next((i for i, r in enumerate(state.retriers) if _matches(r.errors, error.error)), None)
                if index is not None and retries[index] < state.retriers[index].max_attempts:
                    retries[index] += 1
                    retry_count += 1
                    yield self.env.timeout(state.retriers[index].delay(retries[index], self.rng))
                    continue
                catcher = next((c for c in state.catchers if _matches(c.errors, error.error)), None)
                if catcher is None:
                    raise
                error_output = {"Error": error.error, "Cause": error.cause}
                caught = data if catcher.result_path is None else catcher.result_path.put(data, error_output)
                return catcher.next, caught
            attempt.ended_at = self.env.now
            break
        context = self.context(state.name, entered, retry_count)
        if state.result_selector is not _UNSET:
            result = state.result_selector.render(result, context)
        return state.next, self.output_of(state, self.result_into(state, data, result))

    def attempt(self, state: State, effective: Any, entered: str, retry_count: int) -> Generator[simpy.Event, Any, Any]:
        if state.type == "Parallel":
            context = self.context(state.name, entered, retry_count)
            return (yield from self.parallel(state, self.parameters(state, effective, context)))
        resource = state.raw["Resource"]
        token = None
        if resource == SNS_PUBLISH_WAIT:
            self.tokens += 1
            token = f"{self.name}/{state.name}/{self.tokens}"  # opaque in AWS; deterministic here
        context = self.context(state.name, entered, retry_count, token)
        parameters = self.parameters(state, effective, context)
        if resource == LAMBDA_INVOKE:
            task = self.invoke(parameters["FunctionName"], parameters.get("Payload"))
        else:
            if self.publish is None:
                raise UnsupportedAsl(f"{state.name}: {resource} needs a publish process")
            assert token is not None
            task = self.publish(parameters, token)
        process = self.env.process(self.guard(task))
        if "TimeoutSeconds" in state.raw:
            yield process | self.env.timeout(state.raw["TimeoutSeconds"])
        else:
            yield process
        if not process.triggered:
            # the task process keeps running (a Lambda is not stopped); its result is dropped
            raise StatesError(TIMEOUT, f"Task '{state.name}' timed out after {state.raw.get('TimeoutSeconds')} s")
        error, output = _outcome(process)
        if error is not None:
            raise error
        if resource == LAMBDA_INVOKE:
            return {
                "ExecutedVersion": "$LATEST",
                "Payload": output,
                "SdkHttpMetadata": {"HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": f"{self.name}/{state.name}/{retry_count}"},
                "StatusCode": 200,
            }
        return output

    def parallel(self, state: State, effective: Any) -> Generator[simpy.Event, Any, list[Any]]:
        """Branches as concurrent processes; the first branch to fail (by time, then by index)
        fails the Parallel and the others are interrupted."""
        branches = [
            self.env.process(self.guard(self.run_branch(branch, copy.deepcopy(effective)))) for branch in state.branches
        ]
        try:
            pending = list(branches)
            while pending:
                yield self.env.any_of(pending)
                for process in list(pending):
                    if not process.triggered:
                        continue
                    pending.remove(process)
                    error, _ = _outcome(process)
                    if isinstance(error, StatesError):
                        self.stop(pending)
                        raise error
        except simpy.Interrupt:
            self.stop(branches)
            raise
        return [_outcome(process)[1] for process in branches]

    def stop(self, processes: list[simpy.Process]) -> None:
        for process in processes:
            if process.is_alive:
                process.interrupt("stopped")


def execution_of(process: simpy.Process) -> Execution:
    """The Execution a finished :func:`run` process returned (run it with ``env.run(until=process)``)."""
    if not isinstance(process.value, Execution):
        raise TypeError(f"{process!r} is not a finished execution")
    return process.value


def run(
    env: simpy.Environment,
    machine: StateMachine,
    execution_input: Any,
    *,
    name: str,
    execution_arn: str,
    invoke: Invoke,
    publish: Publish | None = None,
    rng: random.Random,
    clock_origin: datetime = DEFAULT_ORIGIN,
) -> simpy.Process:
    """Start an execution as a SimPy process whose value is its :class:`Execution`.

    ``invoke(function_name, payload)`` is the caller's process for a ``lambda:invoke`` task:
    it returns the function's response payload or raises TaskFailure; its duration is the
    task's. ``publish(parameters, task_token)`` does the same for
    ``sns:publish.waitForTaskToken`` and returns the callback's output. ``clock_origin`` is
    the timestamp of simulated t=0 (context object, Wait Timestamp, Timestamp comparisons).
    """
    interpreter = _Run(env, machine, name, execution_arn, invoke, publish, rng, clock_origin)
    return env.process(interpreter.execute(copy.deepcopy(execution_input)))
