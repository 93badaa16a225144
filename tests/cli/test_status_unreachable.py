"""``switchyard status`` when AWS does not answer: a non-zero exit code a script can act on."""

from __future__ import annotations

import socket
from pathlib import Path

from switchyard_cli.cli import ExitCode
from tests.cli.conftest import cli


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_status_exits_with_the_aws_error_code_when_no_region_answers() -> None:
    # GIVEN an endpoint where nothing answers (both regions unreachable)
    endpoint = f"http://127.0.0.1:{closed_port()}"

    # WHEN an operator asks for the status of both regions
    code, out = cli("status", "--env", "dev", "--endpoint-url", endpoint)

    # THEN each region says it is unreachable and the command exits AWS_ERROR, not 0
    assert code == ExitCode.AWS_ERROR, out
    assert out.count("unreachable or incomplete") == 2


def test_the_readme_documents_every_exit_code() -> None:
    # GIVEN the README's line on exit codes  THEN it names every code the CLI can exit with
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("- Exit codes of every `bin/switchyard` command:")
    line = readme[start : readme.index("\n- ", start + 1)]
    assert [code for code in ExitCode if f"`{code.value}`" not in line] == []
