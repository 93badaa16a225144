"""ControllerStack: the shared pieces (key, topic, global state table) of each region."""

from __future__ import annotations

import pytest

from switchyard.contract import STATE_TABLE_KEY as STATE_KEY
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
    # AND exposes the table's deterministic name to the controller it hosts
    assert topology.stacks.standby.controller.table_name == topology.names.state_table
