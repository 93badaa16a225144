"""The projected production timings follow the latency model and the runbook's shape."""

from __future__ import annotations

from drill.latency import load_model, project
from switchyard.config import EnvironmentConfig


def test_model_file_loads_with_every_figure() -> None:
    model = load_model()
    assert model.rds_replica_promotion_seconds > model.aurora_global_failover_seconds > 0


def test_parallel_runbook_is_faster_than_sequential(dev_config: EnvironmentConfig) -> None:
    projection = project(load_model(), dev_config, monitor_detection_seconds=180, primary_reachable=False)
    assert projection.runbook_seconds < projection.sequential_runbook_seconds
    assert projection.parallel_speedup > 1.0


def test_rto_adds_detection_runbook_and_traffic(dev_config: EnvironmentConfig) -> None:
    projection = project(load_model(), dev_config, monitor_detection_seconds=180, primary_reachable=False)
    total = projection.detection_seconds + projection.runbook_seconds + projection.traffic_seconds
    assert projection.rto_seconds == total
    assert projection.detection_seconds > 180  # the signal itself takes time to propagate


def test_aurora_failover_projects_faster_than_rds_promotion(
    dev_config: EnvironmentConfig, prod_config: EnvironmentConfig
) -> None:
    model = load_model()
    rds = project(model, dev_config, monitor_detection_seconds=0, primary_reachable=False)
    aurora = project(model, prod_config, monitor_detection_seconds=0, primary_reachable=False)
    assert aurora.breakdown["database_promotion"] < rds.breakdown["database_promotion"]


def test_endpoint_switch_beats_alarm_switch(dev_config: EnvironmentConfig) -> None:
    projection = project(load_model(), dev_config, monitor_detection_seconds=0, primary_reachable=True)
    assert projection.breakdown["traffic_switch"] < projection.breakdown["traffic_switch_if_alarm_based"]
