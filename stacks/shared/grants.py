"""Grants: the permissions Switchyard's principals are built from, scoped to one region.

Each method returns a :class:`~stacks.shared.policy.Permission` naming exact ARNs from the
contract (``switchyard.contract.Names``); a wildcard resource appears only where AWS
leaves no narrower choice, with its reason. Writes to the state table are limited with
``dynamodb:LeadingKeys`` to the items the caller owns. Which function gets which grant is
decided beside the function (``stacks/controller/functions.py``, the traffic switch, the
operator access), so a function and its IAM read together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stacks.shared.encryption import state_machine_key_use
from stacks.shared.policy import Permission, key_use
from stacks.shared.scope import RegionScope
from switchyard.alarms import AlarmSpec
from switchyard.contract import (
    APP_TIER_TAG,
    AURORA_UNPLANNED_FAILOVER_SNAPSHOT_PREFIX,
    STATE_TABLE_KEY,
    STEP_NAMES,
    Names,
)

DESCRIBE_ONLY_ON_STAR = "describe/list calls that AWS authorizes only on '*'; they change nothing"
TABLE_READ = ("dynamodb:GetItem",)
PUT_ITEM = ("dynamodb:PutItem",)  # every write but the lock release is a (conditional) PutItem
UPDATE_ITEM = ("dynamodb:UpdateItem",)

# The top-level attributes each UpdateItem of switchyard.adapters.state names (in its update
# and condition expressions), for ``dynamodb:Attributes``. DynamoDB requires the key attribute
# in the list too ("If you use dynamodb:Attributes, you must specify the names of all of the
# primary key and index key attributes": DynamoDB Developer Guide, "Using IAM policy
# conditions for fine-grained access control", docs.aws.amazon.com/amazondynamodb/latest/
# developerguide/specifying-conditions.html). tests/drill/test_policy_check.py runs each
# adapter call against these grants, so a new attribute in an adapter fails there first.
LOCK_RELEASE_ATTRIBUTES = (STATE_TABLE_KEY, "held", "holder", "released_at")  # release_lock
LOST_WRITES_SNAPSHOT_ATTRIBUTES = (STATE_TABLE_KEY, "snapshot", "snapshot_at")  # record_lost_writes_snapshot
LOST_WRITES_ACKNOWLEDGE_ATTRIBUTES = (  # acknowledge_lost_writes
    STATE_TABLE_KEY,
    "acknowledged_by",
    "acknowledged_at",
    "note",
)
# The record types of the failover records the record edit upserts (stacks.components.failover_record).
FAILOVER_RECORD_TYPES = ("A",)


@dataclass(frozen=True)
class Grants:
    """Permission factories for the principals of one region."""

    scope: RegionScope

    @property
    def _names(self) -> Names:
        return self.scope.names

    def _regions(self, *, both: bool) -> tuple[str, ...]:
        """This region, or both regions of the pair (this one first)."""
        return (self.scope.region, self.scope.other_region) if both else (self.scope.region,)

    # -- state table ---------------------------------------------------------------------
    def read_table(self, *, both_regions: bool = False) -> Permission:
        """Consistent reads of the state table's items in this region's replica (and the
        other region's, for best-effort cross-region checks)."""
        return Permission(
            actions=TABLE_READ,
            resources=tuple(self._names.state_table_arn(region) for region in self._regions(both=both_regions)),
        )

    def write_items(
        self,
        *items: str,
        both_regions: bool = False,
        actions: Iterable[str] = PUT_ITEM,
        attributes: Iterable[str] | None = None,
    ) -> Permission:
        """Writes to the state table, only to the item kinds ``items`` (``desired``,
        ``lock``, ``monitor``, ``audit``, ``heartbeat``: switchyard.contract's item names).

        ``attributes`` (UpdateItem only) also limits the write to those top-level attributes
        (``dynamodb:Attributes``) and asks for no returned values (``dynamodb:ReturnValues``
        NONE: an UpdateItem always carries it, NONE unless set, and ALL_OLD/ALL_NEW would read
        attributes outside the list). Same guide as LOCK_RELEASE_ATTRIBUTES."""
        keys = [self._names.item_key_pattern(item) for item in items]
        operator = "ForAllValues:StringLike" if any("*" in key for key in keys) else "ForAllValues:StringEquals"
        conditions: dict[str, dict[str, Any]] = {operator: {"dynamodb:LeadingKeys": keys}}
        if attributes is not None:
            if tuple(actions) != UPDATE_ITEM:
                raise ValueError(f"attributes limit UpdateItem only (PutItem replaces every attribute), not {actions}")
            conditions.setdefault("ForAllValues:StringEquals", {})["dynamodb:Attributes"] = list(attributes)
            # IfExists: a request that leaves ReturnValues to its default may not carry the key
            # (AWS's own examples use StringEqualsIfExists on it; same guide)
            conditions["StringEqualsIfExists"] = {"dynamodb:ReturnValues": "NONE"}
        return Permission(
            actions=tuple(actions),
            resources=tuple(self._names.state_table_arn(region) for region in self._regions(both=both_regions)),
            conditions=conditions,
        )

    def write_own_heartbeat(self) -> Permission:
        """Exactly one item, its own region's heartbeat (the reconciler and the monitor write it)."""
        return Permission(
            actions=("dynamodb:PutItem",),
            resources=(self._names.state_table_arn(self.scope.region),),
            conditions={
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [self._names.heartbeat_key(self.scope.region)]}
            },
        )

    # -- notifications --------------------------------------------------------------------
    @property
    def publish(self) -> tuple[Permission, ...]:
        """Publish to the region's topic; it is encrypted with the region's key, which the
        publisher uses through SNS only. (The state table uses the AWS-managed DynamoDB key.)"""
        return (
            Permission(actions=("sns:Publish",), resources=(self.scope.topic.topic_arn,)),
            key_use(self.scope.key.key_arn, region=self.scope.region, services=("sns",)),
        )

    # -- compute ----------------------------------------------------------------------------
    def scale(self, region: str, *, below_minimum: bool = False) -> tuple[Permission, ...]:
        """Set the ASG's desired capacity; ``below_minimum`` also lowers its MinSize (to fence
        a tier, or to idle a former primary at the warm minimum).

        Both only on the group tagged APP_TIER_TAG by its stack. UpdateAutoScalingGroup
        (switchyard.adapters.compute sends MinSize and DesiredCapacity only) may set MinSize no
        higher than the warm minimum and, should a request carry MaxSize, no higher than the
        configured max. SetDesiredCapacity supports only the resource-tag keys, so its size has
        no IAM bound (the adapter caps it at the group's max). Service Authorization Reference,
        "Actions, resources, and condition keys for Amazon EC2 Auto Scaling"
        (docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html):
        SetDesiredCapacity: autoscaling:ResourceTag/${TagKey}; UpdateAutoScalingGroup: also
        autoscaling:MinSize and autoscaling:MaxSize (Numeric)."""
        names, capacity = self._names, self.scope.config.capacity
        group, reason = (
            names.asg_arn(region),
            f"names exactly the ASG {names.asg(region)}; only the generated group id in its ARN is a wildcard",
        )
        tagged: dict[str, Mapping[str, Any]] = {
            "StringEquals": {f"autoscaling:ResourceTag/{APP_TIER_TAG}": names.asg(region)}
        }
        permissions = [
            Permission(("autoscaling:SetDesiredCapacity",), (group,), wildcard_reason=reason, conditions=tagged)
        ]
        if below_minimum:
            sizes = {
                # MinSize is required: an update that does not lower the minimum (a new launch
                # template, other subnets...) is not this grant's business
                "NumericLessThanEquals": {"autoscaling:MinSize": str(capacity.standby_warm_min)},
                "NumericLessThanEqualsIfExists": {"autoscaling:MaxSize": str(capacity.max)},
            }
            permissions.append(
                Permission(
                    ("autoscaling:UpdateAutoScalingGroup",),
                    (group,),
                    wildcard_reason=reason,
                    conditions={**tagged, **sizes},
                )
            )
        return tuple(permissions)

    def describe(self, *actions: str) -> Permission:
        return Permission(actions=actions, resources=("*",), wildcard_reason=DESCRIBE_ONLY_ON_STAR)

    @property
    def describe_compute(self) -> Permission:
        return self.describe("autoscaling:DescribeAutoScalingGroups")

    def read_launch_image(self) -> tuple[Permission, ...]:
        """The image this region's launch template launches: the template's version and the
        image (EC2's Describe* calls take no resource ARNs, so '*'), and the workload's SSM
        image parameter in this region when it names one (exactly that parameter)."""
        describe = self.describe("ec2:DescribeLaunchTemplateVersions", "ec2:DescribeImages")
        parameter = self.scope.config.workload.image_parameter
        if parameter is None:
            return (describe,)
        arn = f"arn:aws:ssm:{self.scope.region}:{self.scope.config.account}:parameter{parameter}"
        return (describe, Permission(actions=("ssm:GetParameter",), resources=(arn,)))

    # -- database -----------------------------------------------------------------------------
    @property
    def describe_database(self) -> tuple[Permission, ...]:
        """Both regions' database status (by their contract names) and replication lag
        (a CloudWatch metric, readable only on '*')."""
        names, pair = self._names, self.scope.pair
        if self.scope.config.database.engine == "rds-postgres":
            status = Permission(
                actions=("rds:DescribeDBInstances",), resources=tuple(names.db_instance_arn(region) for region in pair)
            )
        else:
            status = Permission(
                actions=("rds:DescribeGlobalClusters", "rds:DescribeDBClusters"),
                resources=(names.global_cluster_arn, *(names.db_cluster_arn(region) for region in pair)),
            )
        return (status, self.describe("cloudwatch:GetMetricStatistics"))

    @property
    def promote_database(self) -> Permission:
        """Promote this region's database: the RDS replica, or the Aurora global cluster
        towards this region's cluster (switchover when planned, failover otherwise)."""
        names = self._names
        if self.scope.config.database.engine == "rds-postgres":
            return Permission(
                actions=("rds:PromoteReadReplica",), resources=(names.db_instance_arn(self.scope.region),)
            )
        return Permission(
            actions=("rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"),
            resources=(names.global_cluster_arn, *(names.db_cluster_arn(region) for region in self.scope.pair)),
        )

    def fence_database(self, region: str) -> tuple[Permission, ...]:
        """Stop ``region``'s RDS instance once it is a standalone old primary (the database
        fence). Aurora's fence only verifies (describe_database): a global cluster's writer
        is demoted by AWS, not stopped, so nothing more is granted."""
        if self.scope.config.database.engine != "rds-postgres":
            return ()
        return (Permission(actions=("rds:StopDBInstance",), resources=(self._names.db_instance_arn(region),)),)

    def snapshot_database(self, region: str) -> tuple[Permission, ...]:
        """Snapshot ``region``'s old primary before it is stopped or rebuilt, only under the
        lost-writes snapshot names: RDS CreateDBSnapshot of the instance; Aurora a copy of
        the snapshot AWS kept at an unplanned failover (found by listing the cluster's)."""
        names, pattern = self._names, self._names.lost_writes_snapshot_pattern
        reason = f"one snapshot per epoch, named {pattern} (the epoch is the only wildcard part)"
        if self.scope.config.database.engine == "rds-postgres":
            return (
                Permission(
                    actions=("rds:CreateDBSnapshot",),
                    resources=(names.db_instance_arn(region), names.db_snapshot_arn(region, pattern)),
                    wildcard_reason=reason,
                ),
            )
        unplanned = names.db_cluster_snapshot_arn(region, f"{AURORA_UNPLANNED_FAILOVER_SNAPSHOT_PREFIX}*")
        return (
            Permission(
                actions=("rds:DescribeDBClusterSnapshots",),
                resources=(names.db_cluster_arn(region), unplanned),
                wildcard_reason="AWS names its unplanned-failover snapshot with a timestamp; read-only",
            ),
            Permission(
                actions=("rds:CopyDBClusterSnapshot",),
                resources=(unplanned, names.db_cluster_snapshot_arn(region, pattern)),
                wildcard_reason=f"from AWS's timestamped unplanned-failover snapshot; {reason}",
            ),
        )

    def rebuild_database(self) -> tuple[Permission, ...]:
        """prepare-failback in this region (switchyard.steps.rejoin): its old RDS primary kept as
        a lost-writes snapshot (tagged with where the instance was), deleted once that snapshot
        is available, replaced by a cross-region read replica of the other region's writer,
        encrypted with this region's key. Aurora rejoins by itself: nothing is granted."""
        if self.scope.config.database.engine != "rds-postgres":
            return ()
        names, region = self._names, self.scope.region
        instance, pattern = names.db_instance_arn(region), names.lost_writes_snapshot_pattern
        snapshots = names.db_snapshot_arn(region, pattern)
        reason = f"one snapshot per epoch, named {pattern} (the epoch is the only wildcard part)"
        subnet_groups = f"arn:aws:rds:{region}:{names.account}:subgrp:*"
        key = f"arn:aws:kms:{region}:{names.account}:key/*"
        regional_key = names.key_alias("regional")
        aliased = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [regional_key]}}
        key_reason = f"the regional key's id is generated; only the key aliased {regional_key} matches"
        return (
            Permission(actions=("rds:DescribeDBSnapshots",), resources=(instance, snapshots), wildcard_reason=reason),
            # AddTagsToResource: the tags CreateDBSnapshot carries, or added to a snapshot the fence took
            Permission(
                actions=("rds:CreateDBSnapshot", "rds:AddTagsToResource"),
                resources=(instance, snapshots),
                wildcard_reason=reason,
            ),
            # ModifyDBInstance only turns deletion protection off before the delete
            Permission(actions=("rds:ModifyDBInstance", "rds:DeleteDBInstance"), resources=(instance,)),
            # the new replica, its source (the writer, by ARN) and the stack's subnet group (a generated name)
            Permission(
                actions=("rds:CreateDBInstanceReadReplica",),
                resources=(instance, names.db_instance_arn(self.scope.other_region), subnet_groups),
                wildcard_reason="the regional stack's DB subnet group has a generated name",
            ),
            # RDS encrypts the cross-region replica with this region's key on the caller's behalf
            Permission(actions=("kms:DescribeKey",), resources=(key,), wildcard_reason=key_reason, conditions=aliased),
            Permission(
                actions=("kms:CreateGrant",),
                resources=(key,),
                wildcard_reason=key_reason,
                conditions={**aliased, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        )

    # -- health signals ------------------------------------------------------------------------
    @property
    def health_check_status(self) -> Permission:
        return Permission(
            actions=(
                "route53:ListHealthChecks",
                "route53:ListTagsForResources",
                "route53:GetHealthCheckStatus",
            ),
            resources=("*",),
            wildcard_reason=(
                "read-only; ListHealthChecks is authorized only on '*' and health check ids are generated by "
                "Route 53, so the checks are found by their tags"
            ),
        )

    def describe_alarms(self, alarms: Iterable[AlarmSpec], *, regions: Iterable[str]) -> Permission:
        return Permission(
            actions=("cloudwatch:DescribeAlarms",),
            resources=tuple(self._names.alarm_arn(region, alarm.key) for region in regions for alarm in alarms),
        )

    # -- DNS fallback and storage ---------------------------------------------------------------
    @property
    def edit_failover_record(self) -> tuple[Permission, ...]:
        """The best-effort record edit (switchyard.adapters.dns): UPSERTs only, of the
        application's own record name and the failover records' types; never a CREATE or a
        DELETE. Route 53 Developer Guide, "Using IAM policy conditions for fine-grained access
        control" (docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-conditions-route53.html):
        route53:ChangeResourceRecordSetsNormalizedRecordNames, ...RecordTypes, ...Actions."""
        zone = self._names.hosted_zone_arn
        return (
            Permission(
                actions=("route53:ChangeResourceRecordSets",),
                resources=(zone,),
                conditions={
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [self.scope.config.dns.record_name],
                        "route53:ChangeResourceRecordSetsRecordTypes": list(FAILOVER_RECORD_TYPES),
                        "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                    }
                },
            ),
            Permission(actions=("route53:ListResourceRecordSets",), resources=(zone,)),
        )

    @property
    def read_replication_settings(self) -> Permission:
        return Permission(
            actions=("s3:GetReplicationConfiguration", "s3:GetBucketVersioning"),
            resources=tuple(self._names.bucket_arn(region) for region in self.scope.pair),
        )

    # -- the runbook ------------------------------------------------------------------------------
    def warm_step_functions(self) -> Permission:
        """Invoke exactly this region's runbook step functions (unqualified ARNs): the
        reconciler's warm-up (switchyard.adapters.functions)."""
        return Permission(
            actions=("lambda:InvokeFunction",),
            resources=tuple(self._names.function_arn(self.scope.region, step) for step in STEP_NAMES),
        )

    def start_runbook(self) -> Permission:
        return Permission(
            actions=("states:StartExecution",), resources=(self._names.state_machine_arn(self.scope.region),)
        )

    def use_runbook_key(self) -> Permission:
        """The region's key, for this region's runbook only and only through Step Functions:
        whoever starts, answers, stops or reads its executions needs it, because the runbook is
        encrypted with that key (stacks.shared.encryption.state_machine_key_use says which calls)."""
        return state_machine_key_use(
            self.scope.key.key_arn,
            state_machine_arn=self._names.state_machine_arn(self.scope.region),
            via_region=self.scope.region,
        )
