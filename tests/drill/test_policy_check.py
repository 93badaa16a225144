"""GIVEN small hand-written policies WHEN a recorded call is evaluated THEN the verdict is
IAM's: allowed, or denied by action, resource, condition or an explicit Deny, and never
allowed on a condition the evaluator cannot decide."""

from __future__ import annotations

from typing import Any

import pytest

from drill.policy_check import (
    UNRESOLVED,
    Outcome,
    PolicyBook,
    RelativeGrants,
    Resolver,
    StackTemplate,
    Statement,
    check_calls,
    evaluate,
    unused_grants,
)
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names
from switchyard.iam_request import IamRequest, describe_request
from switchyard.retry import ApiCall

TABLE = "arn:aws:dynamodb:us-west-2:111111111111:table/switchyard-dev-state"
OTHER_TABLE = "arn:aws:dynamodb:us-east-1:111111111111:table/switchyard-dev-state"


def statement(**fields: Any) -> Statement:
    return Statement.from_document({"Effect": "Allow", **fields}, source="test#0")


def put_item(key: str, table: str = TABLE) -> IamRequest:
    return IamRequest("dynamodb:PutItem", (table,), {"dynamodb:LeadingKeys": (key,)})


def test_a_matching_action_and_resource_is_allowed() -> None:
    policy = [statement(Action=["dynamodb:GetItem", "dynamodb:PutItem"], Resource=TABLE)]

    verdict = evaluate(policy, put_item("lock#orders"))

    assert verdict.outcome is Outcome.ALLOWED
    assert [grant.action for grant in verdict.used] == ["dynamodb:PutItem"]


def test_an_action_no_statement_names_is_an_implicit_deny() -> None:
    policy = [statement(Action="dynamodb:GetItem", Resource=TABLE)]

    verdict = evaluate(policy, put_item("heartbeat#orders#us-west-2"))

    assert verdict.outcome is Outcome.IMPLICIT_DENY
    assert verdict.missing == (TABLE,)


def test_the_other_regions_replica_is_another_resource() -> None:
    policy = [statement(Action="dynamodb:PutItem", Resource=TABLE)]

    verdict = evaluate(policy, put_item("lock#orders", table=OTHER_TABLE))

    assert verdict.outcome is Outcome.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [("dynamodb:*", True), ("dynamodb:Put*", True), ("DynamoDB:putitem", True), ("dynamodb:Get*", False)],
)
def test_action_wildcards_and_case(pattern: str, allowed: bool) -> None:
    verdict = evaluate([statement(Action=pattern, Resource="*")], put_item("lock#orders"))
    assert verdict.allowed is allowed


def test_resource_wildcards() -> None:
    policy = [statement(Action="dynamodb:PutItem", Resource="arn:aws:dynamodb:*:111111111111:table/switchyard-*")]
    assert evaluate(policy, put_item("lock#orders", table=OTHER_TABLE)).allowed
    assert not evaluate(policy, put_item("lock#orders", table=TABLE.replace("111111111111", "222222222222"))).allowed


def test_leading_keys_for_all_values_string_equals() -> None:
    policy = [
        statement(
            Action="dynamodb:PutItem",
            Resource=TABLE,
            Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["lock#orders", "desired#orders"]}},
        )
    ]
    assert evaluate(policy, put_item("lock#orders")).allowed
    denied = evaluate(policy, put_item("heartbeat#orders#us-west-2"))
    assert denied.outcome is Outcome.IMPLICIT_DENY
    assert "dynamodb:LeadingKeys" in denied.why[0]


def test_leading_keys_string_like_pattern() -> None:
    policy = [
        statement(
            Action="dynamodb:PutItem",
            Resource=TABLE,
            Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["audit#orders#*"]}},
        )
    ]
    assert evaluate(policy, put_item("audit#orders#failover-1")).allowed
    assert not evaluate(policy, put_item("desired#orders")).allowed


def test_every_value_must_match_under_for_all_values() -> None:
    policy = [
        statement(
            Action="dynamodb:BatchGetItem",
            Resource=TABLE,
            Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["lock#orders"]}},
        )
    ]
    request = IamRequest("dynamodb:BatchGetItem", (TABLE,), {"dynamodb:LeadingKeys": ("lock#orders", "desired#orders")})
    assert not evaluate(policy, request).allowed


def test_an_unknown_condition_key_is_an_error_that_names_it_never_an_allow() -> None:
    policy = [statement(Action="dynamodb:PutItem", Resource=TABLE, Condition={"StringEquals": {"aws:SourceVpc": "v"}})]

    verdict = evaluate(policy, put_item("lock#orders"))

    assert verdict.outcome is Outcome.UNEVALUABLE
    assert "aws:SourceVpc" in verdict.why[0]


def test_an_unknown_condition_operator_is_an_error() -> None:
    policy = [statement(Action="dynamodb:PutItem", Resource=TABLE, Condition={"NumericLessThan": {"x": "1"}})]
    assert evaluate(policy, put_item("lock#orders")).outcome is Outcome.UNEVALUABLE


def test_a_key_the_request_does_not_carry_is_an_error() -> None:
    # GIVEN a Query (no partition key recorded) and a statement scoped by LeadingKeys
    policy = [
        statement(
            Action="dynamodb:Query",
            Resource=TABLE,
            Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["lock#orders"]}},
        )
    ]
    # WHEN evaluated THEN it is not allowed (AWS would allow an empty set: we do not guess)
    verdict = evaluate(policy, IamRequest("dynamodb:Query", (TABLE,), {}))
    assert verdict.outcome is Outcome.UNEVALUABLE


def test_an_explicit_deny_wins_over_an_allow() -> None:
    policy = [
        statement(Action="dynamodb:*", Resource="*"),
        Statement.from_document({"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": TABLE}, "deny#0"),
    ]
    assert evaluate(policy, put_item("lock#orders")).outcome is Outcome.EXPLICIT_DENY


def test_a_statement_that_does_not_match_the_action_never_evaluates_its_conditions() -> None:
    # the SNS topic key's statement carries kms:ViaService: irrelevant to a DynamoDB call
    policy = [
        statement(Action="kms:Decrypt", Resource="*", Condition={"StringEquals": {"kms:ViaService": "sns"}}),
        statement(Action="dynamodb:PutItem", Resource=TABLE),
    ]
    assert evaluate(policy, put_item("lock#orders")).allowed


def test_route53_record_names_condition() -> None:
    zone = "arn:aws:route53:::hostedzone/Z1"
    policy = [
        statement(
            Action="route53:ChangeResourceRecordSets",
            Resource=zone,
            Condition={
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["orders.dev.example.com"]
                }
            },
        )
    ]
    batch = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "Orders.dev.example.com.", "Type": "A"}}]}
    request = describe_request(
        "route53", "ChangeResourceRecordSets", "us-east-1", {"HostedZoneId": "Z1", "ChangeBatch": batch}, account="1"
    )
    assert evaluate(policy, request).allowed
    other = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "admin.example.com.", "Type": "A"}}]}
    request = describe_request(
        "route53", "ChangeResourceRecordSets", "us-east-1", {"HostedZoneId": "Z1", "ChangeBatch": other}, account="1"
    )
    assert not evaluate(policy, request).allowed


def test_an_unresolved_resource_matches_nothing() -> None:
    policy = [statement(Action="dynamodb:PutItem", Resource=f"{UNRESOLVED}GetAtt Key.Arn")]
    assert not evaluate(policy, put_item("lock#orders")).allowed


# -- resolving the templates' intrinsics ----------------------------------------------------
STACK = StackTemplate(
    "stack",
    "us-west-2",
    "111111111111",
    {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "switchyard-dev-us-west-2-notifications"}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/lambda/f"}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "switchyard-dev-us-west-2-record",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                },
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {
                        "Statement": [
                            {"Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "Topic"}},
                            {
                                "Effect": "Allow",
                                "Action": "dynamodb:PutItem",
                                "Resource": {
                                    "Fn::Join": [
                                        ":",
                                        [
                                            "arn:aws:dynamodb",
                                            {"Ref": "AWS::Region"},
                                            {"Ref": "AWS::AccountId"},
                                            "table/t",
                                        ],
                                    ]
                                },
                            },
                            {
                                "Effect": "Allow",
                                "Action": "logs:PutLogEvents",
                                "Resource": {"Fn::GetAtt": ["Logs", "Arn"]},
                            },
                            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["Key", "Arn"]}},
                            {
                                "Effect": "Allow",
                                "Action": "s3:GetObject",
                                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::b-${AWS::Region}/*"},
                            },
                        ]
                    },
                },
            },
        }
    },
)


def test_intrinsics_resolve_from_name_properties_and_pseudo_parameters() -> None:
    resolver = Resolver(STACK)
    assert (
        resolver.value({"Ref": "Topic"}) == "arn:aws:sns:us-west-2:111111111111:switchyard-dev-us-west-2-notifications"
    )
    assert (
        resolver.value({"Fn::GetAtt": ["Logs", "Arn"]})
        == "arn:aws:logs:us-west-2:111111111111:log-group:/aws/lambda/f:*"
    )
    assert resolver.value({"Fn::Sub": "arn:${AWS::Partition}:s3:::b-${AWS::Region}/*"}) == "arn:aws:s3:::b-us-west-2/*"


def test_a_functions_policy_is_found_through_its_role() -> None:
    book = PolicyBook.from_stacks("dev", [STACK])

    policy = book.functions["switchyard-dev-us-west-2-record"]

    resources = [resource for item in policy.statements for resource in item.resources]
    assert resources[:3] == [
        "arn:aws:sns:us-west-2:111111111111:switchyard-dev-us-west-2-notifications",
        "arn:aws:dynamodb:us-west-2:111111111111:table/t",
        "arn:aws:logs:us-west-2:111111111111:log-group:/aws/lambda/f:*",
    ]
    assert resources[3].startswith(UNRESOLVED), "a KMS key's ARN carries a generated id"
    assert resources[4] == "arn:aws:s3:::b-us-west-2/*"


# -- checking a call history ----------------------------------------------------------------
def test_check_calls_names_the_function_the_call_and_the_missing_grant(dev_config: EnvironmentConfig) -> None:
    # GIVEN the record function's policy and a call history with a harness call and two function calls
    names = Names(dev_config)
    region = dev_config.regions.standby
    stack = StackTemplate(STACK.name, region, dev_config.account, STACK.template)
    book = PolicyBook.from_stacks("dev", [stack])
    topic = names.topic_arn(region)
    publish = describe_request("sns", "Publish", region, {"TopicArn": topic}, account=dev_config.account)
    heartbeat = describe_request(
        "dynamodb",
        "PutItem",
        region,
        {"TableName": "t2", "Item": {"pk": {"S": "heartbeat#orders#x"}}},
        account=dev_config.account,
    )
    calls = [
        ApiCall("sns", "Publish", region, True, None, region, publish),
        ApiCall("sns", "Publish", region, True, "record", region, publish),
        ApiCall("dynamodb", "PutItem", region, True, "record", region, heartbeat),
        ApiCall("dynamodb", "PutItem", region, True, "record", region, heartbeat),
    ]

    # WHEN checked
    check = check_calls(dev_config, calls, book=book)

    # THEN the harness call is counted, not checked, and the denial is named once with its count
    assert (check.checked, check.unlabelled, check.denied_calls) == (3, 1, 2)
    message = check.summary()
    assert (
        "switchyard-dev-us-west-2-record: dynamodb:PutItem on arn:aws:dynamodb:us-west-2:111111111111:table/t2"
        in message
    )
    assert "key heartbeat#orders#x (x2): implicit deny" in message
    assert "missing grant: Allow dynamodb:PutItem" in message


def test_a_labelled_call_without_its_functions_region_cannot_be_checked(dev_config: EnvironmentConfig) -> None:
    call = ApiCall("sns", "Publish", "us-west-2", True, "record", None, IamRequest("sns:Publish", ("*",)))
    check = check_calls(dev_config, [call], book=PolicyBook("dev", {}))
    assert not check.passed
    assert "region was not recorded" in check.summary()


def test_grants_no_call_used_are_listed_without_the_runtime_grants() -> None:
    # GIVEN the record function's policy and one used grant (sns:Publish on the topic)
    book = PolicyBook.from_stacks("dev", [STACK])
    function = "switchyard-dev-us-west-2-record"
    (publish,) = [item for item in book.functions[function].statements if item.actions == ("sns:Publish",)]
    used = {(function, publish.source, "sns:Publish", publish.resources[0])}

    # WHEN the unused grants are listed
    unused = unused_grants(book, used)

    # THEN the table write and the bucket read are, the logs and KMS grants (runtime) are not
    assert [(action, resource) for _, _, action, resource in unused] == [
        ("dynamodb:PutItem", "arn:aws:dynamodb:us-west-2:111111111111:table/t"),
        ("s3:GetObject", "arn:aws:s3:::b-us-west-2/*"),
    ]


def test_grants_are_compared_across_regions_relative_to_the_function(dev_config: EnvironmentConfig) -> None:
    # GIVEN the fence of each region granting the other region's ASG
    names = Names(dev_config)
    primary, standby = dev_config.regions.pair
    relative = RelativeGrants(dev_config)

    # WHEN written relative to each function THEN both are the same grant
    west = relative.of(names.function(standby, "fence"), "autoscaling:SetDesiredCapacity", names.asg_arn(primary))
    east = relative.of(names.function(primary, "fence"), "autoscaling:SetDesiredCapacity", names.asg_arn(standby))
    assert west == east
    assert west[2].endswith("autoScalingGroupName/switchyard-dev-{peer}-app")
