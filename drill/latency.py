"""Projected production timings: the drill's measured critical path with each step's
duration replaced by the documented AWS figures in ``drill/latency_model.toml``.

moto answers instantly, so a measured RTO of a few hundred milliseconds says how fast the
controller's own logic is, not how fast a real failover would be. The projection keeps
the runbook's real structure (what runs in parallel, what waits for what) and swaps in
production durations.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from switchyard.config import EnvironmentConfig

MODEL_PATH = Path(__file__).with_name("latency_model.toml")


class LatencyModel(BaseModel):
    """The figures of latency_model.toml; every field is required so a typo fails loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route53_aggregation_seconds: float
    route53_calculated_seconds: float
    cloudwatch_alarm_switch_seconds: float
    dynamodb_global_replication_seconds: float
    rds_replica_promotion_seconds: float
    aurora_global_failover_seconds: float
    aurora_global_switchover_seconds: float
    asg_instance_ready_seconds: float
    step_overhead_seconds: float
    lambda_cold_start_seconds: float
    eventbridge_delivery_seconds: float
    alias_record_ttl_seconds: float
    dark_region_call_timeout_seconds: float


def load_model(path: Path = MODEL_PATH) -> LatencyModel:
    return LatencyModel.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Projection:
    """Projected production seconds, with the parts that add up to them."""

    detection_seconds: float
    runbook_seconds: float
    traffic_seconds: float
    sequential_runbook_seconds: float
    breakdown: dict[str, float]

    @property
    def rto_seconds(self) -> float:
        return self.detection_seconds + self.runbook_seconds + self.traffic_seconds

    @property
    def parallel_speedup(self) -> float:
        return self.sequential_runbook_seconds / self.runbook_seconds if self.runbook_seconds else 1.0


def database_promotion_seconds(model: LatencyModel, *, engine: str, primary_reachable: bool) -> float:
    if engine == "aurora-postgres":
        return model.aurora_global_switchover_seconds if primary_reachable else model.aurora_global_failover_seconds
    return model.rds_replica_promotion_seconds


def switch_seconds(model: LatencyModel, config: EnvironmentConfig) -> float:
    """From the desired-state write to clients resolving the new region: the target's
    switch health check must pass ``failure_threshold`` probes, then the calculated check
    follows, then cached answers expire (the alias record's TTL)."""
    dns = config.dns
    return (
        model.dynamodb_global_replication_seconds
        + dns.health_check_interval_seconds * dns.health_check_failure_threshold
        + model.route53_aggregation_seconds
        + model.route53_calculated_seconds
        + model.alias_record_ttl_seconds
    )


def alarm_switch_seconds(model: LatencyModel, config: EnvironmentConfig) -> float:
    """The same flip through a CloudWatch-alarm health check, for comparison."""
    del config  # the same records; only the switch's health check differs
    return model.cloudwatch_alarm_switch_seconds + model.route53_calculated_seconds + model.alias_record_ttl_seconds


def project(
    model: LatencyModel,
    config: EnvironmentConfig,
    *,
    monitor_detection_seconds: float,
    primary_reachable: bool,
    needs_scale_up: bool = True,
) -> Projection:
    """Project one runbook run. ``monitor_detection_seconds`` is what the drill measured in
    its virtual clock (evaluations x interval, dwell): the production decision logic itself."""
    step = model.step_overhead_seconds
    signal = (
        config.dns.health_check_interval_seconds * config.dns.health_check_failure_threshold
        + model.route53_aggregation_seconds
    )
    detection = signal + monitor_detection_seconds + model.eventbridge_delivery_seconds
    fence = step + (0.0 if primary_reachable else model.dark_region_call_timeout_seconds)
    promotion = database_promotion_seconds(model, engine=config.database.engine, primary_reachable=primary_reachable)
    capacity = model.asg_instance_ready_seconds if needs_scale_up else 0.0
    before = 3 * step + model.lambda_cold_start_seconds  # validate, lock, preflight
    after = 3 * step  # verify, release, record
    # scale_up runs beside fence -> promote; wait_ready waits for whichever finishes last
    parallel_block = max(step, fence + step)
    wait_ready = max(promotion, capacity)
    runbook = before + parallel_block + wait_ready + step + after
    sequential = before + fence + step + promotion + step + capacity + step + after
    traffic = switch_seconds(model, config)
    return Projection(
        detection_seconds=round(detection, 1),
        runbook_seconds=round(runbook, 1),
        traffic_seconds=round(traffic, 1),
        sequential_runbook_seconds=round(sequential, 1),
        breakdown={
            "signal_propagation": signal,
            "monitor_decision": monitor_detection_seconds,
            "fence": fence,
            "database_promotion": promotion,
            "capacity_ready": capacity,
            "traffic_switch": traffic,
            "traffic_switch_if_alarm_based": alarm_switch_seconds(model, config),
        },
    )
