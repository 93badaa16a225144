"""Switchyard: a multi-region failover controller for AWS.

This package holds everything that runs in Lambda, in the drill and in the tests:
configuration, naming, the decision logic, the runbook steps, the AWS adapters and
the thin handlers. It never imports the CDK.
"""

__version__ = "0.1.0"
