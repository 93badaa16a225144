"""ControllerFunctions: one Lambda function per controller handler, each with its own
role, encrypted log group and least-privilege policy."""

from __future__ import annotations

from types import MappingProxyType

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.controller.assets import (
    ARCHITECTURE,
    LAMBDA_ASSET_EXCLUDES,
    LAMBDA_SOURCE_DIR,
    RUNTIME,
    powertools_layer_arn,
)
from stacks.controller.logs import encrypted_log_group
from stacks.controller.permissions import CONTROLLER_PURPOSES, ControllerResources
from stacks.controller.policy import acknowledge, grant
from switchyard.config import EnvironmentConfig
from switchyard.contract import STEP_NAMES, Names, lambda_environment
from switchyard.deps import ReadinessPolling

READINESS_POLLING = ReadinessPolling()  # wait_ready's polling inside one invocation

# One critical-path AWS call with its bounded retries takes up to ~30 s when every attempt
# times out (switchyard.retry: 4 attempts x (2 s connect + 5 s read) + backoff). Each
# function gets room for its calls, and stays below its state machine task's
# TimeoutSeconds, so a slow step fails as a Lambda error the runbook can retry or catch
# rather than as a task timeout.
FUNCTION_TIMEOUTS = MappingProxyType(
    {
        "monitor": Duration.seconds(60),  # scheduled every minute; best-effort reads of the other region
        "reconciler": Duration.seconds(60),
        "validate": Duration.seconds(25),
        "lock": Duration.seconds(25),
        "preflight": Duration.seconds(100),
        "fence": Duration.seconds(100),  # best-effort calls into the failed region, each with short timeouts
        "promote": Duration.seconds(300),
        "scale_up": Duration.seconds(100),
        # one invocation's polling window plus its AWS calls; the state machine retries for longer
        "wait_ready": Duration.seconds(int(READINESS_POLLING.attempts * READINESS_POLLING.interval_seconds) + 60),
        "flip": Duration.seconds(50),
        "verify": Duration.seconds(100),
        "release": Duration.seconds(25),
        "record": Duration.seconds(50),
    }
)
MEMORY_MB = 256


def handler_path(purpose: str) -> str:
    """The import path Lambda calls for ``purpose`` (the same path the tests import)."""
    if purpose in STEP_NAMES:
        return f"switchyard.handlers.runbook.{purpose}"
    return f"switchyard.handlers.{purpose}.handler"


class ControllerFunctions(Construct):
    """The monitor, the reconciler and one function per runbook step in one region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        region: str,
        names: Names,
        key: kms.IKey,
        topic: sns.ITopic,
        table_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        resources = ControllerResources(
            config=config,
            region=region,
            names=names,
            table_name=table_name,
            topic_arn=topic.topic_arn,
            key_arn=key.key_arn,
        )
        code = lambda_.Code.from_asset(str(LAMBDA_SOURCE_DIR), exclude=list(LAMBDA_ASSET_EXCLUDES))
        powertools = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", powertools_layer_arn(region))
        environment = lambda_environment(config)
        self.by_purpose: dict[str, lambda_.Function] = {}
        for purpose in CONTROLLER_PURPOSES:
            construct_name = purpose.title().replace("_", "")
            function_name = names.function(region, purpose)
            role = iam.Role(
                self,
                f"{construct_name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Switchyard {purpose} in {region}: only what this handler calls",
            )
            log_group = encrypted_log_group(self, f"{construct_name}Logs", name=f"/aws/lambda/{function_name}", key=key)
            log_group.grant_write(role)
            grant(role, resources.for_purpose(purpose))
            function = lambda_.Function(
                self,
                construct_name,
                function_name=function_name,
                description=f"Switchyard {purpose} ({config.name}, {region})",
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=handler_path(purpose),
                code=code,
                layers=[powertools],
                timeout=FUNCTION_TIMEOUTS[purpose],
                memory_size=MEMORY_MB,
                environment=environment,
                tracing=lambda_.Tracing.ACTIVE,
                log_group=log_group,
                role=role,
            )
            acknowledge(
                function,
                "AwsSolutions-L1",
                f"{RUNTIME.name} is pinned: the AWS-managed Powertools v3 layer is built per runtime and the "
                "controller is tested on it; move runtime and layer together",
            )
            self.by_purpose[purpose] = function

    @property
    def monitor(self) -> lambda_.Function:
        return self.by_purpose["monitor"]

    @property
    def reconciler(self) -> lambda_.Function:
        return self.by_purpose["reconciler"]

    @property
    def steps(self) -> dict[str, lambda_.Function]:
        """The runbook step functions, by step name (the ASL substitution order)."""
        return {step: self.by_purpose[step] for step in STEP_NAMES}
