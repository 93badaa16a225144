"""SwitchyardFunction: the one way a Switchyard Lambda function is deployed.

Every handler (the monitor, the reconciler, each runbook step, the traffic switch) is a
function named ``Names.function(region, purpose)`` running ``handler_path(purpose)`` from
the one code asset, with the contract's environment, the managed Powertools layer, active
tracing, its own encrypted log group and its own role holding exactly the permissions it
is given (no managed policies). Its environment variables (the contract's configuration) are
encrypted with the region's customer-managed key rather than Lambda's AWS-managed key.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.shared.assets import ARCHITECTURE, RUNTIME, lambda_code, powertools_layer
from stacks.shared.logs import encrypted_log_group
from stacks.shared.policy import Permission, acknowledge, grant
from stacks.shared.scope import RegionScope
from switchyard.contract import handler_path, lambda_environment

MEMORY_MB = 256
# What every function may do besides its own permissions (Lambda adds the same for tracing).
TRACING = Permission(
    actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
    resources=("*",),
    wildcard_reason="X-Ray accepts trace segments only on '*' (active tracing; Lambda adds the same statement)",
)


def environment_key_use(key_arn: str, *, region: str) -> Permission:
    """What the execution role needs on the key of its environment variables: Lambda decrypts
    them at each cold start with the execution role's credentials, and an invocation fails with
    KMSAccessDeniedException ("Lambda couldn't decrypt the environment variables because KMS
    access was denied. Check the Lambda function's KMS permissions", Lambda API Reference,
    Invoke errors) when the role may not. Only through Lambda in this region."""
    return Permission(
        actions=("kms:Decrypt",),
        resources=(key_arn,),
        conditions={"StringEquals": {"kms:ViaService": f"lambda.{region}.amazonaws.com"}},
    )


class SwitchyardFunction(Construct):
    """One handler as a Lambda function with its role, permissions and log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        purpose: str,
        permissions: Iterable[Permission],
        timeout: cdk.Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.purpose = purpose
        names = region.names
        log_group = encrypted_log_group(
            self, "Logs", name=names.function_log_group(region.region, purpose), key=region.key
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Switchyard {purpose} in {region.region}: only what this handler calls",
        )
        log_group.grant_write(self.role)
        grant(self.role, (*permissions, TRACING, environment_key_use(region.key.key_arn, region=region.region)))
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=names.function(region.region, purpose),
            description=f"Switchyard {purpose} ({region.config.name}, {region.region})",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler_path(purpose),
            code=lambda_code(),
            layers=[powertools_layer(self, region.region)],
            environment=lambda_environment(region.config),
            environment_encryption=region.key,
            role=self.role,
            log_group=log_group,
            timeout=timeout,
            memory_size=MEMORY_MB,
            tracing=lambda_.Tracing.ACTIVE,
        )
        pinned = (
            f"{RUNTIME.name} is pinned: the AWS-managed Powertools v3 layer is built per runtime and the "
            "handlers are tested on it; move runtime and layer together."
        )
        acknowledge(self.function, "AwsSolutions-L1", pinned)
        acknowledge(self.function, "Serverless-LambdaLatestVersion", pinned)
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "No Switchyard invocation carries work a queue could replay: the runbook's steps are synchronous "
            "Step Functions tasks (the state machine retries and catches their errors), the traffic switch "
            "answers its URL synchronously, and the monitor and reconciler run on a schedule whose next run "
            "re-reads everything; a dropped run raises the heartbeat alarm instead.",
        )
