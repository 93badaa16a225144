"""RunbookStateMachine: the failover runbook (``runbook.asl.json`` beside this module) as a Step
Functions state machine whose role can call only what the definition calls.

The definition and every execution's history (which carries the approval's task token and
the operators' input) are encrypted with the region's customer-managed key, not the AWS-owned
key: only principals the key lets in can read them, and every use is in CloudTrail. Who needs
the key: the state machine's role (below), the monitor and the operators
(``Grants.use_runbook_key``), and vended-log delivery of the execution logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.controller.runbook_definition import RUNBOOK_DEFINITION
from stacks.shared.encryption import allow_vended_log_delivery, state_machine_key_use, vended_log_data_key
from stacks.shared.logs import encrypted_log_group
from stacks.shared.policy import Permission, grant, key_use
from stacks.shared.scope import RegionScope
from switchyard.contract import STEP_NAMES

# Used when the definition states no TimeoutSeconds of its own: covers the human approval
# pause of a data-losing failover; no execution holds the lock longer.
RUNBOOK_TIMEOUT = Duration.hours(2)
# How long Step Functions reuses a data key before asking KMS again (60-900 s; API Reference,
# EncryptionConfiguration.kmsDataKeyReusePeriodSeconds): the default 300 s.
DATA_KEY_REUSE = Duration.minutes(5)
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
LAMBDA_INTEGRATIONS = ("arn:aws:states:::lambda:invoke", "arn:aws:states:::lambda:invoke.waitForTaskToken")
SNS_INTEGRATIONS = ("arn:aws:states:::sns:publish", "arn:aws:states:::sns:publish.waitForTaskToken")
DYNAMODB_INTEGRATION = re.compile(r"^arn:aws:states:::(?:aws-sdk:)?dynamodb:(\w+)$")
# What Step Functions needs for logging and tracing (CDK adds the same); only on '*'.
LOG_DELIVERY = Permission(
    actions=(
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    ),
    resources=("*",),
    wildcard_reason="CloudWatch Logs vended log delivery APIs support no resource-level permissions",
)
TRACING = Permission(
    actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"),
    resources=("*",),
    wildcard_reason="X-Ray trace segments and sampling rules support no resource-level permissions",
)


def definition_substitution_keys() -> tuple[str, ...]:
    """Every ``${key}`` the runbook definition may use (docs/architecture.md)."""
    return (*(f"{step}_function_arn" for step in STEP_NAMES), "notification_topic_arn", "state_table_name")


def task_resources(states: Mapping[str, Any]) -> Iterator[str]:
    """The Resource of every Task state, including those inside Parallel and Map."""
    for state in states.values():
        if state.get("Type") == "Task":
            yield state["Resource"]
        for branch in state.get("Branches", []):
            yield from task_resources(branch["States"])
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from task_resources(state[key]["States"])


class RunbookStateMachine(Construct):
    """One region's runbook: STANDARD, logged at ALL to an encrypted log group, traced,
    bounded by a state-machine timeout (the definition's own, else ``timeout``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        step_functions: Mapping[str, lambda_.IFunction],
        definition_path: Path = RUNBOOK_DEFINITION,
        timeout: Duration = RUNBOOK_TIMEOUT,
    ) -> None:
        super().__init__(scope, construct_id)
        names, topic = region.names, region.topic
        missing = [step for step in STEP_NAMES if step not in step_functions]
        if missing:
            raise ValueError(f"runbook state machine: no function for steps {missing}")
        # Read here rather than DefinitionBody.from_file: CDK applies a state machine timeout
        # only to chainable definitions, and an inline definition needs no S3 asset.
        text = definition_path.read_text(encoding="utf-8")
        definition = json.loads(text)
        definition.setdefault("TimeoutSeconds", int(timeout.to_seconds()))
        substitutions = {
            **{f"{step}_function_arn": step_functions[step].function_arn for step in STEP_NAMES},
            "notification_topic_arn": topic.topic_arn,
            "state_table_name": names.state_table,
        }
        unknown = sorted(set(PLACEHOLDER.findall(text)) - set(substitutions))
        if unknown:
            raise ValueError(f"{definition_path.name}: unknown substitution keys {unknown}")

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=region.describe("the runbook invokes its step functions and publishes notifications"),
        )
        grant(
            self.role,
            self._permissions(
                definition,
                step_function_arns=tuple(step_functions[step].function_arn for step in STEP_NAMES),
                topic_arn=topic.topic_arn,
                key_arn=region.key.key_arn,
                table_arn=names.state_table_arn(region.region),
                region=region.region,
                account=region.config.account,
                state_machine_arn=names.state_machine_arn(region.region),
            ),
        )
        allow_vended_log_delivery(region.key, region=region.region)
        self.log_group = encrypted_log_group(
            self, "Logs", name=names.state_machine_log_group(region.region), key=region.key
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=names.state_machine(region.region),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(json.dumps(definition, indent=2)),
            definition_substitutions=substitutions,
            role=self.role,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
        )
        # Set on the resource rather than through ``encryption_configuration``: CDK would also add
        # a key policy statement for delivery.logs.amazonaws.com without any confused-deputy
        # condition; the same permissions are granted above, with conditions. The key ARN, not
        # the alias: the IAM conditions above and the key policy name the key itself.
        cfn = self.state_machine.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        cfn.encryption_configuration = sfn.CfnStateMachine.EncryptionConfigurationProperty(
            type="CUSTOMER_MANAGED_KMS_KEY",
            kms_key_id=region.key.key_arn,
            kms_data_key_reuse_period_seconds=int(DATA_KEY_REUSE.to_seconds()),
        )

    @staticmethod
    def _permissions(
        definition: Mapping[str, Any],
        *,
        step_function_arns: tuple[str, ...],
        topic_arn: str,
        key_arn: str,
        table_arn: str,
        region: str,
        account: str,
        state_machine_arn: str,
    ) -> list[Permission]:
        """What the definition's tasks call, and nothing else; an integration this
        construct cannot scope fails the synth."""
        permissions = [LOG_DELIVERY, TRACING]
        dynamodb_actions: set[str] = set()
        for resource in task_resources(definition["States"]):
            if resource in (*LAMBDA_INTEGRATIONS, *SNS_INTEGRATIONS) or PLACEHOLDER.fullmatch(resource):
                continue
            match = DYNAMODB_INTEGRATION.match(resource)
            if not match:
                raise ValueError(f"runbook definition: no least-privilege policy for task resource {resource!r}")
            operation = match.group(1)
            dynamodb_actions.add(f"dynamodb:{operation[0].upper()}{operation[1:]}")
        permissions.append(Permission(actions=("lambda:InvokeFunction",), resources=step_function_arns))
        permissions.append(Permission(actions=("sns:Publish",), resources=(topic_arn,)))
        services = ["sns", "dynamodb"] if dynamodb_actions else ["sns"]
        if dynamodb_actions:
            permissions.append(Permission(actions=tuple(sorted(dynamodb_actions)), resources=(table_arn,)))
        permissions.append(key_use(key_arn, region=region, services=services))
        # its own definition and execution data (the role Step Functions runs the execution as),
        # and the data key of the execution logs it hands to vended-log delivery
        permissions.append(state_machine_key_use(key_arn, state_machine_arn=state_machine_arn, via_region=None))
        permissions.append(vended_log_data_key(key_arn, region=region, account=account))
        return permissions

    @property
    def state_machine_arn(self) -> str:
        return self.state_machine.state_machine_arn
