"""Key and topic policies: no AWS service principal is let in without a confused-deputy condition.

A statement that allows a service principal, with no condition on the source account or ARN
of the request (or on the encryption context the service binds to the data), lets that
service use the key or topic on behalf of anyone's resources (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from stacks.shared.encryption import allow_service
from switchyard.config import load_environment
from tests.stacks.topology import Topology, bare_stack

# What pins a service's request to our account or our resources (IAM User Guide, "The
# confused deputy problem"; the services' own encryption contexts). Written out here rather
# than imported, so the test does not grade the code with the code's own list.
PINNING_KEYS = ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner")
ENCRYPTION_CONTEXT = "kms:EncryptionContext:"
POLICIES = {"AWS::KMS::Key": "KeyPolicy", "AWS::SNS::TopicPolicy": "PolicyDocument"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def service_statements(template: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, statement) of every Allow statement of a key or topic policy whose
    principal is an AWS service."""
    found = []
    for logical_id, resource in template["Resources"].items():
        document_key = POLICIES.get(resource["Type"])
        if document_key is None:
            continue
        for statement in resource["Properties"][document_key]["Statement"]:
            principal = statement.get("Principal")
            if statement["Effect"] == "Allow" and isinstance(principal, dict) and "Service" in principal:
                found.append((logical_id, statement))
    return found


def is_pinned(statement: dict[str, Any]) -> bool:
    keys = [key for by_key in statement.get("Condition", {}).values() for key in by_key]
    return any(key in PINNING_KEYS or key.startswith(ENCRYPTION_CONTEXT) for key in keys)


def test_every_service_principal_in_a_key_or_topic_policy_is_pinned(topology: Topology) -> None:
    # GIVEN every key policy and topic policy of every stack of the environment
    statements = [
        (stack, logical_id, statement)
        for stack, template in topology.all_templates.items()
        for logical_id, statement in service_statements(template)
    ]
    # THEN there are service principals to check: CloudWatch Logs at least, in the key of each
    # controller and regional stack (the storage stacks' keys let no service in)
    expected = {
        topology.stack_name(kind, role) for kind in ("controller", "regional") for role in ("primary", "standby")
    }
    assert {stack for stack, _, _ in statements} >= expected
    # AND each carries a source account / source ARN / encryption context condition
    unpinned = [
        f"{stack}/{logical_id}: {statement['Principal']['Service']}"
        for stack, logical_id, statement in statements
        if not is_pinned(statement)
    ]
    assert unpinned == []


def test_the_log_group_keys_are_pinned_to_this_accounts_log_groups_in_their_region(topology: Topology) -> None:
    # GIVEN the statements letting CloudWatch Logs use a key
    for stack, template in topology.all_templates.items():
        for _, statement in service_statements(template):
            service = statement["Principal"]["Service"]
            if not (isinstance(service, str) and service.startswith("logs.")):
                continue
            region = service.split(".")[1]
            # THEN they are limited by the log group ARN CloudWatch Logs binds to the data
            assert statement["Condition"] == {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{topology.config.account}:log-group:*"
                }
            }, stack


def test_no_eventbridge_or_unconditioned_publisher_is_let_into_the_topic_key(topology: Topology) -> None:
    # GIVEN the controller stacks' key policies (the key of the notification topic)
    for role in ("primary", "standby"):
        template = topology.template_json("controller", role)
        services = [as_list(s["Principal"]["Service"]) for _, s in service_statements(template)]
        flat = sorted(service for group in services for service in group)
        # THEN EventBridge (which targets no topic) is absent, and CloudWatch alarms may publish
        assert "events.amazonaws.com" not in flat
        assert "cloudwatch.amazonaws.com" in flat


def test_the_check_flags_a_service_principal_without_a_condition(tmp_path: Path) -> None:
    # GIVEN a key granted to a service principal the CDK way (no condition)
    config = load_environment("dev")
    stack = bare_stack(config, config.regions.primary, tmp_path)
    key = kms.Key(stack, "Key")
    key.grant_encrypt_decrypt(iam.ServicePrincipal("logs.us-east-1.amazonaws.com"))
    # WHEN the same scan runs over it  THEN it reports that statement
    statements = service_statements(Template.from_stack(stack).to_json())
    assert [is_pinned(statement) for _, statement in statements] == [False]


def test_allow_service_refuses_a_statement_without_a_confused_deputy_condition(tmp_path: Path) -> None:
    # GIVEN a key
    config = load_environment("dev")
    key = kms.Key(bare_stack(config, config.regions.primary, tmp_path), "Key")
    # WHEN a service principal is let in under a condition that pins nothing  THEN it is refused by name
    with pytest.raises(ValueError, match=r"events\.amazonaws\.com: needs an aws:SourceAccount"):
        allow_service(
            key,
            "events.amazonaws.com",
            ("kms:Decrypt",),
            conditions={"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}},
        )
