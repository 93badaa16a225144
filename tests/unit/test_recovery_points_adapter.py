"""AwsBackupRecoveryPoints over a scripted backup client: pages followed, only COMPLETED
recovery points counted, a missing vault said so, any other error reported (never raised).
moto has no ListRecoveryPointsByBackupVault, so the adapter's reading of AWS's answer is
tested here against the answer's documented shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from botocore.exceptions import ClientError

from switchyard.adapters.protection import AwsBackupRecoveryPoints
from switchyard.config import EnvironmentConfig
from switchyard.retry import ClientFactory

DB = "arn:aws:rds:us-east-1:111111111111:db:switchyard-dev-us-east-1-db"


class ScriptedBackup:
    """A backup client answering ListRecoveryPointsByBackupVault with ``pages`` (or raising)."""

    def __init__(self, pages: list[dict[str, Any]] | None = None, error: str | None = None) -> None:
        self.pages = pages or []
        self.error = error
        self.requests: list[dict[str, Any]] = []

    def list_recovery_points_by_backup_vault(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": self.error}}, "ListRecoveryPointsByBackupVault")
        return self.pages[len(self.requests) - 1]


class OneClient:
    def __init__(self, client: ScriptedBackup) -> None:
        self.backup = client

    def client(self, service: str, region: str, *, best_effort: bool = False) -> ScriptedBackup:
        return self.backup


def point(day: int, status: str = "COMPLETED") -> dict[str, Any]:
    return {"CreationDate": datetime(2026, 11, day, 3, tzinfo=UTC), "Status": status, "ResourceArn": DB}


def newest(config: EnvironmentConfig, backup: ScriptedBackup) -> Any:
    adapter = AwsBackupRecoveryPoints(config, cast(ClientFactory, OneClient(backup)))
    return adapter.newest("us-west-2", DB)


def test_the_newest_completed_point_across_pages_wins(dev_config: EnvironmentConfig) -> None:
    # GIVEN two pages; the newest point overall is still running
    backup = ScriptedBackup(
        pages=[
            {"RecoveryPoints": [point(20), point(28)], "NextToken": "next"},
            {"RecoveryPoints": [point(29, status="CREATING"), point(27)]},
        ]
    )
    # WHEN the newest is asked for
    found = newest(dev_config, backup)
    # THEN both pages were read, filtered by the database, and the newest COMPLETED one is the 28th
    assert [request.get("NextToken") for request in backup.requests] == [None, "next"]
    assert {request["ByResourceArn"] for request in backup.requests} == {DB}
    assert found.newest_created_at == datetime(2026, 11, 28, 3, tzinfo=UTC)
    assert found.completed == 3


def test_a_missing_vault_is_reported_as_missing(dev_config: EnvironmentConfig) -> None:
    # GIVEN AWS Backup answers ResourceNotFoundException  WHEN asked
    found = newest(dev_config, ScriptedBackup(error="ResourceNotFoundException"))
    # THEN the vault is missing, which is not an error to read
    assert (found.vault_exists, found.error) == (False, None)


def test_any_other_error_is_reported_not_raised(dev_config: EnvironmentConfig) -> None:
    # GIVEN the call is denied  WHEN asked  THEN the error is carried in the answer
    found = newest(dev_config, ScriptedBackup(error="AccessDeniedException"))
    assert found.error is not None
    assert "AccessDeniedException" in found.error
