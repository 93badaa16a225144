"""Provision an environment's two-region topology into moto, for tests and the drill.

What the stacks deploy, as moto stores it, every name and constant from
``switchyard.contract``: in both regions the state table, the SNS topic, the bucket
(versioned; the primary's replicates to the standby's), the ASG with its launch template
at its role's capacity, the alarms of ``switchyard.alarms`` that the region's stacks create
(state OK), the region's Route 53 health checks and its failover record in the
configured hosted zone; the database as an RDS primary plus cross-region read replica, or
an Aurora global cluster with one regional cluster per region; and the desired-state item
the controller stack seeds on first deploy (``contract.initial_desired_state``).
``tests/drill/test_world_matches_templates.py`` checks this world against the synthesized
templates of every environment, resource by resource.

moto stores, it does not simulate, and some resources are modelled differently from the
templates (each difference is named where it is made): one table per region instead of a
global table, alarms on a stand-in metric, a metric alarm in place of the composite
``controller-errors``, placeholder hosts behind the health checks and records. Nothing
replicates, alarms do not evaluate, health checks always report Success.
:func:`publish_replication_lag` writes the lag metric the engine would publish, so the
controller reads lag the way it does in AWS.

Set ``MOTO_ACCOUNT_ID`` to ``config.account`` first: the controller computes ARNs (SNS
topics, state machines) from the configured account, as it does in AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from switchyard.alarms import ALARMS, AlarmSpec, alarm_spec
from switchyard.config import EnvironmentConfig
from switchyard.contract import (
    APP_TIER_TAG,
    FAILOVER_BY_ROLE,
    HEALTH_CHECK_PURPOSES,
    REPLICA_LAG_NAMESPACE,
    SIGNAL_HEALTH_CHECK,
    STATE_TABLE_KEY,
    SWITCH_ENDPOINT,
    VERDICT_ADDRESS_BY_FAILOVER,
    VERDICT_TTL_SECONDS,
    Endpoint,
    Names,
    desired_state_item,
    initial_desired_state,
)
from switchyard.model import DesiredState

# The application's image, registered in each region (an AMI is regional): the controller's
# image readiness check (ec2:DescribeImages in the target region) finds it there, "available".
APP_IMAGE_NAME = "switchyard-drill-app"
DB_PASSWORD = "not-a-secret-moto-only"  # noqa: S105 - moto only
ROUTE53_REGION = "us-east-1"  # Route 53 is global; its API lives in us-east-1


# Health checks by purpose: the endpoint checks request what the contract says is served;
# the calculated check ("region", the failover record's) needs every endpoint check.
def endpoint_checks(config: EnvironmentConfig) -> dict[str, Endpoint]:
    """The endpoint checks by purpose: the load balancer's deep health path and the switch."""
    return {SIGNAL_HEALTH_CHECK: Names(config).app_endpoint, "traffic-switch": SWITCH_ENDPOINT}


CALCULATED_CHECK = "region"
# Only the standby's stack alarms on replication lag (the primary has no replica lag to watch).
STANDBY_ONLY_ALARMS = frozenset({alarm_spec("replication-lag").key})
# Modelled, not deployed: moto never evaluates an alarm (the drill's AlarmEvaluator and the
# tests set their states), so each alarm watches a stand-in metric that nothing publishes.
# The stacks' real metrics (load balancer, RDS, Lambda, Step Functions, metric math) are
# not modelled; the alarm names and where they exist are (tests/drill checks them).
STAND_IN_ALARM_NAMESPACE = "SwitchyardDrill/StandIn"
# Modelled hosts: the drill has no load balancer or function URL, so health checks and
# records point at names under ``.invalid`` (RFC 2606: never resolves).
MODELLED_HOST_DOMAIN = "drill.invalid"


@dataclass(frozen=True)
class ProvisionedTopology:
    config: EnvironmentConfig
    health_check_ids: dict[str, list[str]]  # per region, in HEALTH_CHECK_PURPOSES order

    @property
    def names(self) -> Names:
        return Names(self.config)

    def health_check_id(self, region: str, purpose: str) -> str:
        return self.health_check_ids[region][HEALTH_CHECK_PURPOSES.index(purpose)]


_SESSION: list[boto3.session.Session] = []


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    """A plain client (not recorded, botocore's own retries). One session is shared:
    loading service models once keeps provisioning fast."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0].client(service, region_name=region, endpoint_url=endpoint_url)


def provision(config: EnvironmentConfig, *, endpoint_url: str | None = None) -> ProvisionedTopology:
    """Create the environment in moto (call inside ``mock_aws`` or against a moto server
    running in this process)."""
    names = Names(config)
    primary, standby = config.regions.pair
    health_checks: dict[str, list[str]] = {}
    for region in (primary, standby):
        # Modelled: the stacks deploy ONE global table with a replica per region; moto has
        # no global tables, so each region gets its own table (the drill replicates them,
        # drill.emulation.ModelledGlobalTableReplication).
        _state_table(names, region, endpoint_url)
        _client("sns", region, endpoint_url).create_topic(Name=names.topic(region))
        _bucket(names, region, endpoint_url)
        role_capacity = config.capacity.primary_desired if region == primary else config.capacity.standby_warm_min
        _auto_scaling_group(config, region, role_capacity, endpoint_url)
        _alarms(config, region, endpoint_url)
        health_checks[region] = _health_checks(config, region, endpoint_url)
    _bucket_replication(names, primary, standby, endpoint_url)
    _failover_records(config, health_checks, endpoint_url)
    if config.database.engine == "rds-postgres":
        _rds_primary_and_replica(config, endpoint_url)
    else:
        _aurora_global(config, endpoint_url)
    # The stacks seed the primary's replica on first deploy and the global table carries it
    # to the standby; here both tables get the same item at once.
    for region in (primary, standby):
        write_desired_state(config, region, initial_desired_state(config), endpoint_url=endpoint_url)
    return ProvisionedTopology(config=config, health_check_ids=health_checks)


def write_desired_state(
    config: EnvironmentConfig, region: str, state: DesiredState, *, endpoint_url: str | None = None
) -> None:
    """Put the desired-state item into one region's table, in the contract's item shape."""
    _client("dynamodb", region, endpoint_url).put_item(
        TableName=Names(config).state_table, Item=desired_state_item(config, state)
    )


def publish_replication_lag(
    config: EnvironmentConfig,
    seconds: float,
    *,
    at: datetime | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> None:
    """Publish a replica's replication lag as the engine would (RDS ReplicaLag in seconds,
    Aurora AuroraGlobalDBReplicationLag in milliseconds): the standby's, or ``region``'s (a
    rebuilt old primary's)."""
    replica = region or config.regions.standby
    metric = Names(config).replica_lag_metric(replica)
    _client("cloudwatch", replica, endpoint_url).put_metric_data(
        Namespace=REPLICA_LAG_NAMESPACE,
        MetricData=[
            {
                "MetricName": metric.name,
                "Dimensions": [{"Name": metric.dimension, "Value": metric.identifier}],
                "Timestamp": at or datetime.now(UTC),
                "Value": seconds * metric.units_per_second,
            }
        ],
    )


def _state_table(names: Names, region: str, endpoint_url: str | None) -> None:
    _client("dynamodb", region, endpoint_url).create_table(
        TableName=names.state_table,
        KeySchema=[{"AttributeName": STATE_TABLE_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": STATE_TABLE_KEY, "AttributeType": "S"}],
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
    """The forward rule (the primary's bucket to the standby's) and the reverse one the
    primary's storage stack puts on the standby's bucket (stacks.components.data_bucket)."""
    for source, destination, role in (
        (primary, standby, f"{names.prefix}-replication"),
        (standby, primary, names.replication_role(standby)),
    ):
        _client("s3", source, endpoint_url).put_bucket_replication(
            Bucket=names.bucket(source),
            ReplicationConfiguration={
                "Role": f"arn:aws:iam::{names.config.account}:role/{role}",
                "Rules": [
                    {
                        "ID": names.replication_rule(destination),
                        "Status": "Enabled",
                        "Priority": 1,
                        "Filter": {"Prefix": ""},
                        "DeleteMarkerReplication": {"Status": "Enabled"},
                        "Destination": {"Bucket": names.bucket_arn(destination)},
                    }
                ],
            },
        )


def _auto_scaling_group(config: EnvironmentConfig, region: str, capacity: int, endpoint_url: str | None) -> None:
    names = Names(config)
    template = names.launch_template(region)
    ec2 = _client("ec2", region, endpoint_url)
    image = ec2.register_image(Name=APP_IMAGE_NAME, RootDeviceName="/dev/xvda", VirtualizationType="hvm")
    ec2.create_launch_template(
        LaunchTemplateName=template,
        LaunchTemplateData={"ImageId": image["ImageId"], "InstanceType": config.capacity.instance_type},
    )
    _client("autoscaling", region, endpoint_url).create_auto_scaling_group(
        AutoScalingGroupName=names.asg(region),
        LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
        MinSize=capacity,
        MaxSize=config.capacity.max,
        DesiredCapacity=capacity,
        AvailabilityZones=[f"{region}a", f"{region}b"],
        # the tag the stack puts on the group and the controller's scaling grants require
        Tags=[{"Key": APP_TIER_TAG, "Value": names.asg(region), "PropagateAtLaunch": False}],
    )


def alarms_of_region(config: EnvironmentConfig, region: str) -> tuple[AlarmSpec, ...]:
    """The catalogue alarms the stacks create in ``region`` (its role decides replication-lag)."""
    standby = region == config.regions.standby
    return tuple(spec for spec in ALARMS if standby or spec.key not in STANDBY_ONLY_ALARMS)


def _alarms(config: EnvironmentConfig, region: str, endpoint_url: str | None) -> None:
    """Every alarm of the region, state OK. Modelled: ``controller-errors`` is a composite
    alarm over metric-math parts in the stacks; moto has no composite alarms, so it is one
    metric alarm of that name here (its parts are not provisioned: nothing reads them)."""
    cloudwatch = _client("cloudwatch", region, endpoint_url)
    names = Names(config)
    for spec in alarms_of_region(config, region):
        name = names.alarm(region, spec.key)
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=f"{spec.summary}. Runbook: {spec.runbook_page}",
            Namespace=STAND_IN_ALARM_NAMESPACE,
            MetricName=spec.key,
            Statistic="Maximum",
            Period=config.detection.alarm_period_seconds,  # >= 60 s, as the stacks' (standard resolution)
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


def modelled_host(region: str, purpose: str) -> str:
    """Where a modelled health check or record points (the stacks point at the load
    balancer's DNS name and the function URL's host, which the drill does not have)."""
    return f"{purpose}.{region}.{MODELLED_HOST_DOMAIN}"


def _health_checks(config: EnvironmentConfig, region: str, endpoint_url: str | None) -> list[str]:
    """The region's checks, ids in HEALTH_CHECK_PURPOSES order, each tagged
    ``Name = Names.health_check(region, purpose)``: one per endpoint the contract names
    (same type, port and path as deployed) and the calculated check that needs all of them."""
    route53 = _client("route53", ROUTE53_REGION, endpoint_url)
    names = Names(config)
    ids: dict[str, str] = {}
    for purpose, endpoint in endpoint_checks(config).items():
        ids[purpose] = route53.create_health_check(
            CallerReference=names.health_check(region, purpose),
            HealthCheckConfig={
                "Type": endpoint.scheme.upper(),
                "FullyQualifiedDomainName": modelled_host(region, purpose),
                "Port": endpoint.port,
                "ResourcePath": endpoint.path,
                "RequestInterval": config.dns.health_check_interval_seconds,
                "FailureThreshold": config.dns.health_check_failure_threshold,
                "EnableSNI": endpoint.scheme == "https",
            },
        )["HealthCheck"]["Id"]
    children = list(ids.values())
    ids[CALCULATED_CHECK] = route53.create_health_check(
        CallerReference=names.health_check(region, CALCULATED_CHECK),
        HealthCheckConfig={"Type": "CALCULATED", "ChildHealthChecks": children, "HealthThreshold": len(children)},
    )["HealthCheck"]["Id"]
    for purpose, check_id in ids.items():
        route53.change_tags_for_resource(
            ResourceType="healthcheck",
            ResourceId=check_id,
            AddTags=[{"Key": "Name", "Value": names.health_check(region, purpose)}],
        )
    return [ids[purpose] for purpose in HEALTH_CHECK_PURPOSES]


def _hosted_zone(config: EnvironmentConfig, endpoint_url: str | None) -> str:
    """The configured hosted zone, under its configured id (the controller's record
    fallback addresses it by that id). moto generates zone ids; its id manager takes a
    custom id for the next zone of that name, which needs moto in this process."""
    from moto.route53.models import HostedZoneIdentifier  # noqa: PLC0415 - moto only
    from moto.utilities.id_generator import moto_id_manager  # noqa: PLC0415

    zone_name = config.dns.zone_name.rstrip(".") + "."
    identifier = HostedZoneIdentifier(config.account, zone_name, None)
    moto_id_manager.set_custom_id(identifier, config.dns.hosted_zone_id)
    try:
        created = _client("route53", ROUTE53_REGION, endpoint_url).create_hosted_zone(
            Name=zone_name, CallerReference=f"{Names(config).prefix}-zone"
        )["HostedZone"]
    finally:
        moto_id_manager.unset_custom_id(identifier)
    zone_id = str(created["Id"]).rsplit("/", 1)[-1]
    if zone_id != config.dns.hosted_zone_id:
        raise RuntimeError(
            f"moto gave the hosted zone id {zone_id}, not the configured {config.dns.hosted_zone_id}: "
            "provision against mock_aws or a moto server started in this process"
        )
    return zone_id


def _failover_records(config: EnvironmentConfig, health_checks: dict[str, list[str]], endpoint_url: str | None) -> None:
    """Each region's failover record (PRIMARY for the primary's, SECONDARY for the
    standby's) on its calculated check. Modelled: the stacks alias the record to the
    region's load balancer; here it aliases a modelled host (the drill resolves names with
    drill.world.Route53FailoverModel, moto never does)."""
    zone_id = _hosted_zone(config, endpoint_url)
    names = Names(config)
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": config.dns.record_name.rstrip(".") + ".",
                "Type": "A",
                "SetIdentifier": names.failover_record_set_identifier(region),
                "Failover": FAILOVER_BY_ROLE[config.role_of(region)],
                "HealthCheckId": health_checks[region][HEALTH_CHECK_PURPOSES.index(CALCULATED_CHECK)],
                "AliasTarget": {
                    "HostedZoneId": zone_id,
                    "DNSName": modelled_host(region, SIGNAL_HEALTH_CHECK),
                    "EvaluateTargetHealth": True,
                },
            },
        }
        for region in config.regions.pair
    ]
    changes += [
        {"Action": "CREATE", "ResourceRecordSet": record}
        for region in config.regions.pair
        for record in _verdict_records(names, region, health_checks[region])
    ]
    _client("route53", ROUTE53_REGION, endpoint_url).change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Comment": "switchyard: provisioned failover records", "Changes": changes}
    )


def _verdict_records(names: Names, region: str, check_ids: list[str]) -> list[dict[str, Any]]:
    """The region's Route 53 verdict sentinel, as stacks/components/route53_verdict.py deploys
    it: PRIMARY on the load balancer's check, SECONDARY without one. moto never answers DNS;
    the drill answers the sentinel from its fault model (drill.adapters.DrillHealthSignals)."""
    records = []
    for failover, address in VERDICT_ADDRESS_BY_FAILOVER.items():
        record: dict[str, Any] = {
            "Name": names.verdict_record(region).rstrip(".") + ".",
            "Type": "A",
            "SetIdentifier": names.verdict_record_set_identifier(region, failover),
            "Failover": failover,
            "TTL": VERDICT_TTL_SECONDS,
            "ResourceRecords": [{"Value": address}],
        }
        if failover == "PRIMARY":
            record["HealthCheckId"] = check_ids[HEALTH_CHECK_PURPOSES.index(SIGNAL_HEALTH_CHECK)]
        records.append(record)
    return records


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
