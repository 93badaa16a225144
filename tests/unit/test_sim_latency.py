"""The production latency model: validated figures, seeded draws, the physical floor."""

from __future__ import annotations

import random
import statistics

import pytest
from pydantic import ValidationError

from switchyard.config import EnvironmentConfig
from switchyard_sim.latency import Distribution, LatencyModel, floor_seconds, load_model


def test_every_operation_in_the_drill_model_has_a_source_and_a_sane_shape() -> None:
    model = load_model()

    for name, distribution in model.operations.items():
        assert distribution.source, name
        if distribution.family == "lognormal":
            assert distribution.p95 is not None, name
            assert distribution.p95 >= distribution.typical, name


def test_a_lognormal_draws_around_its_median_and_its_p95() -> None:
    distribution = Distribution(family="lognormal", typical=300, p95=420, source="test")
    rng = random.Random(7)

    draws = sorted(distribution.draw(rng) for _ in range(20_000))

    assert statistics.median(draws) == pytest.approx(300, rel=0.02)
    assert draws[int(0.95 * len(draws))] == pytest.approx(420, rel=0.03)
    assert min(draws) > 0


def test_a_fixed_quantity_never_varies() -> None:
    distribution = Distribution(family="fixed", typical=60, source="test")

    assert {distribution.draw(random.Random(seed)) for seed in range(5)} == {60}


def test_a_p95_below_the_median_is_refused() -> None:
    with pytest.raises(ValidationError, match="p95 >= typical"):
        Distribution(family="lognormal", typical=300, p95=100, source="test")


def test_a_model_missing_an_operation_names_it() -> None:
    operations = dict(load_model().operations)
    del operations["instance_ready"]

    with pytest.raises(ValidationError, match="instance_ready"):
        LatencyModel(operations=operations)


def test_the_floor_is_detection_plus_the_slower_of_promotion_and_traffic_switch(
    dev_config: EnvironmentConfig, prod_config: EnvironmentConfig
) -> None:
    model = load_model()

    # dev: 3 x 10 s checks + 10 s aggregation, then the 300 s RDS promotion outlasts the ~105 s switch
    assert floor_seconds(model, dev_config) == pytest.approx(40 + 300)
    # prod: Aurora fails over in 60 s, so the traffic switch (40 s checks + 5 s calculated + 60 s cache) bounds it
    assert floor_seconds(model, prod_config) == pytest.approx(40 + 0.08 + 40 + 5 + 60)


def test_slower_promotion_scales_only_the_promotions(dev_config: EnvironmentConfig) -> None:
    model = load_model()
    slow = model.with_slower_promotion(3)

    assert slow.typical("rds_replica_promotion") == 900
    assert slow.typical("instance_ready") == model.typical("instance_ready")
    assert floor_seconds(slow, dev_config) == pytest.approx(40 + 900)
