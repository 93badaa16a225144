"""Fuzz of the operator's edge (hypothesis): the runbook state document, the approval and
the CLI arguments. Every generated malformed input is refused with an error that names
the bad field (and stays short); every generated well-formed input is accepted. Each
example is one or the other, so the test fails both ways.

The malformed inputs are the kinds a fuzz of the runbook input once found accepted (issue
12): a bool, a numeric string or a whole float where an integer belongs; a bare date, a
naive time or a number where a timestamp belongs; Unicode look-alikes, zero-width and
control characters in identities and execution names; control and invisible characters
in free text. :data:`MALFORMED_KINDS` names them; ``python -m tests.unit.test_input_fuzz``
is not a thing: the counts in the issue note come from running these strategies.
"""

from __future__ import annotations

import json
import operator
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from switchyard import model as switchyard_model
from switchyard.config import load_environment
from switchyard.handlers.environment import describe_validation_error
from switchyard.model import Action
from switchyard.runbook_state import Approval, RunbookState
from switchyard_cli.cli import PRIMARY_ACTIONS, CliError, ExitCode, build_parser, execution_name, local_request

CONFIG = load_environment("dev")
PARSER = build_parser()
PAIR = list(CONFIG.regions.pair)
REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "sa-east-1"]
STEPS = ["validate", "lock", "preflight", "fence", "promote"]

# -- the pieces of a well-formed input ---------------------------------------------------
IDENTITY_CHARS = string.ascii_letters + string.digits + "_.@:/+=,-"
SESSION_CHARS = string.ascii_letters + string.digits + "+=,.@_-"  # IAM role and session names
identities = st.one_of(
    st.text(IDENTITY_CHARS, min_size=1, max_size=64),
    st.builds("assumed-role/{}/{}".format, st.text(SESSION_CHARS, min_size=1, max_size=32),
              st.text(SESSION_CHARS, min_size=2, max_size=32)),
)  # fmt: skip
# words a person writes: any letter, digit, punctuation, symbol or space of any script
free_texts = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=3, max_size=80)
NAME_CHARS = string.ascii_letters + string.digits + "_-"
incidents = st.builds(
    operator.add, st.sampled_from(string.ascii_letters + string.digits), st.text(NAME_CHARS, max_size=39)
)
names = st.text(NAME_CHARS, min_size=1, max_size=80)
zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))])
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=zones)
timestamps = st.one_of(
    instants.map(lambda at: at.isoformat()),
    instants.map(lambda at: at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
    instants.map(lambda at: at.isoformat(timespec="milliseconds")),
)
lags = st.one_of(st.none(), st.integers(0, 86_400), st.floats(0, 86_400, allow_nan=False, allow_infinity=False))


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "action": draw(st.sampled_from([action.value for action in Action])),
        "target_region": draw(st.sampled_from(REGIONS)),
        "reason": draw(free_texts),
        "incident_id": draw(incidents),
        "requested_by": draw(identities),
    }


@st.composite
def approvals(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "approved_by": draw(identities),
        "approved_at": draw(timestamps),
        "note": draw(free_texts),
        "accepted_lag_seconds": draw(lags),
    }


def result(step: str, duration_ms: Any = 5) -> dict[str, Any]:
    return {"step": step, "status": "done", "message": f"{step} done", "duration_ms": duration_ms}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    region = draw(st.sampled_from(REGIONS))
    account = draw(st.text(string.digits, min_size=12, max_size=12))
    execution = f"arn:aws:states:{region}:{account}:execution:{draw(names)}:{draw(names)}"
    steps = draw(st.lists(st.sampled_from(STEPS), max_size=3, unique=True))
    return {
        "request": draw(requests()),
        "execution": draw(st.one_of(st.none(), st.just(execution))),
        "epoch": draw(st.one_of(st.none(), st.integers(0, 10**6))),
        "results": {step: result(step, draw(st.integers(0, 10**6))) for step in steps},
        "approval": draw(st.one_of(st.none(), approvals())),
    }


# -- what makes one malformed ------------------------------------------------------------
# Cyrillic, Greek and fullwidth twins of ASCII letters and digits
LOOK_ALIKES = (
    "\u0430\u0435\u043e\u0440\u0441\u0445\u0443\u0456\u0458\u0501\u04bb\u0391\u0392\u0395\u0397\u0399"
    "\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a7\u03a5\u0396\u03bf\u0435\uff21\uff41\uff10\uff11"
)
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
CONTROLS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
UNICODE_DIGITS = "١٢٣۴۵߁१২੩૪୫௬౭೮൯๑໒༣၄០᠑"


def inserted(characters: str) -> Callable[[st.DrawFn, str], str]:
    """A mutation putting one of ``characters`` somewhere in a valid value."""

    def mutate(draw: st.DrawFn, value: str) -> str:
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(st.sampled_from(characters)) + value[at:]

    return mutate


def replaced(characters: str) -> Callable[[st.DrawFn, str], str]:
    """A mutation replacing one character of a valid value with one of ``characters``."""

    def mutate(draw: st.DrawFn, value: str) -> str:
        at = draw(st.integers(0, len(value) - 1))
        return value[:at] + draw(st.sampled_from(characters)) + value[at + 1 :]

    return mutate


def constant(values: st.SearchStrategy[Any]) -> Callable[[st.DrawFn, Any], Any]:
    return lambda draw, _value: draw(values)


LAX_INTEGERS = st.one_of(st.booleans(), st.integers(0, 99).map(str), st.integers(0, 99).map(float))
LAX_NUMBERS = st.one_of(st.booleans(), st.integers(0, 99).map(str), st.just("1.5"))
NOT_TIMESTAMPS = st.one_of(
    instants.map(lambda at: at.date().isoformat()),  # a bare date
    instants.map(lambda at: at.replace(tzinfo=None).isoformat()),  # a naive time
    st.integers(0, 2**31),  # seconds since the epoch
    st.floats(0, 2**31, allow_nan=False),
    st.booleans(),
)


@dataclass(frozen=True)
class Kind:
    """One kind of malformed value: where it goes and how it is made from a valid one."""

    name: str
    path: tuple[str, ...]
    mutate: Callable[[st.DrawFn, Any], Any]


IDENTITY_KINDS = [
    ("look-alike", replaced(LOOK_ALIKES)),
    ("zero-width", inserted(ZERO_WIDTH)),
    ("control", inserted(CONTROLS)),
    ("bidi", inserted(BIDI)),
]
SEPARATORS = "\u2028\u2029\ud800"  # line and paragraph separators, a lone surrogate
TEXT_KINDS = [("control", inserted(CONTROLS)), ("invisible", inserted(ZERO_WIDTH + BIDI + SEPARATORS))]
REQUEST_KINDS = [
    *(Kind(f"requested_by {name}", ("requested_by",), how) for name, how in IDENTITY_KINDS),
    *(Kind(f"reason {name}", ("reason",), how) for name, how in TEXT_KINDS),
    Kind("incident_id non-ascii", ("incident_id",), inserted(LOOK_ALIKES + UNICODE_DIGITS + CONTROLS)),
    Kind("target_region unicode digit", ("target_region",), lambda draw, value: value[:-1] + draw(
        st.sampled_from(UNICODE_DIGITS))),
]  # fmt: skip
APPROVAL_KINDS = [
    *(Kind(f"approved_by {name}", ("approved_by",), how) for name, how in IDENTITY_KINDS),
    *(Kind(f"note {name}", ("note",), how) for name, how in TEXT_KINDS),
    Kind("approved_at not a zoned timestamp", ("approved_at",), constant(NOT_TIMESTAMPS)),
    Kind("accepted_lag_seconds lax number", ("accepted_lag_seconds",), constant(LAX_NUMBERS)),
]
DOCUMENT_KINDS = [
    *(Kind(kind.name, ("request", *kind.path), kind.mutate) for kind in REQUEST_KINDS),
    *(Kind(kind.name, ("approval", *kind.path), kind.mutate) for kind in APPROVAL_KINDS),
    Kind("epoch lax integer", ("epoch",), constant(LAX_INTEGERS)),
    Kind("duration_ms lax integer", ("results", "lock", "duration_ms"), constant(LAX_INTEGERS)),
    Kind("execution name non-ascii", ("execution",), lambda draw, value: value + draw(
        st.sampled_from(LOOK_ALIKES + ZERO_WIDTH + CONTROLS))),
]  # fmt: skip
MALFORMED_KINDS = sorted({kind.name for kind in DOCUMENT_KINDS})


def with_value_at(document: dict[str, Any], path: tuple[str, ...], mutate: Callable[[Any], Any]) -> dict[str, Any]:
    """A copy of ``document`` whose value at ``path`` is ``mutate(old value)``."""
    head, *rest = path
    copy = dict(document)
    copy[head] = mutate(copy[head]) if not rest else with_value_at(copy[head], tuple(rest), mutate)
    return copy


@st.composite
def cases(
    draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]], kinds: list[Kind]
) -> tuple[dict[str, Any], Kind | None]:
    """A valid input and None, or a malformed one and the kind of fault it carries."""
    document = draw(valid)
    kind = draw(st.one_of(st.none(), st.sampled_from(kinds)))
    if kind is None:
        return document, None
    if kind.path[0] == "approval" and document["approval"] is None:
        document["approval"] = draw(approvals())
    if kind.path[0] == "results":
        document["results"] = {**document["results"], "lock": result("lock")}
    if kind.path == ("execution",) and document["execution"] is None:
        document["execution"] = f"arn:aws:states:us-west-2:111111111111:execution:runbook:{draw(names)}"
    return with_value_at(document, kind.path, lambda old: kind.mutate(draw, old)), kind


def refusal(parse: Callable[[Any], Any], value: Any) -> ValidationError | None:
    """The ValidationError ``parse(value)`` raises, or None when it accepts ``value``."""
    try:
        parse(value)
    except ValidationError as exc:
        return exc
    return None


def assert_clear_rejection(exc: ValidationError, kind: Kind) -> None:
    """The described problem names the bad field and is short enough to log whole."""
    problem = describe_validation_error(exc)
    assert kind.path[-1] in problem, (kind.name, problem)
    assert len(problem) <= switchyard_model.MAX_PROBLEM_CHARS, (kind.name, len(problem))


def assert_only_well_formed_accepted(
    parse: Callable[[dict[str, Any]], object], value: dict[str, Any], kind: Kind | None, what: str
) -> None:
    """``value`` parses when it is well-formed (``kind`` None), else is refused naming its field."""
    refused = refusal(parse, value)
    if kind is None:
        assert refused is None, f"a well-formed {what} was refused: {describe_validation_error(refused)}"
    else:
        assert refused is not None, f"{kind.name} was accepted: {value}"
        assert_clear_rejection(refused, kind)


# -- the properties ----------------------------------------------------------------------
@settings(max_examples=800, deadline=None)
@given(cases(documents(), DOCUMENT_KINDS))
def test_the_runbook_document_accepts_only_well_formed_documents(case: tuple[dict[str, Any], Kind | None]) -> None:
    # GIVEN a generated runbook state document, well-formed or with one kind of fault
    document, kind = case
    # WHEN the step handlers' model parses it
    # THEN a malformed one is refused with an error naming its field, and a valid one never is
    assert_only_well_formed_accepted(RunbookState.model_validate, document, kind, "document")


@settings(max_examples=600, deadline=None)
@given(cases(approvals(), APPROVAL_KINDS))
def test_the_approval_accepts_only_well_formed_approvals(case: tuple[dict[str, Any], Kind | None]) -> None:
    # GIVEN a generated approval (what `switchyard approve` sends back to the state machine)
    approval, kind = case
    # WHEN it is parsed  THEN only a well-formed one is accepted, a malformed one named
    assert_only_well_formed_accepted(Approval.model_validate, approval, kind, "approval")


@st.composite
def cli_cases(draw: st.DrawFn) -> tuple[list[str], str | None]:
    """``switchyard <action>`` arguments, and None or the name the refusal must give."""
    action = draw(st.sampled_from([action.value for action in Action]))
    region = CONFIG.regions.primary if Action(action) in PRIMARY_ACTIONS else draw(st.sampled_from(PAIR))
    fields = {"reason": draw(free_texts), "incident": draw(incidents), "region": region, "attempt": "1"}
    fault = draw(st.sampled_from([None, "reason", "incident", "region", "attempt"]))
    complaint = None
    if fault == "reason":
        fields["reason"] = draw(st.sampled_from([inserted(CONTROLS), inserted(ZERO_WIDTH + BIDI)]))(
            draw, fields["reason"]
        )
        complaint = "reason"
    elif fault == "incident":
        fields["incident"] = inserted(LOOK_ALIKES + UNICODE_DIGITS + CONTROLS + " ;/")(draw, fields["incident"])
        complaint = "incident_id"
    elif fault == "region":
        fields["region"] = region[:-1] + draw(st.sampled_from(UNICODE_DIGITS))
        complaint = "target_region"
    elif fault == "attempt":  # a name past Step Functions' 80 characters
        fields["incident"] = "INC-" + draw(st.text(NAME_CHARS, min_size=27, max_size=36))
        fields["attempt"] = str(draw(st.integers(10**50, 10**60)))
        complaint = "execution name"
    argv = [action, "--env", "dev", "--yes", *(f"--{flag}={value}" for flag, value in fields.items())]
    return argv, complaint


@settings(max_examples=600, deadline=None)
@given(cli_cases())
def test_cli_arguments_become_a_runbook_input_only_when_well_formed(case: tuple[list[str], str | None]) -> None:
    # GIVEN generated `switchyard <action>` arguments, well-formed or with one fault
    argv, complaint = case
    args = PARSER.parse_args(argv)
    # WHEN the CLI checks them locally (the request and its execution name), before any AWS call
    refused: CliError | None = None
    try:
        execution_name(local_request(args, CONFIG, requested_by="assumed-role/Operator/alice"), args.attempt)
    except CliError as exc:
        refused = exc
    # THEN a malformed one is a usage error naming the field, short, and a valid one never is
    if complaint is None:
        assert refused is None, f"well-formed arguments were refused: {refused}"
    else:
        assert refused is not None, f"{complaint} fault accepted: {argv}"
        assert refused.code == ExitCode.USAGE
        assert complaint in str(refused), (argv, str(refused))
        assert len(str(refused)) <= switchyard_model.MAX_PROBLEM_CHARS + 60


# -- bounds ------------------------------------------------------------------------------
def test_an_oversized_runbook_input_is_refused_by_size_before_its_fields() -> None:
    # GIVEN a runbook input with a 100 kB field name (an unknown field, and far past the size bound)
    request = {"action": "failover", "target_region": "us-west-2", "reason": "x" * 500, "incident_id": "INC-1",
               "requested_by": "alice", "k" * 100_000: 1}  # fmt: skip
    # WHEN it is parsed  THEN the error is the size, stated in a few words, not a field-by-field echo
    with pytest.raises(ValidationError) as raised:
        RunbookState.model_validate({"request": request})
    problem = describe_validation_error(raised.value)
    assert f"more than the {switchyard_model.MAX_REQUEST_BYTES} bytes allowed" in problem
    assert len(problem) < 200


def test_a_document_past_the_step_functions_payload_quota_is_refused_whole() -> None:
    document: dict[str, Any] = {"request": {}, "results": {"x" * 300_000: {}}}
    with pytest.raises(ValidationError) as raised:
        RunbookState.model_validate(document)
    problem = describe_validation_error(raised.value)
    assert problem.startswith("field 'document': the runbook state document is 300")
    assert len(problem) < 200


def test_the_largest_well_formed_runbook_input_fits_the_size_bound() -> None:
    # GIVEN every field at its longest, the reason in 4-byte characters
    request = {"action": "prepare-failback", "target_region": "ap-northeast-1", "reason": "\U0001f525" * 500,
               "incident_id": "I" * 40, "requested_by": "a" * 128}  # fmt: skip
    # WHEN parsed  THEN it is accepted: the bound refuses only what no valid input can be
    assert switchyard_model.json_size(request) <= switchyard_model.MAX_REQUEST_BYTES
    assert RunbookState.model_validate({"request": request}).request.reason == request["reason"]


def test_a_rejection_message_is_cut_to_its_bound_and_says_so() -> None:
    limit = switchyard_model.MAX_PROBLEM_CHARS
    assert switchyard_model.bounded("x" * limit) == "x" * limit
    cut = switchyard_model.bounded("x" * (limit + 1_860_000))
    assert cut.startswith("x" * limit)
    assert cut.endswith("(1860000 more characters cut)")
    assert len(cut) < limit + 60


def test_the_validate_handler_logs_and_returns_a_bounded_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a document under every size bound whose bad field is named by a 200 kB key
    from switchyard.handlers import runbook as runbook_handler  # noqa: PLC0415 - Powertools only here

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    warnings: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(runbook_handler.logger, "warning", lambda message, extra: warnings.append((message, extra)))
    request = {"action": "failover", "target_region": "us-west-2", "reason": "primary down",
               "incident_id": "INC-42", "requested_by": "alice"}  # fmt: skip
    document = {"request": request, "results": {"k" * 200_000: {"step": "k"}}}
    # WHEN the validate handler receives it (no deps: it is refused before any is built)
    rejected = runbook_handler.run_step_handler("validate", document)
    # THEN it is refused naming the field, and both the answer and the log line stay short
    assert rejected["status"] == "needs_human"
    assert rejected["message"].startswith("rejected: field 'results.kkk")
    assert len(rejected["message"]) < switchyard_model.MAX_PROBLEM_CHARS + 100
    [(message, extra)] = warnings
    assert message == "runbook input rejected"
    assert len(json.dumps(extra)) < switchyard_model.MAX_PROBLEM_CHARS + 100
