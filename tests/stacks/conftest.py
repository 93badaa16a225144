"""Session-scoped synthesized apps for the topology tests (one build per environment).

Fixture names are prefixed ``topology_`` so they never shadow the controller tests' own.
"""

from __future__ import annotations

import pytest

from switchyard.config import load_environment
from tests.stacks.topology import Topology, topology_of

ENVIRONMENTS = ("dev", "prod")


@pytest.fixture(scope="session")
def topology_dev() -> Topology:
    return topology_of(load_environment("dev"))


@pytest.fixture(scope="session")
def topology_prod() -> Topology:
    return topology_of(load_environment("prod"))


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def topology(request: pytest.FixtureRequest) -> Topology:
    """Each environment's app in turn (dev: rds-postgres, prod: aurora-postgres)."""
    built: Topology = request.getfixturevalue(f"topology_{request.param}")
    return built
