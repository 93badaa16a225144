"""Module-scoped configurations and the runbook definition the controller tests build with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from switchyard.config import EnvironmentConfig, load_environment
from tests.stacks.controller.builders import minimal_runbook_definition


@pytest.fixture(scope="module")
def dev() -> EnvironmentConfig:
    return load_environment("dev")


@pytest.fixture(scope="module")
def prod() -> EnvironmentConfig:
    return load_environment("prod")


@pytest.fixture(scope="module")
def runbook_definition(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The project's runbook definition, or a stand-in written to a temporary file."""
    if RUNBOOK_DEFINITION.is_file():
        yield RUNBOOK_DEFINITION
        return
    path = tmp_path_factory.mktemp("runbook") / "runbook.asl.json"
    path.write_text(json.dumps(minimal_runbook_definition()), encoding="utf-8")
    yield path
