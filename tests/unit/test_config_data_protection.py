"""The [backup] section and the S3 replication bounds of [storage]: defaults, and a clear
error naming the field for each bad value."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from switchyard.config import DEFAULT_CONFIG_DIR, S3_RTC_SLA_SECONDS, Backup, ConfigError, Storage, parse_environment


def raw_with(section: str, **values: Any) -> dict[str, Any]:
    """dev.toml with ``values`` set in ``section``."""
    raw = tomllib.loads((DEFAULT_CONFIG_DIR / "dev.toml").read_text())
    raw[section] = {**raw.get(section, {}), **values}
    return raw


def test_defaults_turn_replication_metrics_on_with_the_rtc_sla_as_the_latency_bound() -> None:
    # GIVEN no storage settings  WHEN defaulted
    storage = Storage()
    # THEN RTC and its metrics are on and the latency bound is RTC's 15-minute SLA
    assert storage.replication_time_control is True
    assert storage.max_replication_latency_seconds == S3_RTC_SLA_SECONDS


def test_default_backups_are_daily_with_a_bound_above_a_day() -> None:
    # GIVEN no backup settings  WHEN defaulted  THEN a daily backup is stale only after the next is late
    backup = Backup()
    assert backup.frequency_hours == 24
    assert backup.max_recovery_point_age_hours > backup.frequency_hours


def test_a_bound_not_above_the_frequency_names_the_field() -> None:
    # GIVEN a recovery point bound equal to the backup frequency
    raw = raw_with("backup", frequency_hours=24, max_recovery_point_age_hours=24)
    # WHEN parsed  THEN the error names the field and why
    with pytest.raises(ConfigError, match=r"field 'backup.max_recovery_point_age_hours': 24 h must exceed"):
        parse_environment("dev", raw)


def test_a_bound_beyond_retention_names_the_field() -> None:
    # GIVEN recovery points kept 1 day but allowed to be 48 h old
    raw = raw_with("backup", frequency_hours=24, retention_days=1, max_recovery_point_age_hours=48)
    # WHEN parsed  THEN the error says the point would expire first
    with pytest.raises(ConfigError, match=r"backup.max_recovery_point_age_hours.*expire before it is stale"):
        parse_environment("dev", raw)


def test_a_frequency_that_does_not_divide_the_day_is_refused() -> None:
    # GIVEN a backup every 5 hours  WHEN parsed  THEN the field is named
    with pytest.raises(ConfigError, match=r"field 'backup.frequency_hours'"):
        parse_environment("dev", raw_with("backup", frequency_hours=5))


def test_a_negative_pending_operations_bound_is_refused() -> None:
    # GIVEN a negative bound  WHEN parsed  THEN the field is named
    with pytest.raises(ConfigError, match=r"field 'storage.max_pending_replication_operations'"):
        parse_environment("dev", raw_with("storage", max_pending_replication_operations=-1))


def test_an_unknown_backup_field_is_refused() -> None:
    # GIVEN a misspelt field  WHEN parsed  THEN it is named as unknown
    with pytest.raises(ConfigError, match=r"field 'backup.retention': unknown field"):
        parse_environment("dev", raw_with("backup", retention=7))
