"""The placeholder application's user data: ``placeholder_health.py`` as a systemd unit.

The instances run it when the environment's ``[workload]`` names no boot script of its own
(``user_data_file``), on whatever image it launches. The instance gets the health server's source verbatim, a JSON
settings file (the region's database endpoints and secret, its traffic switch's URL: CDK
tokens resolved at deploy time) and a unit that serves both health paths on
``workload.port``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_secretsmanager as secretsmanager

from stacks.components.database import POSTGRES_PORT, RegionalDatabase
from switchyard.config import EnvironmentConfig, Workload
from switchyard.contract import Names

HEALTH_SERVER_SOURCE = Path(__file__).with_name("placeholder_health.py")
SERVER_PATH = "/opt/switchyard/placeholder_health.py"
SETTINGS_PATH = "/etc/switchyard/placeholder.json"
UNIT_NAME = "switchyard-placeholder"
# python3 ships with Amazon Linux 2023; psql (PostgreSQL 15's client) asks the database
# whether it is in recovery; the AWS CLI (in the AMI) reads the database secret.
PACKAGES = ("python3", "postgresql15")
CACHE_SECONDS = 5


@dataclass(frozen=True)
class PlaceholderDatabase:
    """The region's database as the deep check reaches it (values may be CDK tokens).

    ``reader``: an endpoint a standby may pass on (Aurora's secondary has no writer until
    promoted); ``secret_id``: the master secret's name, readable in this region, or None (the
    deep check is then reachability only)."""

    writer: str
    port: int
    name: str
    reader: str | None = None
    secret_id: str | None = None


def placeholder_database(
    database: RegionalDatabase, config: EnvironmentConfig, region: str
) -> tuple[PlaceholderDatabase, secretsmanager.ISecret | None]:
    """The endpoints of ``region``'s database (by engine and role), and the primary's master
    secret when ``region`` is the primary (None in the standby). The deep check reads the
    secret by its contract name (``Names.db_secret``) in both regions: the standby holds the
    primary's replica of it."""
    name = config.database.database_name
    primary = config.role_of(region) == "primary"
    secret: secretsmanager.ISecret | None = None
    if config.database.engine == "rds-postgres" and primary:
        instance = database.instance
        secret = instance.secret
        writer, reader = instance.db_instance_endpoint_address, None
    elif config.database.engine == "rds-postgres":  # the cross-region read replica
        writer, reader = database.replica.attr_endpoint_address, None
    elif primary:  # Aurora global database, primary cluster
        cluster = database.cluster
        secret = cluster.secret
        writer, reader = cluster.cluster_endpoint.hostname, cluster.cluster_read_endpoint.hostname
    else:  # Aurora secondary cluster: no writer until promoted, so a standby may pass on its reader
        resource = database.cluster_resource
        writer, reader = resource.attr_endpoint_address, resource.attr_read_endpoint_address
    endpoints = PlaceholderDatabase(writer, POSTGRES_PORT, name, reader=reader, secret_id=Names(config).db_secret)
    return endpoints, secret


def _heredoc(path: str, content: str, marker: str) -> list[str]:
    """Write ``content`` to ``path`` verbatim (a quoted heredoc: the shell expands nothing)."""
    if marker in content:
        raise ValueError(f"heredoc marker {marker!r} occurs in the content for {path}")
    return [f"cat > {path} <<'{marker}'", content.rstrip("\n"), marker]


def placeholder_settings(workload: Workload, *, region: str, database: PlaceholderDatabase, switch_url: str) -> str:
    """The health server's settings (JSON), as its ``build_server`` reads them."""
    settings = {
        "port": workload.port,
        "shallow_path": workload.shallow_health_path,
        "deep_path": workload.deep_health_path,
        "region": region,
        "switch_url": switch_url,
        "secret_id": database.secret_id,
        "cache_seconds": CACHE_SECONDS,
        "database": {
            "writer": database.writer,
            "reader": database.reader,
            "port": database.port,
            "name": database.name,
        },
    }
    return json.dumps(settings, indent=2)


def placeholder_commands(
    workload: Workload, *, region: str, database: PlaceholderDatabase, switch_url: str
) -> list[str]:
    """The user data commands that install and start the placeholder's health server."""
    unit = "\n".join(
        (
            "[Unit]",
            "Description=Switchyard placeholder application (shallow and deep health)",
            "Wants=network-online.target",
            "After=network-online.target",
            "[Service]",
            f"ExecStart=/usr/bin/python3 {SERVER_PATH} {SETTINGS_PATH}",
            "DynamicUser=yes",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE",
            "Environment=HOME=/tmp",
            "Restart=always",
            "RestartSec=2",
            "[Install]",
            "WantedBy=multi-user.target",
        )
    )
    return [
        f"dnf install -y {' '.join(PACKAGES)}",
        f"install -d -m 0755 {Path(SERVER_PATH).parent} {Path(SETTINGS_PATH).parent}",
        *_heredoc(SERVER_PATH, HEALTH_SERVER_SOURCE.read_text(encoding="utf-8"), "SWITCHYARD_SERVER"),
        *_heredoc(
            SETTINGS_PATH,
            placeholder_settings(workload, region=region, database=database, switch_url=switch_url),
            "SWITCHYARD_SETTINGS",
        ),
        f"chmod 0644 {SERVER_PATH} {SETTINGS_PATH}",
        *_heredoc(f"/etc/systemd/system/{UNIT_NAME}.service", unit, "SWITCHYARD_UNIT"),
        "systemctl daemon-reload",
        f"systemctl enable --now {UNIT_NAME}",
    ]
