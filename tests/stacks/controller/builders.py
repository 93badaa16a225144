"""Helpers to build controller constructs in a bare stack and read their templates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from stacks.controller.controller import Controller
from stacks.shared.scope import RegionScope
from switchyard.config import EnvironmentConfig
from switchyard.contract import STEP_NAMES, Names


@dataclass(frozen=True)
class BareStack:
    """A stack in one environment and region with the props every construct takes."""

    config: EnvironmentConfig
    region: str
    stack: cdk.Stack
    key: kms.Key
    topic: sns.ITopic

    @property
    def names(self) -> Names:
        return Names(self.config)

    @property
    def other_region(self) -> str:
        return self.config.regions.other(self.region)

    @property
    def account(self) -> str:
        return self.config.account

    @property
    def scope(self) -> RegionScope:
        """The per-region scope a construct in this stack receives."""
        return RegionScope(config=self.config, region=self.region, key=self.key, topic=self.topic)

    def function_arn(self, purpose: str) -> str:
        """The contract's ARN of this region's controller function for ``purpose``."""
        return self.names.function_arn(self.region, purpose)


def bare_stack(config: EnvironmentConfig, region: str, app: cdk.App | None = None) -> BareStack:
    """GIVEN a bare stack in ``region`` with a key and (imported) topic like the controller stack's."""
    stack = cdk.Stack(app or cdk.App(), "Controller", env=cdk.Environment(account=config.account, region=region))
    names = Names(config)
    return BareStack(
        config=config,
        region=region,
        stack=stack,
        key=kms.Key(stack, "Key", enable_key_rotation=True),
        topic=sns.Topic.from_topic_arn(stack, "Topic", names.topic_arn(region)),
    )


def build_controller(
    config: EnvironmentConfig, region: str, *, definition_path: Path, app: cdk.App | None = None
) -> tuple[BareStack, Controller]:
    """GIVEN a bare stack holding one region's whole controller construct."""
    given = bare_stack(config, region, app)
    controller = Controller(given.stack, "Controller", region=given.scope, definition_path=definition_path)
    return given, controller


def minimal_runbook_definition() -> dict[str, Any]:
    """A stand-in runbook that invokes every step once, for when stacks/controller/runbook.asl.json is absent."""
    states: dict[str, Any] = {}
    for index, step in enumerate(STEP_NAMES):
        states[step] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": f"${{{step}_function_arn}}", "Payload.$": "$"},
            "TimeoutSeconds": 900,
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "JitterStrategy": "FULL"}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            **({"Next": STEP_NAMES[index + 1]} if index + 1 < len(STEP_NAMES) else {"End": True}),
        }
    states["Failed"] = {"Type": "Fail", "Error": "Switchyard.Failed"}
    return {"StartAt": STEP_NAMES[0], "States": states}


def policy_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement in the template with the logical id of the policy holding it."""
    for logical_id, policy in template.find_resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, statement
    for logical_id, policy in template.find_resources("AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, statement
    for logical_id, role in template.find_resources("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: Template, role_logical_id_prefix: str) -> list[dict[str, Any]]:
    """The statements of the default policy attached to the role whose id starts with the prefix."""
    statements = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = [ref["Ref"] for ref in policy["Properties"]["Roles"]]
        if any(role.startswith(role_logical_id_prefix) for role in roles):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions_on(statements: list[dict[str, Any]], action: str) -> list[Any]:
    """Every resource the statements allow ``action`` on."""
    return [
        resource
        for statement in statements
        if action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
