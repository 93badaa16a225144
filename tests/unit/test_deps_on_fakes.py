"""``fake_deps`` wires a fake for every port and no way to reach AWS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from switchyard.config import EnvironmentConfig
from tests.fakes import FakeStateStore, SettableClock, fake_deps


def test_fake_deps_refuse_to_make_a_real_client(dev_config: EnvironmentConfig) -> None:
    deps = fake_deps(dev_config, dev_config.regions.standby)

    with pytest.raises(AssertionError, match="real dynamodb client"):
        deps.clients.client("dynamodb", "us-west-2")
    assert deps.call_log is None


def test_fake_deps_take_overrides_and_reject_unknown_fields(dev_config: EnvironmentConfig) -> None:
    clock = SettableClock()
    state = FakeStateStore(dev_config)

    deps = fake_deps(dev_config, dev_config.regions.primary, clock=clock, state=state)

    assert (deps.clock, deps.state) == (clock, state)
    clock.advance(90)
    assert deps.now_iso() == "2026-11-24T21:01:30+00:00"
    with pytest.raises(TypeError, match="stat"):
        fake_deps(dev_config, dev_config.regions.primary, stat=state)


def test_importing_the_fakes_pulls_in_no_emulation_cdk_or_drill() -> None:
    """Checked in a fresh interpreter: this process may have imported anything."""
    code = (
        "import sys, tests.fakes as f; from switchyard.config import load_environment;"
        "f.fake_deps(load_environment('dev'), 'us-west-2');"
        "print(sorted(m for m in ('moto', 'aws_cdk', 'drill') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2]
    ).stdout.strip()
    assert found == "[]"
