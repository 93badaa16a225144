"""DataBucket and the storage stacks: encryption, privacy, replication and standby expiry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from stacks.components.data_bucket import DataBucket
from switchyard.config import Storage, load_environment
from tests.stacks.topology import Topology, bare_stack, resources_of

DESTINATION_ARN = "arn:aws:s3:::destination-bucket"
DESTINATION_KEY = "arn:aws:kms:us-west-2:111111111111:alias/destination-key"


def data_bucket(stack: cdk.Stack, bucket_name: str, **settings: Any) -> DataBucket:
    """A DataBucket in ``stack`` with its own log bucket and key, and ``settings``."""
    access_logs = s3.Bucket(stack, "AccessLogs")
    key = kms.Key(stack, "Key")
    return DataBucket(stack, "Data", bucket_name=bucket_name, access_logs=access_logs, encryption_key=key, **settings)


@pytest.fixture(scope="module")
def replicating_bucket(tmp_path_factory: pytest.TempPathFactory) -> Template:
    config = load_environment("dev")
    stack = bare_stack(config, config.regions.primary, tmp_path_factory.mktemp("bucket"))
    data_bucket(stack, "source-bucket", replicate_to_bucket_arn=DESTINATION_ARN, replica_key_alias_arn=DESTINATION_KEY)
    return Template.from_stack(stack)


def _data_bucket_id(template: dict[str, Any], bucket_name: str) -> str:
    buckets = [
        logical_id
        for logical_id, resource in resources_of(template, "AWS::S3::Bucket").items()
        if resource["Properties"].get("BucketName") == bucket_name
    ]
    assert len(buckets) == 1
    return buckets[0]


def _data_bucket(template: dict[str, Any], bucket_name: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][_data_bucket_id(template, bucket_name)]["Properties"]
    return properties


def test_a_replicating_bucket_sends_every_object_and_delete_marker_to_the_destination(
    replicating_bucket: Template,
) -> None:
    # GIVEN a DataBucket told to replicate  WHEN synthesized
    # THEN its one rule targets the destination ARN, replicates delete markers, with time control
    replicating_bucket.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "source-bucket",
            "ReplicationConfiguration": {
                "Role": Match.any_value(),
                "Rules": [
                    Match.object_like(
                        {
                            "Status": "Enabled",
                            "DeleteMarkerReplication": {"Status": "Enabled"},
                            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                            "Destination": Match.object_like(
                                {
                                    "Bucket": DESTINATION_ARN,
                                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                    "EncryptionConfiguration": {"ReplicaKmsKeyID": DESTINATION_KEY},
                                }
                            ),
                        }
                    )
                ],
            },
        },
    )


def test_the_replication_role_may_write_replicas_only_into_the_destination(replicating_bucket: Template) -> None:
    # GIVEN the replication role's policy  WHEN looking for replica writes
    policies = replicating_bucket.find_resources("AWS::IAM::Policy")
    statements = [s for policy in policies.values() for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    writes = [s for s in statements if "s3:ReplicateObject" in s["Action"]]
    # THEN they are allowed on the destination's objects and nowhere else
    assert [s["Resource"] for s in writes] == [f"{DESTINATION_ARN}/*"]


def test_data_buckets_are_versioned_encrypted_private_and_ssl_only(topology: Topology) -> None:
    for role in ("primary", "standby"):
        # GIVEN the region's storage stack
        template = topology.template_json("storage", role)
        region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
        bucket_id = _data_bucket_id(template, topology.names.bucket(region))
        bucket = template["Resources"][bucket_id]["Properties"]
        # THEN the data bucket keeps versions, encrypts at rest with the stack's data key (and
        # S3 Bucket Keys), and blocks every public path
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        keys = resources_of(template, "AWS::KMS::Key")
        aliases = {
            a["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]: a["Properties"]["AliasName"]
            for a in resources_of(template, "AWS::KMS::Alias").values()
        }
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        key_id = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
        assert key_id in keys
        assert aliases[key_id] == topology.names.key_alias("data")
        assert rule["BucketKeyEnabled"] is True
        assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
        # AND its bucket policy denies any request without TLS
        policies = [
            resource["Properties"]
            for resource in resources_of(template, "AWS::S3::BucketPolicy").values()
            if resource["Properties"]["Bucket"] == {"Ref": bucket_id}
        ]
        denies = [s for policy in policies for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in denies), role


def test_the_primary_bucket_replicates_to_the_standby_buckets_deterministic_arn(topology: Topology) -> None:
    # GIVEN the primary's storage stack
    config = topology.config
    bucket = _data_bucket(topology.template_json("storage", "primary"), topology.names.bucket(config.regions.primary))
    # THEN replication targets the standby bucket by ARN computed from the configuration
    destinations = [rule["Destination"]["Bucket"] for rule in bucket["ReplicationConfiguration"]["Rules"]]
    assert destinations == [f"arn:aws:s3:::{topology.names.bucket(config.regions.standby)}"]


def test_the_standby_bucket_expires_old_versions_and_replicates_nowhere(topology: Topology) -> None:
    # GIVEN the standby's storage stack
    config = topology.config
    bucket = _data_bucket(topology.template_json("storage", "standby"), topology.names.bucket(config.regions.standby))
    # THEN noncurrent versions expire after the configured days, and its template carries no replication
    # (the reverse rule to the primary is put by the primary's storage stack: test_topology_data_protection)
    rules = bucket["LifecycleConfiguration"]["Rules"]
    expiry_days = [rule["NoncurrentVersionExpiration"]["NoncurrentDays"] for rule in rules]
    assert expiry_days == [config.storage.standby_noncurrent_expiry_days]
    assert "ReplicationConfiguration" not in bucket


def test_current_versions_expire_in_the_standby_only_when_configured(tmp_path_factory: pytest.TempPathFactory) -> None:
    # GIVEN a standby bucket with an expiry for current versions
    config = load_environment("dev")
    stack = bare_stack(config, config.regions.standby, tmp_path_factory.mktemp("expiry"))
    expiry = Storage(standby_noncurrent_expiry_days=3, standby_expiry_days=90)
    data_bucket(stack, "standby-bucket", expiry=expiry)
    # WHEN synthesized  THEN the rule expires current versions after those days too
    Template.from_stack(stack).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "standby-bucket",
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like({"ExpirationInDays": 90, "NoncurrentVersionExpiration": {"NoncurrentDays": 3}})
                ]
            },
        },
    )


def test_a_replicating_bucket_needs_the_destinations_key(tmp_path: Path) -> None:
    # GIVEN a bucket told to replicate without the destination's key  WHEN built
    # THEN the synth fails naming the missing half (replicas would stay under the source's key)
    config = load_environment("dev")
    stack = bare_stack(config, config.regions.primary, tmp_path)
    with pytest.raises(ValueError, match="replica_key_alias_arn"):
        data_bucket(stack, "source-bucket", replicate_to_bucket_arn=DESTINATION_ARN)
