"""The shape of stacks/: components and controller build on the shared layer, never on
each other; one Lambda function builder; the stacks import only the deploy contract and
the config/model vocabulary from the controller package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stacks.controller.runbook_definition import RUNBOOK_DEFINITION

STACKS = Path(__file__).resolve().parents[2] / "stacks"
# What the stacks may import from the controller package: the contract and its vocabulary.
CONTROLLER_PACKAGE_ALLOWED = {"switchyard.contract", "switchyard.config", "switchyard.model", "switchyard.alarms"}
FUNCTION_BUILDER = STACKS / "shared" / "function.py"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((STACKS / folder).rglob("*.py"))


@pytest.mark.parametrize(
    ("folder", "forbidden"), [("components", "stacks.controller"), ("controller", "stacks.components")]
)
def test_components_and_controller_never_import_each_other(folder: str, forbidden: str) -> None:
    # GIVEN every module of one layer  THEN none imports the other layer
    offenders = {
        str(path.relative_to(STACKS)): sorted(m for m in imported_modules(path) if m.startswith(forbidden))
        for path in modules_under(folder)
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_the_shared_layer_imports_neither_layer_above_it() -> None:
    offenders = {
        str(path.relative_to(STACKS)): sorted(
            m for m in imported_modules(path) if m.startswith(("stacks.components", "stacks.controller"))
        )
        for path in modules_under("shared")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_stacks_import_only_the_contract_and_vocabulary_of_the_controller_package() -> None:
    # GIVEN every module under stacks/  THEN from switchyard it imports only the contract,
    # the configuration and the model vocabulary (never adapters, deps, handlers or steps)
    offenders = {
        str(path.relative_to(STACKS)): sorted(
            m for m in imported_modules(path) if m.startswith("switchyard") and m not in CONTROLLER_PACKAGE_ALLOWED
        )
        for path in STACKS.rglob("*.py")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_there_is_one_lambda_function_builder() -> None:
    # GIVEN every module under stacks/  THEN only the shared builder constructs a Lambda function
    builders = sorted(
        str(path.relative_to(STACKS))
        for path in STACKS.rglob("*.py")
        if any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("Function", "SingletonFunction", "CfnFunction")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert builders == [str(FUNCTION_BUILDER.relative_to(STACKS))]


def test_the_runbook_definition_sits_beside_the_construct_that_deploys_it() -> None:
    assert RUNBOOK_DEFINITION.parent == STACKS / "controller"
    assert (STACKS / "controller" / "state_machine.py").is_file()
    assert RUNBOOK_DEFINITION.is_file()
