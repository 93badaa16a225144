"""What IAM authorizes for one AWS API call: its action, the resource ARNs it addresses
and the condition-key values the request carries.

The call log (switchyard.retry) describes every call with :func:`describe_request` from
the request parameters botocore is about to serialize, so tests and the drill can check
each call against the synthesized policy of the function that made it (drill.policy_check).
It is pure and cheap: a few dictionary lookups and string formats, no I/O, and it never
changes the parameters. ARN shapes are the ones ``switchyard.contract.Names`` gives the
resources Switchyard deploys (a unit test ties the two together).

Condition keys are modelled as AWS fills them from the request's parameters: a key in
``context`` carries the values the parameters give it; a key in ``absent`` is one the
describer knows this request does not carry (its parameter is not set), so an
``...IfExists`` condition on it holds; any other key is unknown and never guessed.
Resource tags (``aws:ResourceTag/...``) come from the resource, not the request: the policy
check adds them from the synthesized templates (drill.policy_check).

Where an operation is authorized only on ``*`` (Describe*/List* of most services, metric
reads), the resource is ``*``. An operation this module does not know addresses ``*``
too: a policy must then grant it on ``*``, so an unknown call is never over-allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchyard.contract import STATE_TABLE_KEY

ANY_RESOURCE = "*"
LEADING_KEYS = "dynamodb:LeadingKeys"
ROUTE53_RECORD_NAMES = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
ROUTE53_RECORD_TYPES = "route53:ChangeResourceRecordSetsRecordTypes"
ROUTE53_ACTIONS = "route53:ChangeResourceRecordSetsActions"
REQUESTED_REGION = "aws:RequestedRegion"
DYNAMODB_ATTRIBUTES = "dynamodb:Attributes"
DYNAMODB_RETURN_VALUES = "dynamodb:ReturnValues"
# UpdateAutoScalingGroup's size keys, from its MinSize/MaxSize parameters (Service Authorization
# Reference, "Actions, resources, and condition keys for Amazon EC2 Auto Scaling").
AUTOSCALING_SIZE_KEYS = {"autoscaling:MinSize": "MinSize", "autoscaling:MaxSize": "MaxSize"}
# DynamoDB writes carry ReturnValues when the request sets it. Whether a request that leaves it
# to its default (NONE) carries the key is not documented; AWS's own policies use
# StringEqualsIfExists on it (DynamoDB Developer Guide, "Using IAM policy conditions for
# fine-grained access control", the write-only example), so it is modelled as absent, the worse
# case for a policy that would require it.
RETURNS_VALUES = ("PutItem", "UpdateItem", "DeleteItem")

# boto3 service name -> IAM service prefix, where they differ.
IAM_PREFIX = {
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "stepfunctions": "states",
    "dynamodbstreams": "dynamodb",
    "sesv2": "ses",
}
# (boto3 service, API operation) -> IAM action name, where they differ.
IAM_ACTION = {
    ("s3", "GetBucketReplication"): "GetReplicationConfiguration",
    ("s3", "PutBucketReplication"): "PutReplicationConfiguration",
    ("s3", "DeleteBucketReplication"): "PutReplicationConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "GetLifecycleConfiguration",
    ("s3", "PutBucketLifecycleConfiguration"): "PutLifecycleConfiguration",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "HeadObject"): "GetObject",
    ("lambda", "Invoke"): "InvokeFunction",
}


@dataclass(frozen=True)
class IamRequest:
    """One call as IAM evaluates it. ``context`` holds the condition-key values the
    request carries (a key that is absent could not be determined from the request)."""

    action: str
    resources: tuple[str, ...]
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()  # condition keys this request is known not to carry


def iam_action(service: str, operation: str) -> str:
    """``elbv2``/``DescribeTargetHealth`` -> ``elasticloadbalancing:DescribeTargetHealth``."""
    prefix = IAM_PREFIX.get(service, service)
    return f"{prefix}:{IAM_ACTION.get((service, operation), operation)}"


def describe_request(
    service: str, operation: str, region: str, params: Mapping[str, Any] | None, *, account: str | None
) -> IamRequest:
    """The action, resources and condition-key values of one call. ``account`` completes
    the ARNs of resources addressed by name (None: the account part is ``*``, which only a
    policy granting every account's resource matches)."""
    params = params or {}
    arns = _Arns(region, account or "*")
    describe = _DESCRIBERS.get(service)
    resources = describe(operation, params, arns) if describe else ()
    context: dict[str, tuple[str, ...]] = {REQUESTED_REGION: (region,)}
    absent: set[str] = set()
    if service == "dynamodb":
        keys = _dynamodb_leading_keys(operation, params)
        if keys is not None:
            context[LEADING_KEYS] = keys
        if operation in RETURNS_VALUES and "ReturnValues" in params:
            context[DYNAMODB_RETURN_VALUES] = (str(params["ReturnValues"]),)
        elif operation in RETURNS_VALUES:
            absent.add(DYNAMODB_RETURN_VALUES)
        attributes = _dynamodb_update_attributes(params) if operation == "UpdateItem" else None
        if attributes is not None:
            context[DYNAMODB_ATTRIBUTES] = attributes
    if service == "route53" and operation == "ChangeResourceRecordSets":
        context.update(_route53_change_context(params))
    if service == "autoscaling" and operation == "UpdateAutoScalingGroup":
        for key, parameter in AUTOSCALING_SIZE_KEYS.items():
            if parameter in params:
                context[key] = (str(params[parameter]),)
            else:
                absent.add(key)
    return IamRequest(iam_action(service, operation), resources or (ANY_RESOURCE,), context, frozenset(absent))


def auto_scaling_group_arn(region: str, account: str, name: str) -> str:
    """An ASG addressed by name: its ARN's generated group id is unknown, so ``*``."""
    return f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{name}"


@dataclass(frozen=True)
class _Arns:
    """ARN shapes of the addressed resources (the shapes of switchyard.contract.Names)."""

    region: str
    account: str

    def regional(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def table(self, name: str) -> str:
        return name if name.startswith("arn:") else self.regional("dynamodb", f"table/{name}")

    def asg(self, name: str) -> str:
        return name if name.startswith("arn:") else auto_scaling_group_arn(self.region, self.account, name)

    def rds(self, kind: str, identifier: str) -> str:
        return identifier if identifier.startswith("arn:") else self.regional("rds", f"{kind}:{identifier}")

    def global_cluster(self, identifier: str) -> str:
        if identifier.startswith("arn:"):
            return identifier
        return f"arn:aws:rds::{self.account}:global-cluster:{identifier}"

    def alarm(self, name: str) -> str:
        return self.regional("cloudwatch", f"alarm:{name}")

    def function(self, name: str) -> str:
        return name if name.startswith("arn:") else self.regional("lambda", f"function:{name}")


def _dynamodb(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:
    if "TableName" in params:
        return (arns.table(str(params["TableName"])),)
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return tuple(arns.table(str(name)) for name in params.get("RequestItems", {}))
    if operation in ("TransactGetItems", "TransactWriteItems"):
        tables = []
        for item in params.get("TransactItems", []):
            for request in item.values():
                if isinstance(request, Mapping) and "TableName" in request:
                    tables.append(arns.table(str(request["TableName"])))
        return tuple(dict.fromkeys(tables))
    return ()


def _dynamodb_leading_keys(operation: str, params: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Partition-key values of the items the call addresses (``dynamodb:LeadingKeys``);
    None when the request does not name them (Query, Scan...)."""
    items: list[Mapping[str, Any]] = []
    if "Key" in params:
        items.append(params["Key"])
    if "Item" in params:
        items.append(params["Item"])
    if operation == "BatchGetItem":
        for request in params.get("RequestItems", {}).values():
            items.extend(request.get("Keys", []))
    if not items:
        return None
    keys = []
    for item in items:
        value = item.get(STATE_TABLE_KEY)
        if not isinstance(value, Mapping) or "S" not in value:
            return None  # another key schema: unknown, never guessed
        keys.append(str(value["S"]))
    return tuple(dict.fromkeys(keys))


# Expression grammar (DynamoDB Developer Guide, "Expressions"): a top-level attribute is a bare
# name or a ``#placeholder`` that does not follow a ``.`` (a nested path element) and is not a
# function call; ``:values``, keywords and functions are not attributes.
_EXPRESSION_TOKEN = re.compile(r"(?<![\w#:.\]])(#?[A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")
_EXPRESSION_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN"})


def _dynamodb_update_attributes(params: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Every top-level attribute an UpdateItem names (``dynamodb:Attributes``): its key's,
    and those of its update and condition expressions (placeholders resolved) or of the
    legacy AttributeUpdates/Expected maps. None when a placeholder has no name (unknown)."""
    names: list[str] = list(params.get("Key", {}))
    names.extend(params.get("AttributeUpdates", {}))
    names.extend(params.get("Expected", {}))
    substitutions = params.get("ExpressionAttributeNames", {})
    for expression in (params.get("UpdateExpression"), params.get("ConditionExpression")):
        for token in _EXPRESSION_TOKEN.findall(str(expression or "")):
            if token.upper() in _EXPRESSION_KEYWORDS:
                continue
            if token.startswith("#") and token not in substitutions:
                return None
            names.append(str(substitutions[token]) if token.startswith("#") else token)
    return tuple(dict.fromkeys(names))


def _autoscaling(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:
    if operation.startswith("Describe"):
        return ()  # Describe* is authorized on * only
    if "AutoScalingGroupName" in params:
        return (arns.asg(str(params["AutoScalingGroupName"])),)
    return tuple(arns.asg(str(name)) for name in params.get("AutoScalingGroupNames", []))


def _rds(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    found: list[str] = []
    if "ResourceName" in params:
        found.append(str(params["ResourceName"]))
    if "DBInstanceIdentifier" in params:
        found.append(arns.rds("db", str(params["DBInstanceIdentifier"])))
    if "DBClusterIdentifier" in params:
        found.append(arns.rds("cluster", str(params["DBClusterIdentifier"])))
    if "GlobalClusterIdentifier" in params:
        found.append(arns.global_cluster(str(params["GlobalClusterIdentifier"])))
    if "TargetDbClusterIdentifier" in params:
        found.append(arns.rds("cluster", str(params["TargetDbClusterIdentifier"])))
    if "DBSnapshotIdentifier" in params:
        found.append(arns.rds("snapshot", str(params["DBSnapshotIdentifier"])))
    if "SourceDBInstanceIdentifier" in params:  # a cross-region replica's source: its ARN
        found.append(arns.rds("db", str(params["SourceDBInstanceIdentifier"])))
    if "DBSubnetGroupName" in params:
        found.append(arns.rds("subgrp", str(params["DBSubnetGroupName"])))
    for name in (
        "DBClusterSnapshotIdentifier",
        "SourceDBClusterSnapshotIdentifier",
        "TargetDBClusterSnapshotIdentifier",
    ):
        if name in params:
            found.append(arns.rds("cluster-snapshot", str(params[name])))
    return tuple(found)


def _cloudwatch(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    names = [*params.get("AlarmNames", []), *([params["AlarmName"]] if "AlarmName" in params else [])]
    return tuple(arns.alarm(str(name)) for name in names)


def _route53(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    if "HostedZoneId" in params:
        zone = str(params["HostedZoneId"]).removeprefix("/hostedzone/")
        return (f"arn:aws:route53:::hostedzone/{zone}",)
    if "HealthCheckId" in params:
        return (f"arn:aws:route53:::healthcheck/{params['HealthCheckId']}",)
    if "ResourceIds" in params:
        kind = str(params.get("ResourceType", ""))
        return tuple(f"arn:aws:route53:::{kind}/{identifier}" for identifier in params["ResourceIds"])
    return ()


def _route53_change_context(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The record names (lower case, no trailing dot), types and actions of a change batch."""
    changes = params.get("ChangeBatch", {}).get("Changes", [])
    names, types, actions = [], [], []
    for change in changes:
        record = change.get("ResourceRecordSet", {})
        names.append(str(record.get("Name", "")).rstrip(".").lower())
        types.append(str(record.get("Type", "")))
        actions.append(str(change.get("Action", "")))
    if not changes:
        return {}
    unique = dict.fromkeys
    return {
        ROUTE53_RECORD_NAMES: tuple(unique(names)),
        ROUTE53_RECORD_TYPES: tuple(unique(types)),
        ROUTE53_ACTIONS: tuple(unique(actions)),
    }


def _sns(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    return tuple(str(params[name]) for name in ("TopicArn", "TargetArn") if name in params)


def _stepfunctions(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    return tuple(str(params[name]) for name in ("stateMachineArn", "executionArn") if name in params)


def _s3(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    if "Bucket" not in params:
        return ()
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    return (f"{bucket}/{params['Key']}",) if "Key" in params else (bucket,)


def _lambda(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    return (arns.function(str(params["FunctionName"])),) if "FunctionName" in params else ()


def _ssm(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    if "Name" not in params:
        return ()
    name = str(params["Name"])
    if name.startswith("arn:"):
        return (name,)
    name = name.split(":", 1)[0]  # a name may carry ":<version>" or ":<label>"
    return (arns.regional("ssm", f"parameter/{name.lstrip('/')}"),)


def _backup(operation: str, params: Mapping[str, Any], arns: _Arns) -> tuple[str, ...]:  # noqa: ARG001
    """AWS Backup authorizes vault operations on the vault (backup-vault:<name>)."""
    if "BackupVaultName" not in params:
        return ()
    return (arns.regional("backup", f"backup-vault:{params['BackupVaultName']}"),)


_DESCRIBERS = {
    "backup": _backup,
    "dynamodb": _dynamodb,
    "autoscaling": _autoscaling,
    "rds": _rds,
    "cloudwatch": _cloudwatch,
    "route53": _route53,
    "sns": _sns,
    "stepfunctions": _stepfunctions,
    "s3": _s3,
    "lambda": _lambda,
    "ssm": _ssm,
}
