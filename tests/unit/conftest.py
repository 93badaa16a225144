"""The unit tier (``make unit``): the pure logic and the controller on in-memory fakes,
with no AWS emulation, no CDK and no drill, in well under 30 s.

``make unit`` sets ``SWITCHYARD_UNIT_TIER=1``; the session then fails if any test pulled
in one of ``FORBIDDEN`` (directly or through an import chain), so the tier cannot slowly
grow back into the integration suite. ``make test`` runs these tests with everything
else, where the guard is off."""

from __future__ import annotations

import os
import sys

import pytest

FORBIDDEN = ("moto", "aws_cdk", "drill")
UNIT_TIER_VARIABLE = "SWITCHYARD_UNIT_TIER"


def imported_forbidden_modules() -> list[str]:
    """The forbidden top-level packages imported in this process."""
    return sorted(name for name in FORBIDDEN if name in sys.modules)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(UNIT_TIER_VARIABLE) != "1":
        return
    found = imported_forbidden_modules()
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (
            f"the unit tier imported {found}: move that test to an integration tier "
            "(tests/controller, tests/statemachine, tests/stacks, tests/drill)"
        )
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:  # pragma: no cover - pytest always has a terminal reporter here
            print(message, file=sys.stderr)
