"""GIVEN an environment file WHEN it is loaded THEN it is valid or the error names the field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from switchyard.config import (
    DEFAULT_CONFIG_DIR,
    ConfigError,
    Detection,
    available_environments,
    load_environment,
    parse_environment,
)


def _raw(name: str = "dev") -> dict:
    return tomllib.loads((DEFAULT_CONFIG_DIR / f"{name}.toml").read_text())


def test_shipped_environments_load() -> None:
    assert {"dev", "prod"} <= set(available_environments())
    dev = load_environment("dev")
    prod = load_environment("prod")
    assert dev.database.engine == "rds-postgres"
    assert prod.database.engine == "aurora-postgres"
    assert dev.regions.primary != dev.regions.standby


def test_unknown_environment_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"environment 'qa': unknown environment .*known: .*dev"):
        load_environment("qa")


def test_environment_name_must_be_safe() -> None:
    with pytest.raises(ConfigError, match="not a valid environment name"):
        load_environment("../etc")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["regions"].update(standby=r["regions"]["primary"]), r"field 'regions': standby must differ"),
        (lambda r: r["regions"].update(standby="mars-1"), r"field 'regions.standby': String should match"),
        (lambda r: r["capacity"].update(standby_scale_up_target=99), r"field 'capacity': standby_scale_up_target"),
        (lambda r: r["capacity"].update(standby_warm_min=3), r"standby_warm_min \(3\) is above"),
        (lambda r: r["database"].update(engine="mysql"), r"field 'database.engine'"),
        (lambda r: r.update(account="12345"), r"field 'account'"),
        (lambda r: r.update(colour="blue"), r"field 'colour': unknown field"),
        (lambda r: r["dns"].update(record_name="orders.other.org"), r"not inside zone"),
        (lambda r: r["detection"].update(quorum=1), r"field 'detection.quorum'"),
        (
            lambda r: r["detection"].update(evaluation_interval_seconds=90),
            r"evaluation_interval_seconds'.*multiple of 60",
        ),
        (
            lambda r: r["detection"].update(evaluation_interval_seconds=45),
            r"field 'detection.evaluation_interval_seconds': 45 s is neither one of 5, 10, 15, 20, 30",
        ),
        (
            lambda r: r["detection"].update(evaluation_interval_seconds=7),
            r"field 'detection.evaluation_interval_seconds': 7 s is neither one of 5, 10, 15, 20, 30",
        ),
        (
            lambda r: r["detection"].update(evaluation_interval_seconds=0),
            r"field 'detection.evaluation_interval_seconds': Input should be greater than or equal to 5",
        ),
        (lambda r: r["detection"].update(max_data_age_seconds=30), r"field 'detection.max_data_age_seconds'"),
        (lambda r: r["regions"].update(standby="us-gov-west-1"), r"field 'regions.standby': String should match"),
        (lambda r: r["regions"].update(standby="cn-north-1"), r"field 'regions.standby': String should match"),
        (
            lambda r: r["detection"].update(fail_after_evaluations=3, recover_after_evaluations=2),
            r"recovery is harder than failure",
        ),
        (lambda r: r.pop("notification_email"), r"field 'notification_email': required field is missing"),
        (lambda r: r["dns"].pop("certificate_arns"), r"field 'dns.certificate_arns': required field is missing"),
        (
            lambda r: r["dns"]["certificate_arns"].pop("us-west-2"),
            r"field 'dns.certificate_arns': needs exactly the regions \['us-east-1', 'us-west-2'\]",
        ),
        (
            lambda r: r["dns"]["certificate_arns"].update({"us-west-2": r["dns"]["certificate_arns"]["us-east-1"]}),
            r"field 'dns.certificate_arns.us-west-2': .* not an ACM certificate ARN of account 111111111111 in us-west",
        ),
        (
            lambda r: r["dns"]["certificate_arns"].update(
                {"us-east-1": r["dns"]["certificate_arns"]["us-east-1"].replace("111111111111", "999999999999")}
            ),
            r"field 'dns.certificate_arns.us-east-1': .* of account 111111111111",
        ),
    ],
)
def test_bad_configuration_names_environment_and_field(mutate, message: str) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(ConfigError, match=r"environment 'dev' \(test\.toml\): .*" + message):
        parse_environment("dev", raw, source="test.toml")


@pytest.mark.parametrize("seconds", [5, 10, 15, 20, 30, 60, 120, 300])
def test_evaluation_intervals_that_divide_the_minute_or_are_whole_minutes_load(seconds: int) -> None:
    # GIVEN an interval that divides the minute (run N per scheduled invocation) or is whole minutes
    raw = _raw()
    raw["detection"]["evaluation_interval_seconds"] = seconds
    # WHEN loaded THEN it is accepted and the alarms' period never drops below a minute
    detection = parse_environment("dev", raw, source="test.toml").detection
    assert detection.evaluation_interval_seconds == seconds
    assert detection.alarm_period_seconds == max(60, seconds)
    assert detection.evaluations_per_invocation == max(1, 60 // seconds)


def test_evaluations_default_to_every_ten_seconds_and_the_shipped_environments_choose_five() -> None:
    # GIVEN a detection section that does not set the interval  THEN it is 10 s
    assert Detection().evaluation_interval_seconds == 10
    # AND the shipped environments evaluate every 5 s (tuned with make bench)
    assert load_environment("dev").detection.evaluation_interval_seconds == 5
    assert load_environment("prod").detection.evaluation_interval_seconds == 5


def test_name_inside_file_must_match_file(tmp_path: Path) -> None:
    (tmp_path / "staging.toml").write_text('name = "prod"\n' + (DEFAULT_CONFIG_DIR / "dev.toml").read_text())
    with pytest.raises(ConfigError, match=r"field 'name': says 'prod', expected 'staging'"):
        load_environment("staging", tmp_path)


def test_other_region_rejects_regions_outside_the_pair() -> None:
    dev = load_environment("dev")
    assert dev.regions.other(dev.regions.primary) == dev.regions.standby
    with pytest.raises(ValueError, match="not one of the configured pair"):
        dev.regions.other("ap-south-1")


# -- the state table's MRSC regions (primary, standby, witness: three of one region set) ----
@pytest.mark.parametrize(
    ("regions", "message"),
    [
        # the witness is required: without it the table cannot be strongly consistent with two replicas
        ({"primary": "us-east-1", "standby": "us-west-2"}, r"field 'regions\.witness': required field is missing"),
        # the witness must be a third region, not one of the replicas
        (
            {"primary": "us-east-1", "standby": "us-west-2", "witness": "us-east-1"},
            r"field 'regions\.witness': 'us-east-1' is also the primary; .*US MRSC region set \(allowed: us-east-2\)",
        ),
        (
            {"primary": "us-east-1", "standby": "us-west-2", "witness": "us-west-2"},
            r"field 'regions\.witness': 'us-west-2' is also the standby; .*\(allowed: us-east-2\)",
        ),
        # the witness must be in the replicas' set
        (
            {"primary": "us-east-1", "standby": "us-west-2", "witness": "eu-west-3"},
            r"field 'regions\.witness': 'eu-west-3' is not in the primary's MRSC region set US \(allowed: us-east-2\)",
        ),
        # the standby must be in the primary's set (a US + EU pair cannot share an MRSC table)
        (
            {"primary": "us-east-1", "standby": "eu-west-1", "witness": "us-east-2"},
            r"field 'regions\.standby': 'eu-west-1' is not in the primary's MRSC region set US "
            r"\(allowed: us-east-1, us-east-2, us-west-2\)",
        ),
        # the primary must be in some set at all
        (
            {"primary": "ca-central-1", "standby": "us-west-2", "witness": "us-east-2"},
            r"field 'regions\.primary': 'ca-central-1' is in no DynamoDB multi-Region strong consistency region set"
            r".*\(allowed: US: us-east-1, us-east-2, us-west-2; EU: .*; AP: ",
        ),
        # a witness that is no region code at all fails on the pattern, like the other regions
        (
            {"primary": "us-east-1", "standby": "us-west-2", "witness": "ohio"},
            r"field 'regions\.witness': String should match",
        ),
    ],
)
def test_state_table_regions_must_be_three_regions_of_one_mrsc_set(regions: dict[str, str], message: str) -> None:
    # GIVEN the dev environment with these regions (certificates follow the pair, so only regions are wrong)
    raw = _raw()
    raw["regions"] = regions
    raw["dns"]["certificate_arns"] = {
        region: f"arn:aws:acm:{region}:111111111111:certificate/11111111-1111-4111-8111-111111111111"
        for region in (regions["primary"], regions["standby"])
    }

    # WHEN it is parsed THEN the error names the environment, the field and the allowed regions
    with pytest.raises(ConfigError, match=r"environment 'dev' \(test\.toml\): .*" + message):
        parse_environment("dev", raw, source="test.toml")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("dev", ("us-east-1", "us-west-2", "us-east-2")), ("prod", ("eu-west-1", "eu-central-1", "eu-west-3"))],
)
def test_shipped_environments_name_a_witness_of_their_pairs_set(name: str, expected: tuple[str, str, str]) -> None:
    # GIVEN a shipped environment WHEN it is loaded
    regions = load_environment(name).regions

    # THEN its state table spans the pair plus a witness, three regions of one MRSC set
    assert (regions.primary, regions.standby, regions.witness) == expected


# -- the traffic switch's reserved concurrency ([traffic_switch]) ------------------------------
@pytest.mark.parametrize(
    ("reserved", "message"),
    [
        (0, r"field 'traffic_switch\.reserved_concurrency': 0 is outside 1\.\.100: 0 would throttle every request"),
        (101, r"field 'traffic_switch\.reserved_concurrency': 101 is outside 1\.\.100: .*takes concurrency"),
        ("many", r"field 'traffic_switch\.reserved_concurrency': Input should be a valid integer"),
        (
            6,
            r"field 'traffic_switch\.reserved_concurrency': 6 is below the 7 Route 53's checkers need at "
            r"dns\.health_check_interval_seconds = 10 \(32 checkers, each answer up to 2 s\)",
        ),
    ],
)
def test_a_reservation_outside_what_the_checkers_need_and_the_account_can_spare_is_refused(
    reserved: object, message: str
) -> None:
    # GIVEN dev (checks every 10 s) with this reservation for the switch
    raw = _raw()
    raw["traffic_switch"] = {"reserved_concurrency": reserved}
    # WHEN it is parsed THEN the error names the environment, the field and why
    with pytest.raises(ConfigError, match=r"environment 'dev' \(test\.toml\): .*" + message):
        parse_environment("dev", raw, source="test.toml")


@pytest.mark.parametrize(("interval", "floor"), [(10, 7), (30, 3)])
def test_the_smallest_reservation_follows_the_health_check_interval(interval: int, floor: int) -> None:
    # GIVEN checks every `interval` seconds: 32 checkers, each answer busy for up to 2 s
    raw = _raw()
    raw["dns"]["health_check_interval_seconds"] = interval
    # WHEN the reservation is exactly the floor THEN it loads; one less is refused
    raw["traffic_switch"] = {"reserved_concurrency": floor}
    assert parse_environment("dev", raw, source="test.toml").traffic_switch.reserved_concurrency == floor
    raw["traffic_switch"] = {"reserved_concurrency": floor - 1}
    with pytest.raises(ConfigError, match=rf"{floor - 1} is below the {floor} Route 53's checkers need"):
        parse_environment("dev", raw, source="test.toml")


def test_the_switch_reserves_twenty_by_default_and_in_every_shipped_environment() -> None:
    # GIVEN dev without a [traffic_switch] section  THEN the switch reserves 20
    raw = _raw()
    raw.pop("traffic_switch", None)
    assert parse_environment("dev", raw, source="test.toml").traffic_switch.reserved_concurrency == 20
    # AND every shipped environment sets its reservation on purpose (the file names it)
    for name in available_environments():
        assert _raw(name)["traffic_switch"]["reserved_concurrency"] == 20, name
