"""A single Switchyard Lambda function outside the controller (the traffic switch):
same asset, runtime, layer, environment and log handling as the controller's functions."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.controller.assets import (
    ARCHITECTURE,
    LAMBDA_ASSET_EXCLUDES,
    LAMBDA_SOURCE_DIR,
    RUNTIME,
    powertools_layer_arn,
)
from stacks.controller.functions import MEMORY_MB
from stacks.controller.logs import encrypted_log_group
from stacks.controller.policy import acknowledge
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names, lambda_environment


class SwitchyardFunction(Construct):
    """One handler as a Lambda function named ``Names.function(region, purpose)``, with its
    own role (no managed policies) and a log group encrypted with ``key``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        region: str,
        purpose: str,
        handler: str,
        key: kms.IKey,
        timeout: cdk.Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        names = Names(config)
        function_name = names.function(region, purpose)
        log_group = encrypted_log_group(self, "Logs", name=f"/aws/lambda/{function_name}", key=key)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Switchyard {purpose} in {region}: only what this handler calls",
        )
        log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=f"Switchyard {purpose} ({config.name}, {region})",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(LAMBDA_SOURCE_DIR), exclude=list(LAMBDA_ASSET_EXCLUDES)),
            layers=[lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", powertools_layer_arn(region))],
            environment=lambda_environment(config),
            role=self.role,
            log_group=log_group,
            timeout=timeout,
            memory_size=MEMORY_MB,
            tracing=lambda_.Tracing.ACTIVE,
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"{RUNTIME.name} is pinned: the AWS-managed Powertools v3 layer is built per runtime and the "
            "handlers are tested on it; move runtime and layer together.",
        )
