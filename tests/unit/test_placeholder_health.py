"""The placeholder's deep health check (stacks/components/placeholder_health.py), on fakes of
the database and the traffic switch, then its HTTP server on a local socket.

The rule under test: 503 when the region's database is unreachable, or read-only WHILE this
region is active; 200 otherwise (a standby's replica is read-only by design).
"""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from stacks.components.placeholder_health import PostgresEndpoint, build_server, deep_health


@dataclass
class FakeDatabase:
    """One endpoint: reachable or not, in recovery (True), writable (False) or unknown (None)."""

    up: bool = True
    read_only: bool | None = False
    asked: list[str] = field(default_factory=list)

    def reachable(self) -> bool:
        self.asked.append("reachable")
        return self.up

    def in_recovery(self) -> bool | None:
        self.asked.append("in_recovery")
        return self.read_only


def active() -> bool:
    return True


def standby() -> bool:
    return False


def test_a_reachable_writable_database_is_healthy() -> None:
    # GIVEN a writable database in the active region  WHEN the deep path is checked  THEN 200
    assert deep_health(FakeDatabase(), None, active)[0] == 200


def test_an_unreachable_database_fails_the_deep_check() -> None:
    # GIVEN the database does not accept connections  WHEN checked, in either role  THEN 503
    assert deep_health(FakeDatabase(up=False), None, active)[0] == 503
    assert deep_health(FakeDatabase(up=False), None, standby)[0] == 503


def test_a_read_only_database_fails_while_this_region_is_active() -> None:
    # GIVEN the database is read-only and the traffic switch says this region is active
    status, body = deep_health(FakeDatabase(read_only=True), None, active)
    # THEN the region cannot take writes: 503
    assert status == 503
    assert "read-only" in body


def test_a_read_only_replica_passes_in_the_standby() -> None:
    # GIVEN the standby's replica (read-only by design) and a switch that says "not active"
    status, _ = deep_health(FakeDatabase(read_only=True), None, standby)
    # THEN healthy: the standby's Route 53 check must pass before a failover
    assert status == 200


def test_unknown_read_only_state_is_reachability_only() -> None:
    # GIVEN no credentials to ask the database (the standby has no secret it can name)
    status, body = deep_health(FakeDatabase(read_only=None), None, active)
    # THEN reachability decides, and the body says the rest is unknown
    assert status == 200
    assert "unknown" in body


def test_an_aurora_standby_passes_on_its_reader_but_the_active_region_needs_its_writer() -> None:
    # GIVEN a secondary cluster: no writer endpoint answering, the reader up
    writer, reader = FakeDatabase(up=False), FakeDatabase(read_only=True)
    # THEN a standby passes on its reader; the active region fails without a writer
    assert deep_health(writer, reader, standby)[0] == 200
    assert deep_health(writer, reader, active)[0] == 503


def test_a_writable_database_never_asks_the_traffic_switch() -> None:
    # GIVEN a writable database  WHEN checked
    def switch() -> bool:
        raise AssertionError("the switch is asked only when the database is read-only")

    # THEN the answer needs no HTTPS call to the switch
    assert deep_health(FakeDatabase(), None, switch)[0] == 200


@pytest.mark.parametrize(("stdout", "returncode", "expected"), [("t\n", 0, True), ("f\n", 0, False), ("", 2, None)])
def test_psql_answers_are_read_as_the_recovery_state(stdout: str, returncode: int, expected: bool | None) -> None:
    # GIVEN psql prints pg_is_in_recovery() (or fails)
    calls: list[dict[str, Any]] = []

    def run(command: list[str], **kwargs: Any) -> SimpleNamespace:
        calls.append({"command": command, **kwargs})
        return SimpleNamespace(stdout=stdout, returncode=returncode)

    credentials = {"username": "admin", "password": "pw"}
    endpoint = PostgresEndpoint("db.example", 5432, database="app", credentials=lambda: credentials, run=run)
    # WHEN asked  THEN "t"/"f" map to read-only/writable, a failure to "unknown"
    # AND the password travels in the environment, never on the command line
    assert endpoint.in_recovery() is expected
    assert "pw" not in " ".join(calls[0]["command"])
    assert calls[0]["env"]["PGPASSWORD"] == "pw"


# -- the HTTP server ---------------------------------------------------------------------------
@pytest.fixture
def database_port() -> Iterator[socket.socket]:
    """A local TCP listener standing in for the database's port."""
    listener = socket.create_server(("127.0.0.1", 0))
    yield listener
    listener.close()


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_server_serves_both_paths_and_fails_deep_when_the_database_goes_away(
    database_port: socket.socket,
) -> None:
    # GIVEN the server with a reachable database and no secret (reachability only), no cache
    settings = {
        "port": 0,
        "shallow_path": "/healthz",
        "deep_path": "/healthz/deep",
        "region": "us-east-1",
        "switch_url": "https://127.0.0.1:9/",
        "secret_id": None,
        "cache_seconds": 0,
        "database": {"writer": "127.0.0.1", "reader": None, "port": database_port.getsockname()[1], "name": "app"},
    }
    server = build_server(settings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        # WHEN both paths are requested  THEN both answer 200, and an unknown path 404
        assert [_get(port, path) for path in ("/healthz", "/healthz/deep", "/other")] == [200, 200, 404]
        # AND WHEN the database stops listening  THEN the deep path fails, the shallow one does not
        database_port.close()
        assert [_get(port, path) for path in ("/healthz", "/healthz/deep")] == [200, 503]
    finally:
        server.shutdown()
        server.server_close()
