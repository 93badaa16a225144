"""DatabaseBackupPlan: AWS Backup of the region's database, copied into the other region's vault.

Each region backs up its own database (the RDS instance or the Aurora regional cluster) and
copies every recovery point into the OTHER region's vault, which its storage stack encrypts
with that region's key. Both regions have a plan because which database is the writer
changes at every failover, and whether AWS Backup can back up the reader is the uncertain
part: RDS for PostgreSQL documents no automated backups on read replicas, and an Aurora
secondary cluster is not the global database's writer. The worse case is modelled: only the
writer's backups are assumed to succeed, so the writer's plan is the one that keeps the
other region's vault fresh, whichever region that is (readiness checks the active
database's newest recovery point in the target region's vault, switchyard.steps.preflight).
A reader's plan that AWS Backup cannot run costs a failed job per schedule and nothing else.

Vaults live in the storage stacks, which deploy before either regional stack
(stacks/app_builder.py ``_order``), so the copy destination always exists first.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.shared.policy import Permission, grant
from stacks.shared.scope import RegionScope
from switchyard.config import Backup
from switchyard.contract import BACKUP_START_HOUR_UTC

START_WINDOW = cdk.Duration.hours(1)  # AWS Backup's minimum start window
# AWS Backup names the snapshots it takes "awsbackup:job-<id>" (in the source region, and the
# copy in the destination region): its RDS calls can be limited to those snapshots.
BACKUP_SNAPSHOT_NAMES = "awsbackup:*"
SNAPSHOT_WILDCARD = "AWS Backup names each snapshot it takes or copies after its job id (awsbackup:job-<id>)"
KEY_WILDCARD = (
    "a KMS key's ARN carries a generated id; the statement is limited to the environment's regional and "
    "backup keys by their aliases (kms:ResourceAliases)"
)
DESCRIBE_WILDCARD = "AWS Backup's RDS describe calls (snapshot and copy progress) are read-only"


def schedule(config: Backup) -> events.Schedule:
    """On the hour, every ``frequency_hours`` from BACKUP_START_HOUR_UTC (daily: at that hour)."""
    if config.frequency_hours == 24:
        return events.Schedule.cron(minute="0", hour=str(BACKUP_START_HOUR_UTC))
    first = BACKUP_START_HOUR_UTC % config.frequency_hours
    return events.Schedule.cron(minute="0", hour=f"{first}/{config.frequency_hours}")


class DatabaseBackupPlan(Construct):
    """The region's backup plan: one rule, a copy action to the other region's vault, a
    selection of the region's database by its contract ARN, and the role AWS Backup assumes."""

    def __init__(self, scope: Construct, construct_id: str, *, region: RegionScope) -> None:
        super().__init__(scope, construct_id)
        names, here, other = region.names, region.region, region.other_region
        config = region.config.backup
        retention = cdk.Duration.days(config.retention_days)
        local_vault = backup.BackupVault.from_backup_vault_arn(self, "Vault", names.backup_vault_arn(here))
        other_vault = backup.BackupVault.from_backup_vault_arn(self, "OtherRegionVault", names.backup_vault_arn(other))
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=names.backup_plan(here),
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="database",
                    backup_vault=local_vault,
                    schedule_expression=schedule(config),
                    start_window=START_WINDOW,
                    # AWS Backup wants the completion window at least an hour past the start window
                    completion_window=cdk.Duration.hours(max(2, config.frequency_hours)),
                    delete_after=retention,
                    copy_actions=[
                        backup.BackupPlanCopyActionProps(destination_backup_vault=other_vault, delete_after=retention)
                    ],
                )
            ],
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=names.backup_role(here),
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description=region.describe("AWS Backup of the database and its copy to the other region"),
        )
        grant(self.role, backup_permissions(region))
        backup.BackupSelection(
            self,
            "Selection",
            backup_plan=self.plan,
            backup_selection_name="database",
            resources=[backup.BackupResource.from_arn(names.database_arn(here))],
            role=self.role,
            disable_default_backup_policy=True,
        )


def backup_permissions(region: RegionScope) -> tuple[Permission, ...]:
    """What AWS Backup needs to snapshot this region's database and copy the snapshot into the
    other region's vault: the RDS statements of AWSBackupServiceRolePolicyForBackup, limited
    to this environment's database, AWS Backup's own snapshots and its two vaults."""
    names, here, other, account = region.names, region.region, region.other_region, region.config.account
    aurora = region.config.database.engine == "aurora-postgres"
    kind = "cluster-snapshot" if aurora else "snapshot"
    snapshots = {r: f"arn:aws:rds:{r}:{account}:{kind}:{BACKUP_SNAPSHOT_NAMES}" for r in (here, other)}
    database = names.database_arn(here)
    if aurora:
        create, copy, delete = "rds:CreateDBClusterSnapshot", "rds:CopyDBClusterSnapshot", "rds:DeleteDBClusterSnapshot"
        describe = ("rds:DescribeDBClusters", "rds:DescribeDBClusterSnapshots")
    else:
        create, copy, delete = "rds:CreateDBSnapshot", "rds:CopyDBSnapshot", "rds:DeleteDBSnapshot"
        describe = ("rds:DescribeDBInstances", "rds:DescribeDBSnapshots")
    keys = tuple(f"arn:aws:kms:{r}:{account}:key/*" for r in (here, other))
    aliases = [names.key_alias("regional"), names.key_alias("backup")]
    return (
        Permission(actions=describe, resources=("*",), wildcard_reason=DESCRIBE_WILDCARD),
        Permission(
            actions=(create, "rds:AddTagsToResource", "rds:ListTagsForResource"),
            resources=(database, snapshots[here]),
            wildcard_reason=SNAPSHOT_WILDCARD,
        ),
        # the cross-region copy (requested in the destination region) and the retention's deletes
        Permission(
            actions=(copy, delete, "rds:AddTagsToResource", "rds:ListTagsForResource"),
            resources=tuple(snapshots.values()),
            wildcard_reason=SNAPSHOT_WILDCARD,
        ),
        Permission(
            actions=("backup:DescribeBackupVault",),
            resources=(names.backup_vault_arn(here), names.backup_vault_arn(other)),
        ),
        Permission(actions=("backup:CopyIntoBackupVault",), resources=(names.backup_vault_arn(other),)),
        # RDS re-encrypts the copy with the destination vault's key through a grant
        Permission(
            actions=("kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"),
            resources=keys,
            wildcard_reason=KEY_WILDCARD,
            conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": aliases}},
        ),
        Permission(
            actions=("kms:CreateGrant",),
            resources=keys,
            wildcard_reason=KEY_WILDCARD,
            conditions={
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": aliases},
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        ),
    )
