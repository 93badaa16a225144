"""Customer-managed KMS keys shared by the stacks of one region, and the one way an AWS
service principal is let into a key policy: never without a confused-deputy condition.

A key policy statement for a service principal lets that service use the key on behalf of
*any* caller of the service, in any account, unless a condition pins the caller: the
source account / source ARN of the request (``aws:SourceAccount``, ``aws:SourceArn``) or
the encryption context the service binds to the data (IAM User Guide, "The confused deputy
problem", docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
:func:`allow_service` refuses a statement without one (docs/security.md lists them all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.shared.policy import Permission

# Condition keys that tie a service's use of a key to our account or to our resources.
CONFUSED_DEPUTY_KEYS = ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner")
ENCRYPTION_CONTEXT_PREFIX = "kms:EncryptionContext:"
# Step Functions binds the state machine's ARN to every data key it asks for (definition,
# execution history): an IAM condition on it limits a grant to one state machine (Step
# Functions Developer Guide, "Data at rest encryption",
# docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html).
STATE_MACHINE_CONTEXT = "kms:EncryptionContext:aws:states:stateMachineArn"
# Log groups: CloudWatch Logs binds the log group's ARN (CloudWatch Logs User Guide, "Encrypt
# log data in CloudWatch Logs using AWS KMS", step 2, the key policy's ArnLike condition on
# kms:EncryptionContext:aws:logs:arn;
# docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
LOG_GROUP_CONTEXT = "kms:EncryptionContext:aws:logs:arn"
LOG_GROUP_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def create_key(scope: Construct, construct_id: str, *, alias: str, description: str) -> kms.Key:
    """A rotating customer-managed key that survives stack deletion (data encrypted with it may)."""
    return kms.Key(
        scope,
        construct_id,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def has_confused_deputy_condition(conditions: Mapping[str, Mapping[str, Any]] | None) -> bool:
    """True when ``conditions`` pin the source account or ARN, or an encryption context."""
    for by_key in (conditions or {}).values():
        for key in by_key:
            if key in CONFUSED_DEPUTY_KEYS or key.startswith(ENCRYPTION_CONTEXT_PREFIX):
                return True
    return False


def allow_service(
    key: kms.IKey, service: str, actions: Iterable[str], *, conditions: Mapping[str, Mapping[str, Any]]
) -> None:
    """Let the AWS service principal ``service`` use ``key`` for ``actions``, only under
    ``conditions``, which must include a confused-deputy condition."""
    if not has_confused_deputy_condition(conditions):
        raise ValueError(
            f"key policy statement for {service}: needs an aws:SourceAccount, aws:SourceArn or "
            f"kms:EncryptionContext condition, got {dict(conditions)}"
        )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(service)],
            actions=list(actions),
            resources=["*"],  # in a key policy, '*' is the key itself
            conditions={operator: dict(values) for operator, values in conditions.items()},
        )
    )


def allow_cloudwatch_logs(key: kms.IKey, *, region: str) -> None:
    """Let CloudWatch Logs in ``region`` encrypt this account's log groups (and only those) with ``key``."""
    account = cdk.Stack.of(key).account
    allow_service(
        key,
        f"logs.{region}.amazonaws.com",
        LOG_GROUP_KEY_ACTIONS,
        conditions={"ArnLike": {LOG_GROUP_CONTEXT: f"arn:aws:logs:{region}:{account}:log-group:*"}},
    )


def allow_vended_log_delivery(key: kms.IKey, *, region: str) -> None:
    """Let CloudWatch Logs' vended-log delivery decrypt what a service that encrypts with
    ``key`` hands it (the execution logs of a state machine encrypted with ``key``), only
    for deliveries of this account in ``region``.

    Step Functions asks for the data key of its log records with the encryption context
    ``SourceArn = arn:aws:logs:<region>:<account>:*`` and ``delivery.logs.amazonaws.com``
    decrypts it (Step Functions Developer Guide, "Data at rest encryption", logging of a
    state machine encrypted with a customer managed key; CDK's StateMachine adds the same two
    statements, without the conditions). Vended-log delivery carries ``aws:SourceAccount``
    and ``aws:SourceArn`` (CloudWatch Logs User Guide, "Enable logging from AWS services",
    the confused-deputy conditions of its examples,
    docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html).
    """
    account = cdk.Stack.of(key).account
    allow_service(
        key,
        "delivery.logs.amazonaws.com",
        ("kms:Decrypt",),
        conditions={
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account}:*"},
        },
    )


def vended_log_data_key(key_arn: str, *, region: str, account: str) -> Permission:
    """The data key a service role asks for to encrypt the log records it hands to vended-log
    delivery (the counterpart of :func:`allow_vended_log_delivery`)."""
    return Permission(
        actions=("kms:GenerateDataKey",),
        resources=(key_arn,),
        conditions={"StringEquals": {"kms:EncryptionContext:SourceArn": f"arn:aws:logs:{region}:{account}:*"}},
    )


def state_machine_key_use(key_arn: str, *, state_machine_arn: str, via_region: str | None) -> Permission:
    """Use ``key`` for one state machine's data only (its encryption context), and, for a
    caller of the Step Functions API (``via_region``), only through Step Functions there.

    Which calls need it: the execution role encrypts and decrypts the execution's data at
    run time, including the ``error``/``cause`` of StopExecution and SendTaskFailure, which
    Step Functions encrypts "using the AWS KMS key for the execution role" (API Reference,
    StopExecution, SendTaskFailure); a caller needs kms:Decrypt to read encrypted data back
    (DescribeExecution, DescribeStateMachine, GetExecutionHistory: "callers must have
    kms:Decrypt permission", API Reference, ``includedData``). For StartExecution and
    SendTaskSuccess the references only name KmsAccessDeniedException ("your AWS KMS key
    policy or API caller does not have the required permissions"): modelled pessimistically,
    every caller that starts, answers, stops or reads an execution gets both actions.
    """
    conditions: dict[str, str] = {STATE_MACHINE_CONTEXT: state_machine_arn}
    if via_region is not None:
        conditions["kms:ViaService"] = f"states.{via_region}.amazonaws.com"
    return Permission(
        actions=("kms:Decrypt", "kms:GenerateDataKey"), resources=(key_arn,), conditions={"StringEquals": conditions}
    )
