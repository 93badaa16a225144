"""GIVEN a failing AWS call WHEN it goes through the retry policy THEN throttling, 5xx and
connection errors are retried with capped, jittered backoff, and nothing else is."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from switchyard.config import EnvironmentConfig
from switchyard.contract import MONITOR, Names
from switchyard.iam_request import describe_request, iam_action
from switchyard.retry import CRITICAL_PATH_TIMEOUTS, ApiCallLog, ClientFactory, RetryPolicy, is_retryable


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    "error",
    [
        client_error("Throttling"),
        client_error("ThrottlingException"),
        client_error("RequestLimitExceeded"),
        client_error("ProvisionedThroughputExceededException"),
        client_error("SomethingNew", status=503),
        EndpointConnectionError(endpoint_url="https://rds.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://rds.us-east-1.amazonaws.com"),
    ],
)
def test_transient_errors_are_retryable(error: Exception) -> None:
    assert is_retryable(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ValidationException"),
        client_error("InvalidParameterValue"),
        client_error("ConditionalCheckFailedException"),
        client_error("AccessDenied", status=403),
        ValueError("a bug"),
    ],
)
def test_validation_and_client_errors_are_not_retryable(error: Exception) -> None:
    assert not is_retryable(error)


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    # GIVEN a policy whose jitter draws the maximum
    policy = RetryPolicy(base_delay_seconds=0.5, max_delay_seconds=3.0, random=lambda: 1.0)

    # WHEN asked for successive backoffs THEN they double up to the cap
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    # AND full jitter can draw anything down to zero
    assert RetryPolicy(random=lambda: 0.0).backoff(3) == 0.0


def test_gives_up_after_max_attempts_and_raises_the_last_error() -> None:
    # GIVEN an operation that is always throttled
    sleeps: list[float] = []
    attempts: list[int] = []
    policy = RetryPolicy(max_attempts=3, sleep=sleeps.append, random=lambda: 1.0)

    def throttled() -> None:
        attempts.append(1)
        raise client_error("Throttling")

    # WHEN called THEN it tried three times, slept twice, and raised the throttle
    with pytest.raises(ClientError, match="Throttling"):
        policy.call(throttled)
    assert (len(attempts), sleeps) == (3, [0.2, 0.4])


def test_a_validation_error_is_raised_at_once() -> None:
    # GIVEN an operation that fails validation
    attempts: list[int] = []

    def invalid() -> None:
        attempts.append(1)
        raise client_error("ValidationException")

    # WHEN called THEN one attempt, no sleep
    with pytest.raises(ClientError):
        RetryPolicy(sleep=lambda _: pytest.fail("must not sleep")).call(invalid)
    assert len(attempts) == 1


def test_botocore_does_not_retry_on_its_own() -> None:
    # GIVEN the client configuration WHEN inspected THEN botocore makes one attempt, with timeouts
    config = CRITICAL_PATH_TIMEOUTS.botocore_config()
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert (config.connect_timeout, config.read_timeout) == (2.0, 5.0)


# -- the call log: what a policy check needs ---------------------------------------------
def test_the_log_records_the_calling_function_its_region_and_what_iam_authorizes(dev_config: EnvironmentConfig) -> None:
    # GIVEN the monitor deployed in the standby region, with a call log
    names = Names(dev_config)
    standby, primary = dev_config.regions.standby, dev_config.regions.primary
    log = ApiCallLog()
    clients = ClientFactory(
        call_log=log, session=boto3.session.Session(), caller_region=standby, account=dev_config.account
    )

    # WHEN it writes an item into the other region's replica (moto: the table does not exist)
    with mock_aws(), log.step(MONITOR), pytest.raises(ClientError):
        clients.client("dynamodb", primary).put_item(
            TableName=names.state_table, Item={"pk": {"S": names.monitor_key(primary)}, "n": {"N": "1"}}
        )

    # THEN the call names the function, where it runs, the action, the replica's ARN and the key
    (call,) = log.snapshot()
    assert (call.step, call.caller_region, call.region) == (MONITOR, standby, primary)
    assert call.action == "dynamodb:PutItem"
    assert call.resources == (names.state_table_arn(primary),)
    assert call.keys == (names.monitor_key(primary),)


def test_calls_outside_any_function_are_recorded_unlabelled() -> None:
    log = ApiCallLog()
    clients = ClientFactory(call_log=log, session=boto3.session.Session(), caller_region="us-west-2")
    with mock_aws(), pytest.raises(ClientError):
        clients.client("sns", "us-west-2").publish(TopicArn="arn:aws:sns:us-west-2:1:missing", Message="m")
    assert [(call.step, call.resources) for call in log.snapshot()] == [(None, ("arn:aws:sns:us-west-2:1:missing",))]


def test_recording_survives_a_request_it_cannot_describe() -> None:
    # GIVEN a malformed parameter shape WHEN recorded THEN the call is logged without IAM facts, nothing raises
    log = ApiCallLog()
    log.record("dynamodb", "PutItem", "us-west-2", params={"TableName": "t", "Item": ["not", "a", "map"]})
    (call,) = log.snapshot()
    assert call.operation == "PutItem"
    assert call.iam is None


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("elbv2", "DescribeTargetHealth", "elasticloadbalancing:DescribeTargetHealth"),
        ("stepfunctions", "StartExecution", "states:StartExecution"),
        ("s3", "GetBucketReplication", "s3:GetReplicationConfiguration"),
        ("rds", "PromoteReadReplica", "rds:PromoteReadReplica"),
    ],
)
def test_iam_action_names_differ_from_boto3s_where_aws_says_so(service: str, operation: str, action: str) -> None:
    assert iam_action(service, operation) == action


def _resource(config: EnvironmentConfig, service: str, operation: str, region: str, **params: Any) -> tuple[str, ...]:
    return describe_request(service, operation, region, params, account=config.account).resources


def test_recorded_arns_have_the_shapes_of_the_contract(dev_config: EnvironmentConfig) -> None:
    # GIVEN the calls the controller makes, addressed by name WHEN described THEN each ARN is the contract's
    names, region = Names(dev_config), dev_config.regions.standby
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("dynamodb", "GetItem", {"TableName": names.state_table}, names.state_table_arn(region)),
        ("autoscaling", "SetDesiredCapacity", {"AutoScalingGroupName": names.asg(region)}, names.asg_arn(region)),
        (
            "rds",
            "PromoteReadReplica",
            {"DBInstanceIdentifier": names.db_instance(region)},
            names.db_instance_arn(region),
        ),
        ("rds", "DescribeDBClusters", {"DBClusterIdentifier": names.db_cluster(region)}, names.db_cluster_arn(region)),
        ("rds", "DescribeGlobalClusters", {"GlobalClusterIdentifier": names.global_cluster}, names.global_cluster_arn),
        ("sns", "Publish", {"TopicArn": names.topic_arn(region)}, names.topic_arn(region)),
        (
            "stepfunctions",
            "StartExecution",
            {"stateMachineArn": names.state_machine_arn(region)},
            names.state_machine_arn(region),
        ),
        (
            "cloudwatch",
            "DescribeAlarms",
            {"AlarmNames": [names.alarm(region, "alb-5xx")]},
            names.alarm_arn(region, "alb-5xx"),
        ),
        ("s3", "GetBucketVersioning", {"Bucket": names.bucket(region)}, names.bucket_arn(region)),
        ("route53", "ListResourceRecordSets", {"HostedZoneId": dev_config.dns.hosted_zone_id}, names.hosted_zone_arn),
    ]
    for service, operation, params, arn in cases:
        assert _resource(dev_config, service, operation, region, **params) == (arn,), operation


@pytest.mark.parametrize(
    ("service", "operation"),
    [("autoscaling", "DescribeAutoScalingGroups"), ("elbv2", "DescribeTargetHealth"), ("cloudwatch", "GetMetricData")],
)
def test_calls_aws_authorizes_only_on_any_resource_address_star(
    dev_config: EnvironmentConfig, service: str, operation: str
) -> None:
    assert _resource(dev_config, service, operation, "us-west-2", AutoScalingGroupNames=["x"]) == ("*",)


def test_a_route53_change_records_its_names_types_and_actions() -> None:
    batch = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "Orders.Example.com.", "Type": "A"}}]}
    request = describe_request(
        "route53",
        "ChangeResourceRecordSets",
        "us-east-1",
        {"HostedZoneId": "/hostedzone/Z1", "ChangeBatch": batch},
        account="1",
    )
    assert request.resources == ("arn:aws:route53:::hostedzone/Z1",)
    assert request.context["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == ("orders.example.com",)
    assert request.context["route53:ChangeResourceRecordSetsRecordTypes"] == ("A",)
    assert request.context["route53:ChangeResourceRecordSetsActions"] == ("UPSERT",)
