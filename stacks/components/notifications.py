"""The region's notification topic: operators hear about alarms, scaling and runbook runs.

Who publishes, and so needs the topic's key: Switchyard's own roles (through SNS only,
``Grants.publish``), CloudWatch alarms (the service principal, pinned to this account's
alarms in this region) and EC2 Auto Scaling (its service-linked role, through SNS only).
No EventBridge rule targets the topic, so EventBridge is not let into the key.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.shared.encryption import allow_service
from stacks.shared.policy import acknowledge

# What a publisher to an encrypted topic needs on its key (SNS Developer Guide, "Enable
# compatibility between event sources from AWS services and encrypted topics",
# docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
PUBLISHER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


class NotificationTopic(Construct):
    """A KMS-encrypted, SSL-only SNS topic with the on-call e-mail subscribed."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic_name: str,
        key: kms.IKey,
        email: str,
        account: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, master_key=key, enforce_ssl=True)
        self.topic.add_subscription(subscriptions.EmailSubscription(email))
        acknowledge(
            self.topic,
            "Serverless-SNSRedrivePolicy",
            "The one subscription is an operator's email address; SNS retries email delivery itself and a "
            "dead-letter queue nobody reads would hide the failure. The alarms stay visible in CloudWatch.",
        )
        region = cdk.Stack.of(self).region
        # CloudWatch names the alarm that publishes: aws:SourceArn/aws:SourceAccount pin the
        # key to this account's alarms in this region (IAM User Guide, "The confused deputy
        # problem", docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
        allow_service(
            key,
            "cloudwatch.amazonaws.com",
            PUBLISHER_KEY_ACTIONS,
            conditions={
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:*"},
            },
        )
        # EC2 Auto Scaling publishes scaling notifications through its service-linked role, a
        # role of this account (not a service principal): limited to calls through SNS here.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[
                    iam.ArnPrincipal(
                        f"arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/"
                        "AWSServiceRoleForAutoScaling"
                    )
                ],
                actions=list(PUBLISHER_KEY_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}},
            )
        )
