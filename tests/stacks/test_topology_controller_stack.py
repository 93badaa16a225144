"""ControllerStack: the shared pieces (key, topic, global state table) of each region."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.contract import STATE_TABLE_KEY as STATE_KEY
from switchyard.contract import desired_state_item, initial_desired_state
from tests.stacks.topology import Topology, only_resource, resources_of


def test_the_controller_key_rotates(topology: Topology) -> None:
    for role in ("primary", "standby"):
        # GIVEN the region's controller stack  THEN its one key rotates
        keys = resources_of(topology.template_json("controller", role), "AWS::KMS::Key")
        assert [key["Properties"]["EnableKeyRotation"] for key in keys.values()] == [True], role


def test_the_topic_is_named_encrypted_and_mails_the_on_call(topology: Topology) -> None:
    # GIVEN the standby's controller stack
    template = topology.template_json("controller", "standby")
    topic = only_resource(template, "AWS::SNS::Topic")
    key_id = next(iter(resources_of(template, "AWS::KMS::Key")))
    # THEN the topic has its deterministic name, the controller key, and the configured e-mail
    assert topic["TopicName"] == topology.names.topic(topology.config.regions.standby)
    assert topic["KmsMasterKeyId"]["Fn::GetAtt"] == [key_id, "Arn"]
    subscriptions = [
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in resources_of(template, "AWS::SNS::Subscription").values()
    ]
    assert ("email", topology.config.notification_email) in subscriptions


def test_the_topic_refuses_publishers_without_tls(topology: Topology) -> None:
    # GIVEN the topic's policy  THEN it denies every request made without TLS
    policy = only_resource(topology.template_json("controller", "primary"), "AWS::SNS::TopicPolicy")
    denies = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_the_primary_owns_the_global_state_table_with_a_standby_replica(topology: Topology) -> None:
    # GIVEN the primary's controller stack
    table = only_resource(topology.template_json("controller", "primary"), "AWS::DynamoDB::GlobalTable")
    # THEN the table has its deterministic name, the key schema the state adapter addresses
    # items by (one string partition key), and a replica in each region
    assert table["TableName"] == topology.names.state_table
    assert table["KeySchema"] == [{"AttributeName": STATE_KEY, "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": STATE_KEY, "AttributeType": "S"}]
    assert {replica["Region"] for replica in table["Replicas"]} == set(topology.config.regions.pair)


@pytest.mark.parametrize(("environment", "witness"), [("dev", "us-east-2"), ("prod", "eu-west-3")])
def test_the_state_table_is_strongly_consistent_across_regions_with_the_configured_witness(
    request: pytest.FixtureRequest, environment: str, witness: str
) -> None:
    # GIVEN an environment's primary controller stack
    topology: Topology = request.getfixturevalue(f"topology_{environment}")
    table = only_resource(topology.template_json("controller", "primary"), "AWS::DynamoDB::GlobalTable")
    # THEN the table is MRSC (the lock and epoch are linearizable across regions) with the
    # configured witness, a third region outside the pair: two replicas + one witness
    assert table["MultiRegionConsistency"] == "STRONG"
    assert table["GlobalTableWitnesses"] == [{"Region": witness}]
    assert topology.config.regions.witness == witness
    assert witness not in {replica["Region"] for replica in table["Replicas"]}


def test_the_state_table_uses_nothing_mrsc_does_not_support(topology: Topology) -> None:
    # GIVEN the global table
    table = only_resource(topology.template_json("controller", "primary"), "AWS::DynamoDB::GlobalTable")
    # THEN it has no Time to Live and no local secondary index (MRSC supports neither)
    # and on-demand billing, so no replica needs a capacity setting
    assert "TimeToLiveSpecification" not in table
    assert "LocalSecondaryIndexes" not in table
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_the_state_table_is_encrypted_and_recoverable_in_every_replica(topology: Topology) -> None:
    # GIVEN the global table  THEN it is encrypted at rest and every replica has point-in-time recovery
    table = only_resource(topology.template_json("controller", "primary"), "AWS::DynamoDB::GlobalTable")
    assert table["SSESpecification"]["SSEEnabled"] is True
    for replica in table["Replicas"]:
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, replica["Region"]


@pytest.mark.parametrize(("environment", "protected"), [("dev", False), ("prod", True)])
def test_table_deletion_protection_follows_the_database_setting(
    request: pytest.FixtureRequest, environment: str, protected: bool
) -> None:
    # GIVEN an environment whose database.deletion_protection is ``protected``
    topology: Topology = request.getfixturevalue(f"topology_{environment}")
    table = only_resource(topology.template_json("controller", "primary"), "AWS::DynamoDB::GlobalTable")
    # THEN every replica of the state table carries the same protection
    assert {replica["DeletionProtectionEnabled"] for replica in table["Replicas"]} == {protected}


def test_the_standby_refers_to_the_table_by_name_only(topology: Topology) -> None:
    # GIVEN the standby's controller stack  THEN it creates no table of its own
    template = topology.template_json("controller", "standby")
    assert resources_of(template, "AWS::DynamoDB::GlobalTable") == {}
    assert resources_of(template, "AWS::DynamoDB::Table") == {}
    # AND its runbook addresses the table by the contract's name
    state_machine = only_resource(template, "AWS::StepFunctions::StateMachine")
    assert state_machine["DefinitionSubstitutions"]["state_table_name"] == topology.names.state_table


def _seed(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (found,) = resources_of(template, "Custom::SwitchyardDesiredStateSeed").items()
    return found[0], found[1]


def test_the_primary_seeds_the_desired_state_once_and_never_overwrites_it(topology: Topology) -> None:
    # GIVEN the primary's controller stack and its seed custom resource
    template = topology.template_json("controller", "primary")
    logical_id, seed = _seed(template)
    create = json.loads(seed["Properties"]["Create"])
    # THEN on create it puts the contract's initial desired state, only if no item exists
    assert (create["service"], create["action"]) == ("DynamoDB", "putItem")
    config = topology.config
    assert create["parameters"]["TableName"] == topology.names.state_table
    assert create["parameters"]["Item"] == desired_state_item(config, initial_desired_state(config))
    assert create["parameters"]["Item"]["active_region"] == {"S": config.regions.primary}
    assert create["parameters"]["ConditionExpression"] == "attribute_not_exists(#pk)"
    assert create["parameters"]["ExpressionAttributeNames"] == {"#pk": STATE_KEY}
    # AND an existing item is left as it is (a deploy after a failover changes nothing)
    assert create["ignoreErrorCodesMatching"] == "ConditionalCheckFailedException"
    # AND nothing is written on update or delete
    assert "Update" not in seed["Properties"]
    assert "Delete" not in seed["Properties"]
    # AND it runs after the table exists
    table_id = next(iter(resources_of(template, "AWS::DynamoDB::GlobalTable")))
    assert table_id in template["Resources"][logical_id].get("DependsOn", [])


def test_the_seed_may_write_only_the_desired_state_item(topology: Topology) -> None:
    # GIVEN the policy of the seed's provider
    template = topology.template_json("controller", "primary")
    statements = [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "dynamodb:PutItem" in statement["Action"]
        and "LeadingKeys" in json.dumps(statement.get("Condition", {}))
        and statement["Resource"] == topology.names.state_table_arn(topology.config.regions.primary)
        and statement["Condition"]
        == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [topology.names.desired_state_key]}}
    ]
    # THEN exactly one statement lets it put the desired-state item, and only that item
    assert len(statements) == 1


def test_the_standby_does_not_seed(topology: Topology) -> None:
    assert resources_of(topology.template_json("controller", "standby"), "Custom::SwitchyardDesiredStateSeed") == {}
