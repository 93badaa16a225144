"""Shared fixtures: fake AWS credentials so nothing can reach a real account."""

from __future__ import annotations

import os

import pytest

from switchyard.config import EnvironmentConfig, load_environment

for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
    os.environ[_name] = "testing"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Switchyard")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "switchyard")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


@pytest.fixture
def dev_config() -> EnvironmentConfig:
    return load_environment("dev")


@pytest.fixture
def prod_config() -> EnvironmentConfig:
    return load_environment("prod")
