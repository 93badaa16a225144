"""The production latency model: one distribution per AWS operation the failover waits for.

``drill/latency_model.toml`` holds the figures (typical value, 95th percentile, family,
source); this module validates them, draws from them with a seeded ``random.Random`` and
computes the physical floor of a failover from the same figures.
"""

from __future__ import annotations

import math
import random
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchyard.config import EnvironmentConfig

MODEL_PATH = Path(__file__).resolve().parents[1] / "drill" / "latency_model.toml"  # the drill's figures
Z95 = 1.6448536269514722  # the standard normal's 95th percentile

OPERATIONS = (
    "rds_replica_promotion",
    "aurora_global_failover",
    "aurora_global_switchover",
    "instance_ready",
    "route53_aggregation",
    "route53_calculated",
    "alias_answer_cache",
    "alarm_metric_delay",
    "state_table_write",
    "api_call",
    "lambda_cold_start",
    "lambda_warm_invoke",
    "eventbridge_schedule_delay",
    # failback preparation (switchyard.steps.rejoin; the drill's ModelledRebuild)
    "rds_snapshot",
    "rds_instance_delete",
    "rds_cross_region_replica",
    "aurora_secondary_rejoin",
)
PROMOTIONS = ("rds_replica_promotion", "aurora_global_failover", "aurora_global_switchover")


class Distribution(BaseModel):
    """One operation's duration in seconds: the median (``typical``) and the 95th percentile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["lognormal", "fixed"]
    typical: float = Field(gt=0)
    p95: float | None = Field(default=None, gt=0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Distribution:
        if self.family == "fixed" and self.p95 is not None:
            raise ValueError("a fixed quantity has no p95")
        if self.family == "lognormal" and (self.p95 is None or self.p95 < self.typical):
            raise ValueError(f"lognormal needs p95 >= typical (typical {self.typical}, p95 {self.p95})")
        return self

    @property
    def sigma(self) -> float:
        """The lognormal's shape: ln(p95 / median) / z95 (0 for a fixed quantity)."""
        if self.family == "fixed" or self.p95 is None:
            return 0.0
        return math.log(self.p95 / self.typical) / Z95

    def draw(self, rng: random.Random) -> float:
        if self.family == "fixed":
            return self.typical
        return self.typical * math.exp(self.sigma * rng.gauss(0.0, 1.0))

    def scaled(self, factor: float) -> Distribution:
        """The same shape with every duration multiplied by ``factor`` (the stress runs)."""
        p95 = None if self.p95 is None else self.p95 * factor
        return self.model_copy(update={"typical": self.typical * factor, "p95": p95})


class LatencyModel(BaseModel):
    """Every operation of ``OPERATIONS``; a missing or unknown one fails loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operations: dict[str, Distribution]

    @model_validator(mode="after")
    def _complete(self) -> LatencyModel:
        missing = sorted(set(OPERATIONS) - set(self.operations))
        unknown = sorted(set(self.operations) - set(OPERATIONS))
        if missing or unknown:
            raise ValueError(f"latency model: missing operations {missing}, unknown operations {unknown}")
        return self

    def typical(self, operation: str) -> float:
        return self.operations[operation].typical

    def draw(self, operation: str, rng: random.Random) -> float:
        return self.operations[operation].draw(rng)

    def with_slower_promotion(self, factor: float) -> LatencyModel:
        """Every database promotion ``factor`` times slower (the benchmark's stress runs)."""
        operations = {
            name: distribution.scaled(factor) if name in PROMOTIONS else distribution
            for name, distribution in self.operations.items()
        }
        return LatencyModel(operations=operations)


def load_model(path: Path = MODEL_PATH) -> LatencyModel:
    """The model of ``drill/latency_model.toml`` (each table one operation)."""
    tables = tomllib.loads(path.read_text(encoding="utf-8"))
    return LatencyModel(operations={name: Distribution.model_validate(table) for name, table in tables.items()})


def promotion_operation(config: EnvironmentConfig, *, primary_reachable: bool) -> str:
    """Which promotion a failover of this environment waits for."""
    if config.database.engine == "aurora-postgres":
        return "aurora_global_switchover" if primary_reachable else "aurora_global_failover"
    return "rds_replica_promotion"


def route53_detection_seconds(config: EnvironmentConfig, aggregation: float) -> float:
    """From a region going dark to Route 53's checkers calling it unhealthy: ``failure_threshold``
    consecutive failed checks ``health_check_interval_seconds`` apart, then aggregation."""
    dns = config.dns
    return dns.health_check_failure_threshold * dns.health_check_interval_seconds + aggregation


def traffic_switch_seconds(
    config: EnvironmentConfig, *, state_write: float, aggregation: float, calculated: float, answer_cache: float
) -> float:
    """From the desired-state write to the last client resolving the new region: the
    target's switch check passes ``failure_threshold`` checks (Route 53 uses the same
    threshold both ways), aggregation, the calculated check follows, cached answers expire."""
    return state_write + route53_detection_seconds(config, aggregation) + calculated + answer_cache


def floor_seconds(model: LatencyModel, config: EnvironmentConfig, *, primary_reachable: bool = False) -> float:
    """The physical floor of a warm-standby failover with the model's typical figures:
    detection by Route 53's fast checks + max(database promotion, traffic switch propagation).
    Capacity is not on it: the warm standby serves while it scales (reported separately)."""
    detection = route53_detection_seconds(config, model.typical("route53_aggregation"))
    promotion = model.typical(promotion_operation(config, primary_reachable=primary_reachable))
    switch = traffic_switch_seconds(
        config,
        state_write=model.typical("state_table_write"),
        aggregation=model.typical("route53_aggregation"),
        calculated=model.typical("route53_calculated"),
        answer_cache=model.typical("alias_answer_cache"),
    )
    return detection + max(promotion, switch)
