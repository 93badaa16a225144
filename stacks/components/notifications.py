"""The region's notification topic: operators hear about alarms, scaling and runbook runs."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

# AWS services that publish into the topic and therefore need its KMS key.
PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


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
        for service in PUBLISHING_SERVICES:
            key.grant(iam.ServicePrincipal(service), "kms:Decrypt", "kms:GenerateDataKey*")
        # EC2 Auto Scaling publishes scaling notifications through its service-linked role.
        key.grant(
            iam.ArnPrincipal(
                f"arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
            ),
            "kms:Decrypt",
            "kms:GenerateDataKey*",
        )
