"""RegionalDatabase for both engines: dev runs rds-postgres (primary + cross-region read
replica), prod runs aurora-postgres (global database, secondary cluster in the standby)."""

from __future__ import annotations

from typing import Any

from tests.stacks.topology import Topology, only_resource, resources_of


def _key_ids(template: dict[str, Any]) -> set[str]:
    return set(resources_of(template, "AWS::KMS::Key"))


def test_rds_primary_is_an_encrypted_postgres_instance_with_a_managed_secret(topology_dev: Topology) -> None:
    # GIVEN dev (rds-postgres)  WHEN reading the primary's regional stack
    template = topology_dev.template_json("regional", "primary")
    instance = only_resource(template, "AWS::RDS::DBInstance")
    # THEN the instance is named deterministically, encrypted with the stack's key, not public
    assert instance["DBInstanceIdentifier"] == topology_dev.names.db_instance(topology_dev.config.regions.primary)
    assert instance["Engine"] == "postgres"
    assert instance["StorageEncrypted"] is True
    assert instance["KmsKeyId"]["Fn::GetAtt"][0] in _key_ids(template)
    assert instance["PubliclyAccessible"] is False
    # AND its master password comes from Secrets Manager, never a literal
    assert "{{resolve:secretsmanager:" in str(instance["MasterUserPassword"])


def test_rds_master_secret_is_replicated_to_the_standby_region(topology_dev: Topology) -> None:
    # GIVEN the primary's generated master secret
    secret = only_resource(topology_dev.template_json("regional", "primary"), "AWS::SecretsManager::Secret")
    # THEN it has a replica in the standby region, readable there after a failover
    assert [replica["Region"] for replica in secret["ReplicaRegions"]] == [topology_dev.config.regions.standby]


def test_rds_standby_is_a_cross_region_replica_of_the_primarys_deterministic_arn(topology_dev: Topology) -> None:
    # GIVEN dev's standby regional stack
    config = topology_dev.config
    template = topology_dev.template_json("regional", "standby")
    replica = only_resource(template, "AWS::RDS::DBInstance")
    # THEN the replica names its source by ARN (no reference) and encrypts with a key of its own region
    primary = config.regions.primary
    expected_source = f"arn:aws:rds:{primary}:{config.account}:db:{topology_dev.names.db_instance(primary)}"
    assert replica["SourceDBInstanceIdentifier"] == expected_source
    assert replica["SourceRegion"] == primary
    assert replica["DBInstanceIdentifier"] == topology_dev.names.db_instance(config.regions.standby)
    assert replica["KmsKeyId"]["Fn::GetAtt"][0] in _key_ids(template)
    # AND it carries no credentials of its own (they come from the source)
    assert "MasterUsername" not in replica
    assert "MasterUserPassword" not in replica


def test_aurora_primary_cluster_is_the_source_of_the_global_cluster(topology_prod: Topology) -> None:
    # GIVEN prod (aurora-postgres)  WHEN reading the primary's regional stack
    template = topology_prod.template_json("regional", "primary")
    cluster_id, cluster = next(iter(resources_of(template, "AWS::RDS::DBCluster").items()))
    global_cluster = only_resource(template, "AWS::RDS::GlobalCluster")
    # THEN the global cluster is named deterministically and built from the encrypted primary cluster
    assert global_cluster["GlobalClusterIdentifier"] == topology_prod.names.global_cluster
    assert cluster_id in str(global_cluster["SourceDBClusterIdentifier"])
    properties = cluster["Properties"]
    assert properties["DBClusterIdentifier"] == topology_prod.names.db_cluster(topology_prod.config.regions.primary)
    assert properties["StorageEncrypted"] is True
    assert properties["KmsKeyId"]["Fn::GetAtt"][0] in _key_ids(template)


def test_aurora_standby_is_a_secondary_cluster_of_the_global_cluster_by_name(topology_prod: Topology) -> None:
    # GIVEN prod's standby regional stack
    config = topology_prod.config
    template = topology_prod.template_json("regional", "standby")
    cluster = only_resource(template, "AWS::RDS::DBCluster")
    # THEN it joins the global cluster by its deterministic identifier, encrypted with a local key
    assert cluster["GlobalClusterIdentifier"] == topology_prod.names.global_cluster
    assert cluster["DBClusterIdentifier"] == topology_prod.names.db_cluster(config.regions.standby)
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["StorageEncrypted"] is True
    assert cluster["KmsKeyId"]["Fn::GetAtt"][0] in _key_ids(template)
    assert "MasterUsername" not in cluster
    # AND the global cluster itself is not redefined there
    assert resources_of(template, "AWS::RDS::GlobalCluster") == {}


def test_aurora_standby_has_reader_instances_in_its_secondary_cluster(topology_prod: Topology) -> None:
    # GIVEN prod's standby (multi_az = true)
    template = topology_prod.template_json("regional", "standby")
    cluster_id = next(iter(resources_of(template, "AWS::RDS::DBCluster")))
    instances = resources_of(template, "AWS::RDS::DBInstance")
    # THEN two instances belong to the secondary cluster, so a promotion keeps a standby in-region
    assert len(instances) == 2
    assert {str(i["Properties"]["DBClusterIdentifier"]) for i in instances.values()} == {str({"Ref": cluster_id})}


def test_the_database_admits_security_groups_only_never_an_address_range(topology: Topology) -> None:
    for role in ("primary", "standby"):
        # GIVEN every ingress rule of the region's database security group
        template = topology.template_json("regional", role)
        database_groups = {
            logical_id
            for logical_id, group in resources_of(template, "AWS::EC2::SecurityGroup").items()
            if group["Properties"]["GroupDescription"].startswith("Database")
        }
        ingress = [
            rule["Properties"]
            for rule in resources_of(template, "AWS::EC2::SecurityGroupIngress").values()
            if rule["Properties"]["GroupId"]["Fn::GetAtt"][0] in database_groups
        ]
        # THEN each admits a security group (the instances, the rotation function), none a CIDR
        sources = {rule["SourceSecurityGroupId"]["Fn::GetAtt"][0] for rule in ingress}
        assert any(source.startswith("AppTierInstanceSecurityGroup") for source in sources), role
        assert all("CidrIp" not in rule for rule in ingress), role


def test_the_master_secret_rotates_in_the_primary_for_both_engines(topology: Topology) -> None:
    # GIVEN the primary's regional stack  THEN its master secret has a 30-day rotation schedule
    schedule = only_resource(topology.template_json("regional", "primary"), "AWS::SecretsManager::RotationSchedule")
    assert schedule["RotationRules"]["ScheduleExpression"] == "rate(30 days)"
    # AND the standby holds no secret of its own (it reads the primary's replicated secret)
    assert resources_of(topology.template_json("regional", "standby"), "AWS::SecretsManager::Secret") == {}
