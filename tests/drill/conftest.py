"""Drill fixtures: the environment is loaded once per module (scenarios are slow-ish)."""

from __future__ import annotations

import pytest

from switchyard.config import EnvironmentConfig, load_environment


@pytest.fixture(scope="module")
def dev_config_module() -> EnvironmentConfig:
    return load_environment("dev")
