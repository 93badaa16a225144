"""The CLI rejects bad arguments and bad input before any AWS call."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.client import BaseClient

from switchyard.config import EnvironmentConfig
from switchyard.model import Action, RunbookInput
from switchyard_cli.cli import ExitCode, build_parser, execution_name, main

GOOD = ["--env", "dev", "--region", "us-west-2", "--reason", "primary region is down", "--incident", "INC-42"]
GOOD_BY = [*GOOD, "--yes"]


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS API call attempted; each one fails the command loudly."""
    calls: list[str] = []

    def refuse(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        raise AssertionError(f"unexpected AWS call {operation}")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    return calls


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    code = main(argv, out=io.StringIO(), err=err, ask=lambda _: "")
    return code, err.getvalue()


@pytest.mark.parametrize("command", ["failover", "switchover", "dry-run"])
def test_action_commands_parse_the_documented_options(command: str) -> None:
    args = build_parser().parse_args([command, *GOOD_BY])
    assert (args.command, args.region, args.incident, args.yes) == (command, "us-west-2", "INC-42", True)


@pytest.mark.parametrize("missing", ["--reason", "--incident", "--env"])
def test_an_action_without_a_required_option_is_a_usage_error(missing: str) -> None:
    argv = list(GOOD)
    index = argv.index(missing)
    del argv[index : index + 2]
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["failover", *argv])
    assert exit_info.value.code == ExitCode.USAGE


def test_an_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["promote", *GOOD])
    assert exit_info.value.code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["failover", *GOOD_BY[:3], "ap-south-1", *GOOD_BY[4:]], "not one of the configured pair"),
        (["failover", *GOOD_BY[:7], "INC 42; rm -rf", *GOOD_BY[8:]], "incident_id"),
        (["failover", *GOOD_BY[:5], "no", *GOOD_BY[6:]], "reason"),
        (["failover", *GOOD[:-2], "--incident", "x" * 41, "--yes"], "incident_id"),
        (["failback", *GOOD_BY], "failback returns to the configured primary"),
        (["switchover", *GOOD_BY[:3], "US-WEST-2", *GOOD_BY[4:]], "target_region"),
        (["switchover", *GOOD_BY[:3], "us-west-\u0662", *GOOD_BY[4:]], "target_region"),  # an Arabic-Indic 2
        (["failover", *GOOD_BY[:5], "primary\x1b[2J down", *GOOD_BY[6:]], "control or invisible characters"),
        (["failover", *GOOD_BY[:5], "primary \u202edown", *GOOD_BY[6:]], "control or invisible characters"),
        (["failover", *GOOD_BY[:7], "INC\u200b42", *GOOD_BY[8:]], "incident_id"),
        (["failover", *GOOD[:-2], "--incident", "I" * 40, "--attempt", "9" * 40, "--yes"], "execution name"),
    ],
    ids=[
        "region-outside-pair",
        "unsafe-incident",
        "short-reason",
        "long-incident",
        "failback-away",
        "region-case",
        "region-unicode-digit",
        "reason-escape-sequence",
        "reason-bidi-override",
        "incident-zero-width",
        "execution-name-past-80",
    ],
)
def test_bad_input_is_rejected_before_any_aws_call(argv: list[str], complaint: str, aws_calls: list[str]) -> None:
    # GIVEN bad operator input WHEN the command runs THEN it exits with USAGE, names the problem, calls nothing
    code, err = run(argv)
    assert code == ExitCode.USAGE
    assert complaint in err
    assert "nothing was started" in err
    assert aws_calls == []


@pytest.mark.parametrize(
    "argv",
    [
        ["failover", *GOOD, "--requested-by", "alice", "--yes"],
        ["approve", "--env", "dev", "--region", "us-west-2", "--execution", "failover-INC-42", "--reason", "accept it",
         "--requested-by", "bob", "--yes"],
    ],
    ids=["requester", "approver"],
)  # fmt: skip
def test_an_identity_given_by_flag_is_refused_before_any_aws_call(argv: list[str], aws_calls: list[str]) -> None:
    # GIVEN a name typed with --requested-by WHEN the command runs
    code, err = run(argv)
    # THEN it exits with USAGE saying the identity comes from the credentials, and calls nothing
    assert code == ExitCode.USAGE
    assert "--requested-by is no longer accepted" in err
    assert "sts:GetCallerIdentity" in err
    assert aws_calls == []


def test_a_negative_accepted_lag_is_rejected_before_any_aws_call(aws_calls: list[str]) -> None:
    argv = ["approve", "--env", "dev", "--region", "us-west-2", "--execution", "failover-INC-42"]
    code, err = run([*argv, "--reason", "accept it", "--accept-lag", "-5"])
    assert code == ExitCode.USAGE
    assert "--accept-lag must be a number of seconds >= 0" in err
    assert aws_calls == []


def test_an_unknown_environment_is_rejected_before_any_aws_call(aws_calls: list[str]) -> None:
    code, err = run(["status", "--env", "nosuchenv"])
    assert code == ExitCode.USAGE
    assert "unknown environment" in err
    assert aws_calls == []


def test_approve_without_a_real_reason_is_rejected_before_any_aws_call(aws_calls: list[str]) -> None:
    argv = ["approve", "--env", "dev", "--region", "us-west-2", "--execution", "failover-INC-42", "--reason", " "]
    code, err = run(argv)
    assert code == ExitCode.USAGE
    assert "--reason" in err
    assert aws_calls == []


def test_execution_names_are_deterministic_per_action_and_incident(dev_config: EnvironmentConfig) -> None:
    request = RunbookInput(
        action=Action.FAILOVER, target_region="us-west-2", reason="down", incident_id="INC-42", requested_by="a"
    )
    assert execution_name(request) == execution_name(request) == "failover-INC-42"
    assert execution_name(request, 2) == "failover-INC-42-attempt2"


@pytest.mark.parametrize("command", ["status", "approve", "unlock"])
def test_a_region_outside_the_pair_is_rejected_before_any_aws_call(command: str, aws_calls: list[str]) -> None:
    argv = [command, "--env", "dev", "--region", "ap-south-1"]
    if command != "status":
        argv += ["--execution", "failover-INC-42", "--reason", "because"]
    code, err = run(argv)
    assert code == ExitCode.USAGE
    assert "not one of the configured pair" in err
    assert aws_calls == []
