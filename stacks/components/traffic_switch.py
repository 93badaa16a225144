"""The region's traffic switch: a Lambda function URL that Route 53 health-checks.

It answers 200 only while the region's own replica of the desired state says this
region is active (docs/architecture.md, "Traffic switch"). Flipping traffic is then a
data-plane write in the target region; no Route 53 control-plane call is needed.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.components.function import SwitchyardFunction
from stacks.controller.arns import ControllerArns
from stacks.controller.policy import Permission, grant
from switchyard.config import EnvironmentConfig
from switchyard.contract import Names

HANDLER = "switchyard.handlers.traffic_switch.handler"
TIMEOUT = cdk.Duration.seconds(3)  # Route 53 waits 2 s for a response after connecting
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")


class TrafficSwitch(Construct):
    """The traffic-switch function, its public URL and read-only access to the local table."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, region: str, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = SwitchyardFunction(
            self,
            "Handler",
            config=config,
            region=region,
            purpose="traffic-switch",
            handler=HANDLER,
            key=key,
            timeout=TIMEOUT,
        )
        names = Names(config)
        local_table = ControllerArns(names).table(region, names.state_table)
        grant(self.handler.role, [Permission(actions=READ_ACTIONS, resources=(local_table,))])
        # Route 53 health checkers cannot sign requests, so the URL is public; it only reveals
        # whether this region is currently active.
        self.url = self.handler.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self.domain_name = cdk.Fn.select(2, cdk.Fn.split("/", self.url.url))
