"""GIVEN the state table in multi-Region strong consistency (MRSC) WHEN two regions modify
the same item at once and DynamoDB answers ReplicatedWriteConflictException THEN the
controller's retry policy retries it (the SDK marks it retry-safe), and a conditional
write still fails fast on its own condition."""

from __future__ import annotations

from botocore.exceptions import ClientError

from switchyard.retry import RetryPolicy, is_retryable

CONFLICT = "ReplicatedWriteConflictException"


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def test_replicated_write_conflict_is_retryable() -> None:
    assert is_retryable(client_error(CONFLICT))


def test_a_conflicting_write_is_retried_until_it_goes_through() -> None:
    # GIVEN a write that conflicts twice with another region's write, then succeeds
    answers: list[Exception | str] = [client_error(CONFLICT), client_error(CONFLICT), "written"]
    slept: list[float] = []

    def write() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    # WHEN it goes through the policy THEN it is retried with backoff and succeeds
    policy = RetryPolicy(max_attempts=4, base_delay_seconds=0.01, sleep=slept.append, random=lambda: 1.0)
    assert policy.call(write) == "written"
    assert slept == [0.01, 0.02]


def test_the_conditional_check_that_loses_the_lock_is_still_not_retried() -> None:
    # the lock's loser must learn it lost at once, not after retries
    assert not is_retryable(client_error("ConditionalCheckFailedException"))
