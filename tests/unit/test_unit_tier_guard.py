"""The unit tier's guard sees a forbidden import (tests/unit/conftest.py)."""

from __future__ import annotations

import sys
import types

import pytest

from tests.unit.conftest import FORBIDDEN, imported_forbidden_modules


def test_the_guard_names_a_forbidden_package_once_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN none of the forbidden packages imported (the unit tier's own state)
    for name in FORBIDDEN:
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert imported_forbidden_modules() == []
    # WHEN one is imported  THEN the guard names it
    monkeypatch.setitem(sys.modules, "moto", types.ModuleType("moto"))
    assert imported_forbidden_modules() == ["moto"]
