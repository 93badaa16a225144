"""Backups copied to the other region and S3 replicating both ways, in both environments:
each regional stack's backup plan copies into the OTHER region's vault (by contract ARN),
each storage stack holds its region's vault encrypted with its own key, and the primary's
storage stack puts the reverse rule (standby -> primary) on the standby's bucket, with
Replication Time Control and metrics on both rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.stacks.topology import Topology, only_resource, resources_of

ROLES = ("primary", "standby")


def region_of(topology: Topology, role: str) -> str:
    return topology.config.regions.primary if role == "primary" else topology.config.regions.standby


def statements_of_role(template: dict[str, Any], role_name: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role named ``role_name``."""
    [role_id] = [
        logical_id
        for logical_id, role in resources_of(template, "AWS::IAM::Role").items()
        if role["Properties"].get("RoleName") == role_name
    ]
    return [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.mark.parametrize("role", ROLES)
def test_each_regions_plan_copies_into_the_other_regions_vault(topology: Topology, role: str) -> None:
    # GIVEN the region's regional stack
    region = region_of(topology, role)
    other = topology.config.regions.other(region)
    plan = only_resource(topology.template_json("regional", role), "AWS::Backup::BackupPlan")["BackupPlan"]
    # THEN its one rule keeps recovery points for the configured days in its own vault
    [rule] = plan["BackupPlanRule"]
    retention = topology.config.backup.retention_days
    assert plan["BackupPlanName"] == topology.names.backup_plan(region)
    assert rule["Lifecycle"] == {"DeleteAfterDays": retention}
    # AND copies each into the other region's vault, by the contract's ARN, with the same retention
    assert rule["CopyActions"] == [
        {
            "DestinationBackupVaultArn": topology.names.backup_vault_arn(other),
            "Lifecycle": {"DeleteAfterDays": retention},
        }
    ]


@pytest.mark.parametrize("role", ROLES)
def test_the_plan_selects_the_regions_database_by_its_contract_arn(topology: Topology, role: str) -> None:
    # GIVEN the region's backup selection
    region = region_of(topology, role)
    selection = only_resource(topology.template_json("regional", role), "AWS::Backup::BackupSelection")
    # THEN it selects exactly the region's database (the RDS instance or the Aurora cluster)
    assert selection["BackupSelection"]["Resources"] == [topology.names.database_arn(region)]


@pytest.mark.parametrize("role", ROLES)
def test_each_storage_stack_holds_its_vault_encrypted_with_its_own_key(topology: Topology, role: str) -> None:
    # GIVEN the region's storage stack
    template = topology.template_json("storage", role)
    vault = only_resource(template, "AWS::Backup::BackupVault")
    # THEN the vault has the contract's name and a key of this stack (never another region's)
    assert vault["BackupVaultName"] == topology.names.backup_vault(region_of(topology, role))
    key_id = vault["EncryptionKeyArn"]["Fn::GetAtt"][0]
    assert template["Resources"][key_id]["Type"] == "AWS::KMS::Key"
    assert template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize("role", ROLES)
def test_the_backup_role_copies_only_into_the_other_regions_vault(topology: Topology, role: str) -> None:
    # GIVEN the backup role's statements
    region = region_of(topology, role)
    template = topology.template_json("regional", role)
    statements = statements_of_role(template, topology.names.backup_role(region))
    # THEN CopyIntoBackupVault names only the other region's vault
    copies = [s for s in statements if "backup:CopyIntoBackupVault" in s["Action"]]
    assert [s["Resource"] for s in copies] == [topology.names.backup_vault_arn(topology.config.regions.other(region))]
    # AND every wildcard resource is a describe call, AWS Backup's own snapshots or an alias-bound key
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in (r for r in resources if isinstance(r, str) and "*" in r):
            assert resource == "*" or ":awsbackup:*" in resource or ":key/*" in resource, statement
            if ":key/*" in resource:
                assert "kms:ResourceAliases" in json.dumps(statement["Condition"])
            if resource == "*":
                assert all(action.startswith("rds:Describe") for action in statement["Action"]), statement


def test_the_forward_rule_has_replication_time_control_and_metrics(topology: Topology) -> None:
    # GIVEN the primary's data bucket
    names = topology.names
    buckets = resources_of(topology.template_json("storage", "primary"), "AWS::S3::Bucket")
    [bucket] = [
        b["Properties"]
        for b in buckets.values()
        if b["Properties"].get("BucketName") == names.bucket(topology.config.regions.primary)
    ]
    # THEN its rule into the standby carries the contract's RuleId, RTC and metrics (15 minutes)
    [rule] = bucket["ReplicationConfiguration"]["Rules"]
    assert rule["Id"] == names.replication_rule(topology.config.regions.standby)
    assert rule["Destination"]["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert rule["Destination"]["Metrics"] == {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}


def reverse_replication_call(topology: Topology) -> dict[str, Any]:
    """The PutBucketReplication the primary's storage stack sends on create."""
    template = topology.template_json("storage", "primary")
    [resource] = resources_of(template, "Custom::SwitchyardReverseReplication").values()
    create = resource["Properties"]["Create"]
    # the SDK call is serialized as a string with the role ARN's token joined in
    text = (
        create
        if isinstance(create, str)
        else "".join(p if isinstance(p, str) else "ROLE" for p in create["Fn::Join"][1])
    )
    call: dict[str, Any] = json.loads(text)
    return call


def test_the_standbys_bucket_replicates_back_to_the_primarys(topology: Topology) -> None:
    # GIVEN the reverse rule's PutBucketReplication
    call = reverse_replication_call(topology)
    config, names = topology.config, topology.names
    # THEN it is sent in the standby's region, on the standby's bucket
    assert call["region"] == config.regions.standby
    assert call["parameters"]["Bucket"] == names.bucket(config.regions.standby)
    # AND its one rule sends every object and delete marker to the primary's bucket with RTC and metrics
    [rule] = call["parameters"]["ReplicationConfiguration"]["Rules"]
    assert rule["ID"] == names.replication_rule(config.regions.primary)
    assert rule["Destination"]["Bucket"] == names.bucket_arn(config.regions.primary)
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert rule["Destination"]["ReplicationTime"]["Status"] == "Enabled"
    assert rule["Destination"]["Metrics"]["Status"] == "Enabled"
    # AND it replicates SSE-KMS objects, and never syncs replica modifications (what could
    # send replicas back: no loop)
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    # AND the replicas are re-encrypted under a key of the primary's (the token joined in)
    assert set(rule["Destination"]["EncryptionConfiguration"]) == {"ReplicaKmsKeyID"}


def test_the_reverse_rule_re_encrypts_replicas_under_the_primarys_data_key(topology: Topology) -> None:
    # GIVEN the primary's storage stack and its data key (aliased key_alias("data"))
    template = topology.template_json("storage", "primary")
    [data_key] = [
        alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
        for alias in resources_of(template, "AWS::KMS::Alias").values()
        if alias["Properties"]["AliasName"] == topology.names.key_alias("data")
    ]
    # WHEN reading the reverse rule's create call as synthesized
    [resource] = [r for r in template["Resources"].values() if r["Type"] == "Custom::SwitchyardReverseReplication"]
    create = resource["Properties"]["Create"]
    # THEN the call carries that key's ARN as the replica key
    parts = create["Fn::Join"][1]
    index = parts.index({"Fn::GetAtt": [data_key, "Arn"]})
    assert parts[index - 1].endswith('"ReplicaKmsKeyID":"')


def test_the_reverse_replication_role_reads_the_standby_and_writes_the_primary_only(topology: Topology) -> None:
    # GIVEN the reverse rule's role
    config, names = topology.config, topology.names
    template = topology.template_json("storage", "primary")
    statements = statements_of_role(template, names.replication_role(config.regions.standby))
    # THEN it writes replicas only into the primary's bucket and reads only the standby's
    writes = [s["Resource"] for s in statements if "s3:ReplicateObject" in s["Action"]]
    reads = [s["Resource"] for s in statements if "s3:GetObjectVersionForReplication" in s["Action"]]
    assert writes == [f"{names.bucket_arn(config.regions.primary)}/*"]
    assert reads == [f"{names.bucket_arn(config.regions.standby)}/*"]
