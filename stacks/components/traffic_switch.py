"""The region's traffic switch: a Lambda function URL that Route 53 health-checks.

It answers 200 only while the region's own replica of the desired state says this
region is active (docs/architecture.md, "Traffic switch"). Flipping traffic is then a
data-plane write in the target region; no Route 53 control-plane call is needed.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.shared.function import SwitchyardFunction
from stacks.shared.grants import Grants
from stacks.shared.scope import RegionScope
from switchyard.contract import TRAFFIC_SWITCH

TIMEOUT = cdk.Duration.seconds(3)  # Route 53 waits 2 s for a response after connecting


class TrafficSwitch(Construct):
    """The traffic-switch function, its public URL and read-only access to the local replica."""

    def __init__(self, scope: Construct, construct_id: str, *, region: RegionScope) -> None:
        super().__init__(scope, construct_id)
        self.handler = SwitchyardFunction(
            self,
            "Handler",
            region=region,
            purpose=TRAFFIC_SWITCH,
            permissions=(Grants(region).read_table(),),
            timeout=TIMEOUT,
        )
        # Route 53 health checkers cannot sign requests, so the URL is public; it only reveals
        # whether this region is currently active.
        self.url = self.handler.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self.domain_name = cdk.Fn.select(2, cdk.Fn.split("/", self.url.url))
