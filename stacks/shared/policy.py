"""Least-privilege IAM as data: each permission names its actions and resources, and a
wildcard resource must carry the reason AWS leaves no narrower choice.

The reasons become the cdk-nag acknowledgements, so no wildcard is accepted silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

READ_ONLY_VERBS = ("Describe", "Get", "List", "Query")


@dataclass(frozen=True)
class Permission:
    """One Allow statement."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    wildcard_reason: str | None = None
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.wildcard_resources and not self.wildcard_reason:
            raise ValueError(f"{self.actions} on {self.wildcard_resources}: a wildcard resource needs a reason")

    @property
    def wildcard_resources(self) -> tuple[str, ...]:
        return tuple(resource for resource in self.resources if "*" in resource)

    def statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=list(self.actions),
            resources=list(self.resources),
            conditions=dict(self.conditions) or None,
        )


def key_use(key_arn: str, *, region: str, services: Iterable[str]) -> Permission:
    """Use a KMS key only through the AWS services that encrypt with it."""
    return Permission(
        actions=("kms:Decrypt", "kms:GenerateDataKey"),
        resources=(key_arn,),
        conditions={"StringEquals": {"kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in services]}},
    )


def is_read_only(action: str) -> bool:
    """True for the read verbs AWS allows on every resource without changing anything."""
    return action.split(":", 1)[1].startswith(READ_ONLY_VERBS)


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-XYZ[...]``, ``Serverless-XYZ``) on
    ``scope`` and everything under it, with its reason. The rule pack is the finding's
    prefix. Synth fails if the acknowledgement then matches no finding (``stacks.nag``)."""
    pack = finding.split("-", 1)[0]
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{pack}::{finding}", reason=reason))


def grant(owner: iam.Role | iam.ManagedPolicy, permissions: Iterable[Permission]) -> None:
    """Add ``permissions`` to a role (or managed policy) and acknowledge each wildcard
    resource once, with the reasons of every statement that needs it."""
    reasons: dict[str, list[str]] = {}
    for permission in permissions:
        if isinstance(owner, iam.Role):
            owner.add_to_principal_policy(permission.statement())
        else:
            owner.add_statements(permission.statement())
        for resource in permission.wildcard_resources:
            reason = f"{', '.join(permission.actions)}: {permission.wildcard_reason}"
            reasons.setdefault(resource, [])
            if reason not in reasons[resource]:
                reasons[resource].append(reason)
    for resource, why in reasons.items():
        acknowledge(owner, f"AwsSolutions-IAM5[Resource::{resource}]", " | ".join(why))
