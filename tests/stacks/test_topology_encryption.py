"""Customer-managed encryption across the synthesized topology: the runbook, the functions'
environment, the data buckets and their replication, and who may use which key for it."""

from __future__ import annotations

from typing import Any

from tests.stacks.topology import Topology, resources_of

ROLES = ("primary", "standby")
# The Step Functions calls that read or write a CMK-encrypted runbook's data (the definition,
# an execution's input, output, error and cause), modelled pessimistically: see
# stacks.shared.encryption.state_machine_key_use for what the API reference says of each.
KEY_USING_STATES_ACTIONS = {
    "states:StartExecution",
    "states:StopExecution",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "states:DescribeExecution",
    "states:DescribeStateMachine",
    "states:DescribeStateMachineForExecution",
    "states:GetExecutionHistory",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def key_id_aliased(template: dict[str, Any], alias: str) -> str:
    """The logical id of the key ``alias`` names in ``template``."""
    [key] = [
        resource["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
        for resource in resources_of(template, "AWS::KMS::Alias").values()
        if resource["Properties"]["AliasName"] == alias
    ]
    return key


def policy_documents(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The statements of each identity policy (a role's inline policy, a managed policy) by logical id."""
    return {
        logical_id: resource["Properties"]["PolicyDocument"]["Statement"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
    }


def grants_runbook_key(statements: list[dict[str, Any]], key_id: str, runbook_arn: str, *, via: str | None) -> bool:
    """Whether ``statements`` allow kms:Decrypt and kms:GenerateDataKey on the key for the
    runbook's encryption context (and through Step Functions in ``via``'s region, if given)."""
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        if not {"kms:Decrypt", "kms:GenerateDataKey"} <= actions:
            continue
        if statement.get("Resource") != {"Fn::GetAtt": [key_id, "Arn"]}:
            continue
        equals = statement.get("Condition", {}).get("StringEquals", {})
        if equals.get("kms:EncryptionContext:aws:states:stateMachineArn") != runbook_arn:
            continue
        if via is not None and equals.get("kms:ViaService") != f"states.{via}.amazonaws.com":
            continue
        return True
    return False


def test_the_runbook_is_encrypted_with_its_regions_controller_key(topology: Topology) -> None:
    for role in ROLES:
        # GIVEN the controller stack and its customer-managed key
        template = topology.template_json("controller", role)
        [key_id] = resources_of(template, "AWS::KMS::Key")
        [machine] = resources_of(template, "AWS::StepFunctions::StateMachine").values()
        # THEN the state machine's definition and history are encrypted with that key, not AWS's
        assert machine["Properties"]["EncryptionConfiguration"] == {
            "Type": "CUSTOMER_MANAGED_KMS_KEY",
            "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
            "KmsDataKeyReusePeriodSeconds": 300,
        }


def test_every_principal_calling_the_runbook_may_use_its_key_for_it_only(topology: Topology) -> None:
    for role in ROLES:
        # GIVEN every identity policy of the controller stack that calls the runbook with data
        template = topology.template_json("controller", role)
        region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
        [key_id] = resources_of(template, "AWS::KMS::Key")
        runbook = topology.names.state_machine_arn(region)
        executions = topology.names.state_machine_executions_arn(region)
        callers = {
            logical_id
            for logical_id, statements in policy_documents(template).items()
            for statement in statements
            if set(as_list(statement["Action"])) & KEY_USING_STATES_ACTIONS
            and set(as_list(statement["Resource"])) & {runbook, executions, "*"}
        }
        # THEN the monitor and the operators are among them
        assert any("Monitor" in caller for caller in callers), callers
        assert any("OperatorAccess" in caller for caller in callers), callers
        # AND each may use the key for this runbook only, through Step Functions in its region
        documents = policy_documents(template)
        missing = [c for c in sorted(callers) if not grants_runbook_key(documents[c], key_id, runbook, via=region)]
        assert missing == []


def test_the_runbooks_own_role_may_use_the_key_for_its_executions_and_logs(topology: Topology) -> None:
    for role in ROLES:
        # GIVEN the role the state machine runs as
        template = topology.template_json("controller", role)
        region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
        [key_id] = resources_of(template, "AWS::KMS::Key")
        [machine] = resources_of(template, "AWS::StepFunctions::StateMachine").values()
        role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        statements = [
            statement
            for resource in resources_of(template, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in resource["Properties"]["Roles"]
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        ]
        # THEN it may encrypt and decrypt its own execution data (the runbook's encryption context)
        runbook = topology.names.state_machine_arn(region)
        assert grants_runbook_key(statements, key_id, runbook, via=None)
        # AND ask for the data key of the execution logs vended-log delivery decrypts
        log_context = f"arn:aws:logs:{region}:{topology.config.account}:*"
        assert any(
            as_list(s["Action"]) == ["kms:GenerateDataKey"]
            and s["Condition"] == {"StringEquals": {"kms:EncryptionContext:SourceArn": log_context}}
            for s in statements
        )


def test_every_function_with_environment_variables_encrypts_them_with_its_stacks_key(topology: Topology) -> None:
    checked = 0
    for kind in ("controller", "regional"):
        for role in ROLES:
            # GIVEN each Lambda function of the stack that has environment variables
            template = topology.template_json(kind, role)
            region = topology.config.regions.primary if role == "primary" else topology.config.regions.standby
            [key_id] = resources_of(template, "AWS::KMS::Key")
            key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
            for function in resources_of(template, "AWS::Lambda::Function").values():
                properties = function["Properties"]
                if not properties.get("Environment", {}).get("Variables"):
                    continue
                checked += 1
                # THEN they are encrypted with the stack's customer-managed key (checkov CKV_AWS_173)
                assert properties["KmsKeyArn"] == key_arn, properties["FunctionName"]
                # AND the execution role may decrypt them, through Lambda in this region only
                role_id = properties["Role"]["Fn::GetAtt"][0]
                statements = [
                    s
                    for policy in resources_of(template, "AWS::IAM::Policy").values()
                    if {"Ref": role_id} in policy["Properties"]["Roles"]
                    for s in policy["Properties"]["PolicyDocument"]["Statement"]
                ]
                assert {
                    "Action": "kms:Decrypt",
                    "Effect": "Allow",
                    "Resource": key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"lambda.{region}.amazonaws.com"}},
                } in statements, properties["FunctionName"]
    # (the monitor, the reconciler, each step and the traffic switch, in both regions)
    assert checked >= 2 * 15


def replication_kms(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The replication role's KMS statements by their first action."""
    return {as_list(s["Action"])[0]: s for s in statements if any(a.startswith("kms:") for a in as_list(s["Action"]))}


def role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        s
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_both_replication_roles_decrypt_the_source_and_encrypt_the_destination_through_s3(
    topology: Topology,
) -> None:
    # GIVEN the primary's storage stack: the forward rule's role and the reverse rule's role
    config, names = topology.config, topology.names
    primary, standby = config.regions.primary, config.regions.standby
    template = topology.template_json("storage", "primary")
    data_key = {"Fn::GetAtt": [key_id_aliased(template, names.key_alias("data")), "Arn"]}
    standby_keys = f"arn:aws:kms:{standby}:{config.account}:key/*"
    [bucket] = [
        r
        for r in resources_of(template, "AWS::S3::Bucket").values()
        if r["Properties"].get("BucketName") == names.bucket(primary)
    ]
    forward_role = bucket["Properties"]["ReplicationConfiguration"]["Role"]["Fn::GetAtt"][0]
    [reverse_role] = [
        logical_id
        for logical_id, r in resources_of(template, "AWS::IAM::Role").items()
        if r["Properties"].get("RoleName") == names.replication_role(standby)
    ]

    def assert_key_use(statement: dict[str, Any], key: object, region: str) -> None:
        """``statement`` uses ``key`` only through S3 in ``region``, for that region's bucket's objects."""
        bucket_arn = names.bucket_arn(region)
        assert statement["Resource"] == key
        assert statement["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{region}.amazonaws.com"}
        assert statement["Condition"]["StringLike"] == {
            "kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]
        }

    for role_id, (source, source_key), (destination, destination_key) in (
        (forward_role, (primary, data_key), (standby, standby_keys)),
        (reverse_role, (standby, standby_keys), (primary, data_key)),
    ):
        kms_statements = replication_kms(role_statements(template, role_id))
        # THEN the role decrypts only with the source bucket's key, through S3 there, for its objects
        decrypt = kms_statements["kms:Decrypt"]
        assert_key_use(decrypt, source_key, source)
        # AND encrypts replicas only with the destination bucket's key, through S3 there
        encrypt = kms_statements["kms:Encrypt"]
        assert_key_use(encrypt, destination_key, destination)
        # AND the other region's key (a generated id) only by the data key's alias
        for statement in (decrypt, encrypt):
            if statement["Resource"] == standby_keys:
                aliases = statement["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
                assert aliases == [names.key_alias("data")]
        # AND no other KMS statement (CDK's unconditioned grants are not there)
        assert set(kms_statements) == {"kms:Decrypt", "kms:Encrypt"}


def test_the_forward_rule_re_encrypts_replicas_under_the_standbys_data_key(topology: Topology) -> None:
    # GIVEN the primary's data bucket
    config, names = topology.config, topology.names
    template = topology.template_json("storage", "primary")
    [bucket] = [
        r
        for r in resources_of(template, "AWS::S3::Bucket").values()
        if r["Properties"].get("BucketName") == names.bucket(config.regions.primary)
    ]
    [rule] = bucket["Properties"]["ReplicationConfiguration"]["Rules"]
    # THEN its rule replicates SSE-KMS objects, re-encrypted under the standby's key by alias ARN
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert rule["Destination"]["EncryptionConfiguration"] == {
        "ReplicaKmsKeyID": names.key_alias_arn(config.regions.standby, "data")
    }
