"""A Switchyard Lambda function: the repo's ``lambdas/`` folder as a plain asset, Python
3.12, the AWS-managed Powertools layer, its own least-privilege role and encrypted logs."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.components.compliance import acknowledge
from stacks.components.encryption import encrypted_log_group
from switchyard.config import EnvironmentConfig
from switchyard.naming import Names

LAMBDA_ASSET_DIR = Path(__file__).resolve().parents[2] / "lambdas"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache"]
RUNTIME = lambda_.Runtime.PYTHON_3_12
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27


def powertools_layer_arn(region: str) -> str:
    """The AWS-managed Powertools for AWS Lambda (Python) v3 layer for Python 3.12 on x86_64."""
    return (
        f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-python312-x86_64:{POWERTOOLS_LAYER_VERSION}"
    )


def function_environment(config: EnvironmentConfig) -> dict[str, str]:
    """The two variables every Switchyard function gets (docs/architecture.md)."""
    return {"SWITCHYARD_CONFIG": config.model_dump_json(), "POWERTOOLS_SERVICE_NAME": "switchyard"}


class SwitchyardFunction(Construct):
    """One controller handler as a Lambda function named ``Names.function(region, purpose)``."""

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
        memory_size: int = 256,
    ) -> None:
        super().__init__(scope, construct_id)
        function_name = Names(config).function(region, purpose)
        log_group = encrypted_log_group(self, "Logs", key=key, log_group_name=f"/aws/lambda/{function_name}")
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {function_name}",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=RUNTIME,
            handler=handler,
            code=lambda_.Code.from_asset(str(LAMBDA_ASSET_DIR), exclude=ASSET_EXCLUDES),
            layers=[lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", powertools_layer_arn(region))],
            environment=function_environment(config),
            role=self.role,
            log_group=log_group,
            timeout=timeout,
            memory_size=memory_size,
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
            "Python 3.12 is the runtime the controller package and the managed Powertools layer "
            "it uses are built and tested for; upgrading is a deliberate, tested change.",
        )
