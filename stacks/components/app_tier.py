"""The application tier: an Auto Scaling group (launch template, IMDSv2, encrypted EBS)
behind an internet-facing Application Load Balancer that serves HTTPS.

The load balancer serves HTTPS on ``APP_HTTPS_PORT`` (with the
region's ACM certificate from ``dns.certificate_arns``) and redirects HTTP to it; Route 53's
check of the load balancer and the monitor's probe request that same endpoint."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.policy import acknowledge
from stacks.shared.scope import RegionScope
from switchyard.config import Capacity
from switchyard.contract import APP_HTTP_PORT, APP_HTTPS_PORT
from switchyard.model import Role

# Route 53's HTTPS checks need TLS 1.2 or older; this policy offers TLS 1.3 and 1.2 only.
SSL_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS

# Placeholder workload until the real application image exists: answers the health path.
PLACEHOLDER_USER_DATA = (
    "dnf install -y nginx",
    "echo ok > /usr/share/nginx/html/health",
    "systemctl enable --now nginx",
)


def min_capacity_for(role: Role, capacity: Capacity) -> int:
    """The primary runs at its desired size; the standby idles at its warm minimum."""
    return capacity.primary_desired if role == "primary" else capacity.standby_warm_min


class AppTier(Construct):
    """ASG + ALB of one region, sized by the region's deployed role.

    The template sets MinSize/MaxSize but no DesiredCapacity: CloudFormation starts the
    group at MinSize, and later deploys do not reset a size the controller has scaled
    up during a failover.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: RegionScope,
        vpc: ec2.IVpc,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        capacity = region.config.capacity
        lb_security_group = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=vpc, description="Public HTTPS entry point of the application"
        )
        lb_security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(APP_HTTPS_PORT), "clients and Route 53 health checkers (HTTPS)"
        )
        lb_security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(APP_HTTP_PORT), "plain HTTP, redirected to HTTPS"
        )
        acknowledge(
            lb_security_group,
            "AwsSolutions-EC23",
            "The load balancer is the application's public entry point; clients and Route 53 "
            "health checkers reach it from the internet.",
        )
        self.instance_security_group = ec2.SecurityGroup(
            self,
            "InstanceSecurityGroup",
            vpc=vpc,
            description="Application instances, reachable from the load balancer only",
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            security_group=lb_security_group,
            drop_invalid_header_fields=True,
        )
        self.load_balancer.log_access_logs(access_logs, prefix="alb")
        instance_type = ec2.InstanceType(capacity.instance_type)
        cpu_type = (
            ec2.AmazonLinuxCpuType.ARM_64
            if instance_type.architecture == ec2.InstanceArchitecture.ARM_64
            else ec2.AmazonLinuxCpuType.X86_64
        )
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(*PLACEHOLDER_USER_DATA)
        launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            instance_type=instance_type,
            machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=cpu_type),
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            detailed_monitoring=True,
            security_group=self.instance_security_group,
            user_data=user_data,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(30, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3),
                )
            ],
        )
        self.group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            launch_template=launch_template,
            auto_scaling_group_name=region.names.asg(region.region),
            min_capacity=min_capacity_for(region.role, capacity),
            max_capacity=capacity.max,
            health_checks=autoscaling.HealthChecks.with_additional_checks(
                additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
                grace_period=cdk.Duration.minutes(5),
            ),
            cooldown=cdk.Duration.minutes(5),
            notifications=[autoscaling.NotificationConfiguration(topic=region.topic)],
        )
        self.load_balancer.add_redirect(source_port=APP_HTTP_PORT, target_port=APP_HTTPS_PORT, open=False)
        listener = self.load_balancer.add_listener(
            "Https",
            port=APP_HTTPS_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(region.config.dns.certificate_arns[region.region])],
            ssl_policy=SSL_POLICY,
            open=False,
        )
        self.target_group = listener.add_targets(
            "App",
            port=region.config.workload.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.group],
            deregistration_delay=cdk.Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=region.config.workload.shallow_health_path,
                interval=cdk.Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
