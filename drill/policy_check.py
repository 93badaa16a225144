"""Every AWS call a Switchyard function makes, checked against that function's synthesized
IAM policy.

moto enforces no IAM, so a call the deployed role cannot make passes every test and
drill unless something checks it. The call log (switchyard.retry) records, for each call,
the calling function (``ApiCall.step``: a runbook step, ``monitor``, ``reconciler`` or
``traffic_switch``), the region that function runs in, and what IAM authorizes (action,
resource ARNs, condition-key values; switchyard.iam_request). This module:

1. synthesizes the environment's CDK app in-process (``stacks.app_builder.compose_app``
   with the CLI context, cached per process) and finds each Lambda function by its
   ``FunctionName`` (``Names.function(region, purpose)``), its role, and every policy
   attached to that role (inline, ``AWS::IAM::Policy``, customer managed policies);
2. resolves the intrinsics those policies use (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
   Fn::Select, Fn::Split) from the resources' name properties;
3. evaluates each call: explicit Deny wins, then an Allow whose action, resource and
   conditions all match. The evaluator is small and pessimistic on purpose (no maintained
   Python library evaluates identity policies with conditions offline): a condition
   operator or key it cannot evaluate, a policy variable, or a resource it cannot resolve
   never allows; AWS-managed policies (not in the templates) grant nothing here. A key the
   request is known not to carry (``IamRequest.absent``) satisfies only an ``...IfExists``
   condition; the tags of the resources a call addresses (``aws:ResourceTag/...``) are
   those the templates give them (application ASGs), and a tag condition on any other
   resource cannot be evaluated.

A call is checked as if it reached AWS, even when the drill's fault model failed it
before (a dark region): the code would make it the same way with the region up. Calls
with no label (the harness's own setup and assertions) are counted, not checked.

Set ``SWITCHYARD_POLICY_LEDGER=<file>`` to append every check's outcome as one JSON line;
``python -m drill.policy_check report <file>`` turns a ledger into the Markdown report
(denied calls per environment, function and action; grants no call used).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from switchyard.config import EnvironmentConfig, load_environment
from switchyard.contract import FUNCTION_PURPOSES, Names
from switchyard.iam_request import IamRequest, auto_scaling_group_arn
from switchyard.retry import ApiCall

LEDGER_VARIABLE = "SWITCHYARD_POLICY_LEDGER"
# A directory of ``<environment>.json`` files (a list of {stack, region, account, template}):
# check against templates synthesized earlier instead of synthesizing now (offline review).
TEMPLATES_VARIABLE = "SWITCHYARD_SYNTHESIZED_TEMPLATES"
UNRESOLVED = "?unresolved:"  # prefix of a value no request can match
# Statements whose actions the Lambda service or SNS use on the function's behalf (logs,
# traces, the topic's KMS key): no controller API call uses them, and none is checked.
RUNTIME_ACTION_PREFIXES = ("logs:", "xray:", "kms:")

STRING_OPERATORS = {
    "StringEquals": (False, False, False),  # (negated, glob, ignore case)
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True),
    "StringNotEqualsIgnoreCase": (True, False, True),
    "StringLike": (False, True, False),
    "StringNotLike": (True, True, False),
    "Bool": (False, False, True),  # "true"/"false": equality, either case (the operator policy's MFA condition)
}
NUMERIC_OPERATORS = {  # (negated, comparison)
    "NumericEquals": (False, lambda value, wanted: value == wanted),
    "NumericNotEquals": (True, lambda value, wanted: value == wanted),
    "NumericLessThan": (False, lambda value, wanted: value < wanted),
    "NumericLessThanEquals": (False, lambda value, wanted: value <= wanted),
    "NumericGreaterThan": (False, lambda value, wanted: value > wanted),
    "NumericGreaterThanEquals": (False, lambda value, wanted: value >= wanted),
}
IF_EXISTS = "IfExists"


# -- policies -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """One policy statement with its intrinsics resolved. ``source`` names where it came
    from (stack, policy logical id, statement index) for messages."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def from_document(cls, statement: Mapping[str, Any], source: str = "") -> Statement:
        """A statement from policy JSON (strings already resolved)."""

        def strings(name: str) -> tuple[str, ...]:
            value = statement.get(name, ())
            return (str(value),) if isinstance(value, str) else tuple(str(item) for item in value)

        conditions = {
            operator: {key: _as_strings(values) for key, values in block.items()}
            for operator, block in (statement.get("Condition") or {}).items()
        }
        return cls(
            effect=str(statement.get("Effect", "")),
            actions=strings("Action"),
            not_actions=strings("NotAction"),
            resources=strings("Resource"),
            not_resources=strings("NotResource"),
            conditions=conditions,
            source=source,
        )

    def matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(_glob(pattern, action, ignore_case=True) for pattern in self.not_actions)
        return any(_glob(pattern, action, ignore_case=True) for pattern in self.actions)

    def matching_resource(self, resource: str) -> str | None:
        """The resource pattern of this statement that covers ``resource``, if any."""
        if self.not_resources:
            covered = any(_glob(pattern, resource) for pattern in self.not_resources)
            return None if covered else f"NotResource {','.join(self.not_resources)}"
        return next((pattern for pattern in self.resources if _glob(pattern, resource)), None)

    def matching_action(self, action: str) -> str:
        if self.not_actions:
            return f"NotAction {','.join(self.not_actions)}"
        return next(pattern for pattern in self.actions if _glob(pattern, action, ignore_case=True))


def _as_strings(values: Any) -> tuple[str, ...]:
    if isinstance(values, list | tuple):
        return tuple(str(value).lower() if isinstance(value, bool) else str(value) for value in values)
    return (str(values).lower() if isinstance(values, bool) else str(values),)


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` one character."""
    if pattern.startswith(UNRESOLVED):
        return False
    return bool(_pattern(pattern, ignore_case).match(value))


# -- evaluation ---------------------------------------------------------------------------
class Outcome(StrEnum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"
    UNEVALUABLE = "cannot evaluate"


class UnevaluableConditionError(ValueError):
    """A condition this evaluator cannot decide (unknown operator or key, a policy variable,
    a key the request does not carry): never an allow."""


@dataclass(frozen=True)
class Grant:
    """What one Allow statement granted one call: (statement source, action pattern, resource pattern)."""

    source: str
    action: str
    resource: str


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    used: tuple[Grant, ...] = ()  # the grants that allowed it
    missing: tuple[str, ...] = ()  # resources no Allow covers
    why: tuple[str, ...] = ()  # near misses, the Deny that won, or what could not be evaluated

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED


def evaluate(
    statements: Sequence[Statement],
    request: IamRequest,
    resource_context: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None,
) -> Verdict:
    """IAM's identity-policy logic for one request: an explicit Deny wins; otherwise every
    resource must be covered by an Allow whose conditions hold; otherwise implicit deny.
    ``resource_context`` adds, per addressed resource, the keys the resource itself puts in
    the request context (its tags)."""
    used: list[Grant] = []
    missing: list[str] = []
    why: list[str] = []
    unevaluable = False
    for resource in request.resources:
        covered = False
        context = {**request.context, **(resource_context or {}).get(resource, {})}
        for statement in statements:
            if not statement.matches_action(request.action):
                continue
            pattern = statement.matching_resource(resource)
            if pattern is None:
                continue
            try:
                holds = _conditions_hold(statement.conditions, context, request.absent)
            except UnevaluableConditionError as exc:
                unevaluable = True
                why.append(f"{statement.source}: cannot evaluate {exc}")
                continue
            if statement.effect == "Deny" and holds:
                return Verdict(Outcome.EXPLICIT_DENY, why=(f"{statement.source} denies it",))
            if statement.effect == "Allow":
                if holds:
                    covered = True
                    used.append(Grant(statement.source, statement.matching_action(request.action), pattern))
                else:
                    why.append(f"{statement.source} grants it only where {_describe_conditions(statement)}")
        if not covered:
            missing.append(resource)
    if missing:
        outcome = Outcome.UNEVALUABLE if unevaluable else Outcome.IMPLICIT_DENY
        return Verdict(outcome, tuple(used), tuple(missing), tuple(why))
    return Verdict(Outcome.ALLOWED, tuple(used), why=tuple(why))


def _conditions_hold(
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]],
    context: Mapping[str, Any],
    absent: frozenset[str] = frozenset(),
) -> bool:
    """All operators and all keys must hold (values of one key: any may match).

    A key in ``absent`` (the request is known not to carry it): an ``...IfExists`` condition
    holds, a plain or ForAnyValue positive one does not (IAM: "the values do not match"); a
    negated or ForAllValues one, which IAM would let through, is not guessed. Any other
    missing key cannot be evaluated."""
    lowered = {key.lower(): tuple(values) for key, values in context.items()}
    known_absent = {key.lower() for key in absent}
    for operator, block in conditions.items():
        qualifier, _, base = operator.rpartition(":")
        if_exists = base.endswith(IF_EXISTS)
        base = base.removesuffix(IF_EXISTS)
        if (base not in STRING_OPERATORS and base not in NUMERIC_OPERATORS) or qualifier not in (
            "",
            "ForAllValues",
            "ForAnyValue",
        ):
            raise UnevaluableConditionError(f"condition operator {operator!r}")
        negated = STRING_OPERATORS[base][0] if base in STRING_OPERATORS else NUMERIC_OPERATORS[base][0]
        for key, wanted in block.items():
            if any("${" in value for value in wanted):
                raise UnevaluableConditionError(f"policy variable in {key} {list(wanted)}")
            actual = lowered.get(key.lower())
            if not actual:
                if key.lower() not in known_absent:
                    raise UnevaluableConditionError(f"condition key {key!r} (the request does not carry it)")
                if if_exists:
                    continue
                if negated or qualifier == "ForAllValues":
                    raise UnevaluableConditionError(f"{operator} on {key!r}, which the request does not carry")
                return False
            results = [_value_holds(base, value, wanted) for value in actual]
            holds = any(results) if qualifier == "ForAnyValue" else all(results)
            if not holds:
                return False
    return True


def _value_holds(base: str, value: str, wanted: tuple[str, ...]) -> bool:
    """One request value against one operator's values (any may match; a negated operator
    holds when none does)."""
    if base in STRING_OPERATORS:
        negated, glob, ignore_case = STRING_OPERATORS[base]
        return _value_matches(value, wanted, glob=glob, ignore_case=ignore_case) != negated
    negated, compare = NUMERIC_OPERATORS[base]
    try:
        number, bounds = float(value), [float(item) for item in wanted]
    except ValueError as exc:
        raise UnevaluableConditionError(f"{base} on a value that is not a number: {value!r} vs {list(wanted)}") from exc
    return any(compare(number, bound) for bound in bounds) != negated


def _value_matches(value: str, wanted: tuple[str, ...], *, glob: bool, ignore_case: bool) -> bool:
    """One request value against a condition's values (any may match)."""
    if glob:
        return any(_glob(pattern, value, ignore_case=ignore_case) for pattern in wanted)
    if ignore_case:
        return value.lower() in {item.lower() for item in wanted}
    return value in wanted


def _describe_conditions(statement: Statement) -> str:
    return "; ".join(
        f"{operator} {key} {list(values)}"
        for operator, block in statement.conditions.items()
        for key, values in block.items()
    )


# -- templates ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StackTemplate:
    name: str
    region: str
    account: str
    template: Mapping[str, Any]

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        resources: Mapping[str, Mapping[str, Any]] = self.template.get("Resources", {})
        return resources


class UnresolvableError(ValueError):
    """An intrinsic this resolver cannot turn into a string offline."""


# Ref and GetAtt of the resource types the policies use, from their name properties.
_REF: dict[str, str] = {
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{TopicName}",
    "AWS::DynamoDB::Table": "{TableName}",
    "AWS::DynamoDB::GlobalTable": "{TableName}",
    "AWS::Lambda::Function": "{FunctionName}",
    "AWS::IAM::Role": "{RoleName}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{account}:policy{Path}{ManagedPolicyName}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{StateMachineName}",
    "AWS::Logs::LogGroup": "{LogGroupName}",
    "AWS::S3::Bucket": "{BucketName}",
    "AWS::CloudWatch::Alarm": "{AlarmName}",
    "AWS::SQS::Queue": "https://sqs.{region}.amazonaws.com/{account}/{QueueName}",
}
_GET_ATT: dict[tuple[str, str], str] = {
    ("AWS::SNS::Topic", "TopicArn"): "arn:aws:sns:{region}:{account}:{TopicName}",
    ("AWS::SNS::Topic", "TopicName"): "{TopicName}",
    ("AWS::DynamoDB::Table", "Arn"): "arn:aws:dynamodb:{region}:{account}:table/{TableName}",
    ("AWS::DynamoDB::GlobalTable", "Arn"): "arn:aws:dynamodb:{region}:{account}:table/{TableName}",
    ("AWS::Lambda::Function", "Arn"): "arn:aws:lambda:{region}:{account}:function:{FunctionName}",
    ("AWS::IAM::Role", "Arn"): "arn:aws:iam::{account}:role{Path}{RoleName}",
    ("AWS::StepFunctions::StateMachine", "Arn"): "arn:aws:states:{region}:{account}:stateMachine:{StateMachineName}",
    ("AWS::StepFunctions::StateMachine", "Name"): "{StateMachineName}",
    ("AWS::Logs::LogGroup", "Arn"): "arn:aws:logs:{region}:{account}:log-group:{LogGroupName}:*",
    ("AWS::S3::Bucket", "Arn"): "arn:aws:s3:::{BucketName}",
    ("AWS::CloudWatch::Alarm", "Arn"): "arn:aws:cloudwatch:{region}:{account}:alarm:{AlarmName}",
    ("AWS::SQS::Queue", "Arn"): "arn:aws:sqs:{region}:{account}:{QueueName}",
}
_DEFAULT_PROPERTIES = {"Path": "/"}


@dataclass(frozen=True)
class Resolver:
    """Resolves CloudFormation intrinsics in one stack (pseudo parameters from its environment)."""

    stack: StackTemplate

    def pseudo(self, name: str) -> str:
        values = {
            "AWS::Region": self.stack.region,
            "AWS::AccountId": self.stack.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack.name,
        }
        if name not in values:
            raise UnresolvableError(f"pseudo parameter {name}")
        return values[name]

    def value(self, node: Any) -> Any:
        """``node`` with every intrinsic resolved (raises UnresolvableError)."""
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((name, argument),) = node.items()
            intrinsic = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Join": self._join,
                "Fn::Sub": self._sub,
                "Fn::Select": self._select,
                "Fn::Split": self._split,
            }.get(name)
            if intrinsic is not None:
                return intrinsic(argument)
            if name.startswith("Fn::"):
                raise UnresolvableError(f"{name} {json.dumps(argument)[:80]}")
        return {key: self.value(value) for key, value in node.items()}

    def string(self, node: Any) -> str:
        value = self.value(node)
        if not isinstance(value, str):
            raise UnresolvableError(f"not a string: {json.dumps(value)[:80]}")
        return value

    def _resource(self, logical_id: str) -> Mapping[str, Any]:
        resource = self.stack.resources.get(logical_id)
        if resource is None:
            raise UnresolvableError(f"no resource {logical_id} in {self.stack.name}")
        return resource

    def _format(self, shape: str, logical_id: str) -> str:
        properties = self._resource(logical_id).get("Properties", {})
        fields = {"region": self.stack.region, "account": self.stack.account}
        for name in re.findall(r"{(\w+)}", shape):
            if name in fields:
                continue
            if name not in properties and name not in _DEFAULT_PROPERTIES:
                raise UnresolvableError(f"{logical_id} has no {name} (its name is generated at deploy)")
            fields[name] = self.string(properties.get(name, _DEFAULT_PROPERTIES.get(name)))
        return shape.format(**fields)

    def _ref(self, name: str) -> str:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        parameter = self.stack.template.get("Parameters", {}).get(name)
        if parameter is not None:
            if "Default" not in parameter:
                raise UnresolvableError(f"parameter {name} has no default")
            return str(parameter["Default"])
        kind = str(self._resource(name).get("Type"))
        if kind not in _REF:
            raise UnresolvableError(f"Ref {name} ({kind})")
        return self._format(_REF[kind], name)

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        kind = str(self._resource(logical_id).get("Type"))
        shape = _GET_ATT.get((kind, str(attribute)))
        if shape is None:
            raise UnresolvableError(f"GetAtt {logical_id}.{attribute} ({kind})")
        return self._format(shape, logical_id)

    def _join(self, argument: Any) -> str:
        separator, parts = argument
        values = self.value(parts)
        return str(separator).join(self.string(part) for part in values)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {key: self.string(value) for key, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved:
                return resolved[name]
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(name)
            return self._ref(name)

        return re.sub(r"\$\{([^}]+)\}", substitute, str(text))

    def _select(self, argument: Any) -> Any:
        index, values = argument
        return self.value(values)[int(self.value(index))]

    def _split(self, argument: Any) -> list[str]:
        separator, text = argument
        return self.string(text).split(str(separator))


# -- the policy of each function ------------------------------------------------------------
@dataclass(frozen=True)
class FunctionPolicy:
    """Every statement attached to one function's role, resolved."""

    function: str
    region: str
    role: str
    statements: tuple[Statement, ...]
    notes: tuple[str, ...] = ()  # what was not loaded (AWS-managed policies...)


@dataclass(frozen=True)
class PolicyBook:
    """The synthesized policies of one environment, by function name."""

    environment: str
    functions: Mapping[str, FunctionPolicy]
    # ARN (as switchyard.iam_request addresses it) -> the tags the templates give that resource
    resource_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def resource_context(self, request: IamRequest) -> dict[str, dict[str, tuple[str, ...]]]:
        """The tag keys each resource of ``request`` puts in the request context, as IAM
        does: ``aws:ResourceTag/<key>`` and the service's own ``<service>:ResourceTag/<key>``."""
        service = request.action.split(":", 1)[0]
        context: dict[str, dict[str, tuple[str, ...]]] = {}
        for resource in request.resources:
            tags = self.resource_tags.get(resource)
            if tags:
                context[resource] = {
                    f"{prefix}:ResourceTag/{key}": (value,)
                    for key, value in tags.items()
                    for prefix in ("aws", service)
                }
        return context

    @classmethod
    def from_stacks(cls, environment: str, stacks: Sequence[StackTemplate]) -> PolicyBook:
        functions: dict[str, FunctionPolicy] = {}
        resource_tags: dict[str, Mapping[str, str]] = {}
        for stack in stacks:
            resolver = Resolver(stack)
            resource_tags.update(_auto_scaling_group_tags(stack, resolver))
            for logical_id, resource in stack.resources.items():
                if resource.get("Type") != "AWS::Lambda::Function":
                    continue
                properties = resource.get("Properties", {})
                try:
                    name = resolver.string(properties.get("FunctionName"))
                except UnresolvableError:
                    continue  # CDK's own singleton functions have generated names: not Switchyard's
                functions[name] = _function_policy(name, stack, logical_id, stacks)
        return cls(environment, functions, resource_tags)


def _auto_scaling_group_tags(stack: StackTemplate, resolver: Resolver) -> dict[str, dict[str, str]]:
    """The tags of each named ASG of ``stack``, by the ARN a call addressing it by name has."""
    found: dict[str, dict[str, str]] = {}
    for resource in stack.resources.values():
        if resource.get("Type") != "AWS::AutoScaling::AutoScalingGroup":
            continue
        properties = resource.get("Properties", {})
        try:
            name = resolver.string(properties.get("AutoScalingGroupName"))
            tags = {resolver.string(tag["Key"]): resolver.string(tag["Value"]) for tag in properties.get("Tags", [])}
        except UnresolvableError:
            continue  # a generated name, or a tag known only at deploy: no call can be matched to it
        found[auto_scaling_group_arn(stack.region, stack.account, name)] = tags
    return found


def _role_of(stack: StackTemplate, function_id: str) -> str:
    role = stack.resources[function_id].get("Properties", {}).get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        target = role["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    if isinstance(role, dict) and "Ref" in role:
        return str(role["Ref"])
    raise UnresolvableError(f"{function_id}'s role is not a role of {stack.name}: {json.dumps(role)[:120]}")


def _attached_to(resolver: Resolver, roles: Any, role_id: str, role_name: str | None) -> bool:
    for role in roles or []:
        if role == {"Ref": role_id}:
            return True
        try:
            if role_name is not None and resolver.string(role) == role_name:
                return True
        except UnresolvableError:
            continue
    return False


def _function_policy(
    name: str, stack: StackTemplate, function_id: str, stacks: Sequence[StackTemplate]
) -> FunctionPolicy:
    resolver = Resolver(stack)
    role_id = _role_of(stack, function_id)
    role = stack.resources[role_id].get("Properties", {})
    role_name = resolver.string(role["RoleName"]) if "RoleName" in role else None
    documents: list[tuple[str, Any, Resolver]] = []
    notes: list[str] = []
    for index, inline in enumerate(role.get("Policies", [])):
        documents.append((f"{stack.name}/{role_id}/inline{index}", inline.get("PolicyDocument", {}), resolver))
    for arn in role.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn and arn["Ref"] in stack.resources:
            policy_id = str(arn["Ref"])
            document = stack.resources[policy_id].get("Properties", {}).get("PolicyDocument", {})
            documents.append((f"{stack.name}/{policy_id}", document, resolver))
        else:
            try:
                described = resolver.string(arn)
            except UnresolvableError as exc:
                described = f"{UNRESOLVED}{exc}"
            notes.append(f"managed policy {described} is not in the templates: it grants nothing here")
    for other in stacks:
        other_resolver = Resolver(other)
        for policy_id, resource in other.resources.items():
            if resource.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            properties = resource.get("Properties", {})
            same_stack = other.name == stack.name
            if _attached_to(other_resolver, properties.get("Roles"), role_id if same_stack else "", role_name):
                documents.append((f"{other.name}/{policy_id}", properties.get("PolicyDocument", {}), other_resolver))
    statements: list[Statement] = []
    for source, document, document_resolver in documents:
        for index, raw in enumerate(document.get("Statement", [])):
            statements.append(Statement.from_document(_resolve_statement(document_resolver, raw), f"{source}#{index}"))
    return FunctionPolicy(name, stack.region, role_id, tuple(statements), tuple(notes))


def managed_policy_statements(stacks: Sequence[StackTemplate], policy_name: str) -> tuple[Statement, ...]:
    """The resolved statements of the customer managed policy named ``policy_name``: the
    operator policy, which people (the CLI, the console) use, so no function's policy holds it."""
    for stack in stacks:
        resolver = Resolver(stack)
        for logical_id, resource in stack.resources.items():
            if resource.get("Type") != "AWS::IAM::ManagedPolicy":
                continue
            properties = resource.get("Properties", {})
            try:
                if resolver.string(properties.get("ManagedPolicyName")) != policy_name:
                    continue
            except UnresolvableError:
                continue
            document = properties.get("PolicyDocument", {})
            return tuple(
                Statement.from_document(_resolve_statement(resolver, raw), f"{stack.name}/{logical_id}#{index}")
                for index, raw in enumerate(document.get("Statement", []))
            )
    raise KeyError(f"no customer managed policy named {policy_name!r} in the templates")


def _resolve_statement(resolver: Resolver, statement: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve each element on its own: one unresolvable resource matches nothing, the
    statement's other resources still count."""

    def each(value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        resolved = []
        for item in items:
            try:
                resolved.append(resolver.value(item))
            except UnresolvableError as exc:
                resolved.append(f"{UNRESOLVED}{exc}")
        return resolved

    result = dict(statement)
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in statement:
            result[key] = [str(item) for item in each(statement[key])]
    if "Condition" in statement:
        result["Condition"] = {
            operator: {key: each(values) for key, values in block.items()}
            for operator, block in statement["Condition"].items()
        }
    return result


# -- synthesis (cached per process) ---------------------------------------------------------
def synthesize_stacks(config: EnvironmentConfig) -> list[StackTemplate]:
    """Every stack of ``config``'s app, synthesized in-process exactly as app.py builds it."""
    stored = os.environ.get(TEMPLATES_VARIABLE)
    if stored:
        documents = json.loads((Path(stored) / f"{config.name}.json").read_text(encoding="utf-8"))
        return [StackTemplate(d["stack"], d["region"], d["account"], d["template"]) for d in documents]
    from stacks.synthesis import synthesized  # noqa: PLC0415 - CDK is heavy; only a check needs it

    return [
        StackTemplate(stack.stack_name, stack.environment.region, stack.environment.account, stack.template)
        for stack in synthesized(config).assembly.stacks
    ]


@functools.cache
def _cached_book(config_json: str) -> PolicyBook:
    config = EnvironmentConfig.model_validate_json(config_json)
    return PolicyBook.from_stacks(config.name, synthesize_stacks(config))


def policy_book(config: EnvironmentConfig) -> PolicyBook:
    """``config``'s synthesized policies (synthesized once per process and configuration)."""
    return _cached_book(config.model_dump_json())


# -- checking a call history ----------------------------------------------------------------
@dataclass(frozen=True)
class Denial:
    """One distinct call the function's policy does not allow."""

    function: str
    action: str
    resource: str
    keys: tuple[str, ...]
    outcome: Outcome
    missing_grant: str
    why: tuple[str, ...]

    def line(self, count: int) -> str:
        key = f" key {', '.join(self.keys)}" if self.keys else ""
        times = f" (x{count})" if count > 1 else ""
        line = f"{self.function}: {self.action} on {self.resource}{key}{times}: {self.outcome}"
        line += f"; missing grant: {self.missing_grant}"
        return line + "".join(f"\n      {reason}" for reason in self.why)


@dataclass
class PolicyCheck:
    """What checking one call history found."""

    environment: str
    checked: int = 0
    unlabelled: int = 0
    denials: Counter[Denial] = field(default_factory=Counter)
    used: set[tuple[str, Grant]] = field(default_factory=set)  # (function, grant)
    problems: list[str] = field(default_factory=list)  # calls that could not be checked at all

    @property
    def passed(self) -> bool:
        return not self.denials and not self.problems

    @property
    def denied_calls(self) -> int:
        return sum(self.denials.values())

    def summary(self) -> str:
        if self.passed:
            return f"{self.checked} AWS calls allowed by their function's synthesized IAM policy ({self.environment})"
        lines = [
            f"{self.denied_calls} of {self.checked} AWS calls are not allowed by the calling function's "
            f"synthesized IAM policy ({self.environment}; {self.unlabelled} unlabelled calls not checked):"
        ]
        lines.extend(f"  {denial.line(count)}" for denial, count in sorted(self.denials.items(), key=_denial_order))
        lines.extend(f"  cannot check: {problem}" for problem in self.problems)
        return "\n".join(lines)


def _denial_order(item: tuple[Denial, int]) -> tuple[str, str, str]:
    denial = item[0]
    return denial.function, denial.action, denial.resource


def check_calls(config: EnvironmentConfig, calls: Iterable[ApiCall], *, book: PolicyBook | None = None) -> PolicyCheck:
    """Check every labelled call against the synthesized policy of the function that made it:
    the function of purpose ``call.step`` deployed in ``call.caller_region``."""
    book = book if book is not None else policy_book(config)
    names = Names(config)
    result = PolicyCheck(config.name)
    problems: Counter[str] = Counter()
    for call in calls:
        if call.step is None:
            result.unlabelled += 1
            continue
        result.checked += 1
        problem = _uncheckable(call, book, names)
        if problem is not None:
            problems[problem] += 1
            continue
        assert call.iam is not None
        assert call.caller_region is not None
        function = names.function(call.caller_region, call.step)
        verdict = evaluate(book.functions[function].statements, call.iam, book.resource_context(call.iam))
        result.used.update((function, grant) for grant in verdict.used)
        if not verdict.allowed:
            for resource in verdict.missing or call.iam.resources:
                result.denials[_denial(function, call.iam, resource, verdict)] += 1
    result.problems = [f"{problem} (x{count})" if count > 1 else problem for problem, count in sorted(problems.items())]
    _append_to_ledger(result)
    return result


def _uncheckable(call: ApiCall, book: PolicyBook, names: Names) -> str | None:
    what = f"{call.step} {call.service}:{call.operation}"
    if call.step not in FUNCTION_PURPOSES:
        return f"{what}: {call.step!r} is not a Switchyard function purpose"
    if call.caller_region is None:
        return f"{what}: the calling function's region was not recorded (ClientFactory(caller_region=...))"
    if call.iam is None:
        return f"{what}: no request parameters were recorded"
    function = names.function(call.caller_region, call.step)
    if function not in book.functions:
        return f"{what}: no function named {function} in the synthesized templates"
    return None


def _denial(function: str, request: IamRequest, resource: str, verdict: Verdict) -> Denial:
    keys = request.context.get("dynamodb:LeadingKeys", ())
    grant = f"Allow {request.action} on {resource}"
    if keys:
        grant += f" for dynamodb:LeadingKeys {', '.join(keys)}"
    names = request.context.get("route53:ChangeResourceRecordSetsNormalizedRecordNames")
    if names:
        grant += f" for record names {', '.join(names)}"
    return Denial(function, request.action, resource, tuple(keys), verdict.outcome, grant, verdict.why)


# -- the ledger and its report --------------------------------------------------------------
def _append_to_ledger(result: PolicyCheck) -> None:
    path = os.environ.get(LEDGER_VARIABLE)
    if not path:
        return
    entry = {
        "environment": result.environment,
        "checked": result.checked,
        "unlabelled": result.unlabelled,
        "denials": [
            {
                "function": d.function,
                "action": d.action,
                "resource": d.resource,
                "keys": list(d.keys),
                "outcome": str(d.outcome),
                "missing_grant": d.missing_grant,
                "why": list(d.why),
                "count": count,
            }
            for d, count in result.denials.items()
        ],
        "problems": result.problems,
        "used": sorted([function, grant.source, grant.action, grant.resource] for function, grant in result.used),
    }
    with open(path, "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(entry, sort_keys=True) + "\n")


def unused_grants(book: PolicyBook, used: set[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """(function, source, action, resource) of every Allow action-resource pair that no
    checked call used, leaving out the runtime grants (logs, traces, the topic's key)."""
    unused = []
    for function, policy in sorted(book.functions.items()):
        for statement in policy.statements:
            if statement.effect != "Allow":
                continue
            for action in statement.actions:
                if action.startswith(RUNTIME_ACTION_PREFIXES):
                    continue
                for resource in statement.resources:
                    if (function, statement.source, action, resource) not in used:
                        unused.append((function, statement.source, action, resource))
    return unused


def ledger_report(ledger: Path, environments: Sequence[str] = ("dev", "prod")) -> str:
    """The Markdown report of a ledger: denied calls and grants nothing uses, per environment."""
    entries = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = ["# Switchyard: AWS calls checked against the synthesized IAM policies", ""]
    for environment in environments:
        mine = [entry for entry in entries if entry["environment"] == environment]
        checked = sum(entry["checked"] for entry in mine)
        unlabelled = sum(entry["unlabelled"] for entry in mine)
        denials: Counter[tuple[str, str, str, str, str]] = Counter()
        for entry in mine:
            for denial in entry["denials"]:
                keys = ", ".join(denial["keys"])
                key = (denial["function"], denial["action"], denial["resource"], keys, denial["outcome"])
                denials[key] += denial["count"]
        problems = Counter(problem for entry in mine for problem in entry["problems"])
        lines += [
            f"## {environment}",
            "",
            f"{len(mine)} checks (test teardowns and drill runs); {checked} labelled calls checked; "
            f"{sum(denials.values())} denied; {unlabelled} unlabelled calls (harness) not checked.",
            "",
            "### Denied calls (function, action, resource, key: count)",
            "",
        ]
        if denials:
            lines += ["| function | action | resource | key | outcome | calls |", "|---|---|---|---|---|---|"]
            lines += [f"| {f} | {a} | {r} | {k} | {o} | {n} |" for (f, a, r, k, o), n in sorted(denials.items())]
        else:
            lines.append("none")
        if problems:
            lines += ["", "### Calls that could not be checked", ""]
            lines += [f"- {problem}: {count} checks" for problem, count in sorted(problems.items())]
        used = {tuple(item) for entry in mine for item in entry["used"]}
        config = load_environment(environment)
        unused = unused_grants(policy_book(config), used)
        relative = RelativeGrants(config)
        used_anywhere = {relative.of(function, action, resource) for function, _, action, resource in used}
        unused_everywhere = sorted({relative.of(f, a, r) for f, _, a, r in unused} - used_anywhere)
        lines += [
            "",
            "### Grants no function of that purpose used in either region",
            "",
            "Regions written relative to the function: `{own}` is the region it runs in, `{peer}` the other one.",
            "",
            "| purpose | action | resource |",
            "|---|---|---|",
        ]
        lines += [f"| {purpose} | {action} | {resource} |" for purpose, action, resource in unused_everywhere]
        lines += ["", "### Every grant nothing used, per deployed function", ""]
        lines += ["| function | action | resource | statement |", "|---|---|---|---|"]
        lines += [f"| {f} | {a} | {r} | {s} |" for f, s, a, r in unused]
        lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True)
class RelativeGrants:
    """(function, action, resource) -> (purpose, action, resource with ``{own}``/``{peer}``
    for the regions), so a grant one region's function used counts for the other's too."""

    config: EnvironmentConfig

    def of(self, function: str, action: str, resource: str) -> tuple[str, str, str]:
        names = Names(self.config)
        primary, standby = self.config.regions.pair
        for own, peer in ((primary, standby), (standby, primary)):
            for purpose in FUNCTION_PURPOSES:
                if names.function(own, purpose) == function:
                    placeholder = {own: "{own}", peer: "{peer}"}
                    parts = re.split(f"({re.escape(own)}|{re.escape(peer)})", resource)
                    return purpose, action, "".join(placeholder.get(part, part) for part in parts)
        return function, action, resource


def main(argv: Sequence[str]) -> int:
    """``python -m drill.policy_check report LEDGER [ENV...]``: print the Markdown report."""
    if len(argv) < 2 or argv[0] != "report":
        print(main.__doc__, file=sys.stderr)
        return 2
    environments = tuple(argv[2:]) or ("dev", "prod")
    print(ledger_report(Path(argv[1]), environments))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
