"""The application tier: an Auto Scaling group (launch template, IMDSv2, encrypted EBS)
behind an internet-facing Application Load Balancer that serves HTTPS.

The load balancer serves HTTPS on ``APP_HTTPS_PORT`` (with the
region's ACM certificate from ``dns.certificate_arns``) and redirects HTTP to it; Route 53's
check of the load balancer and the monitor's probe request that same endpoint (the
workload's deep health path).

What runs on the instances is the environment's ``[workload]`` (switchyard.config.Workload):
its image (an AMI id per region, or an SSM parameter the launch template resolves at each
launch, else the latest Amazon Linux 2023), its boot script (else the placeholder's, see
``stacks.components.placeholder_app``), its port and its shallow health path (the target
group's check). The launch template is named by ``Names.launch_template``: the controller's
image readiness check reads the ImageId it launches."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.components.database import RegionalDatabase
from stacks.components.placeholder_app import placeholder_commands, placeholder_database
from stacks.shared.policy import Permission, acknowledge, grant
from stacks.shared.scope import RegionScope
from switchyard.config import Capacity, Workload, user_data_script
from switchyard.contract import APP_HTTP_PORT, APP_HTTPS_PORT, APP_TIER_TAG
from switchyard.model import Role

# Route 53's HTTPS checks need TLS 1.2 or older; this policy offers TLS 1.3 and 1.2 only.
SSL_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS


def machine_image(workload: Workload, region: str, instance_type: ec2.InstanceType) -> ec2.IMachineImage:
    """The configured AMI of ``region``, the SSM parameter resolved by EC2 at each launch (no
    synth-time lookup: a new image id reaches the next launch without a deploy), or the
    latest Amazon Linux 2023 for the placeholder."""
    if workload.image_ids is not None:
        return ec2.MachineImage.generic_linux({region: workload.image_ids[region]})
    if workload.image_parameter is not None:
        return ec2.MachineImage.resolve_ssm_parameter_at_launch(
            workload.image_parameter, os=ec2.OperatingSystemType.LINUX
        )
    cpu_type = (
        ec2.AmazonLinuxCpuType.ARM_64
        if instance_type.architecture == ec2.InstanceArchitecture.ARM_64
        else ec2.AmazonLinuxCpuType.X86_64
    )
    return ec2.MachineImage.latest_amazon_linux2023(cpu_type=cpu_type)


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
        workload = region.config.workload
        self._region = region
        script = user_data_script(region.config)
        # The team's script verbatim; the placeholder's commands come with its dependencies
        # (serve_placeholder), which exist once the database and the traffic switch do.
        self.user_data = ec2.UserData.custom(script) if script is not None else ec2.UserData.for_linux()
        self.runs_placeholder = script is None
        self.instance_role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=region.describe("application instances"),
        )
        launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            launch_template_name=region.names.launch_template(region.region),
            instance_type=instance_type,
            machine_image=machine_image(workload, region.region, instance_type),
            role=self.instance_role,
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            detailed_monitoring=True,
            security_group=self.instance_security_group,
            user_data=self.user_data,
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
            group_metrics=[autoscaling.GroupMetrics.all()],  # the dashboard's capacity vs target
        )
        # the controller's scaling grants require this tag on the group (stacks.shared.grants)
        cdk.Tags.of(self.group).add(APP_TIER_TAG, region.names.asg(region.region), apply_to_launched_instances=False)
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

    def serve_placeholder(self, *, database: RegionalDatabase, switch_url: str) -> None:
        """Install the placeholder's health server (shallow and deep paths) at boot, unless the
        environment brings its own user data. The instances read the database's master secret
        in their region (GetSecretValue on exactly it; Decrypt through Secrets Manager) to ask
        the database whether it is read-only."""
        if not self.runs_placeholder:
            return
        endpoints, secret = placeholder_database(database, self._region.config, self._region.region)
        self.user_data.add_commands(
            *placeholder_commands(
                self._region.config.workload, region=self._region.region, database=endpoints, switch_url=switch_url
            )
        )
        if secret is not None:  # the primary's own secret, encrypted with this stack's key
            secret.grant_read(self.instance_role)
        elif endpoints.secret_id is not None:  # the standby's replica (the AWS-managed Secrets Manager key)
            names = self._region.names
            arn = f"arn:aws:secretsmanager:{self._region.region}:{names.account}:secret:{endpoints.secret_id}-??????"
            grant(
                self.instance_role,
                [
                    Permission(
                        actions=("secretsmanager:GetSecretValue",),
                        resources=(arn,),
                        wildcard_reason=(
                            f"names exactly the secret {endpoints.secret_id}; Secrets Manager appends 6 random "
                            "characters to a secret's ARN"
                        ),
                    )
                ],
            )
