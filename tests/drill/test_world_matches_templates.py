"""The drill's world is what the stacks deploy (DESIGN principle 10).

For each environment (dev: rds-postgres, prod: aurora-postgres) the app is synthesized
and ``drill.provision`` runs in moto; every test reads the expected set FROM THE
TEMPLATES (all resources of a type in a region) and finds each one's provisioned
counterpart, so a rename in a stack, or a new resource of a compared type, fails here.
Where provision models a resource differently because moto lacks the feature, the test
compares the part that must agree and names the difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from drill.provision import STAND_IN_ALARM_NAMESPACE
from switchyard.config import EnvironmentConfig, load_environment
from switchyard.contract import (
    FUNCTION_PURPOSES,
    STATE_TABLE_KEY,
    Names,
    desired_state_item,
    handler_path,
    initial_desired_state,
)
from switchyard.handlers import monitor, reconciler, traffic_switch
from tests.drill.template_world import (
    Deployed,
    DrillWorld,
    assembly_dir,
    build_drill_world,
    referenced_logical_id,
    render,
    tag,
)

ENVIRONMENTS = ("dev", "prod")
# The drill runs these handlers in-process (drill.runner imports them); moto holds no
# function for them. Their deployed handler path must still import the same callable.
IN_PROCESS_HANDLERS = {
    "monitor": monitor.handler,
    "reconciler": reconciler.handler,
    "traffic_switch": traffic_switch.handler,
}


@dataclass(frozen=True)
class Environment:
    config: EnvironmentConfig
    deployed: Deployed
    world: DrillWorld

    @property
    def names(self) -> Names:
        return Names(self.config)

    @property
    def regions(self) -> tuple[str, str]:
        return self.config.regions.pair


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> Environment:
    config = load_environment(request.param)
    directory = assembly_dir(config)
    return Environment(config, Deployed.read(config, directory), build_drill_world(config))


# -- the state table ---------------------------------------------------------------------
def _global_table(env: Environment) -> dict[str, Any]:
    tables = [
        properties
        for region in env.regions
        for _, _, properties in env.deployed.resources(region, "AWS::DynamoDB::GlobalTable")
    ]
    assert len(tables) == 1, f"expected one global state table across {env.regions}, found {len(tables)}"
    return tables[0]


def test_state_table_has_the_deployed_name_key_and_replica_regions(env: Environment) -> None:
    # GIVEN the stacks' global table WHEN the drill's tables are read back
    table = _global_table(env)
    replica_regions = {replica["Region"] for replica in table["Replicas"]}

    # THEN one table of that name exists in each replica region (moto has no global
    # tables: the drill models one table per region and replicates between them)
    assert table["TableName"] == env.names.state_table
    assert set(env.world.tables) == replica_regions
    # AND every replica has the deployed key schema, which is the contract's
    assert table["KeySchema"] == [{"AttributeName": STATE_TABLE_KEY, "KeyType": "HASH"}]
    for region, described in env.world.tables.items():
        assert described["KeySchema"] == table["KeySchema"], region
        assert described["AttributeDefinitions"] == table["AttributeDefinitions"], region


# -- the seeded desired state --------------------------------------------------------------
def test_drill_seeds_the_contract_desired_state_in_every_replica(env: Environment) -> None:
    # GIVEN the item the contract says a first deploy seeds
    seeded = desired_state_item(env.config, initial_desired_state(env.config))

    # WHEN the provisioned replicas are read THEN each holds exactly that item
    assert env.world.desired_items == dict.fromkeys(env.world.tables, seeded)


def _seed_calls(env: Environment) -> Iterator[dict[str, Any]]:
    """Every custom resource Create call of the primary's controller stack, parsed."""
    template = env.deployed.template("controller", env.config.regions.primary)
    for resource in template["Resources"].values():
        create = resource.get("Properties", {}).get("Create")
        if resource["Type"].startswith("Custom::") and create is not None:
            rendered = render(create)
            yield json.loads(rendered) if isinstance(rendered, str) else rendered


def test_stacks_seed_the_item_the_drill_seeds(env: Environment) -> None:
    # GIVEN the primary's controller stack WHEN its custom resources' Create calls are read
    puts = [
        call
        for call in _seed_calls(env)
        if str(call.get("action", "")).lower() == "putitem"
        and call.get("parameters", {}).get("TableName") == env.names.state_table
    ]

    # THEN exactly one is a conditional PutItem of the item the drill provisions
    assert len(puts) == 1, (
        f"{env.names.stack('controller', env.config.regions.primary)} must seed {env.names.desired_state_key}: "
        f"expected one custom resource whose Create is a DynamoDB PutItem into {env.names.state_table}, "
        f"found {len(puts)}"
    )
    parameters = puts[0]["parameters"]
    condition = str(parameters["ConditionExpression"])
    for placeholder, attribute in parameters.get("ExpressionAttributeNames", {}).items():
        condition = condition.replace(placeholder, attribute)
    assert condition == f"attribute_not_exists({STATE_TABLE_KEY})"
    assert parameters["Item"] == env.world.desired_items[env.config.regions.primary]


# -- compute -------------------------------------------------------------------------------
def test_each_region_has_the_deployed_asg_with_its_roles_min_and_max(env: Environment) -> None:
    for region in env.regions:
        # GIVEN the region's deployed ASGs WHEN compared with the provisioned ones
        deployed = {
            properties["AutoScalingGroupName"]: (int(properties["MinSize"]), int(properties["MaxSize"]))
            for _, _, properties in env.deployed.resources(region, "AWS::AutoScaling::AutoScalingGroup")
        }
        provisioned = {asg["AutoScalingGroupName"]: (asg["MinSize"], asg["MaxSize"]) for asg in env.world.asgs[region]}

        # THEN names, minimum (the role's capacity) and maximum agree
        assert provisioned == deployed, region


# -- databases -----------------------------------------------------------------------------
def test_rds_instances_have_the_deployed_identifiers_and_replication_source(env: Environment) -> None:
    if env.config.database.engine != "rds-postgres":
        pytest.skip("the RDS engine only")
    for region in env.regions:
        # GIVEN the region's standalone instances (primary, or its cross-region replica)
        deployed = {
            properties["DBInstanceIdentifier"]: properties.get("SourceDBInstanceIdentifier")
            for _, _, properties in env.deployed.resources(region, "AWS::RDS::DBInstance")
            if "DBClusterIdentifier" not in properties
        }
        provisioned = {
            instance["DBInstanceIdentifier"]: instance.get("ReadReplicaSourceDBInstanceIdentifier")
            for instance in env.world.db_instances[region]
        }

        # THEN identifiers and each replica's source agree
        assert provisioned == deployed, region


def test_aurora_global_and_regional_clusters_have_the_deployed_identifiers(env: Environment) -> None:
    if env.config.database.engine != "aurora-postgres":
        pytest.skip("the Aurora engine only")
    # GIVEN the deployed global cluster and the regional clusters
    deployed_global = [
        properties["GlobalClusterIdentifier"]
        for region in env.regions
        for _, _, properties in env.deployed.resources(region, "AWS::RDS::GlobalCluster")
    ]
    # THEN the drill's global cluster has the deployed identifier
    assert [cluster["GlobalClusterIdentifier"] for cluster in env.world.global_clusters] == deployed_global
    members = {
        member["DBClusterArn"].rsplit(":", 1)[-1] for member in env.world.global_clusters[0]["GlobalClusterMembers"]
    }
    for region in env.regions:
        deployed = {
            properties["DBClusterIdentifier"]
            for _, _, properties in env.deployed.resources(region, "AWS::RDS::DBCluster")
        }
        provisioned = {cluster["DBClusterIdentifier"] for cluster in env.world.db_clusters[region]}
        # AND each region's cluster has the deployed identifier and is a member of it
        assert provisioned == deployed, region
        assert deployed <= members, region


# -- alarms --------------------------------------------------------------------------------
def _references(value: Any) -> Iterator[str]:
    """Every logical id a property value refers to (Ref / Fn::GetAtt), at any depth."""
    if (logical_id := referenced_logical_id(value)) is not None:
        yield logical_id
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _composite_children(template: dict[str, Any], properties: dict[str, Any]) -> set[str]:
    """Names of the alarms a composite alarm's rule references: by token (an alarm of the
    same template) or literally (``ALARM("name")``)."""
    by_token = {
        str(template["Resources"][logical_id]["Properties"]["AlarmName"])
        for logical_id in _references(properties["AlarmRule"])
    }
    rule = properties["AlarmRule"]
    literal = set(re.findall(r'ALARM\("([^"<>]+)"\)', rule)) if isinstance(rule, str) else set()
    return by_token | {name.rsplit(":", 1)[-1] for name in literal}


def test_each_region_has_every_deployed_alarm_by_name(env: Environment) -> None:
    for region in env.regions:
        # GIVEN the region's deployed alarms, without the parts of composite alarms (moto
        # has no composite alarms: the drill models each composite as one alarm of its
        # name and does not provision its parts, which nothing reads)
        metric_alarms = {
            properties["AlarmName"] for _, _, properties in env.deployed.resources(region, "AWS::CloudWatch::Alarm")
        }
        composites = [
            (template, properties)
            for template, _, properties in env.deployed.resources(region, "AWS::CloudWatch::CompositeAlarm")
        ]
        parts = set().union(*(_composite_children(template, properties) for template, properties in composites))
        deployed = (metric_alarms - parts) | {properties["AlarmName"] for _, properties in composites}

        # WHEN the provisioned alarms are listed THEN the names agree, one to one
        assert {alarm["AlarmName"] for alarm in env.world.alarms[region]} == deployed, region


def test_drill_alarms_watch_only_a_stand_in_metric(env: Environment) -> None:
    # GIVEN moto never evaluates alarms (the drill sets their states) WHEN the provisioned
    # alarms are read THEN none claims to watch a deployed metric: the difference is explicit
    namespaces = {alarm.get("Namespace") for region in env.regions for alarm in env.world.alarms[region]}
    assert namespaces == {STAND_IN_ALARM_NAMESPACE}


def test_drill_publishes_the_lag_metric_the_replication_lag_alarm_watches(env: Environment) -> None:
    # GIVEN the deployed replication-lag alarm (the standby's), single metric or metric math
    standby = env.config.regions.standby
    alarm_name = env.names.alarm(standby, "replication-lag")
    (alarm,) = [
        properties
        for _, _, properties in env.deployed.resources(standby, "AWS::CloudWatch::Alarm")
        if properties["AlarmName"] == alarm_name
    ]
    stats = [query["MetricStat"]["Metric"] for query in alarm.get("Metrics", []) if "MetricStat" in query]
    watched = stats or [{key: alarm[key] for key in ("Namespace", "MetricName", "Dimensions")}]

    # WHEN the drill publishes lag (drill.provision.publish_replication_lag)
    published = [
        {key: metric[key] for key in ("Namespace", "MetricName", "Dimensions")} for metric in env.world.lag_metrics
    ]

    # THEN it is that metric, in the standby's region
    assert published == watched
    assert {metric["Region"] for metric in env.world.lag_metrics} == {standby}


# -- Route 53 ------------------------------------------------------------------------------
ENDPOINT_CHECK_FIELDS = ("Type", "Port", "ResourcePath", "RequestInterval", "FailureThreshold", "EnableSNI")


def _deployed_health_checks(env: Environment, region: str) -> dict[str, dict[str, Any]]:
    """The region's checks by Name tag, children of a calculated check as Name tags."""
    checks: dict[str, dict[str, Any]] = {}
    for template, _, properties in env.deployed.resources(region, "AWS::Route53::HealthCheck"):
        config = dict(properties["HealthCheckConfig"])
        if "ChildHealthChecks" in config:
            config["ChildHealthChecks"] = sorted(
                str(tag(template["Resources"][referenced_logical_id(child)]["Properties"], "Name", "HealthCheckTags"))
                for child in config["ChildHealthChecks"]
            )
        checks[str(tag(properties, "Name", "HealthCheckTags"))] = config
    return checks


def test_each_deployed_health_check_has_a_provisioned_twin_by_name_and_config(env: Environment) -> None:
    provisioned = {check["Name"]: check for check in env.world.health_checks}
    names_by_id = {check["Id"]: check["Name"] for check in env.world.health_checks}
    deployed_names: set[str] = set()
    for region in env.regions:
        for name, deployed in _deployed_health_checks(env, region).items():
            deployed_names.add(name)
            # GIVEN a deployed check WHEN its provisioned twin is found by Name tag
            assert name in provisioned, f"{region}: no provisioned health check named {name}"
            config = provisioned[name]["HealthCheckConfig"]
            # THEN a calculated check needs the same children (by name), an endpoint check
            # requests the same type, port and path at the same rhythm (the host differs:
            # the drill has no load balancer or function URL, it models names under .invalid)
            if deployed["Type"] == "CALCULATED":
                children = sorted(names_by_id[child] for child in config["ChildHealthChecks"])
                assert (config["Type"], config["HealthThreshold"], children) == (
                    "CALCULATED",
                    deployed["HealthThreshold"],
                    deployed["ChildHealthChecks"],
                ), name
            else:
                expected = {
                    field: deployed.get(field, False if field == "EnableSNI" else None)
                    for field in ENDPOINT_CHECK_FIELDS
                }
                assert {field: config.get(field) for field in ENDPOINT_CHECK_FIELDS} == expected, name
    # AND the drill has no check the stacks do not deploy
    assert set(provisioned) == deployed_names


def test_each_deployed_failover_record_has_a_provisioned_twin(env: Environment) -> None:
    # GIVEN the deployed failover records (name, set identifier, role, check by Name tag)
    deployed = set()
    for region in env.regions:
        for template, _, properties in env.deployed.resources(region, "AWS::Route53::RecordSet"):
            if "Failover" not in properties:
                continue
            checked = "HealthCheckId" in properties  # a verdict sentinel's SECONDARY has no check
            check_id = referenced_logical_id(properties["HealthCheckId"]) if checked else None
            check = template["Resources"][check_id]["Properties"] if check_id else {}
            deployed.add(
                (
                    properties["HostedZoneId"],
                    properties["Name"],
                    properties["Type"],
                    properties["SetIdentifier"],
                    properties["Failover"],
                    tag(check, "Name", "HealthCheckTags") if checked else None,
                )
            )
    # WHEN the provisioned records are read (aliasing a modelled host, not a load balancer)
    check_names = {check["Id"]: check["Name"] for check in env.world.health_checks}
    provisioned = {
        (
            record["HostedZoneId"],
            record["Name"],
            record["Type"],
            record["SetIdentifier"],
            record["Failover"],
            check_names[record["HealthCheckId"]] if "HealthCheckId" in record else None,
        )
        for record in env.world.failover_records
    }
    # THEN they agree one to one
    assert provisioned == deployed


# -- controller resources and buckets ------------------------------------------------------
@pytest.mark.parametrize(
    ("resource_type", "name_property", "world_field"),
    [
        ("AWS::SNS::Topic", "TopicName", "topics"),
        ("AWS::StepFunctions::StateMachine", "StateMachineName", "state_machines"),
    ],
)
def test_each_region_has_the_deployed_named_resources(
    env: Environment, resource_type: str, name_property: str, world_field: str
) -> None:
    for region in env.regions:
        # GIVEN the region's deployed resources of the type WHEN compared by name
        deployed = {properties[name_property] for _, _, properties in env.deployed.resources(region, resource_type)}
        # THEN the drill's world holds the same names
        assert set(getattr(env.world, world_field)[region]) == deployed, region


def _deployed_switchyard_functions(env: Environment, region: str) -> dict[str, str]:
    """The region's Switchyard functions (name -> handler); CDK's own helpers excluded."""
    return {
        properties["FunctionName"]: properties["Handler"]
        for _, _, properties in env.deployed.resources(region, "AWS::Lambda::Function")
        if str(properties.get("Handler", "")).startswith("switchyard.")
    }


def test_deployed_functions_are_named_and_routed_by_the_contract(env: Environment) -> None:
    for region in env.regions:
        # GIVEN the region's Switchyard functions THEN each purpose has its contract name and handler path
        expected = {env.names.function(region, purpose): handler_path(purpose) for purpose in FUNCTION_PURPOSES}
        assert _deployed_switchyard_functions(env, region) == expected, region


def test_drill_functions_match_the_deployed_ones_and_the_rest_run_in_process(env: Environment) -> None:
    for region in env.regions:
        deployed = _deployed_switchyard_functions(env, region)
        provisioned = env.world.functions[region]
        # GIVEN the drill's functions (the runbook's steps) THEN each is deployed with the same handler
        assert {name: deployed.get(name) for name in provisioned} == provisioned, region
        # AND every other deployed function is one the drill runs in-process, by that handler
        in_process = {name: handler for name, handler in deployed.items() if name not in provisioned}
        assert in_process == {
            env.names.function(region, purpose): handler_path(purpose) for purpose in IN_PROCESS_HANDLERS
        }, region
        for purpose, called in IN_PROCESS_HANDLERS.items():
            module, _, attribute = handler_path(purpose).rpartition(".")
            assert getattr(__import__(module, fromlist=[attribute]), attribute) is called, purpose


REVERSE_REPLICATION_RESOURCE = "Custom::SwitchyardReverseReplication"


def test_each_named_bucket_is_provisioned_in_its_region_with_its_replication(env: Environment) -> None:
    # GIVEN every named bucket the stacks deploy (unnamed ones, e.g. access logs, nothing addresses)
    deployed: dict[str, dict[str, Any]] = {}
    for region in env.regions:
        for _, _, properties in env.deployed.resources(region, "AWS::S3::Bucket"):
            if "BucketName" in properties:
                replication = properties.get("ReplicationConfiguration")
                deployed[properties["BucketName"]] = {
                    "region": region,
                    "versioning": properties.get("VersioningConfiguration", {}).get("Status"),
                    "destinations": sorted(rule["Destination"]["Bucket"] for rule in replication["Rules"])
                    if replication
                    else [],
                }
    # AND the rules a custom resource puts on a bucket whose own template cannot name its
    # destination (the standby's reverse rule: stacks/components/data_bucket.py ReverseReplication)
    for region in env.regions:
        for _, _, properties in env.deployed.resources(region, REVERSE_REPLICATION_RESOURCE):
            call = json.loads(
                "".join(part if isinstance(part, str) else "" for part in properties["Create"]["Fn::Join"][1])
            )
            config = call["parameters"]["ReplicationConfiguration"]
            bucket = deployed[call["parameters"]["Bucket"]]
            bucket["destinations"] = sorted(
                [*bucket["destinations"], *(r["Destination"]["Bucket"] for r in config["Rules"])]
            )
    # WHEN the drill's buckets are read
    provisioned = {
        name: {
            "region": bucket["region"],
            "versioning": bucket["versioning"],
            "destinations": sorted(
                rule["Destination"]["Bucket"] for rule in (bucket["replication"] or {}).get("Rules", [])
            ),
        }
        for name, bucket in env.world.buckets.items()
    }
    # THEN names, regions, versioning and replication destinations agree
    assert provisioned == deployed
