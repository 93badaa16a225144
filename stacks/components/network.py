"""The region's VPC: public subnets for the load balancer, private ones for the
application, isolated ones for the database, and flow logs for every packet decision."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from switchyard.config import Network as NetworkConfig


class Network(Construct):
    """A VPC with one NAT gateway per AZ, so an AZ failure does not cut the others' egress."""

    def __init__(
        self, scope: Construct, construct_id: str, *, cidr: str, network: NetworkConfig, flow_logs: s3.IBucket
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=network.max_azs,
            nat_gateways=network.max_azs,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_s3(flow_logs, "vpc-flow-logs/"),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
