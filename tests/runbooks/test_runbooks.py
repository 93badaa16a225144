"""The runbooks stay true to the code: every state, error, alarm, CLI command and AWS
operation they name exists, and every alarm in the catalogue has its page."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from drill.stepfunctions import ASL_PATH, all_states, load_definition
from switchyard.alarms import ALARMS
from switchyard_cli.cli import COMMANDS, build_parser

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
PAGES = sorted(RUNBOOKS.rglob("*.md"))
OPERATOR_PAGES = [page for page in PAGES if page.name != "README.md"]
SECTIONS = ("Symptom", "Impact", "Diagnose", "Act", "Verify", "Escalate")
STATE_NAMES = set(all_states(load_definition()))
ASL_ERROR_NAMES = set(re.findall(r"\b(?:Switchyard|States|Lambda|SNS)\.\w+|\b\w+Error\b", ASL_PATH.read_text()))
# Step Functions' own error names the pages may name (not spelled in the ASL).
STEP_FUNCTIONS_ERRORS = {"States.Timeout", "States.Runtime", "States.TaskFailed"}
# PascalCase words in backticks that are neither states nor errors of the ASL: ASL fields,
# history events, AWS metric and error names, the input model. Add new ones on purpose.
OTHER_TERMS = {
    "RunbookInput",
    "TimeoutSeconds",
    "TaskScheduled",
    "ReplicaLag",
    "AuroraGlobalDBReplicationLag",
    "HealthyHostCount",
    "Errors",
    "InsufficientInstanceCapacity",
    "Throttles",
}
NAME_LIKE = r"(?:Switchyard|States)\.\w+|[A-Z][a-z]+(?:[A-Z][a-z0-9]*)*"
AWS_CLI_SERVICES = {"s3api": "s3"}
AWS_CLI_CUSTOMIZATIONS = {("logs", "tail")}


def page_id(page: Path) -> str:
    return str(page.relative_to(RUNBOOKS))


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)


def block_commands(text: str, program: str) -> list[str]:
    """Command lines starting with ``program`` in fenced blocks, continuation lines joined."""
    commands = []
    for block in code_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip().startswith(f"{program} "):
                commands.append(line.strip())
    return commands


def inline_code(text: str) -> list[str]:
    without_blocks = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return re.findall(r"`([^`\n]+)`", without_blocks)


def test_every_alarm_in_the_catalogue_has_its_page() -> None:
    missing = [alarm.runbook_page for alarm in ALARMS if not (RUNBOOKS.parent / alarm.runbook_page).is_file()]
    assert missing == []


def test_every_alarm_page_is_an_alarm_of_the_catalogue() -> None:
    pages = {page.stem for page in (RUNBOOKS / "alarms").glob("*.md")}
    assert pages == {alarm.key for alarm in ALARMS}


def test_the_index_links_every_page() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    linked = {(RUNBOOKS / target).resolve() for target in re.findall(r"\]\(([^)#]+\.md)", index)}
    assert {page.resolve() for page in OPERATOR_PAGES} <= linked


@pytest.mark.parametrize("page", OPERATOR_PAGES, ids=page_id)
def test_every_page_has_the_six_sections_in_order(page: Path) -> None:
    headings = re.findall(r"^## (\w+)", page.read_text(), flags=re.MULTILINE)
    assert headings == list(SECTIONS)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_resolve(page: Path) -> None:
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text())
    broken = [target for target in targets if not (page.parent / target).exists()]
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_named_states_and_errors_exist_in_the_state_machine(page: Path) -> None:
    known = STATE_NAMES | ASL_ERROR_NAMES | STEP_FUNCTIONS_ERRORS | OTHER_TERMS
    names = [code for code in inline_code(page.read_text()) if re.fullmatch(NAME_LIKE, code)]
    unknown = [name for name in names if name not in known]
    assert unknown == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_switchyard_command_lines_are_accepted_by_the_cli(page: Path) -> None:
    # GIVEN every full command in a code block WHEN parsed by the real CLI parser THEN it is accepted
    parser = build_parser()
    for command in block_commands(page.read_text(), "switchyard"):
        parser.parse_args(shlex.split(command)[1:])


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_switchyard_commands_named_inline_exist(page: Path) -> None:
    named = [code.split()[1] for code in inline_code(page.read_text()) if code.startswith("switchyard ")]
    assert set(named) <= set(COMMANDS)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_aws_cli_operations_exist(page: Path) -> None:
    session = botocore.session.get_session()
    unknown = []
    for command in block_commands(page.read_text(), "aws"):
        _, service, operation, *_ = shlex.split(command)
        if (service, operation) in AWS_CLI_CUSTOMIZATIONS:
            continue
        model = session.get_service_model(AWS_CLI_SERVICES.get(service, service))
        if operation not in {xform_name(name, "-") for name in model.operation_names}:
            unknown.append(f"aws {service} {operation}")
    assert unknown == []


def test_the_checks_find_commands_at_all() -> None:
    # GIVEN the pages WHEN extracting commands THEN there are some (the checks above are not vacuous)
    text = "\n".join(page.read_text() for page in PAGES)
    assert len(block_commands(text, "switchyard")) >= 10
    assert len(block_commands(text, "aws")) >= 10
    assert sum(1 for code in inline_code(text) if code in STATE_NAMES) >= 10
