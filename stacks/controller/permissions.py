"""What each controller function and the operators may do, and on which resources.

One entry per handler purpose (monitor, reconciler and every runbook step), plus the
operator access policy. Mutating
actions name exact ARNs; only reads that AWS authorizes solely on ``*`` use a wildcard,
each with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stacks.controller.arns import ControllerArns
from stacks.controller.policy import Permission, key_use
from switchyard.alarms import ALARMS, HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.naming import STEP_NAMES, Names

DESCRIBE_ONLY_ON_STAR = "describe/list calls that AWS authorizes only on '*'; they change nothing"
# The state adapter reads items and writes them conditionally (lock, desired state, audit, monitor memory).
TABLE_WRITE = ("GetItem", "PutItem", "UpdateItem")
TRACING = Permission(
    actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
    resources=("*",),
    wildcard_reason="X-Ray accepts trace segments only on '*' (active tracing, added by Lambda/Step Functions)",
)


@dataclass(frozen=True)
class ControllerResources:
    """The resources one region's controller functions act on."""

    config: EnvironmentConfig
    region: str
    names: Names
    table_name: str
    topic_arn: str
    key_arn: str

    @property
    def arns(self) -> ControllerArns:
        return ControllerArns(self.names)

    @property
    def other_region(self) -> str:
        return self.config.regions.other(self.region)

    # -- building blocks ---------------------------------------------------------------
    def table(self, *actions: str) -> Permission:
        return Permission(
            actions=tuple(f"dynamodb:{action}" for action in actions),
            resources=(self.arns.table(self.region, self.table_name),),
        )

    @property
    def publish_key(self) -> Permission:
        """The topic is encrypted with the region's key; publishers use it through SNS only.
        (The state table uses the AWS-managed DynamoDB key, so table access needs no KMS grant.)"""
        return key_use(self.key_arn, region=self.region, services=("sns",))

    def scale(self, region: str) -> Permission:
        return Permission(
            actions=("autoscaling:SetDesiredCapacity", "autoscaling:UpdateAutoScalingGroup"),
            resources=(self.arns.asg(region),),
            wildcard_reason=(
                f"names exactly the ASG {self.names.asg(region)}; only the generated group id in its ARN is a wildcard"
            ),
        )

    def describe(self, *actions: str) -> Permission:
        return Permission(actions=actions, resources=("*",), wildcard_reason=DESCRIBE_ONLY_ON_STAR)

    @property
    def publish(self) -> Permission:
        return Permission(actions=("sns:Publish",), resources=(self.topic_arn,))

    @property
    def describe_database(self) -> tuple[Permission, ...]:
        """Both regions' database status (by its deterministic names) and replication lag
        (a CloudWatch metric, readable only on '*')."""
        pair = self.config.regions.pair
        if self.config.database.engine == "rds-postgres":
            status = Permission(
                actions=("rds:DescribeDBInstances",), resources=tuple(self.arns.db_instance(region) for region in pair)
            )
        else:
            status = Permission(
                actions=("rds:DescribeGlobalClusters", "rds:DescribeDBClusters"),
                resources=(self.arns.global_cluster, *(self.arns.db_cluster(region) for region in pair)),
            )
        return (status, self.describe("cloudwatch:GetMetricStatistics"))

    @property
    def describe_compute(self) -> Permission:
        return self.describe("autoscaling:DescribeAutoScalingGroups", "elasticloadbalancing:DescribeTargetHealth")

    @property
    def health_check_status(self) -> Permission:
        return self.describe(
            "route53:ListHealthChecks",
            "route53:ListTagsForResources",
            "route53:GetHealthCheck",
            "route53:GetHealthCheckStatus",
        )

    # -- one region's database, per engine -----------------------------------------------
    @property
    def promote_database(self) -> Permission:
        """Promote this region's database: the RDS replica, or the Aurora global cluster
        towards this region's cluster (switchover when planned, failover otherwise)."""
        if self.config.database.engine == "rds-postgres":
            return Permission(actions=("rds:PromoteReadReplica",), resources=(self.arns.db_instance(self.region),))
        return Permission(
            actions=("rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"),
            resources=(
                self.arns.global_cluster,
                *(self.arns.db_cluster(region) for region in self.config.regions.pair),
            ),
        )

    # -- per function ----------------------------------------------------------------------
    def for_purpose(self, purpose: str) -> tuple[Permission, ...]:
        """The permissions of the function serving ``purpose`` (beyond its own log group)."""
        builders: dict[str, Callable[[], tuple[Permission, ...]]] = {
            "monitor": self._monitor,
            "reconciler": self._reconciler,
            "validate": lambda: (self.table("GetItem"),),
            "lock": lambda: (self.table(*TABLE_WRITE),),
            "preflight": self._preflight,
            "fence": self._fence,
            "promote": lambda: (self.promote_database, *self.describe_database),
            "scale_up": lambda: (self.scale(self.region), self.describe_compute),
            "wait_ready": lambda: (*self.describe_database, self.describe_compute),
            "flip": self._flip,
            "verify": lambda: (
                self.table("GetItem"),
                *self.describe_database,
                self.describe_compute,
            ),
            "release": lambda: (self.table(*TABLE_WRITE),),
            "record": lambda: (self.table("GetItem", "PutItem"), self.publish, self.publish_key),
        }
        if purpose not in builders:
            raise KeyError(f"no permissions defined for controller function {purpose!r}")
        return (*builders[purpose](), TRACING)

    @property
    def operator(self) -> tuple[Permission, ...]:
        """Run and watch this region's runbook, answer its approvals, read the state of
        both regions, and release a lock a failed execution kept (the lock item only)."""
        state_machine = self.names.state_machine_arn(self.region)
        return (
            Permission(
                actions=("states:StartExecution", "states:DescribeStateMachine", "states:ListExecutions"),
                resources=(state_machine,),
            ),
            self.describe("states:ListStateMachines"),  # the Step Functions console's list
            Permission(
                actions=(
                    "states:DescribeExecution",
                    "states:DescribeStateMachineForExecution",
                    "states:GetExecutionHistory",
                    "states:StopExecution",
                ),
                resources=(self.arns.state_machine_executions(self.region),),
                wildcard_reason="execution names are chosen per run; the ARN pins this region's runbook",
            ),
            Permission(
                actions=("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"),
                resources=("*",),
                wildcard_reason="task-token calls support no resource-level permissions; the token names the approval",
            ),
            Permission(
                actions=("dynamodb:GetItem", "dynamodb:Query"),
                resources=tuple(self.arns.table(region, self.table_name) for region in self.config.regions.pair),
            ),
            Permission(
                actions=("dynamodb:UpdateItem",),
                resources=tuple(self.arns.table(region, self.table_name) for region in self.config.regions.pair),
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [self.names.lock_key]}},
            ),
            Permission(
                actions=("cloudwatch:DescribeAlarms",),
                resources=tuple(
                    self.arns.alarm(region, alarm) for region in self.config.regions.pair for alarm in ALARMS
                ),
            ),
            *self.describe_database,
            self.describe_compute,
            self.health_check_status,
        )

    def _monitor(self) -> tuple[Permission, ...]:
        return (
            Permission(actions=("states:StartExecution",), resources=(self.names.state_machine_arn(self.region),)),
            Permission(
                actions=("cloudwatch:DescribeAlarms",),
                resources=tuple(self.arns.alarm(self.other_region, alarm) for alarm in HEALTH_SIGNAL_ALARMS),
            ),
            self.health_check_status,
            self.table(*TABLE_WRITE),
            self.publish,
            self.publish_key,
        )

    def _reconciler(self) -> tuple[Permission, ...]:
        """Reads the desired state and the lock; converges only its own region's ASG."""
        return (
            self.table("GetItem"),
            self.scale(self.region),
            self.describe_compute,
        )

    def _preflight(self) -> tuple[Permission, ...]:
        return (
            self.table("GetItem"),
            *self.describe_database,
            self.describe_compute,
            self.health_check_status,
            Permission(
                actions=("s3:GetReplicationConfiguration", "s3:GetBucketVersioning"),
                resources=tuple(self.arns.bucket(region) for region in self.config.regions.pair),
            ),
        )

    def _fence(self) -> tuple[Permission, ...]:
        """Best-effort into the other region: take its application tier to zero."""
        return (
            self.table(*TABLE_WRITE),
            self.scale(self.other_region),
            self.describe_compute,
        )

    def _flip(self) -> tuple[Permission, ...]:
        """The data-plane flip is a write to the local replica; the record edit is the
        best-effort fallback, limited to the application's own record name."""
        return (
            self.table(*TABLE_WRITE),
            *self.describe_database,
            Permission(
                actions=("route53:ChangeResourceRecordSets",),
                resources=(self.arns.hosted_zone,),
                conditions={
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [self.config.dns.record_name],
                    }
                },
            ),
            Permission(actions=("route53:ListResourceRecordSets",), resources=(self.arns.hosted_zone,)),
        )


CONTROLLER_PURPOSES: tuple[str, ...] = ("monitor", "reconciler", *STEP_NAMES)
