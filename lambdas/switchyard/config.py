"""Per-environment configuration: one typed, validated model shared by the stacks,
the controller and the drill.

Environments live in ``config/<name>.toml``. Loading validates every field before
anything is synthesized or changed, and a bad file raises :class:`ConfigError` whose
message names the environment, the field and why it is wrong.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

# The commercial partition only: every ARN Switchyard computes is arn:aws:...
REGION_PATTERN = r"^(af|ap|ca|eu|il|me|mx|sa|us)-[a-z]+-[0-9]$"  # ASCII: \d would match any Unicode digit
ENV_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,15}$"
CERTIFICATE_ARN_PATTERN = (
    r"arn:aws:acm:{region}:{account}:certificate/[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}"
)

# DynamoDB multi-Region strong consistency (MRSC): the state table's two replicas and its
# witness must all be regions of ONE of these sets (AWS::DynamoDB::GlobalTable
# GlobalTableWitness, CloudFormation template reference; DESIGN.md).
MRSC_REGION_SETS: dict[str, tuple[str, ...]] = {
    "US": ("us-east-1", "us-east-2", "us-west-2"),
    "EU": ("eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"),
    "AP": ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3"),
}

Region = Annotated[str, Field(pattern=REGION_PATTERN, description="AWS region code, e.g. us-east-1")]
DatabaseEngine = Literal["rds-postgres", "aurora-postgres"]
Mode = Literal["automatic", "manual"]


class ConfigError(ValueError):
    """A configuration that must not be deployed; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def mrsc_region_set(region: str) -> str | None:
    """The name of the MRSC region set ``region`` belongs to, or None outside every set."""
    return next((name for name, members in MRSC_REGION_SETS.items() if region in members), None)


def _allowed_sets() -> str:
    return "; ".join(f"{name}: {', '.join(members)}" for name, members in MRSC_REGION_SETS.items())


class Regions(_Strict):
    """The two regions of the warm-standby pair and the state table's witness. Roles here
    are the *deployed* roles; which region is active at run time lives in the desired-state
    table.

    The witness holds no readable copy of the table: it only votes, so that a write (and a
    strongly consistent read) in either replica region reaches a majority of three while the
    other replica region is unreachable. DynamoDB accepts it only as a third region of the
    replicas' MRSC region set, which is checked here, before synth.
    """

    primary: Region
    standby: Region
    witness: Region = Field(description="the state table's MRSC witness region: a third region of the pair's set")

    @model_validator(mode="after")
    def _distinct(self) -> Regions:
        if self.primary == self.standby:
            raise ValueError(f"standby must differ from primary (both are {self.primary!r})")
        return self

    @model_validator(mode="after")
    def _one_mrsc_region_set(self) -> Regions:
        """Primary, standby and witness: three distinct regions of one MRSC region set."""
        region_set = mrsc_region_set(self.primary)
        if region_set is None:
            raise ValueError(
                f"field 'regions.primary': {self.primary!r} is in no DynamoDB multi-Region strong consistency "
                f"region set, so the state table cannot be strongly consistent there (allowed: {_allowed_sets()})"
            )
        allowed = ", ".join(MRSC_REGION_SETS[region_set])
        if mrsc_region_set(self.standby) != region_set:
            raise ValueError(
                f"field 'regions.standby': {self.standby!r} is not in the primary's MRSC region set "
                f"{region_set} (allowed: {allowed})"
            )
        if self.witness in self.pair:
            raise ValueError(
                f"field 'regions.witness': {self.witness!r} is also the {self._role_name(self.witness)}; the witness "
                f"must be a third region of the {region_set} MRSC region set (allowed: "
                f"{', '.join(r for r in MRSC_REGION_SETS[region_set] if r not in self.pair)})"
            )
        if mrsc_region_set(self.witness) != region_set:
            raise ValueError(
                f"field 'regions.witness': {self.witness!r} is not in the primary's MRSC region set "
                f"{region_set} (allowed: {', '.join(r for r in MRSC_REGION_SETS[region_set] if r not in self.pair)})"
            )
        return self

    def _role_name(self, region: str) -> str:
        return "primary" if region == self.primary else "standby"

    @property
    def pair(self) -> tuple[str, str]:
        return (self.primary, self.standby)

    def other(self, region: str) -> str:
        """The other region of the pair; raises ValueError for a region outside it."""
        if region == self.primary:
            return self.standby
        if region == self.standby:
            return self.primary
        raise ValueError(f"region {region!r} is not one of the configured pair {self.pair}")


class Dns(_Strict):
    hosted_zone_id: str = Field(pattern=r"^Z[A-Z0-9]{5,31}$")
    zone_name: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    record_name: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    ttl_seconds: int = Field(default=60, ge=5, le=300)
    health_check_interval_seconds: Literal[10, 30] = 10
    health_check_failure_threshold: int = Field(default=3, ge=1, le=10)
    certificate_arns: dict[Region, str] = Field(
        description="per region: the ACM certificate (for record_name) of that region's HTTPS listener"
    )

    @model_validator(mode="after")
    def _record_in_zone(self) -> Dns:
        if not self.record_name.endswith("." + self.zone_name):
            raise ValueError(f"record_name {self.record_name!r} is not inside zone {self.zone_name!r}")
        return self


class Capacity(_Strict):
    """Application tier sizes. ``max`` applies to both regions: after a failover the
    standby must be able to carry the primary's load."""

    instance_type: str = Field(default="t3.micro", pattern=r"^[a-z][a-z0-9]*\.[a-z0-9]+$")
    primary_desired: int = Field(ge=1)
    max: int = Field(ge=1, le=1000)
    standby_warm_min: int = Field(ge=0)
    standby_scale_up_target: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Capacity:
        if self.primary_desired > self.max:
            raise ValueError(f"primary_desired ({self.primary_desired}) is above max ({self.max})")
        if self.standby_scale_up_target > self.max:
            raise ValueError(f"standby_scale_up_target ({self.standby_scale_up_target}) is above max ({self.max})")
        if self.standby_warm_min > self.standby_scale_up_target:
            raise ValueError(
                f"standby_warm_min ({self.standby_warm_min}) is above standby_scale_up_target "
                f"({self.standby_scale_up_target})"
            )
        return self


class Database(_Strict):
    engine: DatabaseEngine
    instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    # 17.6: available for both RDS PostgreSQL and Aurora PostgreSQL and not deprecated
    engine_version: str = Field(default="17.6", pattern=r"^\d+(\.\d+)?$")
    database_name: str = Field(default="app", pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$")
    allocated_storage_gib: int = Field(default=20, ge=20, le=65536)
    multi_az: bool = False
    deletion_protection: bool = True
    max_promotion_seconds: int = Field(
        default=1800,
        description="the longest promotion you accept: the runbook waits this long for the target to be ready, "
        "from when the promotion was issued (or the wait began when none was needed), then stops for a human",
    )

    @field_validator("max_promotion_seconds")
    @classmethod
    def _promotion_deadline_fits_the_runbook(cls, value: int) -> int:
        low, high = 60, 3600
        if not low <= value <= high:
            raise ValueError(
                f"max_promotion_seconds must be between {low} and {high} s (got {value}): below {low} s even an "
                f"Aurora global failover may not finish; above {high} s the wait, the one-hour approval pause and "
                "the other steps no longer fit the runbook's two-hour execution timeout"
            )
        return value


# Sub-minute evaluation intervals: each divides the minute the monitor's schedule runs in
# (switchyard.handlers.monitor runs 60 / interval evaluations per scheduled invocation).
SUB_MINUTE_EVALUATION_INTERVALS: tuple[int, ...] = (5, 10, 15, 20, 30)
# The shortest period of an alarm on a standard-resolution metric (the load balancer's and
# RDS's publish once a minute): CloudWatch alarms never follow a sub-minute evaluation.
STANDARD_RESOLUTION_PERIOD_SECONDS = 60
# A health alarm needs at least two breaching minutes (Detection.alarm_evaluation_periods).
MIN_ALARM_BREACHING_PERIODS = 2


class Detection(_Strict):
    """Thresholds of the health decision (see switchyard.decision)."""

    quorum: int = Field(default=2, ge=2, description="independent failing signals needed to fail over")
    fail_after_evaluations: int = Field(default=3, ge=1)
    recover_after_evaluations: int = Field(default=5, ge=1)
    dwell_seconds: int = Field(default=120, ge=0)
    hold_down_seconds: int = Field(default=3600, ge=0)
    evaluation_interval_seconds: int = Field(
        default=10,
        ge=5,
        description="seconds between evaluations: one that divides 60 (run N per minute inside one scheduled "
        "invocation, EventBridge rates being whole minutes) or a whole number of minutes",
    )
    max_data_age_seconds: int = Field(default=300, ge=60, description="older observations count as missing")
    escalate_degraded_after_evaluations: int = Field(
        default=90,
        ge=1,
        description="tell a human once a region stays degraded (failing below quorum) this long: "
        "15 minutes at the default 10 s evaluations",
    )

    @field_validator("evaluation_interval_seconds")
    @classmethod
    def _schedulable(cls, seconds: int) -> int:
        """Sub-minute: the minute's scheduled invocation runs ``60 / seconds`` evaluations, so
        ``seconds`` must divide 60; otherwise EventBridge schedules it in whole minutes."""
        if seconds in SUB_MINUTE_EVALUATION_INTERVALS or seconds % 60 == 0:
            return seconds
        allowed = ", ".join(str(interval) for interval in SUB_MINUTE_EVALUATION_INTERVALS)
        raise ValueError(
            f"{seconds} s is neither one of {allowed} (divides the minute the schedule runs in) "
            "nor a whole number of minutes (a multiple of 60: EventBridge rates are whole minutes)"
        )

    @property
    def evaluations_per_invocation(self) -> int:
        """Evaluations one scheduled (once a minute or slower) invocation of the monitor runs."""
        return max(1, 60 // self.evaluation_interval_seconds)

    @property
    def alarm_period_seconds(self) -> int:
        """The health alarms' period: the evaluation interval, but never below a minute
        (``STANDARD_RESOLUTION_PERIOD_SECONDS``: a 10 s alarm on a once-a-minute metric
        would see missing data in five of six periods)."""
        return max(STANDARD_RESOLUTION_PERIOD_SECONDS, self.evaluation_interval_seconds)

    @property
    def alarm_evaluation_periods(self) -> int:
        """Breaching periods a health alarm needs (``EvaluationPeriods`` = ``DatapointsToAlarm``):
        ``fail_after_evaluations``, but never below ``MIN_ALARM_BREACHING_PERIODS``. A decision on
        one evaluation rests on Route 53's checkers (their own consecutive failures); an alarm is
        a single metric, and one breaching minute of it is a blip."""
        return max(MIN_ALARM_BREACHING_PERIODS, self.fail_after_evaluations)

    @model_validator(mode="after")
    def _hysteresis(self) -> Detection:
        if self.recover_after_evaluations < self.fail_after_evaluations:
            raise ValueError(
                f"recover_after_evaluations ({self.recover_after_evaluations}) must be at least "
                f"fail_after_evaluations ({self.fail_after_evaluations}) so recovery is harder than failure"
            )
        return self


class Approvals(_Strict):
    """How long a human approval holds (switchyard.runbook_state.approval_problems)."""

    max_age_seconds: int = Field(
        default=900,
        ge=60,
        le=3600,
        description="an approval older than this when promote runs is refused (the lag it accepted may be stale); "
        "at most the approval task's one-hour timeout",
    )


# S3 Replication Time Control's SLA: 99.99% of objects within 15 minutes.
S3_RTC_SLA_SECONDS = 900


class Storage(_Strict):
    """The data buckets: standby expiry, and the replication health preflight gates on."""

    standby_noncurrent_expiry_days: int = Field(default=30, ge=1)
    standby_expiry_days: int | None = Field(default=None, ge=1)
    replication_time_control: bool = Field(
        default=True,
        description="S3 Replication Time Control and replication metrics on both replication rules: the "
        "latency and pending-operations metrics preflight gates on (billed per GB replicated and as "
        "CloudWatch metrics); off, the gate reads 'unknown'",
    )
    max_replication_latency_seconds: int = Field(
        default=S3_RTC_SLA_SECONDS,
        ge=1,
        le=86400,
        description="ReplicationLatency above this (into the target's bucket) blocks a switchover or failback",
    )
    max_pending_replication_operations: int = Field(
        default=1000,
        ge=0,
        description="OperationsPendingReplication above this (into the target's bucket) blocks a switchover "
        "or failback",
    )


class Backup(_Strict):
    """AWS Backup of each region's database, copied into the other region's vault."""

    frequency_hours: Literal[1, 2, 3, 4, 6, 8, 12, 24] = Field(
        default=24, description="hours between scheduled backups (a divisor of the day)"
    )
    retention_days: int = Field(default=35, ge=1, le=36500, description="how long a recovery point is kept")
    max_recovery_point_age_hours: int = Field(
        default=26,
        ge=1,
        description="the newest recovery point of the active database in the target region's vault older "
        "than this: a warning for a failover or switchover, a blocker for a failback",
    )

    @model_validator(mode="after")
    def _bounds(self) -> Backup:
        if self.max_recovery_point_age_hours <= self.frequency_hours:
            raise ValueError(
                f"field 'backup.max_recovery_point_age_hours': {self.max_recovery_point_age_hours} h must exceed "
                f"frequency_hours ({self.frequency_hours} h): a backup and its cross-region copy take time, so "
                "every recovery point would otherwise read as stale just before the next one"
            )
        if self.max_recovery_point_age_hours > self.retention_days * 24:
            raise ValueError(
                f"field 'backup.max_recovery_point_age_hours': {self.max_recovery_point_age_hours} h is longer "
                f"than retention_days ({self.retention_days} d): the recovery point would expire before it is stale"
            )
        return self


# The traffic switch's reserved concurrency is sized for Route 53's checkers (docs/architecture.md,
# "Traffic switch"). AWS does not publish how many checkers check one endpoint (8 checker regions
# by default; third-party material says about 15 checkers): sized for twice that, pessimistically.
ROUTE53_CHECKERS_SIZED_FOR = 32
# A checker counts an answer only when its status arrives within 2 s of connecting (Route 53
# Developer Guide, "How Amazon Route 53 determines whether a health check is healthy").
ROUTE53_ANSWER_SECONDS = 2
# Reserving more takes account concurrency from the runbook's pool and only raises what a flood
# costs; 100 is three times the largest burst the checkers can send at once.
MAX_SWITCH_RESERVED_CONCURRENCY = 100


def switch_concurrency_floor(health_check_interval_seconds: int) -> int:
    """The concurrent executions the checkers need when every answer takes the full 2 s they
    wait: ``ROUTE53_CHECKERS_SIZED_FOR`` requests per interval, each busy for 2 s (rounded up)."""
    busy = ROUTE53_CHECKERS_SIZED_FOR * ROUTE53_ANSWER_SECONDS
    return -(-busy // health_check_interval_seconds)


class TrafficSwitch(_Strict):
    """The traffic switch's public function URL (Route 53's checkers cannot sign requests)."""

    reserved_concurrency: int = Field(
        default=20,
        description="concurrent executions reserved for the switch: its share of the account's concurrency, and "
        "the most a flood of its public URL can use (the rest of the region's functions never lose theirs)",
    )

    @field_validator("reserved_concurrency")
    @classmethod
    def _a_cap_not_a_pool(cls, value: int) -> int:
        if not 1 <= value <= MAX_SWITCH_RESERVED_CONCURRENCY:
            raise ValueError(
                f"{value} is outside 1..{MAX_SWITCH_RESERVED_CONCURRENCY}: 0 would throttle every request (the "
                f"region would read as off), and more than {MAX_SWITCH_RESERVED_CONCURRENCY} takes concurrency "
                "from the runbook's functions and only raises what a flood of the public URL can use"
            )
        return value


class Network(_Strict):
    primary_cidr: str = Field(default="10.10.0.0/16", pattern=r"^\d+\.\d+\.\d+\.\d+/\d+$")
    standby_cidr: str = Field(default="10.20.0.0/16", pattern=r"^\d+\.\d+\.\d+\.\d+/\d+$")
    max_azs: int = Field(default=2, ge=2, le=3)

    @model_validator(mode="after")
    def _distinct(self) -> Network:
        if self.primary_cidr == self.standby_cidr:
            raise ValueError("primary_cidr and standby_cidr must differ")
        return self


HEALTH_PATH_PATTERN = r"^/[A-Za-z0-9._~/-]{0,254}$"
PLACEHOLDER_PORT = 80
PLACEHOLDER_SHALLOW_HEALTH_PATH = "/health"
PLACEHOLDER_DEEP_HEALTH_PATH = "/health/deep"


class SteadyState(_Strict):
    """The application's steady-state signal: the share of its requests that succeed, from two
    counts the application publishes to CloudWatch (e.g. with the embedded metric format), with
    dimensions ``Application`` (the environment's application) and ``Region``.

    A health signal of its own (the ``steady-state`` alarm): it sees what the health paths do
    not, such as requests that fail while every check answers. An idle region (fewer than
    ``min_requests_per_minute``, as the standby is before a failover) never breaches it."""

    namespace: str = Field(default="Switchyard/Workload", pattern=r"^[A-Za-z0-9_./#:-]{1,255}$")
    succeeded_metric: str = Field(default="RequestsSucceeded", pattern=r"^[A-Za-z0-9_.-]{1,255}$")
    failed_metric: str = Field(default="RequestsFailed", pattern=r"^[A-Za-z0-9_.-]{1,255}$")
    min_success_percent: float = Field(
        default=95.0, ge=50.0, le=100.0, description="below this share of successful requests the signal fails"
    )
    min_requests_per_minute: int = Field(
        default=20, ge=1, description="fewer requests in a minute are too few to judge: the signal does not fail"
    )

    @model_validator(mode="after")
    def _two_metrics(self) -> SteadyState:
        if self.succeeded_metric == self.failed_metric:
            raise ValueError(
                f"field 'workload.steady_state.failed_metric': {self.failed_metric!r} is also the succeeded metric"
            )
        return self


class Workload(_Strict):
    """The application the environment runs: its machine image per region, its user data,
    the port it serves on behind the load balancer, and its two health paths.

    - ``shallow_health_path``: "this instance's process answers". The load balancer's
      target group checks it, so a failing dependency never makes the Auto Scaling group
      replace healthy instances.
    - ``deep_health_path``: "this region can serve requests": the app checks its own
      dependencies (its database, from its region) and answers 5xx when one fails. Route 53's
      check of the region's load balancer and the monitor's probe request it.

    Left out entirely, the environment runs the placeholder: the latest Amazon Linux 2023
    image with user data that serves both paths (the deep one checks the region's database).
    """

    image_ids: dict[Region, str] | None = Field(
        default=None,
        description="per region of the pair: the AMI id to launch (AMIs are regional; copy the image first)",
    )
    image_parameter: str | None = Field(
        default=None,
        pattern=r"^/[A-Za-z0-9_.\-/]{1,1000}$",
        description="an SSM parameter (the same name in each region) that holds the AMI id to launch",
    )
    user_data_file: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.\-/]{1,200}$",
        description="a script run at instance boot, relative to the config directory (checked when loaded)",
    )
    port: int = Field(default=PLACEHOLDER_PORT, ge=1, le=65535, description="where instances serve (HTTP)")
    shallow_health_path: str = Field(default=PLACEHOLDER_SHALLOW_HEALTH_PATH, pattern=HEALTH_PATH_PATTERN)
    deep_health_path: str = Field(default=PLACEHOLDER_DEEP_HEALTH_PATH, pattern=HEALTH_PATH_PATTERN)
    steady_state: SteadyState = SteadyState()

    @field_validator("image_ids")
    @classmethod
    def _ami_ids(cls, image_ids: dict[str, str] | None) -> dict[str, str] | None:
        for region, image_id in (image_ids or {}).items():
            if not re.fullmatch(r"ami-([0-9a-f]{8}|[0-9a-f]{17})", image_id):
                raise ValueError(f"{region}: {image_id!r} is not an AMI id (ami- and 8 or 17 hex digits)")
        return image_ids

    @field_validator("user_data_file")
    @classmethod
    def _inside_config_dir(cls, path: str | None) -> str | None:
        if path is not None and (path.startswith("/") or ".." in path.split("/")):
            raise ValueError(f"{path!r} must be a relative path inside the config directory (no '..', not absolute)")
        return path

    @model_validator(mode="after")
    def _one_image_source(self) -> Workload:
        if self.image_ids is not None and self.image_parameter is not None:
            raise ValueError("field 'workload': set image_ids or image_parameter, not both")
        if self.shallow_health_path == self.deep_health_path:
            raise ValueError(
                f"field 'workload.deep_health_path': {self.deep_health_path!r} is also the shallow path; the deep "
                "check must be a different path (the load balancer's check must not fail with a dependency)"
            )
        return self

    @property
    def placeholder(self) -> bool:
        """No image and no user data of the team's own: the stacks deploy the placeholder."""
        return self.image_ids is None and self.image_parameter is None and self.user_data_file is None


class EnvironmentConfig(_Strict):
    """One deployable environment of one application."""

    name: str = Field(pattern=ENV_NAME_PATTERN)
    application: str = Field(default="app", pattern=r"^[a-z][a-z0-9-]{1,20}$")
    account: str = Field(pattern=r"^\d{12}$")
    regions: Regions
    dns: Dns
    capacity: Capacity
    database: Database
    rpo_budget_seconds: int = Field(ge=0, le=86400)
    detection: Detection = Detection()
    approvals: Approvals = Approvals()
    mode: Mode = "manual"
    notification_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    storage: Storage = Storage()
    backup: Backup = Backup()
    network: Network = Network()
    workload: Workload = Workload()
    traffic_switch: TrafficSwitch = TrafficSwitch()

    @model_validator(mode="after")
    def _images_for_the_pair(self) -> EnvironmentConfig:
        """An AMI id for exactly the two regions of the pair: the standby launches its own copy."""
        image_ids = self.workload.image_ids
        if image_ids is not None and set(image_ids) != set(self.regions.pair):
            raise ValueError(
                f"field 'workload.image_ids': needs exactly the regions {list(self.regions.pair)} (an AMI is "
                f"regional: copy the image to the standby region), got {sorted(image_ids)}"
            )
        return self

    @model_validator(mode="after")
    def _certificates(self) -> EnvironmentConfig:
        """One ACM certificate per region of the pair, in that region and this account
        (a load balancer can only use a certificate of its own region)."""
        arns = self.dns.certificate_arns
        if set(arns) != set(self.regions.pair):
            raise ValueError(
                f"field 'dns.certificate_arns': needs exactly the regions {list(self.regions.pair)}, got {sorted(arns)}"
            )
        for region, arn in arns.items():
            if not re.fullmatch(CERTIFICATE_ARN_PATTERN.format(region=region, account=self.account), arn):
                raise ValueError(
                    f"field 'dns.certificate_arns.{region}': {arn!r} is not an ACM certificate ARN of account "
                    f"{self.account} in {region} (arn:aws:acm:{region}:{self.account}:certificate/<id>)"
                )
        return self

    @model_validator(mode="after")
    def _switch_serves_the_checkers(self) -> EnvironmentConfig:
        """Enough reserved concurrency for Route 53's checkers at the configured interval: fewer
        would throttle them in ordinary operation and make the active region read as off."""
        interval = self.dns.health_check_interval_seconds
        floor = switch_concurrency_floor(interval)
        if self.traffic_switch.reserved_concurrency < floor:
            raise ValueError(
                f"field 'traffic_switch.reserved_concurrency': {self.traffic_switch.reserved_concurrency} is below "
                f"the {floor} Route 53's checkers need at dns.health_check_interval_seconds = {interval} "
                f"({ROUTE53_CHECKERS_SIZED_FOR} checkers, each answer up to {ROUTE53_ANSWER_SECONDS} s)"
            )
        return self

    def role_of(self, region: str) -> Literal["primary", "standby"]:
        """The deployed role of ``region``; raises ValueError outside the pair."""
        self.regions.other(region)
        return "primary" if region == self.regions.primary else "standby"


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(file)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "required field is missing"
        # a whole-model check names its own field ("field 'dns.certificate_arns': ...",
        # "field 'regions.witness': ...", raised by the model at "regions")
        lines.append(message if message.startswith("field '") else f"field '{field}': {message}")
    return "; ".join(lines)


def available_environments(config_dir: Path = DEFAULT_CONFIG_DIR) -> list[str]:
    return sorted(path.stem for path in config_dir.glob("*.toml"))


def parse_environment(name: str, raw: dict[str, object], source: str = "<memory>") -> EnvironmentConfig:
    """Validate one environment's raw mapping; errors name the environment and field."""
    if "name" in raw and raw["name"] != name:
        raise ConfigError(f"environment {name!r} ({source}): field 'name': says {raw['name']!r}, expected {name!r}")
    try:
        return EnvironmentConfig.model_validate({**raw, "name": name})
    except ValidationError as exc:
        raise ConfigError(f"environment {name!r} ({source}): {_describe(exc)}") from exc


def load_environment(name: str, config_dir: Path = DEFAULT_CONFIG_DIR) -> EnvironmentConfig:
    """Load and validate ``config/<name>.toml``."""
    if not re.match(ENV_NAME_PATTERN, name or ""):
        raise ConfigError(f"environment {name!r}: not a valid environment name (lowercase letters, digits, '-')")
    path = config_dir / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(available_environments(config_dir)) or "none"
        raise ConfigError(f"environment {name!r}: unknown environment (no {path.name}; known: {known})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"environment {name!r} ({path.name}): not valid TOML: {exc}") from exc
    config = parse_environment(name, raw, source=path.name)
    user_data = config.workload.user_data_file
    if user_data is not None and not (config_dir / user_data).is_file():
        raise ConfigError(
            f"environment {name!r} ({path.name}): field 'workload.user_data_file': no file {user_data!r} "
            f"in {config_dir}"
        )
    return config


def user_data_script(config: EnvironmentConfig, config_dir: Path = DEFAULT_CONFIG_DIR) -> str | None:
    """The team's boot script (``workload.user_data_file``), or None for the placeholder's."""
    path = config.workload.user_data_file
    if path is None:
        return None
    try:
        return (config_dir / path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"environment {config.name!r}: field 'workload.user_data_file': {exc}") from exc
