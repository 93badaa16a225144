"""GIVEN database.max_promotion_seconds (the readiness loop's deadline) WHEN an environment
loads THEN the default applies, or a value out of range is refused naming the field and why."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from switchyard.config import DEFAULT_CONFIG_DIR, ConfigError, parse_environment


def _with_max_promotion(seconds: int | None) -> dict[str, Any]:
    raw: dict[str, Any] = tomllib.loads((DEFAULT_CONFIG_DIR / "dev.toml").read_text())
    raw["database"].pop("max_promotion_seconds", None)  # dev.toml sets its own (an hour)
    if seconds is not None:
        raw["database"]["max_promotion_seconds"] = seconds
    return raw


def test_the_longest_accepted_promotion_defaults_to_half_an_hour() -> None:
    # GIVEN dev.toml without the field WHEN it loads THEN the deadline is 1800 s
    assert parse_environment("dev", _with_max_promotion(None)).database.max_promotion_seconds == 1800


def test_a_configured_longest_promotion_is_kept() -> None:
    assert parse_environment("dev", _with_max_promotion(900)).database.max_promotion_seconds == 900


@pytest.mark.parametrize("seconds", [59, 3601])
def test_a_longest_promotion_out_of_range_is_refused_naming_the_field_and_why(seconds: int) -> None:
    # GIVEN a deadline shorter than any promotion, or one the runbook's timeout cannot hold
    # WHEN the environment loads THEN the error names the field, the range and the reason
    with pytest.raises(ConfigError, match=r"database\.max_promotion_seconds") as error:
        parse_environment("dev", _with_max_promotion(seconds))
    assert "between 60 and 3600 s" in str(error.value)
    assert "two-hour execution timeout" in str(error.value)
