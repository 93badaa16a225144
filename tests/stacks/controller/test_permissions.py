"""Least privilege across the whole controller (add_controller), for both database engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.shared.grants import FAILOVER_RECORD_TYPES, LOCK_RELEASE_ATTRIBUTES, LOST_WRITES_SNAPSHOT_ATTRIBUTES
from stacks.shared.policy import Permission, is_read_only
from switchyard.alarms import HEALTH_SIGNAL_ALARMS
from switchyard.config import EnvironmentConfig
from switchyard.contract import APP_TIER_TAG, STATE_TABLE_KEY
from tests.stacks.controller.builders import (
    BareStack,
    actions_on,
    as_list,
    build_controller,
    policy_statements,
    role_statements,
)

# Mutating calls AWS authorizes only on "*"; each is named with its reason, nothing else may use "*".
MUTATING_ONLY_ON_STAR = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
    "logs:CreateLogDelivery": "Step Functions vended logs: no resource-level permissions",
    "logs:UpdateLogDelivery": "Step Functions vended logs: no resource-level permissions",
    "logs:DeleteLogDelivery": "Step Functions vended logs: no resource-level permissions",
    "logs:PutResourcePolicy": "Step Functions vended logs: no resource-level permissions",
    "states:SendTaskSuccess": "task-token calls: the token, not an ARN, names the approval",
    "states:SendTaskFailure": "task-token calls: the token, not an ARN, names the approval",
    "states:SendTaskHeartbeat": "task-token calls: the token, not an ARN, names the approval",
}


@pytest.fixture(scope="module")
def dev_standby(dev: EnvironmentConfig, runbook_definition: Path) -> tuple[BareStack, Template]:
    given, _ = build_controller(dev, dev.regions.standby, definition_path=runbook_definition)
    return given, Template.from_stack(given.stack)


@pytest.fixture(scope="module")
def prod_primary(prod: EnvironmentConfig, runbook_definition: Path) -> tuple[BareStack, Template]:
    given, _ = build_controller(prod, prod.regions.primary, definition_path=runbook_definition)
    return given, Template.from_stack(given.stack)


@pytest.fixture(scope="module", params=["dev_standby", "prod_primary"])
def controller(request: pytest.FixtureRequest) -> tuple[BareStack, Template]:
    return request.getfixturevalue(request.param)


def test_no_mutating_action_is_allowed_on_every_resource(controller) -> None:
    # GIVEN every IAM statement of one region's controller
    _, template = controller
    offending = [
        (policy, action)
        for policy, statement in policy_statements(template)
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
        if not is_read_only(action) and action not in MUTATING_ONLY_ON_STAR
    ]
    # THEN a "*" resource only ever carries reads (Describe/Get/List) or the named AWS exceptions
    assert offending == []


def test_no_action_name_is_a_wildcard(controller) -> None:
    _, template = controller
    actions = [action for _, statement in policy_statements(template) for action in as_list(statement["Action"])]
    assert [action for action in actions if "*" in action] == []


def test_rds_promote_targets_only_this_regions_replica(dev_standby) -> None:
    # GIVEN dev (engine rds-postgres) in its standby region
    given, template = dev_standby
    statements = role_statements(template, "ControllerFunctionsPromoteRole")
    # THEN promote may promote exactly the replica in this region and has no Aurora verbs
    assert actions_on(statements, "rds:PromoteReadReplica") == [given.names.db_instance_arn(given.region)]
    assert actions_on(statements, "rds:FailoverGlobalCluster") == []
    assert actions_on(statements, "rds:SwitchoverGlobalCluster") == []


def test_aurora_promote_targets_only_the_global_cluster_and_its_regional_clusters(prod_primary) -> None:
    # GIVEN prod (engine aurora-postgres)
    given, template = prod_primary
    statements = role_statements(template, "ControllerFunctionsPromoteRole")
    names = given.names
    expected = {names.global_cluster_arn, *(names.db_cluster_arn(region) for region in given.config.regions.pair)}
    # THEN failover and switchover name exactly the global cluster and the two regional clusters
    assert set(actions_on(statements, "rds:FailoverGlobalCluster")) == expected
    assert set(actions_on(statements, "rds:SwitchoverGlobalCluster")) == expected
    assert actions_on(statements, "rds:PromoteReadReplica") == []


@pytest.mark.parametrize(
    ("role", "may_lower_the_minimum"),
    [("ControllerFunctionsScaleUpRole", False), ("ControllerFunctionsReconcilerRole", True)],
)
def test_scaling_targets_only_this_regions_asg(dev_standby, role: str, may_lower_the_minimum: bool) -> None:
    # GIVEN the role of a function that scales this region's tier
    given, template = dev_standby
    statements = role_statements(template, role)
    own_asg = [given.names.asg_arn(given.region)]
    # THEN it sets capacity on this region's ASG only; only the reconciler (which idles a
    # former primary at the warm minimum) may also lower the group's MinSize
    assert actions_on(statements, "autoscaling:SetDesiredCapacity") == own_asg
    assert actions_on(statements, "autoscaling:UpdateAutoScalingGroup") == (own_asg if may_lower_the_minimum else [])


def test_fence_scales_only_the_other_regions_asg(dev_standby) -> None:
    given, template = dev_standby
    statements = role_statements(template, "ControllerFunctionsFenceRole")
    assert actions_on(statements, "autoscaling:SetDesiredCapacity") == [given.names.asg_arn(given.other_region)]


def statements_allowing(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements if action in as_list(statement["Action"])]


@pytest.mark.parametrize(
    ("role", "where"),
    [
        ("ControllerFunctionsScaleUpRole", "region"),
        ("ControllerFunctionsReconcilerRole", "region"),
        ("ControllerFunctionsFenceRole", "other_region"),
    ],
)
def test_scaling_needs_the_tag_the_stack_puts_on_the_group(dev_standby, role: str, where: str) -> None:
    # GIVEN every statement of a scaling function that allows a scaling call
    given, template = dev_standby
    region = getattr(given, where)
    statements = role_statements(template, role)
    scaling = [
        *statements_allowing(statements, "autoscaling:SetDesiredCapacity"),
        *statements_allowing(statements, "autoscaling:UpdateAutoScalingGroup"),
    ]
    # THEN each requires the app-tier tag with the group's own name (the stack's tag, app_tier.py)
    assert scaling
    for statement in scaling:
        assert statement["Condition"]["StringEquals"] == {
            f"autoscaling:ResourceTag/{APP_TIER_TAG}": given.names.asg(region)
        }


@pytest.mark.parametrize("role", ["ControllerFunctionsReconcilerRole", "ControllerFunctionsFenceRole"])
def test_lowering_the_minimum_is_bounded_by_the_warm_minimum_and_the_max(dev_standby, role: str) -> None:
    # GIVEN the one statement allowing UpdateAutoScalingGroup
    given, template = dev_standby
    (update,) = statements_allowing(role_statements(template, role), "autoscaling:UpdateAutoScalingGroup")
    capacity = given.config.capacity
    # THEN it holds that action alone (SetDesiredCapacity carries no size keys, so a size
    # condition would deny it), needs MinSize at most the warm minimum, and MaxSize (if the
    # request sets one) at most the configured max
    assert as_list(update["Action"]) == ["autoscaling:UpdateAutoScalingGroup"]
    assert update["Condition"]["NumericLessThanEquals"] == {"autoscaling:MinSize": str(capacity.standby_warm_min)}
    assert update["Condition"]["NumericLessThanEqualsIfExists"] == {"autoscaling:MaxSize": str(capacity.max)}


@pytest.mark.parametrize(
    ("role", "attributes"),
    [
        ("ControllerFunctionsReleaseRole", LOCK_RELEASE_ATTRIBUTES),
        ("ControllerFunctionsReconcilerRole", LOST_WRITES_SNAPSHOT_ATTRIBUTES),
        ("ControllerFunctionsFenceRole", LOST_WRITES_SNAPSHOT_ATTRIBUTES),
        ("ControllerFunctionsRejoinRole", LOST_WRITES_SNAPSHOT_ATTRIBUTES),
    ],
)
def test_update_item_names_the_attributes_it_may_touch(controller, role: str, attributes: tuple[str, ...]) -> None:
    # GIVEN the function's UpdateItem statement (the lock release, or the lost-writes snapshot record)
    _, template = controller
    (update,) = statements_allowing(role_statements(template, role), "dynamodb:UpdateItem")
    # THEN it may touch exactly those attributes, the key among them, and read nothing back
    assert update["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"] == list(attributes)
    assert STATE_TABLE_KEY in attributes
    assert update["Condition"]["StringEqualsIfExists"] == {"dynamodb:ReturnValues": "NONE"}


def test_the_record_edit_only_upserts_the_failover_records(controller) -> None:
    # GIVEN the flip's record edit
    given, template = controller
    (edit,) = statements_allowing(
        role_statements(template, "ControllerFunctionsFlipRole"), "route53:ChangeResourceRecordSets"
    )
    # THEN only UPSERT changes of the application's record, of the failover records' types
    assert edit["Resource"] == given.names.hosted_zone_arn
    assert edit["Condition"] == {
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": [given.config.dns.record_name],
            "route53:ChangeResourceRecordSetsRecordTypes": list(FAILOVER_RECORD_TYPES),
            "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
        }
    }


@pytest.mark.parametrize(
    ("role", "where"),
    [("ControllerFunctionsReconcilerRole", "region"), ("ControllerFunctionsFenceRole", "other_region")],
)
def test_rds_database_fence_stops_and_snapshots_only_the_fenced_regions_instance(
    dev_standby, role: str, where: str
) -> None:
    # GIVEN dev (rds-postgres): the reconciler fences its own region, the fence step the other
    given, template = dev_standby
    region = getattr(given, where)
    statements = role_statements(template, role)
    names = given.names
    # THEN StopDBInstance names exactly that instance, and CreateDBSnapshot that instance and
    # only snapshots under the lost-writes name
    assert actions_on(statements, "rds:StopDBInstance") == [names.db_instance_arn(region)]
    assert actions_on(statements, "rds:CreateDBSnapshot") == [
        names.db_instance_arn(region),
        names.db_snapshot_arn(region, "switchyard-dev-lost-writes-e*"),
    ]


def test_aurora_database_fence_only_verifies_and_copies_the_unplanned_failover_snapshot(prod_primary) -> None:
    # GIVEN prod (aurora-postgres) in its primary region: the reconciler's role
    given, template = prod_primary
    statements = role_statements(template, "ControllerFunctionsReconcilerRole")
    names, region = given.names, given.region
    # THEN it stops nothing, and copies only AWS's unplanned-failover snapshot to a lost-writes name
    assert actions_on(statements, "rds:StopDBInstance") == []
    assert actions_on(statements, "rds:StopDBCluster") == []
    assert actions_on(statements, "rds:CopyDBClusterSnapshot") == [
        names.db_cluster_snapshot_arn(region, "rds:unplanned-global-failover-*"),
        names.db_cluster_snapshot_arn(region, "switchyard-prod-lost-writes-e*"),
    ]


def test_only_promote_writes_a_lost_writes_record_and_only_the_fence_paths_update_it(controller) -> None:
    _, template = controller
    lost_writes = "lost-writes#orders#*"

    def roles_writing(action: str) -> set[str]:
        return {
            role
            for role in ("Promote", "Fence", "Reconciler", "Record", "Validate")
            for statement in role_statements(template, f"ControllerFunctions{role}Role")
            if action in as_list(statement["Action"])
            and any(
                lost_writes in keys.get("dynamodb:LeadingKeys", []) for keys in statement.get("Condition", {}).values()
            )
        }

    assert roles_writing("dynamodb:PutItem") == {"Promote"}
    assert roles_writing("dynamodb:UpdateItem") == {"Fence", "Reconciler"}


def test_every_state_table_write_is_limited_to_the_items_its_function_owns(controller) -> None:
    # GIVEN every function role's statement allowing a DynamoDB write
    given, template = controller
    writes = [
        statement
        for statement in role_statements(template, "ControllerFunctions")
        if any(action.startswith("dynamodb:") and not is_read_only(action) for action in as_list(statement["Action"]))
    ]
    # THEN each names the state table's replicas only, with dynamodb:LeadingKeys in its condition
    assert writes
    replicas = {given.names.state_table_arn(region) for region in given.config.regions.pair}
    for statement in writes:
        assert set(as_list(statement["Resource"])) <= replicas
        (keys,) = [
            condition["dynamodb:LeadingKeys"]
            for condition in statement["Condition"].values()
            if "dynamodb:LeadingKeys" in condition
        ]
        assert keys
    # AND only the desired-state item is ever written in the other region's replica (fence and flip)
    remote = {
        key
        for statement in writes
        if given.names.state_table_arn(given.other_region) in as_list(statement["Resource"])
        for condition in statement["Condition"].values()
        for key in condition.get("dynamodb:LeadingKeys", [])
    }
    assert remote == {given.names.desired_state_key}


def test_no_function_needs_the_key_for_the_state_table(controller) -> None:
    # GIVEN the state table uses the AWS-managed DynamoDB key  THEN no KMS grant goes through DynamoDB
    _, template = controller
    via = [
        service
        for _, statement in policy_statements(template)
        for service in as_list(statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService", []))
    ]
    assert via
    assert [service for service in via if service.startswith("dynamodb.")] == []


def test_only_the_record_step_and_monitor_publish_notifications_from_functions(dev_standby) -> None:
    given, template = dev_standby
    topic = given.names.topic_arn(given.region)
    for role in ("ControllerFunctionsRecordRole", "ControllerFunctionsMonitorRole"):
        assert actions_on(role_statements(template, role), "sns:Publish") == [topic]
    assert actions_on(role_statements(template, "ControllerFunctionsPromoteRole"), "sns:Publish") == []


def test_monitor_starts_only_this_regions_runbook_and_reads_both_regions_health_alarms(dev_standby) -> None:
    # the other region's alarms are a signal about it; its own are the target's (or the
    # self-watched active region's) health
    given, template = dev_standby
    statements = role_statements(template, "ControllerFunctionsMonitorRole")
    assert actions_on(statements, "states:StartExecution") == [given.names.state_machine_arn(given.region)]
    assert set(actions_on(statements, "cloudwatch:DescribeAlarms")) == {
        given.names.alarm_arn(region, alarm.key)
        for region in given.config.regions.pair
        for alarm in HEALTH_SIGNAL_ALARMS
    }


def test_only_the_operator_policy_and_the_monitor_may_start_the_runbook(controller) -> None:
    # GIVEN every statement that allows states:StartExecution
    _, template = controller
    holders = {
        policy
        for policy, statement in policy_statements(template)
        if "states:StartExecution" in as_list(statement["Action"])
    }
    monitor_policies = {
        logical_id
        for logical_id, policy in template.find_resources("AWS::IAM::Policy").items()
        if any(role["Ref"].startswith("ControllerFunctionsMonitorRole") for role in policy["Properties"]["Roles"])
    }
    operator_policies = set(template.find_resources("AWS::IAM::ManagedPolicy"))
    # THEN they are exactly the monitor's policy and the operator managed policy
    assert holders == monitor_policies | operator_policies
    assert len(monitor_policies) == 1
    assert len(operator_policies) == 1


def test_a_wildcard_resource_without_a_reason_is_refused() -> None:
    # GIVEN a mutating permission on "*" with no reason  WHEN declared  THEN it is refused at synth
    with pytest.raises(ValueError, match="needs a reason"):
        Permission(actions=("autoscaling:SetDesiredCapacity",), resources=("*",))


@pytest.mark.parametrize(
    ("action", "read_only"),
    [
        ("rds:DescribeDBInstances", True),
        ("dynamodb:GetItem", True),
        ("dynamodb:Query", True),
        ("route53:ListHealthChecks", True),
        ("dynamodb:UpdateItem", False),
        ("rds:PromoteReadReplica", False),
        ("states:StartExecution", False),
    ],
)
def test_read_only_verbs_are_told_apart_from_mutating_ones(action: str, read_only: bool) -> None:
    assert is_read_only(action) is read_only


def test_database_status_reads_name_the_databases_of_the_pair(controller) -> None:
    # GIVEN every statement that reads RDS status
    given, template = controller
    names = given.names
    pair = given.config.regions.pair
    known = {
        names.global_cluster_arn,
        *(names.db_instance_arn(region) for region in pair),
        *(names.db_cluster_arn(region) for region in pair),
        # the snapshots AWS keeps of a demoted Aurora writer (the lost-writes copy's source)
        *(names.db_cluster_snapshot_arn(region, "rds:unplanned-global-failover-*") for region in pair),
        # the lost-writes snapshots prepare-failback waits on before it deletes an old RDS primary
        *(names.db_snapshot_arn(region, names.lost_writes_snapshot_pattern) for region in pair),
    }
    read = {
        resource
        for _, statement in policy_statements(template)
        if any(action.startswith("rds:Describe") for action in as_list(statement["Action"]))
        for resource in as_list(statement["Resource"])
    }
    # THEN they name only the environment's databases (and their unplanned-failover snapshots), never "*"
    assert read
    assert read <= known
