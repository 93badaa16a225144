"""GIVEN a failing AWS call WHEN it goes through the retry policy THEN throttling, 5xx and
connection errors are retried with capped, jittered backoff, and nothing else is."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from switchyard.retry import CRITICAL_PATH_TIMEOUTS, RetryPolicy, is_retryable


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
