"""Provision an environment's two-region topology into moto, for tests and the drill.

What the stacks would deploy, as moto stores it: in both regions the state table
(``pk``), the SNS topic, the bucket (versioned; the primary's replicates to the
standby's), the ASG with its launch template at its role's capacity, the health-signal
alarms (state OK) and the region's Route 53 health checks named as the DNS stack names them; the database as an
RDS primary plus cross-region read replica, or an Aurora global cluster with one
regional cluster per region; the desired state (primary active, epoch 0).

moto stores, it does not simulate: nothing replicates, alarms do not evaluate, health
checks always report Success. :func:`publish_replication_lag` writes the lag metric the
engine would publish, so the controller reads lag the way it does in AWS.

Set ``MOTO_ACCOUNT_ID`` to ``config.account`` first: the controller computes ARNs (SNS
topics, state machines) from the configured account, as it does in AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.model import DesiredState

MOTO_IMAGE_ID = "ami-12c6146b"  # any id: moto does not check images of launch templates
DB_PASSWORD = "not-a-secret-moto-only"  # noqa: S105 - moto only


@dataclass(frozen=True)
class ProvisionedTopology:
    config: EnvironmentConfig
    health_check_ids: dict[str, list[str]]

    @property
    def names(self) -> Names:
        return Names(self.config)


_SESSION: list[boto3.session.Session] = []


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    """A plain client (not recorded, botocore's own retries). One session is shared:
    loading service models once keeps provisioning fast."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0].client(service, region_name=region, endpoint_url=endpoint_url)


def provision(
    config: EnvironmentConfig, *, endpoint_url: str | None = None, now: datetime | None = None
) -> ProvisionedTopology:
    """Create the environment in moto (call inside ``mock_aws`` or against a moto server)."""
    names = Names(config)
    primary, standby = config.regions.pair
    health_checks: dict[str, list[str]] = {}
    for region in (primary, standby):
        _state_table(names, region, endpoint_url)
        _client("sns", region, endpoint_url).create_topic(Name=names.topic(region))
        _bucket(names, region, endpoint_url)
        role_capacity = config.capacity.primary_desired if region == primary else config.capacity.standby_warm_min
        _auto_scaling_group(config, region, role_capacity, endpoint_url)
        _alarms(names, region, endpoint_url)
        health_checks[region] = _health_checks(config, region, endpoint_url)
    _bucket_replication(names, primary, standby, endpoint_url)
    if config.database.engine == "rds-postgres":
        _rds_primary_and_replica(config, endpoint_url)
    else:
        _aurora_global(config, endpoint_url)
    initial = DesiredState(
        active_region=primary,
        epoch=0,
        updated_by="provision",
        reason="initial deployment",
        updated_at=(now or datetime.now(UTC)).isoformat(),
    )
    for region in (primary, standby):
        write_desired_state(config, region, initial, endpoint_url=endpoint_url)
    return ProvisionedTopology(config=config, health_check_ids=health_checks)


def write_desired_state(
    config: EnvironmentConfig, region: str, state: DesiredState, *, endpoint_url: str | None = None
) -> None:
    """Put the desired-state item into one region's table as the stacks' seed would."""
    item = {"pk": {"S": Names(config).desired_state_key}}
    for key, value in state.model_dump().items():
        if value is None:
            continue
        item[key] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
    _client("dynamodb", region, endpoint_url).put_item(TableName=Names(config).state_table, Item=item)


def publish_replication_lag(
    config: EnvironmentConfig, seconds: float, *, at: datetime | None = None, endpoint_url: str | None = None
) -> None:
    """Publish the standby's replication lag as the engine would (RDS ReplicaLag in
    seconds, Aurora AuroraGlobalDBReplicationLag in milliseconds)."""
    names = Names(config)
    standby = config.regions.standby
    if config.database.engine == "rds-postgres":
        metric, dimension, value = "ReplicaLag", ("DBInstanceIdentifier", names.db_instance(standby)), seconds
    else:
        metric, dimension, value = (
            "AuroraGlobalDBReplicationLag",
            ("DBClusterIdentifier", names.db_cluster(standby)),
            seconds * 1000.0,
        )
    _client("cloudwatch", standby, endpoint_url).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
                "Timestamp": at or datetime.now(UTC),
                "Value": value,
            }
        ],
    )


def _state_table(names: Names, region: str, endpoint_url: str | None) -> None:
    _client("dynamodb", region, endpoint_url).create_table(
        TableName=names.state_table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _bucket(names: Names, region: str, endpoint_url: str | None) -> None:
    s3 = _client("s3", region, endpoint_url)
    bucket = names.bucket(region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _bucket_replication(names: Names, primary: str, standby: str, endpoint_url: str | None) -> None:
    _client("s3", primary, endpoint_url).put_bucket_replication(
        Bucket=names.bucket(primary),
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{names.config.account}:role/{names.prefix}-replication",
            "Rules": [
                {
                    "ID": "to-standby",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Enabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{names.bucket(standby)}"},
                }
            ],
        },
    )


def _auto_scaling_group(config: EnvironmentConfig, region: str, capacity: int, endpoint_url: str | None) -> None:
    names = Names(config)
    template = f"{names.asg(region)}-template"
    _client("ec2", region, endpoint_url).create_launch_template(
        LaunchTemplateName=template,
        LaunchTemplateData={"ImageId": MOTO_IMAGE_ID, "InstanceType": config.capacity.instance_type},
    )
    _client("autoscaling", region, endpoint_url).create_auto_scaling_group(
        AutoScalingGroupName=names.asg(region),
        LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
        MinSize=capacity,
        MaxSize=config.capacity.max,
        DesiredCapacity=capacity,
        AvailabilityZones=[f"{region}a", f"{region}b"],
    )


def _alarms(names: Names, region: str, endpoint_url: str | None) -> None:
    cloudwatch = _client("cloudwatch", region, endpoint_url)
    for spec in HEALTH_SIGNAL_ALARMS:
        name = names.alarm(region, spec.key)
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=spec.summary,
            Namespace="Switchyard",
            MetricName=spec.key,
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="provisioned healthy")


def set_alarm_state(
    config: EnvironmentConfig, region: str, key: str, state: str, *, endpoint_url: str | None = None
) -> None:
    """Stand in for CloudWatch evaluating an alarm (moto never evaluates metrics)."""
    _client("cloudwatch", region, endpoint_url).set_alarm_state(
        AlarmName=Names(config).alarm(region, key), StateValue=state, StateReason="set by the drill/tests"
    )


def _health_checks(config: EnvironmentConfig, region: str, endpoint_url: str | None) -> list[str]:
    """The region's three checks as the DNS stack names them: the load balancer's, the
    traffic switch's, and the calculated check of the failover record that needs both."""
    route53 = _client("route53", "us-east-1", endpoint_url)
    names = Names(config)
    ids = []
    for purpose in ("load-balancer", "traffic-switch"):
        check = route53.create_health_check(
            CallerReference=names.health_check(region, purpose),
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": f"{purpose}.{region}.{config.dns.zone_name}",
                "Port": 443,
                "ResourcePath": "/",
                "RequestInterval": config.dns.health_check_interval_seconds,
                "FailureThreshold": config.dns.health_check_failure_threshold,
            },
        )["HealthCheck"]
        ids.append(check["Id"])
    calculated = route53.create_health_check(
        CallerReference=names.health_check(region, "region"),
        HealthCheckConfig={"Type": "CALCULATED", "ChildHealthChecks": list(ids), "HealthThreshold": len(ids)},
    )["HealthCheck"]
    ids.append(calculated["Id"])
    for purpose, check_id in zip(("load-balancer", "traffic-switch", "region"), ids, strict=True):
        route53.change_tags_for_resource(
            ResourceType="healthcheck",
            ResourceId=check_id,
            AddTags=[{"Key": "Name", "Value": names.health_check(region, purpose)}],
        )
    return ids


def _rds_primary_and_replica(config: EnvironmentConfig, endpoint_url: str | None) -> None:
    names = Names(config)
    primary, standby = config.regions.pair
    created = _client("rds", primary, endpoint_url).create_db_instance(
        DBInstanceIdentifier=names.db_instance(primary),
        Engine="postgres",
        EngineVersion=config.database.engine_version,
        DBInstanceClass=config.database.instance_class,
        AllocatedStorage=config.database.allocated_storage_gib,
        MasterUsername="switchyard",
        MasterUserPassword=DB_PASSWORD,
        DBName=config.database.database_name,
    )["DBInstance"]
    _client("rds", standby, endpoint_url).create_db_instance_read_replica(
        DBInstanceIdentifier=names.db_instance(standby),
        SourceDBInstanceIdentifier=created["DBInstanceArn"],
        DBInstanceClass=config.database.instance_class,
    )


def _aurora_global(config: EnvironmentConfig, endpoint_url: str | None) -> None:
    """The global cluster first, then the primary's cluster (its first member, the
    writer) and the standby's. moto 5.2.5 cannot create a global cluster *from* a
    cluster outside us-east-1 (it looks the source up in us-east-1 only)."""
    names = Names(config)
    primary, standby = config.regions.pair
    _client("rds", primary, endpoint_url).create_global_cluster(
        GlobalClusterIdentifier=names.global_cluster,
        Engine="aurora-postgresql",
        EngineVersion=config.database.engine_version,
        DeletionProtection=config.database.deletion_protection,
    )
    for region in (primary, standby):
        credentials = (
            {
                "MasterUsername": "switchyard",
                "MasterUserPassword": DB_PASSWORD,
                "DatabaseName": config.database.database_name,
            }
            if region == primary
            else {}
        )
        _client("rds", region, endpoint_url).create_db_cluster(
            DBClusterIdentifier=names.db_cluster(region),
            Engine="aurora-postgresql",
            EngineVersion=config.database.engine_version,
            GlobalClusterIdentifier=names.global_cluster,
            **credentials,
        )


def describe(topology: ProvisionedTopology) -> str:
    """A short JSON summary, for logs of the drill."""
    return json.dumps({"environment": topology.config.name, "health_checks": topology.health_check_ids})
