"""Session-scoped synthesized apps for the topology tests (one build per environment).

Fixture names are prefixed ``topology_`` so they never shadow the controller tests' own.
"""

from __future__ import annotations

import pytest

from switchyard.config import load_environment
from tests.stacks.topology import Topology, synthesize

ENVIRONMENTS = ("dev", "prod")


@pytest.fixture(scope="session")
def topology_dev(tmp_path_factory: pytest.TempPathFactory) -> Topology:
    return synthesize(load_environment("dev"), tmp_path_factory.mktemp("cdk-dev"))


@pytest.fixture(scope="session")
def topology_prod(tmp_path_factory: pytest.TempPathFactory) -> Topology:
    return synthesize(load_environment("prod"), tmp_path_factory.mktemp("cdk-prod"))


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def topology(request: pytest.FixtureRequest) -> Topology:
    """Each environment's app in turn (dev: rds-postgres, prod: aurora-postgres)."""
    built: Topology = request.getfixturevalue(f"topology_{request.param}")
    return built
