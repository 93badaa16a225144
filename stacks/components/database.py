"""The application's database in one region, by engine and role.

``rds-postgres``: an RDS PostgreSQL primary in the primary region and a cross-region
read replica in the standby. ``aurora-postgres``: an Aurora global database whose
primary cluster lives in the primary region and a secondary cluster in the standby.
The standby side names its source (instance ARN or global cluster identifier) by the
deterministic names of :class:`switchyard.contract.Names`, never by a stack reference.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.shared.policy import acknowledge
from stacks.shared.scope import RegionScope
from switchyard.contract import REPLICA_LAG_NAMESPACE

POSTGRES_PORT = 5432
MASTER_USERNAME = "switchyard_admin"
BACKUP_RETENTION = cdk.Duration.days(7)
LOG_EXPORTS = ["postgresql"]
SECRET_ROTATION = cdk.Duration.days(30)
"""The master password rotates in the primary region; replicas of the secret and the
database replica follow (the replica inherits the primary's users)."""
AURORA_ENGINE = "aurora-postgresql"


class RegionalDatabase(Construct):
    """The database of one region plus the metrics its alarms watch.

    ``availability_metric`` has data while the database reports to CloudWatch;
    ``replication_lag_metric`` (standby only) is the lag behind the primary in seconds.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        vpc: ec2.IVpc,
        clients: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        config = region.config
        self._config = config
        self._names = region.names
        self._region = region.region
        self._key = region.key
        self._vpc = vpc
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="Database, reachable from the application tier only"
        )
        self.security_group.add_ingress_rule(clients, ec2.Port.tcp(POSTGRES_PORT), "application tier")
        self.subnet_group = rds.SubnetGroup(
            self,
            "Subnets",
            vpc=vpc,
            description="Isolated subnets of the database",
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        )
        primary = region.is_primary
        aurora = config.database.engine == "aurora-postgres"
        dimension = "DBClusterIdentifier" if aurora else "DBInstanceIdentifier"
        identifier = self._names.db_cluster(self._region) if aurora else self._names.db_instance(self._region)
        if aurora and primary:
            self._aurora_primary()
        elif aurora:
            self._aurora_secondary()
        elif primary:
            self._rds_primary()
        else:
            self._rds_replica()
        # RDS metrics are standard resolution (60 s minimum period): the alarms' period never
        # follows a sub-minute evaluation interval (Detection.alarm_period_seconds)
        period = cdk.Duration.seconds(config.detection.alarm_period_seconds)
        self.availability_metric = cloudwatch.Metric(
            namespace="AWS/RDS",
            metric_name="CPUUtilization",
            dimensions_map={dimension: identifier},
            statistic="SampleCount",
            period=period,
        )
        self.replication_lag_metric: cloudwatch.IMetric | None = None
        if not primary:
            lag = self._names.replica_lag_metric(self._region)
            raw = cloudwatch.Metric(
                namespace=REPLICA_LAG_NAMESPACE,
                metric_name=lag.name,
                dimensions_map={lag.dimension: lag.identifier},
                statistic="Maximum",
                period=period,
            )
            self.replication_lag_metric = (
                raw
                if lag.units_per_second == 1
                else cloudwatch.MathExpression(  # in seconds, as the RPO budget is
                    expression=f"lag / {lag.units_per_second:g}",
                    using_metrics={"lag": raw},
                    label="Aurora global replication lag (seconds)",
                    period=period,
                )
            )
        self._acknowledge_common(aurora_primary=aurora and primary)

    # -- engines and roles ---------------------------------------------------------------
    def _credentials(self) -> rds.Credentials:
        """A generated master secret, replicated to the standby so it is readable after failover."""
        return rds.Credentials.from_generated_secret(
            MASTER_USERNAME,
            secret_name=self._names.db_secret,  # by name in both regions (the placeholder's deep check)
            encryption_key=self._key,
            replica_regions=[secretsmanager.ReplicaRegion(region=self._config.regions.standby)],
        )

    def _major_version(self) -> str:
        return self._config.database.engine_version.split(".")[0]

    def _instance_type(self) -> ec2.InstanceType:
        return ec2.InstanceType(self._config.database.instance_class.removeprefix("db."))

    def _rds_primary(self) -> None:
        database = self._config.database
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            instance_identifier=self._names.db_instance(self._region),
            engine=rds.DatabaseInstanceEngine.postgres(
                version=rds.PostgresEngineVersion.of(database.engine_version, self._major_version())
            ),
            instance_type=self._instance_type(),
            vpc=self._vpc,
            subnet_group=self.subnet_group,
            security_groups=[self.security_group],
            credentials=self._credentials(),
            database_name=database.database_name,
            allocated_storage=database.allocated_storage_gib,
            storage_encrypted=True,
            storage_encryption_key=self._key,
            multi_az=database.multi_az,
            deletion_protection=database.deletion_protection,
            backup_retention=BACKUP_RETENTION,
            iam_authentication=True,
            cloudwatch_logs_exports=LOG_EXPORTS,
            copy_tags_to_snapshot=True,
            publicly_accessible=False,
            removal_policy=cdk.RemovalPolicy.SNAPSHOT,
        )
        self.instance.add_rotation_single_user(
            automatically_after=SECRET_ROTATION, vpc_subnets=self._rotation_subnets()
        )

    def _rds_replica(self) -> None:
        database = self._config.database
        self.replica = rds.CfnDBInstance(
            self,
            "Replica",
            db_instance_identifier=self._names.db_instance(self._region),
            source_db_instance_identifier=self._names.db_instance_arn(self._config.regions.primary),
            source_region=self._config.regions.primary,
            db_instance_class=database.instance_class,
            # Encrypted because the source is; the key is this region's (a KMS key is regional).
            kms_key_id=self._key.key_arn,
            db_subnet_group_name=self.subnet_group.subnet_group_name,
            vpc_security_groups=[self.security_group.security_group_id],
            multi_az=database.multi_az,
            deletion_protection=database.deletion_protection,
            backup_retention_period=BACKUP_RETENTION.to_days(),
            enable_iam_database_authentication=True,
            enable_cloudwatch_logs_exports=LOG_EXPORTS,
            copy_tags_to_snapshot=True,
            publicly_accessible=False,
        )
        self.replica.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)
        acknowledge(
            self.replica,
            "AwsSolutions-RDS2",
            "A cross-region replica of an encrypted source is encrypted with KmsKeyId (this region's "
            "key); CloudFormation rejects StorageEncrypted together with SourceDBInstanceIdentifier.",
        )

    def _aurora_primary(self) -> None:
        database = self._config.database
        instance_type = self._instance_type()
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            cluster_identifier=self._names.db_cluster(self._region),
            engine=rds.DatabaseClusterEngine.aurora_postgres(
                version=rds.AuroraPostgresEngineVersion.of(database.engine_version, self._major_version())
            ),
            writer=rds.ClusterInstance.provisioned("Writer", instance_type=instance_type),
            readers=self._aurora_readers(instance_type),
            vpc=self._vpc,
            subnet_group=self.subnet_group,
            security_groups=[self.security_group],
            credentials=self._credentials(),
            default_database_name=database.database_name,
            storage_encrypted=True,
            storage_encryption_key=self._key,
            deletion_protection=database.deletion_protection,
            backup=rds.BackupProps(retention=BACKUP_RETENTION),
            iam_authentication=True,
            cloudwatch_logs_exports=LOG_EXPORTS,
            copy_tags_to_snapshot=True,
            removal_policy=cdk.RemovalPolicy.SNAPSHOT,
        )
        self.global_cluster = rds.CfnGlobalCluster(
            self,
            "GlobalCluster",
            global_cluster_identifier=self._names.global_cluster,
            source_db_cluster_identifier=self.cluster.cluster_arn,
            deletion_protection=database.deletion_protection,
        )
        self.cluster.add_rotation_single_user(automatically_after=SECRET_ROTATION, vpc_subnets=self._rotation_subnets())

    def _aurora_readers(self, instance_type: ec2.InstanceType) -> list[rds.IClusterInstance]:
        if not self._config.database.multi_az:
            return []
        return [rds.ClusterInstance.provisioned("Reader", instance_type=instance_type, promotion_tier=0)]

    def _aurora_secondary(self) -> None:
        database = self._config.database
        cluster_identifier = self._names.db_cluster(self._region)
        self.cluster_resource = rds.CfnDBCluster(
            self,
            "Cluster",
            db_cluster_identifier=cluster_identifier,
            global_cluster_identifier=self._names.global_cluster,
            engine=AURORA_ENGINE,
            engine_version=database.engine_version,
            kms_key_id=self._key.key_arn,
            storage_encrypted=True,
            db_subnet_group_name=self.subnet_group.subnet_group_name,
            vpc_security_group_ids=[self.security_group.security_group_id],
            deletion_protection=database.deletion_protection,
            backup_retention_period=BACKUP_RETENTION.to_days(),
            enable_iam_database_authentication=True,
            enable_cloudwatch_logs_exports=LOG_EXPORTS,
            copy_tags_to_snapshot=True,
        )
        self.cluster_resource.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)
        instance_count = 2 if database.multi_az else 1
        self.cluster_instances = [
            rds.CfnDBInstance(
                self,
                f"Instance{number}",
                db_instance_identifier=f"{cluster_identifier}-{number}",
                db_cluster_identifier=self.cluster_resource.ref,
                engine=AURORA_ENGINE,
                db_instance_class=database.instance_class,
                db_subnet_group_name=self.subnet_group.subnet_group_name,
                publicly_accessible=False,
            )
            for number in range(1, instance_count + 1)
        ]

    @staticmethod
    def _rotation_subnets() -> ec2.SubnetSelection:
        """The rotation function needs the Secrets Manager API, so it runs where there is egress."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    # -- cdk-nag --------------------------------------------------------------------------
    def _acknowledge_common(self, *, aurora_primary: bool) -> None:
        if not aurora_primary:  # the Aurora L2 cluster leaves the port to the engine: no finding there
            acknowledge(
                self,
                "AwsSolutions-RDS11",
                "The database listens on PostgreSQL's default port inside isolated subnets, reachable "
                "only from the application tier's security group; a non-standard port adds no protection.",
            )
        database = self._config.database
        if not database.multi_az:
            acknowledge(
                self,
                "AwsSolutions-RDS3",
                f"Environment {self._config.name} runs single-AZ (database.multi_az = false); "
                "its redundancy is the cross-region standby.",
            )
        if not database.deletion_protection:
            acknowledge(
                self,
                "AwsSolutions-RDS10",
                f"Environment {self._config.name} turns deletion protection off in its "
                "configuration (database.deletion_protection = false) so it can be torn down.",
            )
