"""The placeholder application's health server, shipped verbatim into the instances' user data.

Stdlib only and Python 3.9 compatible: it runs on Amazon Linux 2023's ``python3`` as a
systemd unit (see ``stacks.components.placeholder_app``), configured by a JSON file. It
answers on ``port``:

- the shallow path: 200 while the process runs (the load balancer's target health, so a
  failing dependency never makes the Auto Scaling group replace instances);
- the deep path (Route 53's check of the load balancer and the monitor's probe): 503 when
  the region's database is unreachable, or read-only WHILE this region is the active one
  (its own traffic switch answers 200); 200 otherwise. A standby's database is a read-only
  replica by design: read-only alone must not fail the standby's check, or its Route 53
  check would be unhealthy before every failover.

Aurora's secondary cluster has no writer until it is promoted, so a standby may also pass
on its reader endpoint; the active region always needs its writer. ``in_recovery`` is
``SELECT pg_is_in_recovery()`` through ``psql`` with the master secret's credentials (the
same secret name in both regions: the standby reads its replica); when they cannot be read
(no secret configured, no access), the check is reachability only.

The deep answer is cached for ``cache_seconds``: Route 53's checkers request it from many
locations, and each answer costs a TCP connect, a ``psql`` run and an HTTPS request.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

CONNECT_TIMEOUT_SECONDS = 2.0
QUERY_TIMEOUT_SECONDS = 4.0
SECRET_TTL_SECONDS = 300.0


class DatabaseProbe(Protocol):
    """One database endpoint as the deep check sees it."""

    def reachable(self) -> bool: ...

    def in_recovery(self) -> bool | None:
        """True: read-only (a replica, or in recovery); None: could not tell (no credentials)."""
        ...


def deep_health(
    writer: DatabaseProbe, reader: DatabaseProbe | None, region_active: Callable[[], bool]
) -> tuple[int, str]:
    """The deep path's status and body: the rules of the module docstring."""
    if writer.reachable():
        read_only = writer.in_recovery()
        if read_only is None:
            return 200, "ok: database reachable (read-only state unknown: no credentials)"
        if read_only and region_active():
            return 503, "database read-only while this region is active"
        return 200, "ok: database read-only, region standby" if read_only else "ok: database writable"
    if reader is not None and reader.reachable() and not region_active():
        return 200, "ok: standby, database reader reachable"
    return 503, "database unreachable"


class PostgresEndpoint:
    """A PostgreSQL endpoint: TCP reachability, and ``pg_is_in_recovery()`` through psql."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        database: str,
        credentials: Callable[[], dict[str, str] | None],
        run: Callable[..., Any] = subprocess.run,
    ) -> None:
        self.host, self.port, self.database = host, port, database
        self._credentials = credentials
        self._run = run

    def reachable(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_SECONDS):
                return True
        except OSError:
            return False

    def in_recovery(self) -> bool | None:
        secret = self._credentials()
        if not secret:
            return None
        dsn = f"host={self.host} port={self.port} dbname={self.database} user={secret['username']} sslmode=require"
        try:
            done = self._run(
                ["psql", dsn, "-tAc", "SELECT pg_is_in_recovery()"],
                env={**os.environ, "PGPASSWORD": secret["password"], "PGCONNECT_TIMEOUT": "2"},
                capture_output=True,
                text=True,
                timeout=QUERY_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        answer = str(done.stdout).strip()
        return {"t": True, "f": False}.get(answer) if done.returncode == 0 else None


class SecretCredentials:
    """The database secret's ``username``/``password`` (AWS CLI, the instance role), cached."""

    def __init__(self, secret_id: str | None, region: str, run: Callable[..., Any] = subprocess.run) -> None:
        self._secret_id, self._region, self._run = secret_id, region, run
        self._value: dict[str, str] | None = None
        self._read_at = 0.0

    def __call__(self) -> dict[str, str] | None:
        if self._secret_id is None:
            return None
        if self._value is not None and time.monotonic() - self._read_at < SECRET_TTL_SECONDS:
            return self._value
        command = ["aws", "secretsmanager", "get-secret-value", "--secret-id", self._secret_id]
        command += ["--region", self._region, "--query", "SecretString", "--output", "text"]
        try:
            done = self._run(command, capture_output=True, text=True, timeout=QUERY_TIMEOUT_SECONDS, check=False)
            value = json.loads(done.stdout) if done.returncode == 0 else None
        except (OSError, ValueError, subprocess.TimeoutExpired):
            value = None
        self._value, self._read_at = value, time.monotonic()
        return value


def switch_says_active(url: str) -> bool:
    """This region's traffic switch answers 200 only while this region is the active one."""
    try:
        with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_SECONDS) as answer:  # noqa: S310 - https URL from config
            return int(answer.status) == 200
    except OSError:  # HTTPError (4xx/5xx: not active) and URLError are OSErrors
        return False


class CachedAnswer:
    """The deep answer, recomputed at most once per ``ttl`` seconds."""

    def __init__(self, compute: Callable[[], tuple[int, str]], ttl: float) -> None:
        self._compute, self._ttl = compute, ttl
        self._lock = threading.Lock()
        self._answer: tuple[int, str] | None = None
        self._at = 0.0

    def __call__(self) -> tuple[int, str]:
        with self._lock:
            if self._answer is None or time.monotonic() - self._at >= self._ttl:
                self._answer, self._at = self._compute(), time.monotonic()
            return self._answer


def build_server(settings: dict[str, Any]) -> ThreadingHTTPServer:
    """The HTTP server of the settings the user data writes (see placeholder_app)."""
    credentials = SecretCredentials(settings.get("secret_id"), settings["region"])
    database = settings["database"]

    def endpoint(host: str | None) -> PostgresEndpoint | None:
        if not host:
            return None
        return PostgresEndpoint(host, int(database["port"]), database=database["name"], credentials=credentials)

    writer, reader = endpoint(database["writer"]), endpoint(database.get("reader"))
    assert writer is not None
    deep = CachedAnswer(
        lambda: deep_health(writer, reader, lambda: switch_says_active(settings["switch_url"])),
        float(settings.get("cache_seconds", 5)),
    )
    paths: dict[str, Callable[[], tuple[int, str]]] = {
        settings["shallow_path"]: lambda: (200, "ok"),
        settings["deep_path"]: deep,
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = paths.get(self.path.split("?", 1)[0])
            status, body = answer() if answer else (404, "not found")
            data = (body + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the load balancer's checks would fill the journal."""

    return ThreadingHTTPServer(("", int(settings["port"])), Handler)


def main(argv: list[str]) -> None:
    with open(argv[1], encoding="utf-8") as settings_file:
        settings = json.load(settings_file)
    build_server(settings).serve_forever()


if __name__ == "__main__":
    main(sys.argv)
