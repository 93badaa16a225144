"""The region's traffic switch: a Lambda function URL that Route 53 health-checks.

It answers 200 only while the region's own replica of the desired state says this
region is active (docs/architecture.md, "Traffic switch"). Flipping traffic is then a
data-plane write in the target region; no Route 53 control-plane call is needed.

The URL is public (Route 53's checkers cannot sign requests), so the function has its own
reserved concurrency (``traffic_switch.reserved_concurrency``): a flood of the URL is throttled
at that many concurrent executions and can never use the account's unreserved concurrency the
runbook's functions share. Throttles raise ``traffic-switch-throttled``
(stacks/controller/alarms.py), which notifies and is never a health signal.
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
        # Only the switch is public, so only it reserves concurrency (SwitchyardFunction has no
        # such option). Lambda refuses a reservation that leaves the account fewer than 100
        # unreserved executions in the region (Lambda API Reference, PutFunctionConcurrency), and
        # a function URL's request rate is capped at 10 x the reservation (Lambda Developer Guide,
        # function URLs, throttling); a throttled request gets HTTP 429.
        function = self.handler.function.node.default_child
        assert isinstance(function, lambda_.CfnFunction)
        function.reserved_concurrent_executions = region.config.traffic_switch.reserved_concurrency
        # Route 53 health checkers cannot sign requests, so the URL is public; its answer says only
        # whether this region is active (the status code; the body adds nothing).
        self.url = self.handler.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self.domain_name = cdk.Fn.select(2, cdk.Fn.split("/", self.url.url))
