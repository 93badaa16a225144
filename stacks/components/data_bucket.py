"""The application's regional data buckets and their cross-region replication, both ways.

Each bucket is encrypted with its region's data key (SSE-KMS with S3 Bucket Keys) and each
replica is re-encrypted under the DESTINATION region's data key: a replica must stay readable
when the source region, and its key, are gone. Replicating SSE-KMS objects needs three things
(S3 User Guide, "Replicating encrypted objects",
docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html): the rule
opts in (``SourceSelectionCriteria.SseKmsEncryptedObjects``; without it S3 skips every SSE-KMS
object), names the replica key (``Destination.EncryptionConfiguration.ReplicaKmsKeyID``), and
the replication role may decrypt with the source key and encrypt with the destination key,
each only through S3 in that key's region and only for that bucket's objects
(:func:`replication_key_permissions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.components.desired_state_seed import acknowledge_custom_resource_provider
from stacks.shared.policy import Permission, acknowledge, grant
from switchyard.config import Storage
from switchyard.contract import DATA_REPLICATION_RULE_ID

DATA_KEY = "data"  # Names.key_alias purpose of each region's data-bucket key (the storage stack's)
KEY_WILDCARD = (
    "a KMS key's ARN carries a generated id; the statement names the environment's data key of that "
    "region by its alias (kms:ResourceAliases) and is usable only through S3 for one bucket's objects"
)


@dataclass(frozen=True)
class KeyByAlias:
    """A key of another stack or region known only by its alias ARN
    (``arn:aws:kms:<region>:<account>:alias/<name>``, ``Names.key_alias_arn``)."""

    region: str
    account: str
    alias: str

    @classmethod
    def parse(cls, alias_arn: str) -> KeyByAlias:
        parts = alias_arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith("alias/"):
            raise ValueError(f"{alias_arn!r}: not a KMS alias ARN (arn:aws:kms:<region>:<account>:alias/<name>)")
        return cls(region=parts[3], account=parts[4], alias=parts[5])

    @property
    def key_arns(self) -> str:
        """Every key of that account and region: IAM matches a key's ARN, never its alias."""
        return f"arn:aws:kms:{self.region}:{self.account}:key/*"


def replication_key_permissions(
    *,
    source: tuple[str, str, str],
    destination: tuple[str, str, str],
    key_alias: str,
) -> tuple[Permission, ...]:
    """What a replication role needs on the two buckets' keys (S3 User Guide, "Replicating
    encrypted objects", the replication role's policy): kms:Decrypt with the source key and
    kms:Encrypt with the destination key, each through S3 in the key's region
    (``kms:ViaService``) and for that bucket only (``kms:EncryptionContext:aws:s3:arn``: the
    object ARN, or the bucket ARN once S3 Bucket Keys are on, so both are allowed).
    kms:GenerateDataKey too on the destination: pessimistic, a replica written under a Bucket
    Key asks KMS for a data key. A key ARN that is not a token (the other region's key, named
    ``arn:aws:kms:<region>:<account>:key/*``) is limited to ``key_alias`` by kms:ResourceAliases.

    ``source`` and ``destination`` are each (region, bucket ARN, key ARN)."""

    def use(actions: tuple[str, ...], region: str, bucket_arn: str, key_arn: str) -> Permission:
        conditions: dict[str, dict[str, object]] = {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
        }
        wildcard = "*" in key_arn
        if wildcard:
            conditions["ForAnyValue:StringEquals"] = {"kms:ResourceAliases": [key_alias]}
        return Permission(
            actions=actions,
            resources=(key_arn,),
            wildcard_reason=KEY_WILDCARD if wildcard else None,
            conditions=conditions,
        )

    return (
        use(("kms:Decrypt",), *source),
        use(("kms:Encrypt", "kms:GenerateDataKey"), *destination),
    )


class DataBucket(Construct):
    """A versioned, encrypted, private, SSL-only bucket named deterministically.

    In the primary region it replicates every object (and delete markers) to the
    standby's bucket, addressed by its deterministic ARN, with Replication Time Control
    and replication metrics when ``replication_time_control`` (the latency and
    pending-operations metrics preflight gates on). In the standby region it expires old
    versions as configured; its reverse rule back to the primary is :class:`ReverseReplication`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        access_logs: s3.IBucket,
        encryption_key: kms.IKey,
        replicate_to_bucket_arn: str | None = None,
        replica_key_alias_arn: str | None = None,
        replication_rule_id: str = DATA_REPLICATION_RULE_ID,
        replication_time_control: bool = True,
        expiry: Storage | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if (replicate_to_bucket_arn is None) != (replica_key_alias_arn is None):
            raise ValueError(
                f"data bucket {bucket_name}: replicate_to_bucket_arn and replica_key_alias_arn go together "
                "(replicas are re-encrypted under the destination region's key)"
            )
        replication_rules = None
        if replicate_to_bucket_arn is not None:
            destination = s3.Bucket.from_bucket_arn(self, "ReplicationDestination", replicate_to_bucket_arn)
            fifteen_minutes = s3.ReplicationTimeValue.FIFTEEN_MINUTES if replication_time_control else None
            replication_rules = [
                s3.ReplicationRule(
                    id=replication_rule_id,
                    destination=destination,
                    priority=1,
                    delete_marker_replication=True,
                    replication_time_control=fifteen_minutes,
                    metrics=fifteen_minutes,
                )
            ]
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"s3/{bucket_name}/",
            lifecycle_rules=_expiry_rules(expiry),
            replication_rules=replication_rules,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        bucket = self.bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        # SSE-KMS with the region's data key and S3 Bucket Keys (one data key per bucket and
        # period instead of one KMS call per object: S3 User Guide, "Reducing the cost of SSE-KMS
        # with Amazon S3 Bucket Keys"). Set on the resource: given the key, CDK's Bucket would
        # also grant the replication role kms:Decrypt on it without any condition.
        bucket.bucket_encryption = s3.CfnBucket.BucketEncryptionProperty(
            server_side_encryption_configuration=[
                s3.CfnBucket.ServerSideEncryptionRuleProperty(
                    bucket_key_enabled=True,
                    server_side_encryption_by_default=s3.CfnBucket.ServerSideEncryptionByDefaultProperty(
                        sse_algorithm="aws:kms", kms_master_key_id=encryption_key.key_arn
                    ),
                )
            ]
        )
        if replicate_to_bucket_arn is not None and replica_key_alias_arn is not None:
            self._encrypt_replicas(bucket_name, encryption_key, replicate_to_bucket_arn, replica_key_alias_arn)
            self._acknowledge_replication_object_access(replicate_to_bucket_arn)

    def _encrypt_replicas(
        self, bucket_name: str, key: kms.IKey, destination_bucket_arn: str, replica_key_alias_arn: str
    ) -> None:
        """The forward rule replicates SSE-KMS objects, re-encrypted under the destination's key
        (named by its alias ARN: the other region's key id is generated; S3 takes "the ARN for
        the KMS key or the alias ARN", API Reference, EncryptionConfiguration), and the role CDK
        made for the rule gets the two keys. Set on the resource: CDK's ReplicationRule takes
        only a key object, and would grant that key to the role without any condition."""
        bucket = self.bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        bucket.add_property_override(
            "ReplicationConfiguration.Rules.0.SourceSelectionCriteria",
            {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        )
        bucket.add_property_override(
            "ReplicationConfiguration.Rules.0.Destination.EncryptionConfiguration",
            {"ReplicaKmsKeyID": replica_key_alias_arn},
        )
        role = self.bucket.node.find_child("ReplicationRole")
        assert isinstance(role, iam.Role)
        stack, replica_key = cdk.Stack.of(self), KeyByAlias.parse(replica_key_alias_arn)
        grant(
            role,
            replication_key_permissions(
                source=(stack.region, f"arn:aws:s3:::{bucket_name}", key.key_arn),
                destination=(replica_key.region, destination_bucket_arn, replica_key.key_arns),
                key_alias=replica_key.alias,
            ),
        )

    def _acknowledge_replication_object_access(self, destination_arn: str) -> None:
        source_logical_id = cdk.Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        reason = (
            "S3 replication reads every object version of the source bucket and writes every key "
            "of the standby bucket; object-level replication actions apply to the whole key space."
        )
        for resource in (f"<{source_logical_id}.Arn>/*", f"{destination_arn}/*"):
            acknowledge(self.bucket, f"AwsSolutions-IAM5[Resource::{resource}]", reason)


def _expiry_rules(expiry: Storage | None) -> list[s3.LifecycleRule] | None:
    if expiry is None:
        return None
    return [
        s3.LifecycleRule(
            id="standby-expiry",
            noncurrent_version_expiration=cdk.Duration.days(expiry.standby_noncurrent_expiry_days),
            expiration=cdk.Duration.days(expiry.standby_expiry_days) if expiry.standby_expiry_days else None,
            abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
        )
    ]


# S3 never replicates an object that is itself a replica, so two rules pointing at each other
# do not loop: "objects in the source bucket that are replicas that were created by another
# replication rule" are not replicated (S3 User Guide, "What isn't replicated with replication
# configurations", docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).
# Only replica modification sync (SourceSelectionCriteria.ReplicaModifications) sends changes
# made to replicas back, and then only their metadata (API reference, ReplicaModifications,
# docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicaModifications.html); neither rule here
# turns it on (their SourceSelectionCriteria select SSE-KMS objects only).


class ReverseReplication(Construct):
    """The standby's data bucket replicating back to the primary's: always on.

    While the primary is active, every object in the standby's bucket is a replica, which S3
    does not replicate again, so the rule idles (it costs nothing without traffic). Once the
    standby is active, what the application writes there replicates to the primary's bucket as
    soon as that region answers, so a failback loses no object and no runbook step has to
    switch replication on in the middle of a failover. Enabling it at failover instead would
    add an S3 control-plane write to the critical path, and objects written before it took
    effect would never replicate.

    The rule is written by a custom resource (``PutBucketReplication`` on the standby's bucket)
    in the PRIMARY's storage stack: a replication destination must exist when the rule is put,
    and the standby's bucket must exist before the primary's (the forward rule), so neither
    bucket's own template can carry the reverse rule.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_region: str,
        source_bucket_name: str,
        destination_bucket: s3.IBucket,
        destination_bucket_arn: str,
        destination_key: kms.IKey,
        source_key_alias_arn: str,
        role_name: str,
        rule_id: str,
        replication_time_control: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        source_arn = f"arn:aws:s3:::{source_bucket_name}"
        source_key = KeyByAlias.parse(source_key_alias_arn)
        object_space = "S3 replication reads every object version of its source and writes every key of its destination"
        self.role = iam.Role(self, "Role", role_name=role_name, assumed_by=iam.ServicePrincipal("s3.amazonaws.com"))
        grant(
            self.role,
            (
                Permission(actions=("s3:GetReplicationConfiguration", "s3:ListBucket"), resources=(source_arn,)),
                Permission(
                    actions=(
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ),
                    resources=(f"{source_arn}/*",),
                    wildcard_reason=object_space,
                ),
                Permission(
                    actions=("s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"),
                    resources=(f"{destination_bucket_arn}/*",),
                    wildcard_reason=object_space,
                ),
                *replication_key_permissions(
                    source=(source_region, source_arn, source_key.key_arns),
                    destination=(cdk.Stack.of(self).region, destination_bucket_arn, destination_key.key_arn),
                    key_alias=source_key.alias,
                ),
            ),
        )
        put_rule = cr.AwsSdkCall(
            service="S3",
            action="putBucketReplication",
            region=source_region,
            parameters={
                "Bucket": source_bucket_name,
                "ReplicationConfiguration": {
                    "Role": self.role.role_arn,
                    "Rules": [
                        reverse_rule(
                            rule_id,
                            destination_bucket_arn,
                            replication_time_control,
                            replica_key_id=destination_key.key_arn,  # this stack's key: its full ARN
                        )
                    ],
                },
            },
            physical_resource_id=cr.PhysicalResourceId.of(f"{source_bucket_name}/replication/{rule_id}"),
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Resource",
            resource_type="Custom::SwitchyardReverseReplication",
            on_create=put_rule,
            on_update=put_rule,
            on_delete=cr.AwsSdkCall(
                service="S3",
                action="deleteBucketReplication",
                region=source_region,
                parameters={"Bucket": source_bucket_name},
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    # PutBucketReplication and DeleteBucketReplication both need this action
                    Permission(actions=("s3:PutReplicationConfiguration",), resources=(source_arn,)).statement(),
                    Permission(actions=("iam:PassRole",), resources=(self.role.role_arn,)).statement(),
                ]
            ),
            install_latest_aws_sdk=False,
        )
        self.resource.node.add_dependency(destination_bucket)  # named by ARN, created in this stack
        acknowledge_custom_resource_provider(self)


def reverse_rule(
    rule_id: str, destination_bucket_arn: str, replication_time_control: bool, *, replica_key_id: str
) -> dict[str, object]:
    """The reverse rule as PutBucketReplication takes it: every object (SSE-KMS ones included,
    re-encrypted under ``replica_key_id``) and delete marker, to the primary's bucket, with
    Replication Time Control and metrics when configured."""
    destination: dict[str, object] = {
        "Bucket": destination_bucket_arn,
        "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key_id},
    }
    if replication_time_control:
        destination["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": 15}}
        destination["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    return {
        "ID": rule_id,
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": destination,
    }
