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
    UnevaluableConditionError,
    _conditions_hold,
    check_calls,
    evaluate,
    managed_policy_statements,
    policy_book,
    synthesize_stacks,
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
    # GIVEN an operator the evaluator does not implement, on a key the request carries
    condition = {"DateLessThan": {"aws:RequestedRegion": "2030-01-01T00:00:00Z"}}
    policy = [statement(Action="dynamodb:PutItem", Resource=TABLE, Condition=condition)]
    request = IamRequest("dynamodb:PutItem", (TABLE,), {"aws:RequestedRegion": ("us-west-2",)})
    # THEN it is never an allow
    verdict = evaluate(policy, request)
    assert verdict.outcome is Outcome.UNEVALUABLE
    assert "DateLessThan" in verdict.why[0]


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


# -- the conditions of issue 12 (least privilege to the condition key) ------------------------
ASG = "arn:aws:autoscaling:us-west-2:111111111111:autoScalingGroup:*:autoScalingGroupName/switchyard-dev-us-west-2-app"


def update_group(**sizes: int) -> IamRequest:
    params = {"AutoScalingGroupName": "switchyard-dev-us-west-2-app", "DesiredCapacity": 0, **sizes}
    return describe_request("autoscaling", "UpdateAutoScalingGroup", "us-west-2", params, account="111111111111")


def test_update_auto_scaling_group_carries_the_sizes_it_sets_and_knows_the_ones_it_does_not() -> None:
    request = update_group(MinSize=1)
    assert request.resources == (ASG,)
    assert request.context["autoscaling:MinSize"] == ("1",)
    assert "autoscaling:MaxSize" not in request.context
    assert request.absent == frozenset({"autoscaling:MaxSize"})


@pytest.mark.parametrize(
    ("sizes", "allowed"),
    [
        ({"MinSize": 0}, True),
        ({"MinSize": 1}, True),  # the warm minimum itself
        ({"MinSize": 2}, False),  # above it: not an idle or a fence
        ({"MinSize": 1, "MaxSize": 4}, True),
        ({"MinSize": 1, "MaxSize": 5}, False),  # above the configured max
        ({"MaxSize": 4}, False),  # no MinSize: not a lowering of the minimum
    ],
)
def test_numeric_bounds_with_if_exists(sizes: dict[str, int], allowed: bool) -> None:
    # GIVEN MinSize <= 1 required and MaxSize <= 4 if the request sets it
    policy = [
        statement(
            Action="autoscaling:UpdateAutoScalingGroup",
            Resource=ASG,
            Condition={
                "NumericLessThanEquals": {"autoscaling:MinSize": "1"},
                "NumericLessThanEqualsIfExists": {"autoscaling:MaxSize": "4"},
            },
        )
    ]
    assert evaluate(policy, update_group(**sizes)).allowed is allowed


def test_a_key_known_absent_satisfies_only_if_exists_and_is_never_guessed_elsewhere() -> None:
    absent = frozenset({"autoscaling:MaxSize"})
    assert _conditions_hold({"NumericLessThanEqualsIfExists": {"autoscaling:MaxSize": ("4",)}}, {}, absent)
    assert not _conditions_hold({"NumericLessThanEquals": {"autoscaling:MaxSize": ("4",)}}, {}, absent)
    # IAM lets a negated operator or ForAllValues through on an absent key: the evaluator does not
    with pytest.raises(UnevaluableConditionError):
        _conditions_hold({"NumericNotEquals": {"autoscaling:MaxSize": ("4",)}}, {}, absent)
    with pytest.raises(UnevaluableConditionError):
        _conditions_hold({"ForAllValues:StringEquals": {"autoscaling:MaxSize": ("4",)}}, {}, absent)
    # a key that is not modelled at all stays unknown, even under IfExists
    with pytest.raises(UnevaluableConditionError):
        _conditions_hold({"NumericLessThanEqualsIfExists": {"autoscaling:MaxSize": ("4",)}}, {})


def test_a_non_numeric_value_under_a_numeric_operator_is_an_error() -> None:
    with pytest.raises(UnevaluableConditionError, match="not a number"):
        _conditions_hold({"NumericLessThanEquals": {"autoscaling:MinSize": ("1",)}}, {"autoscaling:MinSize": ("x",)})


@pytest.mark.parametrize(
    ("expression", "names", "expected"),
    [
        (
            "SET #held = :released, released_at = :now",
            {"#held": "held"},
            ("pk", "held", "released_at"),
        ),
        (
            "SET #a = if_not_exists(#a, :v), b.c = :x, d[0].e = :y REMOVE f ADD g :one",
            {"#a": "acknowledged_by"},
            ("pk", "acknowledged_by", "b", "d", "f", "g"),
        ),
    ],
)
def test_update_item_attributes_are_the_top_level_names_of_its_expressions(
    expression: str, names: dict[str, str], expected: tuple[str, ...]
) -> None:
    params = {"TableName": "t", "Key": {"pk": {"S": "lock#orders"}}, "UpdateExpression": expression}
    request = describe_request(
        "dynamodb", "UpdateItem", "us-west-2", {**params, "ExpressionAttributeNames": names}, account="1"
    )
    assert request.context["dynamodb:Attributes"] == expected
    # ReturnValues left to its default: modelled as a key the request does not carry
    assert "dynamodb:ReturnValues" in request.absent
    assert "dynamodb:ReturnValues" not in request.context


def test_an_unnamed_placeholder_leaves_the_attributes_unknown() -> None:
    params = {"TableName": "t", "Key": {"pk": {"S": "lock#orders"}}, "UpdateExpression": "SET #x = :v"}
    request = describe_request("dynamodb", "UpdateItem", "us-west-2", params, account="1")
    assert "dynamodb:Attributes" not in request.context


# -- the same conditions in the synthesized templates, against the adapters' real calls ----------
class _Recorder:
    """A DynamoDB client that records the UpdateItem it is asked to send (and sends nothing)."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_item(self, **params: Any) -> dict[str, Any]:
        self.updates.append(params)
        return {}


class _Clients:
    def __init__(self) -> None:
        self.dynamodb = _Recorder()

    def client(self, service: str, region: str, *, best_effort: bool = False) -> Any:
        assert service == "dynamodb"
        return self.dynamodb


def adapter_update(config: EnvironmentConfig, region: str, call: str) -> dict[str, Any]:
    """The UpdateItem parameters switchyard.adapters.state sends for ``call``."""
    from switchyard.adapters.state import DynamoStateStore  # noqa: PLC0415

    clients = _Clients()
    store = DynamoStateStore(config, clients)  # type: ignore[arg-type]
    now = "2026-11-30T00:00:00+00:00"
    if call == "release":
        store.release_lock(region, holder="arn:aws:states:x:1:execution:m:e", now=now)
    elif call == "acknowledge":
        store.acknowledge_lost_writes(region, epoch=2, by="arn:aws:iam::1:user/ops", at=now, note="restored")
    else:
        store.record_lost_writes_snapshot(region, epoch=2, snapshot="snap", at=now)
    (params,) = clients.dynamodb.updates
    return params


def operator_statements(config: EnvironmentConfig, region: str) -> tuple[Statement, ...]:
    names = Names(config)
    return managed_policy_statements(synthesize_stacks(config), f"{names.operator_role(region)}-access")


def with_mfa(request: IamRequest) -> IamRequest:
    return IamRequest(
        request.action, request.resources, {**request.context, "aws:MultiFactorAuthPresent": ("true",)}, request.absent
    )


@pytest.mark.parametrize("call", ["release", "acknowledge"])
def test_the_operators_lock_and_lost_writes_edits_are_allowed_and_only_on_their_attributes(
    dev_config: EnvironmentConfig, call: str
) -> None:
    # GIVEN the operator policy as synthesized and the CLI's real UpdateItem (through the adapter)
    region = dev_config.regions.standby
    policy = operator_statements(dev_config, region)
    params = adapter_update(dev_config, region, call)
    request = with_mfa(describe_request("dynamodb", "UpdateItem", region, params, account=dev_config.account))
    # THEN it is allowed (with MFA)
    assert evaluate(policy, request).allowed, evaluate(policy, request).why
    # BUT the same edit of another attribute (the epoch, the holder, the record's snapshot) is denied
    other = {
        **params,
        "UpdateExpression": params["UpdateExpression"] + ", #other = :other",
        "ExpressionAttributeNames": {**params.get("ExpressionAttributeNames", {}), "#other": "epoch"},
        "ExpressionAttributeValues": {**params["ExpressionAttributeValues"], ":other": {"N": "9"}},
    }
    denied = evaluate(
        policy, with_mfa(describe_request("dynamodb", "UpdateItem", region, other, account=dev_config.account))
    )
    assert denied.outcome is Outcome.IMPLICIT_DENY
    assert any("dynamodb:Attributes" in why for why in denied.why)
    # AND asking for the whole old item back is denied (it would read attributes outside the list)
    returning = with_mfa(
        describe_request(
            "dynamodb", "UpdateItem", region, {**params, "ReturnValues": "ALL_OLD"}, account=dev_config.account
        )
    )
    assert evaluate(policy, returning).outcome is Outcome.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("call", "purpose"), [("release", "release"), ("snapshot", "reconciler"), ("snapshot", "fence")]
)
def test_the_functions_update_items_are_allowed_on_their_attributes_only(
    dev_config: EnvironmentConfig, call: str, purpose: str
) -> None:
    # GIVEN the function's synthesized policy and the adapter's real UpdateItem (in the fenced
    # region's replica for the reconciler, in the target's for the fence)
    names, region = Names(dev_config), dev_config.regions.standby
    statements = policy_book(dev_config).functions[names.function(region, purpose)].statements
    params = adapter_update(dev_config, region, call)
    allowed = evaluate(
        statements, describe_request("dynamodb", "UpdateItem", region, params, account=dev_config.account)
    )
    assert allowed.allowed, allowed.why
    # THEN setting one more attribute is denied
    more = {**params, "UpdateExpression": params["UpdateExpression"] + ", outcome = :v"}
    request = describe_request("dynamodb", "UpdateItem", region, more, account=dev_config.account)
    assert evaluate(statements, request).outcome is Outcome.IMPLICIT_DENY


def flip_change(config: EnvironmentConfig, action: str, record_type: str) -> IamRequest:
    record = {"Name": config.dns.record_name + ".", "Type": record_type, "SetIdentifier": "x", "Failover": "PRIMARY"}
    batch = {"Changes": [{"Action": action, "ResourceRecordSet": record}]}
    params = {"HostedZoneId": config.dns.hosted_zone_id, "ChangeBatch": batch}
    return describe_request("route53", "ChangeResourceRecordSets", "us-east-1", params, account=config.account)


@pytest.mark.parametrize(
    ("action", "record_type", "allowed"),
    [("UPSERT", "A", True), ("DELETE", "A", False), ("CREATE", "A", False), ("UPSERT", "TXT", False)],
)
def test_the_flips_record_edit_only_upserts_failover_records(
    dev_config: EnvironmentConfig, action: str, record_type: str, allowed: bool
) -> None:
    names, region = Names(dev_config), dev_config.regions.standby
    statements = policy_book(dev_config).functions[names.function(region, "flip")].statements
    assert evaluate(statements, flip_change(dev_config, action, record_type)).allowed is allowed


@pytest.mark.parametrize(
    ("purpose", "where"), [("scale_up", "standby"), ("reconciler", "standby"), ("fence", "primary")]
)
def test_scaling_is_allowed_on_the_tagged_group_and_bounded(
    dev_config: EnvironmentConfig, purpose: str, where: str
) -> None:
    # GIVEN a scaling function's synthesized policy, and the tags the templates give the ASG
    names, region = Names(dev_config), dev_config.regions.standby
    group_region = getattr(dev_config.regions, where)
    book = policy_book(dev_config)
    statements = book.functions[names.function(region, purpose)].statements
    set_desired = describe_request(
        "autoscaling",
        "SetDesiredCapacity",
        group_region,
        {"AutoScalingGroupName": names.asg(group_region), "DesiredCapacity": 1, "HonorCooldown": False},
        account=dev_config.account,
    )
    # THEN SetDesiredCapacity is allowed with the group's tag in the context...
    assert evaluate(statements, set_desired, book.resource_context(set_desired)).allowed
    # ...and cannot be evaluated without it (a group the templates do not tag is never allowed)
    assert evaluate(statements, set_desired).outcome is Outcome.UNEVALUABLE
    if purpose == "scale_up":
        return
    # AND lowering the minimum is allowed down to the warm minimum, never above it or the max
    capacity = dev_config.capacity

    def update(**sizes: int) -> bool:
        params = {"AutoScalingGroupName": names.asg(group_region), "DesiredCapacity": 0, **sizes}
        request = describe_request(
            "autoscaling", "UpdateAutoScalingGroup", group_region, params, account=dev_config.account
        )
        return evaluate(statements, request, book.resource_context(request)).allowed

    assert update(MinSize=capacity.standby_warm_min)
    assert not update(MinSize=capacity.standby_warm_min + 1)
    assert not update(MinSize=0, MaxSize=capacity.max + 1)
