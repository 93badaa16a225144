"""The harness against a ThreadedMotoServer (MOTO_PORT set), as the drill may run it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from drill.provision import provision
from drill.stepfunctions import local_runbook
from switchyard.config import EnvironmentConfig


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MOTO_PORT", str(port))  # moto's interpreter calls its own Lambda API on this port
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_dry_run_runs_real_handlers_on_a_moto_server(dev_config: EnvironmentConfig, moto_server: str) -> None:
    # GIVEN a provisioned environment on a moto server and the standby's runbook deployed there
    standby = dev_config.regions.standby
    with local_runbook(dev_config, standby, endpoint_url=moto_server, timeout_seconds=30) as runbook:
        provision(dev_config, endpoint_url=moto_server)
        runbook.deploy()
        # WHEN a dry run executes
        report = runbook.run(
            {"action": "dry-run", "target_region": standby, "reason": "server mode", "incident_id": "S-1",
             "requested_by": "tests"},
            name="dry-run-S-1",
        )  # fmt: skip
    # THEN the server's interpreter ran the in-process handlers to the end
    assert report.status == "SUCCEEDED", report.cause
    assert report.output is not None
    assert report.output["preflight"]["step"] == "preflight"
    assert [invocation.handler for invocation in runbook.invocations] == [
        "switchyard.handlers.runbook.validate",
        "switchyard.handlers.runbook.preflight",
    ]
