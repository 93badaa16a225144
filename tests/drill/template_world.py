"""Two views of one environment, as plain data, for tests/drill/test_world_matches_templates.py:

- :class:`Deployed`: the synthesized CloudFormation templates, grouped by region (every
  stack of the region: controller, storage, regional), with the few intrinsic functions
  the comparisons meet resolved to something comparable;
- :class:`DrillWorld`: what ``drill.provision`` (plus the drill's runbook deployment)
  leaves in moto, read back through the AWS APIs as the controller would see it.

The templates come from an in-process synth (``tests.stacks.topology.synthesize``). While
the stacks cannot synthesize, set ``SWITCHYARD_TEMPLATES_DIR`` to a directory holding a
cloud assembly per environment (``<dir>/cdk-<env>/manifest.json``, e.g. a copied cdk.out).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from drill.provision import provision, publish_replication_lag
from drill.stepfunctions import MOTO_CONFIG, LocalRunbook, local_runbook
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names

TEMPLATES_DIR_VARIABLE = "SWITCHYARD_TEMPLATES_DIR"
STACK_ARTIFACT = "aws:cloudformation:stack"
PUBLISHED_LAG_SECONDS = 2.0

Template = dict[str, Any]
Resource = dict[str, Any]


# -- the templates -----------------------------------------------------------------------
def assembly_dir(config: EnvironmentConfig) -> Path:
    """A cloud assembly of ``config``'s app: the pre-synthesized one named by
    SWITCHYARD_TEMPLATES_DIR, or this process's synth (``stacks.synthesis``)."""
    prepared = os.environ.get(TEMPLATES_DIR_VARIABLE)
    if prepared:
        return Path(prepared) / f"cdk-{config.name}"
    from stacks.synthesis import synthesized  # noqa: PLC0415 - CDK is slow to import; only when needed

    return synthesized(config).outdir


@dataclass(frozen=True)
class Deployed:
    """The environment's templates by region (stack name -> template)."""

    config: EnvironmentConfig
    by_region: dict[str, dict[str, Template]]

    @classmethod
    def read(cls, config: EnvironmentConfig, directory: Path) -> Deployed:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        by_region: dict[str, dict[str, Template]] = {}
        for name, artifact in manifest["artifacts"].items():
            if artifact["type"] != STACK_ARTIFACT:
                continue
            region = artifact["environment"].rsplit("/", 1)[-1]
            template_file = directory / artifact["properties"]["templateFile"]
            by_region.setdefault(region, {})[name] = json.loads(template_file.read_text(encoding="utf-8"))
        return cls(config=config, by_region=by_region)

    def resources(self, region: str, resource_type: str) -> Iterator[tuple[Template, str, Resource]]:
        """(template, logical id, properties) of every ``resource_type`` in ``region``'s stacks."""
        for template in self.by_region.get(region, {}).values():
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == resource_type:
                    yield template, logical_id, resource.get("Properties", {})

    def template(self, kind: str, region: str) -> Template:
        name = Names(self.config).stack(kind, region)
        template: Template = self.by_region[region][name]
        return template


def render(value: Any) -> Any:
    """A property value with Fn::Join flattened and references as ``<logical id>``, so a
    string built from tokens (a custom resource's JSON call) can be parsed and compared."""
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(render(part)) for part in parts)
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
    if isinstance(value, dict):
        return {key: render(item) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item) for item in value]
    return value


def tag(properties: Resource, key: str, tags_property: str = "Tags") -> str | None:
    for entry in properties.get(tags_property, []):
        if entry["Key"] == key:
            return str(entry["Value"])
    return None


def referenced_logical_id(value: Any) -> str | None:
    """The logical id a Ref or Fn::GetAtt points at (None for a literal)."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


# -- the drill's world ---------------------------------------------------------------------
@dataclass
class DrillWorld:
    """What the drill provisions and deploys in moto, read back per region."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # region -> describe_table
    desired_items: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # region -> item
    asgs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    alarms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    topics: dict[str, list[str]] = field(default_factory=dict)  # region -> topic names
    state_machines: dict[str, list[str]] = field(default_factory=dict)
    functions: dict[str, dict[str, str]] = field(default_factory=dict)  # region -> {name: handler}
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> region, versioning, replication
    db_instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    db_clusters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    global_clusters: list[dict[str, Any]] = field(default_factory=list)
    health_checks: list[dict[str, Any]] = field(default_factory=list)  # each with its "Name" tag
    hosted_zone_ids: list[str] = field(default_factory=list)
    failover_records: list[dict[str, Any]] = field(default_factory=list)
    lag_metrics: list[dict[str, Any]] = field(default_factory=list)  # what publish_replication_lag wrote


def build_drill_world(config: EnvironmentConfig) -> DrillWorld:
    """Provision ``config`` and deploy both regions' runbooks as the drill does, then read
    everything back (inside a private moto)."""
    primary, standby = config.regions.pair
    with mock_aws(config=MOTO_CONFIG), local_runbook(config, standby) as runbook:
        provision(config)
        runbook.deploy()
        LocalRunbook(config, primary).deploy()  # the drill deploys it for failbacks
        publish_replication_lag(config, PUBLISHED_LAG_SECONDS)
        return _read_world(config)


def _read_world(config: EnvironmentConfig) -> DrillWorld:
    names = Names(config)
    world = DrillWorld()
    for region in config.regions.pair:
        dynamodb = boto3.client("dynamodb", region_name=region)
        if names.state_table in dynamodb.list_tables()["TableNames"]:
            world.tables[region] = dynamodb.describe_table(TableName=names.state_table)["Table"]
            world.desired_items[region] = dynamodb.get_item(
                TableName=names.state_table,
                Key={world.tables[region]["KeySchema"][0]["AttributeName"]: {"S": names.desired_state_key}},
                ConsistentRead=True,
            ).get("Item")
        autoscaling = boto3.client("autoscaling", region_name=region)
        world.asgs[region] = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
        cloudwatch = boto3.client("cloudwatch", region_name=region)
        world.alarms[region] = cloudwatch.describe_alarms()["MetricAlarms"]
        world.lag_metrics += [
            {**metric, "Region": region} for metric in cloudwatch.list_metrics(Namespace="AWS/RDS")["Metrics"]
        ]
        topics = boto3.client("sns", region_name=region).list_topics()["Topics"]
        world.topics[region] = [topic["TopicArn"].rsplit(":", 1)[-1] for topic in topics]
        machines = boto3.client("stepfunctions", region_name=region).list_state_machines()["stateMachines"]
        world.state_machines[region] = [machine["name"] for machine in machines]
        functions = boto3.client("lambda", region_name=region).list_functions()["Functions"]
        world.functions[region] = {function["FunctionName"]: function["Handler"] for function in functions}
        rds = boto3.client("rds", region_name=region)
        world.db_instances[region] = rds.describe_db_instances()["DBInstances"]
        world.db_clusters[region] = rds.describe_db_clusters()["DBClusters"]
    world.global_clusters = boto3.client("rds", region_name=config.regions.primary).describe_global_clusters()[
        "GlobalClusters"
    ]
    s3 = boto3.client("s3", region_name=config.regions.primary)
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        try:
            replication = s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]
        except s3.exceptions.ClientError:
            replication = None
        world.buckets[name] = {
            "region": s3.get_bucket_location(Bucket=name)["LocationConstraint"] or "us-east-1",
            "versioning": s3.get_bucket_versioning(Bucket=name).get("Status"),
            "replication": replication,
        }
    _read_route53(config, world)
    return world


def _read_route53(config: EnvironmentConfig, world: DrillWorld) -> None:
    route53 = boto3.client("route53", region_name="us-east-1")
    for check in route53.list_health_checks()["HealthChecks"]:
        tags = route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])
        name = tag({"Tags": tags["ResourceTagSet"]["Tags"]}, "Name")
        world.health_checks.append({**check, "Name": name})
    world.hosted_zone_ids = [zone["Id"].rsplit("/", 1)[-1] for zone in route53.list_hosted_zones()["HostedZones"]]
    for zone_id in world.hosted_zone_ids:
        records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        world.failover_records += [{**record, "HostedZoneId": zone_id} for record in records if "Failover" in record]
