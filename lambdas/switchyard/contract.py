"""The deploy contract: every fact the stacks and the controller must agree on.

Names and ARNs of deployed resources, the state table's key and item keys, the Lambda
environment, handler paths and purposes, the runbook's step names, the endpoints that
Route 53 and the probe check, and the identifiers of health checks and failover records.
The stacks import this module (and the config/model vocabulary) and nothing else from
the controller package; the controller, the drill and the tests read the same values, so
a rename on one side cannot go unnoticed on the other.

Names are deterministic functions of the configuration, so no stack references another:
a failed region's stack outputs are unreadable in an outage, a computed name is not.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard.config import EnvironmentConfig
from switchyard.model import Decision, DesiredState

# -- runbook steps and Lambda functions -------------------------------------------------
STEP_NAMES = (
    "validate",
    "lock",
    "preflight",
    "fence",
    "promote",
    "scale_up",
    "wait_ready",
    "flip",
    "verify",
    "release",
    "record",
    "rejoin",  # prepare-failback only: rebuild the old primary as a replica, wait for its catch-up
)
MONITOR = "monitor"
RECONCILER = "reconciler"
TRAFFIC_SWITCH = "traffic_switch"
CONTROLLER_PURPOSES: tuple[str, ...] = (MONITOR, RECONCILER, *STEP_NAMES)
FUNCTION_PURPOSES: tuple[str, ...] = (*CONTROLLER_PURPOSES, TRAFFIC_SWITCH)
# What the reconciler sends each runbook step function of its region every run (an async
# invoke, switchyard.adapters.functions): the step handler answers it at once, so the step's
# execution environment is warm when a failover needs it (docs/architecture.md).
WARM_UP_EVENT: dict[str, bool] = {"switchyard_warm_up": True}
WARM_UP_FAILED_METRIC = "WarmUpFailed"  # the reconciler's count of step functions it could not warm, per run


@dataclass(frozen=True)
class ReadinessPolling:
    """Bounds of promote's polling inside one invocation while a planned switchover waits
    for the replica to catch up (the state machine retries after it); the promote
    function's timeout covers them."""

    attempts: int = 10
    interval_seconds: float = 5.0


# -- the monitor's cadence (switchyard.handlers.monitor) -----------------------------------
# EventBridge rates are whole minutes: the monitor's schedule invokes it once a minute and a
# sub-minute ``detection.evaluation_interval_seconds`` runs 60 / interval evaluations in it.
MONITOR_SCHEDULE_SECONDS = 60
# What one evaluation may take at worst (its state reads and writes with bounded retries, the
# alarms, the 3 s probe, the 2 s DNS sentinel): the loop starts another evaluation only with
# this much of the invocation left, and the function's timeout leaves it after the last slot.
MONITOR_EVALUATION_RESERVE_SECONDS = 25
MONITOR_TIMEOUT_SECONDS = MONITOR_SCHEDULE_SECONDS + MONITOR_EVALUATION_RESERVE_SECONDS
# Between sub-minute evaluations the monitor writes its region's heartbeat every
# HEARTBEAT_SECONDS while it sleeps, and after its last evaluation keeps doing so until
# HEARTBEAT_OVERLAP_SECONDS past the minute, when the schedule's next invocation has begun
# beating (switchyard.heartbeat.sleep_beating). The RPO gate's margin is this period
# (switchyard.heartbeat.heartbeat_period_seconds): the old primary may have committed writes
# until its next heartbeat was due. A heartbeat write leaves the invocation at least
# HEARTBEAT_WRITE_RESERVE_SECONDS (one write with its bounded retries).
HEARTBEAT_SECONDS = 1
HEARTBEAT_OVERLAP_SECONDS = 10
HEARTBEAT_WRITE_RESERVE_SECONDS = 5


# The runbook's readiness loop: WaitReady checks once, then a Wait state of this many seconds
# (``runbook.asl.json``, PollReadinessAgain) until the target is ready or
# ``database.max_promotion_seconds`` has passed since the promotion was issued.
READINESS_POLL_SECONDS = 5
# Promote's wait for replication-lag evidence (switchyard.steps.gates): when the RPO bound
# is over budget only because the newest lag datapoint predates the old primary's last
# heartbeat, promote answers ``waiting`` (PollPromoteAgain, LAG_EVIDENCE_POLL_SECONDS: the
# promotion starts within it of the datapoint's publication; each poll is one metric read) until
# a datapoint newer than it is published, for at most this long after that heartbeat: the
# minute that holds it ends within 60 s and CloudWatch publishes it a minute or two later.
LAG_EVIDENCE_WAIT_SECONDS = 240
LAG_EVIDENCE_POLL_SECONDS = 2
# prepare-failback's loop (switchyard.steps.rejoin): the rejoin step observes and acts once,
# then a Wait state of REJOIN_POLL_SECONDS (``runbook.asl.json``, PollRejoinAgain) until the
# old primary is a caught-up replica, or REJOIN_DEADLINE_SECONDS after the first check (a
# human re-runs it: the rebuild goes on in AWS), inside the execution's 7,200 s timeout.
REJOIN_POLL_SECONDS = 60
REJOIN_DEADLINE_SECONDS = 6600


def handler_path(purpose: str) -> str:
    """The import path Lambda calls for ``purpose`` (the same path the tests import)."""
    if purpose in STEP_NAMES:
        return f"switchyard.handlers.runbook.{purpose}"
    if purpose in FUNCTION_PURPOSES:
        return f"switchyard.handlers.{purpose}.handler"
    raise KeyError(f"no Switchyard function serves purpose {purpose!r} (known: {', '.join(FUNCTION_PURPOSES)})")


# -- the Lambda environment ---------------------------------------------------------------
CONFIG_VARIABLE = "SWITCHYARD_CONFIG"
REGION_VARIABLE = "AWS_REGION"
SERVICE_NAME = "switchyard"
METRICS_NAMESPACE = "Switchyard"


def lambda_environment(config: EnvironmentConfig) -> dict[str, str]:
    """The environment every Switchyard Lambda function gets: the stacks deploy it and
    the local harness sets it. The region comes from Lambda's own ``AWS_REGION``."""
    return {
        CONFIG_VARIABLE: config.model_dump_json(),
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    }


# -- the data bucket ----------------------------------------------------------------------
# The primary's data bucket's replication rule to the standby's: S3 reports its replication
# metrics (ReplicationLatency, OperationsPendingReplication) under this RuleId.
DATA_REPLICATION_RULE_ID = "to-standby"
# The standby's data bucket's rule back to the primary's (reverse replication, so a failback
# loses no object written while the standby was active); its metrics carry this RuleId.
DATA_REVERSE_REPLICATION_RULE_ID = "to-primary"
# AWS Backup of each region's database: scheduled on the hours congruent to this one modulo
# ``backup.frequency_hours`` (UTC; daily: at this hour), copied into the other region's vault.
BACKUP_START_HOUR_UTC = 3


# -- the state table --------------------------------------------------------------------
STATE_TABLE_KEY = "pk"  # the one (string) partition key; every item is addressed by it alone
DESIRED_STATE_ITEM = "desired"
LOCK_ITEM = "lock"
MONITOR_ITEM = "monitor"
AUDIT_ITEM = "audit"
HEARTBEAT_ITEM = "heartbeat"
PROMOTION_ITEM = "promotion"  # the database promotion issued at one epoch (promote's idempotency record)
TRIGGER_ITEM = "trigger"  # one record per event the monitor received (its EventBridge id)
# A promotion that may have lost acknowledged writes, one per lock epoch: the old primary's
# snapshot (taken before it is stopped or rebuilt) and the operator's acknowledgement, which
# failback waits for. Written by promote before it sends a data-losing promotion.
LOST_WRITES_ITEM = "lost-writes"
# AWS names the snapshot it keeps of an Aurora global writer it demoted after an unplanned
# failover (FailoverGlobalCluster with AllowDataLoss) with this prefix, in the old writer's region.
AURORA_UNPLANNED_FAILOVER_SNAPSHOT_PREFIX = "rds:unplanned-global-failover-"
# Published (count 1) by the monitor, the reconciler and the traffic switch whenever the
# desired-state item is missing or unreadable; the stacks alarm on it. Dimension: Region.
DESIRED_STATE_MISSING_METRIC = "DesiredStateMissing"
# one count (dimension Region) per reconciler run while a fenced region's database may take writes
DATABASE_NOT_FENCED_METRIC = "DatabaseNotFenced"
# The monitor's verdict, one EMF document per evaluation that decided (switchyard.handlers.
# monitor), dimensioned exactly by monitor_metric_dimensions; the dashboard graphs them.
MONITOR_VERDICT_METRIC = "MonitorVerdict"  # MONITOR_VERDICT_VALUES of the decision
MONITOR_FAILING_SIGNALS_METRIC = "MonitorFailingSignals"  # fresh failing sources (quorum counts them)
MONITOR_FAILING_EVALUATIONS_METRIC = "MonitorFailingEvaluations"  # consecutive evaluations with quorum
# evaluations without quorum since the last with it, while a failure episode is open (0 otherwise)
MONITOR_RECOVERING_EVALUATIONS_METRIC = "MonitorRecoveringEvaluations"
MONITOR_VERDICT_VALUES: dict[Decision, int] = {
    Decision.HEALTHY: 0,
    Decision.DEGRADED: 1,
    Decision.FAIL_OVER: 2,
    Decision.BOTH_UNHEALTHY: 3,
}


def monitor_metric_dimensions(config: EnvironmentConfig, *, region: str, watched_region: str) -> dict[str, str]:
    """The dimensions of the monitor's verdict metrics: the environment, the monitor's region
    and the region it evaluated (itself in self-watch)."""
    return {"Environment": config.name, "Region": region, "WatchedRegion": watched_region}


SEEDED_AT = "1970-01-01T00:00:00+00:00"  # the deployment's seed predates every real change
SEEDED_BY = "switchyard-deploy"


def initial_desired_state(config: EnvironmentConfig) -> DesiredState:
    """What the stacks seed on first deploy: the configured primary is active at epoch 0
    (epoch 0 carries no hold-down, see switchyard.decision)."""
    return DesiredState(
        active_region=config.regions.primary,
        epoch=0,
        updated_by=SEEDED_BY,
        reason="initial deployment: the configured primary region is active",
        updated_at=SEEDED_AT,
    )


def desired_state_item(config: EnvironmentConfig, state: DesiredState) -> dict[str, dict[str, str]]:
    """``state`` as the state table's item, in DynamoDB's typed JSON (absent fields omitted)."""
    item = {STATE_TABLE_KEY: {"S": Names(config).desired_state_key}}
    for field, value in state.model_dump().items():
        if value is None:
            continue
        item[field] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
    return item


@dataclass(frozen=True)
class ReplicaLagMetric:
    """The replication lag a replica's engine publishes in ``REPLICA_LAG_NAMESPACE``: RDS
    ``ReplicaLag`` in seconds per instance, Aurora ``AuroraGlobalDBReplicationLag`` in
    milliseconds per cluster."""

    name: str
    dimension: str
    identifier: str
    units_per_second: float  # 1 for RDS, 1000 for Aurora (milliseconds)

    @property
    def unit(self) -> str:
        return "s" if self.units_per_second == 1 else "ms"


REPLICA_LAG_NAMESPACE = "AWS/RDS"


# -- endpoints that Route 53, the load balancer and the probe check ------------------------
@dataclass(frozen=True)
class Endpoint:
    """What a checker requests: scheme, port and path."""

    scheme: str
    port: int
    path: str

    def url(self, host: str) -> str:
        default_port = {"https": 443, "http": 80}[self.scheme]
        port = "" if self.port == default_port else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"


# The load balancer serves HTTPS (an ACM certificate per region from the configuration) and
# redirects HTTP to it. Route 53's check of the load balancer and the monitor's probe of the
# application's record both request ``Names.app_endpoint`` (the workload's deep health path
# over HTTPS), so a change to the listener changes both. The instances serve HTTP on
# ``workload.port``; the target group checks their shallow path.
APP_HTTPS_PORT = 443
APP_HTTP_PORT = 80  # redirected to APP_HTTPS_PORT
SWITCH_ENDPOINT = Endpoint("https", 443, "/")  # the traffic switch's function URL

# Route 53 health checks of one region, by purpose (their ``Name`` tags come from Names).
HEALTH_CHECK_PURPOSES = ("load-balancer", "traffic-switch", "region")
SIGNAL_HEALTH_CHECK = "load-balancer"  # the only check that is a health signal (others follow the switch)
FAILOVER_BY_ROLE = {"primary": "PRIMARY", "standby": "SECONDARY"}

# The tag the stacks put on each region's application ASG (its value: ``Names.asg(region)``).
# The controller's scaling grants require it (``autoscaling:ResourceTag/<this>``), so they reach
# only the group the stack made and tagged, not any group that happens to reuse the name.
APP_TIER_TAG = "switchyard:app-tier"

# Route 53's verdict on a region's load balancer, readable through DNS (the data plane)
# when Route 53's API in us-east-1 is not: per region, a pair of failover A records on
# ``Names.verdict_record(region)``. PRIMARY carries the region's SIGNAL_HEALTH_CHECK and
# answers VERDICT_HEALTHY_ADDRESS; SECONDARY has no check and answers
# VERDICT_UNHEALTHY_ADDRESS, which Route 53 returns whenever the PRIMARY's check is unhealthy.
# Both addresses are TEST-NET-1 (RFC 5737): documentation only, never routable. The short
# TTL bounds how stale a resolver's cached answer can be (see switchyard.adapters.health).
VERDICT_HEALTHY_ADDRESS = "192.0.2.1"
VERDICT_UNHEALTHY_ADDRESS = "192.0.2.2"
VERDICT_ADDRESS_BY_FAILOVER = {"PRIMARY": VERDICT_HEALTHY_ADDRESS, "SECONDARY": VERDICT_UNHEALTHY_ADDRESS}
VERDICT_TTL_SECONDS = 5  # bounds how stale a cached verdict is (the monitor evaluates every 5 s)


@dataclass(frozen=True)
class Names:
    """Every name and ARN Switchyard gives to a resource of one environment."""

    config: EnvironmentConfig

    @property
    def prefix(self) -> str:
        return f"switchyard-{self.config.name}"

    @property
    def account(self) -> str:
        return self.config.account

    # -- stacks ------------------------------------------------------------------------
    def stack(self, kind: str, region: str) -> str:
        return f"{self.prefix}-{kind}-{region}"

    # -- state shared by both regions (DynamoDB global table) --------------------------
    @property
    def state_table(self) -> str:
        return f"{self.prefix}-state"

    def state_table_arn(self, region: str) -> str:
        """The replica of the state table in ``region`` (one name, one ARN per region)."""
        return f"arn:aws:dynamodb:{region}:{self.account}:table/{self.state_table}"

    @property
    def desired_state_key(self) -> str:
        return f"{DESIRED_STATE_ITEM}#{self.config.application}"

    @property
    def lock_key(self) -> str:
        """Partition key of the one runbook lock per application and environment."""
        return f"{LOCK_ITEM}#{self.config.application}"

    def monitor_key(self, region: str) -> str:
        return f"{MONITOR_ITEM}#{self.config.application}#{region}"

    def audit_key(self, execution: str) -> str:
        return f"{AUDIT_ITEM}#{self.config.application}#{execution}"

    def heartbeat_key(self, region: str) -> str:
        return f"{HEARTBEAT_ITEM}#{self.config.application}#{region}"

    def promotion_key(self, epoch: int) -> str:
        """The promotion issued under lock epoch ``epoch`` (at most one per epoch)."""
        return f"{PROMOTION_ITEM}#{self.config.application}#{epoch}"

    def trigger_key(self, region: str, event_id: str) -> str:
        """The event ``event_id`` as ``region``'s monitor received it."""
        return f"{TRIGGER_ITEM}#{self.config.application}#{region}#{event_id}"

    def lost_writes_key(self, epoch: int) -> str:
        """The writes a promotion at lock epoch ``epoch`` may have lost (snapshot, acknowledgement)."""
        return f"{LOST_WRITES_ITEM}#{self.config.application}#{epoch}"

    def lost_writes_snapshot(self, epoch: int) -> str:
        """The manual snapshot of the old primary that preserves epoch ``epoch``'s lost writes
        (an RDS DB snapshot, or the Aurora copy of AWS's unplanned-failover snapshot)."""
        return f"{self.prefix}-{LOST_WRITES_ITEM}-e{epoch}"

    @property
    def lost_writes_snapshot_pattern(self) -> str:
        """Every lost-writes snapshot name (IAM's resource pattern)."""
        return f"{self.prefix}-{LOST_WRITES_ITEM}-e*"

    def item_key_pattern(self, item: str) -> str:
        """Every key of one item kind (``audit``, ``monitor``...), for IAM's ``StringLike``."""
        if item in (DESIRED_STATE_ITEM, LOCK_ITEM):
            return f"{item}#{self.config.application}"
        return f"{item}#{self.config.application}#*"

    # -- per region --------------------------------------------------------------------
    def bucket(self, region: str) -> str:
        return f"{self.prefix}-{self.account}-{region}-data"

    def bucket_arn(self, region: str) -> str:
        return f"arn:aws:s3:::{self.bucket(region)}"

    def replication_rule(self, destination_region: str) -> str:
        """The RuleId of the replication rule that feeds ``destination_region``'s data bucket
        (from the other region's bucket): S3's replication metrics are dimensioned by it."""
        if self.config.role_of(destination_region) == "standby":
            return DATA_REPLICATION_RULE_ID
        return DATA_REVERSE_REPLICATION_RULE_ID

    def replication_role(self, source_region: str) -> str:
        """The role S3 assumes to replicate ``source_region``'s data bucket (the reverse rule's;
        the forward rule's role is generated by the stack)."""
        return f"{self.prefix}-{source_region}-replication"

    def key_alias(self, purpose: str) -> str:
        """A customer-managed key of one region: ``regional`` (database, secrets, logs) or
        ``backup`` (the region's backup vault)."""
        return f"alias/{self.prefix}-{purpose}"

    def backup_vault(self, region: str) -> str:
        """The region's AWS Backup vault: the other region's plan copies its database here."""
        return f"{self.prefix}-{region}-backup"

    def backup_vault_arn(self, region: str) -> str:
        return f"arn:aws:backup:{region}:{self.account}:backup-vault:{self.backup_vault(region)}"

    def backup_plan(self, region: str) -> str:
        """The AWS Backup plan of the database in ``region``."""
        return f"{self.prefix}-{region}-database"

    def backup_role(self, region: str) -> str:
        """The role AWS Backup assumes for the plan of ``region`` (backups and their copies)."""
        return f"{self.prefix}-{region}-backup"

    def database_arn(self, region: str) -> str:
        """The database of ``region`` as AWS Backup selects it: the RDS instance or the Aurora cluster."""
        if self.config.database.engine == "rds-postgres":
            return self.db_instance_arn(region)
        return self.db_cluster_arn(region)

    def asg(self, region: str) -> str:
        return f"{self.prefix}-{region}-app"

    def asg_arn(self, region: str) -> str:
        """The application ASG; its ARN carries a generated id, so that part is a wildcard."""
        return f"arn:aws:autoscaling:{region}:{self.account}:autoScalingGroup:*:autoScalingGroupName/{self.asg(region)}"

    def launch_template(self, region: str) -> str:
        """The application ASG's launch template: the image readiness checks read its ImageId."""
        return f"{self.asg(region)}-template"

    @property
    def db_secret(self) -> str:
        """The database's master secret: one name in both regions (the standby holds the
        primary's replica of it), so each region's instances can read it by name."""
        return f"{self.prefix}-db-master"

    def db_instance(self, region: str) -> str:
        """RDS engine: the instance in ``region`` (primary or its cross-region replica)."""
        return f"{self.prefix}-{region}-db"

    def db_instance_arn(self, region: str) -> str:
        return f"arn:aws:rds:{region}:{self.account}:db:{self.db_instance(region)}"

    def db_cluster(self, region: str) -> str:
        """Aurora engine: the regional cluster in ``region``."""
        return f"{self.prefix}-{region}-cluster"

    def db_cluster_arn(self, region: str) -> str:
        return f"arn:aws:rds:{region}:{self.account}:cluster:{self.db_cluster(region)}"

    def replica_lag_metric(self, region: str) -> ReplicaLagMetric:
        """The lag metric of the configured engine's replica in ``region``."""
        if self.config.database.engine == "aurora-postgres":
            return ReplicaLagMetric(
                "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", self.db_cluster(region), 1000.0
            )
        return ReplicaLagMetric("ReplicaLag", "DBInstanceIdentifier", self.db_instance(region), 1.0)

    def key_alias_arn(self, region: str, purpose: str) -> str:
        """A key of ``region`` by its alias (``key_alias``): a key's id is generated."""
        return f"arn:aws:kms:{region}:{self.account}:{self.key_alias(purpose)}"

    def db_snapshot_arn(self, region: str, name: str) -> str:
        return f"arn:aws:rds:{region}:{self.account}:snapshot:{name}"

    def db_cluster_snapshot_arn(self, region: str, name: str) -> str:
        return f"arn:aws:rds:{region}:{self.account}:cluster-snapshot:{name}"

    @property
    def global_cluster(self) -> str:
        return f"{self.prefix}-global"

    @property
    def global_cluster_arn(self) -> str:
        return f"arn:aws:rds::{self.account}:global-cluster:{self.global_cluster}"

    def topic(self, region: str) -> str:
        return f"{self.prefix}-{region}-notifications"

    def topic_arn(self, region: str) -> str:
        return f"arn:aws:sns:{region}:{self.account}:{self.topic(region)}"

    def state_machine(self, region: str) -> str:
        return f"{self.prefix}-{region}-runbook"

    def state_machine_arn(self, region: str) -> str:
        return f"arn:aws:states:{region}:{self.account}:stateMachine:{self.state_machine(region)}"

    def execution_arn(self, region: str, name: str) -> str:
        """One execution of the region's runbook: unique across regions, so it is the lock's holder."""
        return f"arn:aws:states:{region}:{self.account}:execution:{self.state_machine(region)}:{name}"

    def state_machine_log_group(self, region: str) -> str:
        """The runbook's execution history (Step Functions logs at ALL)."""
        return f"/aws/vendedlogs/states/{self.state_machine(region)}"

    def state_machine_executions_arn(self, region: str) -> str:
        """Every execution of the region's runbook (execution names are chosen per run)."""
        return f"arn:aws:states:{region}:{self.account}:execution:{self.state_machine(region)}:*"

    def function(self, region: str, purpose: str) -> str:
        return f"{self.prefix}-{region}-{purpose.replace('_', '-')}"

    def function_arn(self, region: str, purpose: str) -> str:
        return f"arn:aws:lambda:{region}:{self.account}:function:{self.function(region, purpose)}"

    def function_log_group(self, region: str, purpose: str) -> str:
        return f"/aws/lambda/{self.function(region, purpose)}"

    def alarm(self, region: str, purpose: str) -> str:
        return f"{self.prefix}-{region}-{purpose}"

    def alarm_arn(self, region: str, purpose: str) -> str:
        return f"arn:aws:cloudwatch:{region}:{self.account}:alarm:{self.alarm(region, purpose)}"

    def dashboard(self, region: str) -> str:
        """The region's CloudWatch dashboard (stacks/components/dashboard.py)."""
        return f"{self.prefix}-{region}"

    def default_event_bus_arn(self, region: str) -> str:
        return f"arn:aws:events:{region}:{self.account}:event-bus/default"

    def operator_role(self, region: str) -> str:
        return f"{self.prefix}-{region}-operator"

    # -- DNS ---------------------------------------------------------------------------
    @property
    def hosted_zone_arn(self) -> str:
        return f"arn:aws:route53:::hostedzone/{self.config.dns.hosted_zone_id}"

    def health_check(self, region: str, purpose: str) -> str:
        """``Name`` tag of a Route 53 health check of ``region``: one of HEALTH_CHECK_PURPOSES
        ("region" is the calculated check of the failover record)."""
        if purpose not in HEALTH_CHECK_PURPOSES:
            raise KeyError(f"no health check purpose {purpose!r} (known: {', '.join(HEALTH_CHECK_PURPOSES)})")
        return f"{self.prefix}-{region}-{purpose}"

    def failover_record_set_identifier(self, region: str) -> str:
        return f"{self.prefix}-{region}"

    def verdict_record(self, region: str) -> str:
        """The sentinel name whose answer is Route 53's verdict on ``region``'s load balancer
        (VERDICT_HEALTHY_ADDRESS or VERDICT_UNHEALTHY_ADDRESS), in the configured zone."""
        return f"r53-verdict-{self.config.application}-{region}.{self.config.dns.zone_name}"

    def verdict_record_set_identifier(self, region: str, failover: str) -> str:
        """Set identifier of the sentinel's PRIMARY ("healthy") or SECONDARY ("unhealthy") record."""
        if failover not in VERDICT_ADDRESS_BY_FAILOVER:
            raise KeyError(f"no verdict record {failover!r} (known: {', '.join(VERDICT_ADDRESS_BY_FAILOVER)})")
        return f"{self.prefix}-{region}-verdict-{'healthy' if failover == 'PRIMARY' else 'unhealthy'}"

    @property
    def app_endpoint(self) -> Endpoint:
        """The application's deep health check through its load balancer (HTTPS): what Route
        53's check of each region's load balancer and the monitor's probe request."""
        return Endpoint("https", APP_HTTPS_PORT, self.config.workload.deep_health_path)

    @property
    def probe_url(self) -> str:
        """What the monitor's probe requests: the application's record, as Route 53 checks it."""
        return self.app_endpoint.url(self.config.dns.record_name)

    @property
    def metrics_namespace(self) -> str:
        return METRICS_NAMESPACE
