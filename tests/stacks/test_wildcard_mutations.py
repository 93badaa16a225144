"""Every mutating grant on a wildcard resource, in every synthesized template, is reviewed.

The check reads every Allow statement of every template of both environments
(``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy`` and the inline policies of
``AWS::IAM::Role``) and keeps its mutating actions (any verb but the read verbs below). Each
of its resources is then one of:

- ``*`` (any resource): allowed only when (the statement's mutating actions, ``*``) is in
  ALLOWLIST, with the reason AWS leaves no narrower choice. A condition does not excuse it:
  a condition narrows who or how, not what.
- a *full wildcard ARN*: a ``*`` in the region or account field, or a resource id made of
  wildcards only (``...:subgrp:*``, ``...:key/*``, ``arn:aws:s3:::*``): allowed when the
  statement carries a Condition that narrows it (the KMS grants name the key by its alias
  with ``kms:ResourceAliases``), or when it is in ALLOWLIST.
- a *named-prefix pattern*: the wildcard follows a name (``...:snapshot:switchyard-dev-lost-
  writes-e*``, ``...:execution:<runbook>:*``, ``arn:aws:s3:::<bucket>/*``,
  ``...:autoScalingGroup:*:autoScalingGroupName/<group>``): accepted, because the name pins
  the resources to Switchyard's own; the grant's reason (stacks.shared.policy) says why the
  rest is a wildcard.

An ALLOWLIST entry that no template needs any more fails too, so the list stays short.
``test_the_check_reports_an_injected_wildcard_mutation`` proves the check can fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from switchyard.contract import APP_TIER_TAG
from tests.stacks.topology import Topology, resources_of

# Verbs that read and change nothing (a superset of stacks.shared.policy.READ_ONLY_VERBS, so
# that Scan or BatchGet never count as a mutation).
READ_VERBS = ("Describe", "Get", "List", "Query", "Scan", "BatchGet", "Lookup", "Search", "View", "Head", "Select")
ANY = "*"
XRAY_WRITES = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
LOG_DELIVERY = frozenset(
    {"logs:CreateLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:PutResourcePolicy"}
)
TASK_TOKEN_CALLS = frozenset({"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"})

# (mutating actions of one statement, resource with {region}/{account} placeholders) -> why.
ALLOWLIST: dict[tuple[frozenset[str], str], str] = {
    (XRAY_WRITES, ANY): (
        "Lambda active tracing (stacks.shared.function): X-Ray's PutTraceSegments and PutTelemetryRecords "
        "have no resource type in the Service Authorization Reference (AWS X-Ray), so '*' only"
    ),
    (LOG_DELIVERY | XRAY_WRITES, ANY): (
        "the runbook's logging and tracing (stacks.controller.state_machine, CDK's grant): CloudWatch Logs' "
        "log-delivery actions and X-Ray's writes support no resource-level permissions (Step Functions "
        "developer guide, 'Using CloudWatch Logs to log execution history')"
    ),
    (TASK_TOKEN_CALLS, ANY): (
        "answering the runbook's approval (stacks.controller.operator_access, MFA required): SendTask* have "
        "no resource type and no condition key (Service Authorization Reference, AWS Step Functions); the "
        "task token names the approval"
    ),
    (frozenset({"rds:CreateDBInstanceReadReplica"}), "arn:aws:rds:{region}:{account}:subgrp:*"): (
        "prepare-failback's new replica (Grants.rebuild_database) is created in the regional stack's DB "
        "subnet group, whose name CloudFormation generates (stacks.components.database); naming the subnet "
        "group from the contract would make this grant exact"
    ),
}


@dataclass(frozen=True)
class WildcardMutation:
    """One wildcard resource of one Allow statement with mutating actions."""

    where: str  # stack / logical id / statement index
    actions: frozenset[str]
    resource: str  # rendered: intrinsics as ${LogicalId} / ${LogicalId.Attribute}
    kind: str  # "any", "full" or "named"
    conditioned: bool

    def allowlist_key(self, region: str, account: str) -> tuple[frozenset[str], str]:
        return self.actions, normalized(self.resource, region, account)

    def line(self) -> str:
        return f"{self.where}: {sorted(self.actions)} on {self.resource} ({self.kind} wildcard)"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def rendered(node: Any) -> str:
    """A resource as text: plain strings as they are, intrinsics as ``${...}`` names."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((name, argument),) = node.items()
        if name == "Ref":
            return f"${{{argument}}}"
        if name == "Fn::GetAtt":
            return "${" + ".".join(as_list(argument)) + "}"
        if name == "Fn::Join":
            separator, parts = argument
            return str(separator).join(rendered(part) for part in parts)
        if name == "Fn::Sub":
            return str(argument if isinstance(argument, str) else argument[0])
    return json.dumps(node, sort_keys=True)


def normalized(resource: str, region: str, account: str) -> str:
    return resource.replace(account, "{account}").replace(region, "{region}")


def wildcard_kind(resource: str) -> str | None:
    """``any``, ``full`` (a wildcard region/account, or an id of wildcards only), ``named``
    (the wildcard follows a name), or None (no wildcard)."""
    if resource == ANY:
        return "any"
    if "*" not in resource and "?" not in resource:
        return None
    identifier = resource
    if resource.startswith("arn:"):
        fields = resource.split(":", 5)
        if len(fields) < 6 or any(char in field for field in fields[3:5] for char in "*?"):
            return "full"
        service, identifier = fields[2], fields[5]
        if service != "s3":  # an S3 ARN's resource is the bucket name itself; others begin with a type
            match = re.match(r"^[^:/]+[:/](.*)$", identifier)
            identifier = match.group(1) if match else identifier
    return "full" if not re.sub(r"[*?:/]", "", identifier) else "named"


def policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield logical_id, properties["PolicyDocument"]
        elif resource["Type"] == "AWS::IAM::Role":
            for index, inline in enumerate(properties.get("Policies", [])):
                yield f"{logical_id}/inline{index}", inline["PolicyDocument"]


def wildcard_mutations(templates: dict[str, dict[str, Any]]) -> list[WildcardMutation]:
    """Every wildcard resource of every Allow statement with a mutating action."""
    found = []
    for stack, template in sorted(templates.items()):
        for policy, document in policy_documents(template):
            for index, statement in enumerate(as_list(document.get("Statement", []))):
                if statement.get("Effect") != "Allow":
                    continue
                where = f"{stack}/{policy}#{index}"
                if "NotAction" in statement or "NotResource" in statement:
                    # an Allow of everything but: never reviewable here
                    found.append(WildcardMutation(where, frozenset({"NotAction/NotResource"}), ANY, "any", False))
                    continue
                mutating = frozenset(
                    action
                    for action in as_list(statement["Action"])
                    if not action.split(":", 1)[1].startswith(READ_VERBS)
                )
                if not mutating:
                    continue
                for resource in (rendered(item) for item in as_list(statement.get("Resource", []))):
                    kind = wildcard_kind(resource)
                    if kind is not None:
                        found.append(
                            WildcardMutation(where, mutating, resource, kind, bool(statement.get("Condition")))
                        )
    return found


def unreviewed(topology: Topology, templates: dict[str, dict[str, Any]] | None = None) -> list[WildcardMutation]:
    """The wildcard mutations no rule accepts (see the module docstring)."""
    config = topology.config
    problems = []
    for mutation in wildcard_mutations(templates if templates is not None else topology.all_templates):
        if mutation.kind == "named" or (mutation.kind == "full" and mutation.conditioned):
            continue
        keys = {mutation.allowlist_key(region, config.account) for region in config.regions.pair}
        if not keys & ALLOWLIST.keys():
            problems.append(mutation)
    return problems


def test_every_wildcard_mutation_is_reviewed(topology: Topology) -> None:
    # GIVEN every template of the environment  THEN each wildcard mutation is named-prefix,
    # conditioned (full wildcard ARN) or in the reviewed allowlist
    problems = unreviewed(topology)
    assert not problems, "unreviewed wildcard mutations:\n" + "\n".join(problem.line() for problem in problems)


def test_every_allowlist_entry_is_still_needed(topology_dev: Topology, topology_prod: Topology) -> None:
    # GIVEN both environments' wildcard mutations  THEN every allowlist entry matches one of them
    used = set()
    for topology in (topology_dev, topology_prod):
        config = topology.config
        for mutation in wildcard_mutations(topology.all_templates):
            used |= {mutation.allowlist_key(region, config.account) for region in config.regions.pair}
    stale = [f"{sorted(actions)} on {resource}" for actions, resource in ALLOWLIST if (actions, resource) not in used]
    assert not stale, f"allowlist entries no template needs: {stale}"


@pytest.mark.parametrize(
    ("resource", "condition", "reported"),
    [
        ("*", None, True),
        ("*", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, True),  # a condition does not excuse '*'
        ("arn:aws:dynamodb:us-east-1:111111111111:table/*", None, True),
        ("arn:aws:dynamodb:*:111111111111:table/switchyard-dev-state", None, True),  # any region
        ("arn:aws:s3:::*", None, True),
        ("arn:aws:kms:us-east-1:111111111111:key/*", {"StringEquals": {"kms:ViaService": "s3.amazonaws.com"}}, False),
        ("arn:aws:dynamodb:us-east-1:111111111111:table/switchyard-dev-*", None, False),  # named prefix
        ("arn:aws:s3:::switchyard-dev-data/*", None, False),  # objects of one named bucket
    ],
)
def test_the_check_reports_an_injected_wildcard_mutation(
    topology_dev: Topology, resource: str, condition: dict[str, Any] | None, reported: bool
) -> None:
    # GIVEN a copy of a real template with one more policy statement (a role's inline policy)
    templates = copy.deepcopy(topology_dev.all_templates)
    stack = topology_dev.stack_name("controller", "standby")
    injected: dict[str, Any] = {"Effect": "Allow", "Action": ["dynamodb:DeleteItem", "dynamodb:GetItem"]}
    injected["Resource"] = resource
    if condition is not None:
        injected["Condition"] = condition
    templates[stack]["Resources"]["InjectedRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"Policies": [{"PolicyName": "x", "PolicyDocument": {"Statement": [injected]}}]},
    }
    # WHEN checked  THEN the injected statement (its mutating action only) is reported, or accepted by its rule
    problems = unreviewed(topology_dev, templates)
    injected_problems = [problem for problem in problems if "InjectedRole" in problem.where]
    assert bool(injected_problems) is reported
    if reported:
        assert injected_problems[0].actions == frozenset({"dynamodb:DeleteItem"})
    # AND nothing else is (the real templates pass)
    assert len(problems) == len(injected_problems)


def test_an_allowlisted_action_set_is_not_a_pass_for_more_actions(topology_dev: Topology) -> None:
    # GIVEN X-Ray's allowlisted writes plus one more mutating action on '*', in a managed policy
    templates = copy.deepcopy(topology_dev.all_templates)
    stack = topology_dev.stack_name("controller", "primary")
    statement = {"Effect": "Allow", "Action": [*sorted(XRAY_WRITES), "sns:Publish"], "Resource": "*"}
    templates[stack]["Resources"]["InjectedPolicy"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": {"Statement": [statement]}},
    }
    # THEN it is reported: the allowlist names exact action sets
    assert [problem.where for problem in unreviewed(topology_dev, templates)] == [f"{stack}/InjectedPolicy#0"]


def test_the_tag_the_scaling_grants_require_is_on_each_group(topology: Topology) -> None:
    # GIVEN each region's application ASG and the controller's scaling statements for it
    scaling = [
        statement
        for template in topology.all_templates.values()
        for _, document in policy_documents(template)
        for statement in as_list(document["Statement"])
        if "autoscaling:SetDesiredCapacity" in as_list(statement["Action"])
    ]
    for role in ("primary", "standby"):
        template = topology.template_json("regional", role)
        (group,) = resources_of(template, "AWS::AutoScaling::AutoScalingGroup").values()
        name = group["Properties"]["AutoScalingGroupName"]
        tags = {tag["Key"]: tag["Value"] for tag in group["Properties"]["Tags"]}
        # THEN the group carries the tag the grants' condition names, with the value they ask for
        assert tags[APP_TIER_TAG] == name
        wanted = {f"autoscaling:ResourceTag/{APP_TIER_TAG}": name}
        naming_it = [statement for statement in scaling if name in statement["Resource"]]
        assert naming_it
        assert all(statement["Condition"]["StringEquals"] == wanted for statement in naming_it)


def test_report_wildcard_mutation_counts(topology: Topology, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the environment's wildcard mutations  THEN every one is counted once by statement
    # (the measure), and the ones with no condition at all are a subset
    mutations = wildcard_mutations(topology.all_templates)
    statements = {mutation.where for mutation in mutations}
    bare = {mutation.where for mutation in mutations if not mutation.conditioned}
    with capsys.disabled():
        print(
            f"\n{topology.config.name}: {len(statements)} Allow statements grant a mutating action on a wildcard "
            f"resource, {len(bare)} of them without any condition"
        )
    assert bare <= statements
    assert statements
