"""Conformance of drs-sim's EC2 subset (issue 13) with boto3's `ec2` client.

botocore serialises these requests from the official EC2 model (Query protocol, form body),
signs them for service `ec2` and parses the XML answers and `<Errors>` documents. drs-sim
dispatches on the SigV4 signing name, so the same endpoint serves DRS and EC2.
Uses the module-scoped `sim` fixture of test_drs_sim_boto3.py.
"""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_drs_sim_boto3 import ACCESS_KEY, REGION, SECRET_KEY, SERVERS, sim  # noqa: F401  (fixture)

PROD_SUBNET = "subnet-0a1b2c3d4e5f60001"
DRILL_SUBNET = "subnet-0d1e2f3a4b5c60002"
DRILL_SG = "sg-0d1e2f3a4b5c60002"


def template_id(server: str) -> str:
    return "lt-" + server[2:]


@pytest.fixture
def clients(sim):  # noqa: F811
    sim.admin("POST", "reset")
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    kwargs = dict(region_name=REGION, endpoint_url=sim.endpoint, aws_access_key_id=ACCESS_KEY,
                  aws_secret_access_key=SECRET_KEY, config=config)
    return boto3.client("ec2", **kwargs), boto3.client("drs", **kwargs)


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_each_server_has_a_launch_template_named_by_drs(clients):
    ec2, drs = clients
    configuration = drs.get_launch_configuration(sourceServerID=SERVERS[0])
    lt = configuration["ec2LaunchTemplateID"]
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=lt, Versions=["$Default"])["LaunchTemplateVersions"]
    assert len(versions) == 1
    assert versions[0]["VersionNumber"] == 1 and versions[0]["DefaultVersion"] is True
    interface = versions[0]["LaunchTemplateData"]["NetworkInterfaces"][0]
    assert interface["SubnetId"] == PROD_SUBNET


def test_new_version_default_and_launch_in_the_drill_subnet(clients):
    ec2, drs = clients
    lt = template_id(SERVERS[0])
    created = ec2.create_launch_template_version(
        LaunchTemplateId=lt, SourceVersion="1", ClientToken="tok-1", VersionDescription="drill",
        LaunchTemplateData={"InstanceType": "t3.small", "NetworkInterfaces": [
            {"DeviceIndex": 0, "SubnetId": DRILL_SUBNET, "Groups": [DRILL_SG], "PrivateIpAddress": "10.99.0.10"}]},
    )["LaunchTemplateVersion"]
    assert created["VersionNumber"] == 2 and created["DefaultVersion"] is False
    # The same client token answers the same version instead of creating a third.
    again = ec2.create_launch_template_version(
        LaunchTemplateId=lt, SourceVersion="1", ClientToken="tok-1",
        LaunchTemplateData={"InstanceType": "t3.small"})["LaunchTemplateVersion"]
    assert again["VersionNumber"] == 2
    modified = ec2.modify_launch_template(LaunchTemplateId=lt, DefaultVersion="2")["LaunchTemplate"]
    assert modified["DefaultVersionNumber"] == 2 and modified["LatestVersionNumber"] == 2
    default = ec2.describe_launch_template_versions(LaunchTemplateId=lt, Versions=["$Default"])["LaunchTemplateVersions"][0]
    assert default["LaunchTemplateData"]["InstanceType"] == "t3.small"
    assert default["LaunchTemplateData"]["NetworkInterfaces"][0]["PrivateIpAddress"] == "10.99.0.10"

    job = drs.start_recovery(sourceServers=[{"sourceServerID": SERVERS[0]}], isDrill=True)["job"]
    deadline = time.monotonic() + 20
    while True:
        instances = drs.describe_recovery_instances(filters={"sourceServerIDs": [SERVERS[0]]})["items"]
        if instances:
            break
        assert time.monotonic() < deadline, f"no recovery instance for job {job['jobID']}"
        time.sleep(0.2)
    interfaces = instances[0]["recoveryInstanceProperties"]["networkInterfaces"]
    assert interfaces[0]["ips"] == ["10.99.0.10"]

    # A second template asking for the same IP is refused while that instance lives.
    with pytest.raises(ClientError) as excinfo:
        ec2.create_launch_template_version(
            LaunchTemplateId=template_id(SERVERS[1]), SourceVersion="$Default",
            LaunchTemplateData={"NetworkInterfaces": [
                {"DeviceIndex": 0, "SubnetId": DRILL_SUBNET, "PrivateIpAddress": "10.99.0.10"}]})
    assert error_code(excinfo) == "InvalidIPAddress.InUse"


def test_errors(clients):
    ec2, _ = clients
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_launch_template_versions(LaunchTemplateId="lt-0ffffffffffffffff", Versions=["$Default"])
    assert error_code(excinfo) == "InvalidLaunchTemplateId.NotFound"
    with pytest.raises(ClientError) as excinfo:
        ec2.create_launch_template_version(
            LaunchTemplateId=template_id(SERVERS[0]), LaunchTemplateData={"NetworkInterfaces": [
                {"DeviceIndex": 0, "SubnetId": "subnet-00000000000000bad"}]})
    assert error_code(excinfo) == "InvalidSubnetID.NotFound"
    with pytest.raises(ClientError) as excinfo:
        ec2.create_launch_template_version(
            LaunchTemplateId=template_id(SERVERS[0]), LaunchTemplateData={"NetworkInterfaces": [
                {"DeviceIndex": 0, "SubnetId": DRILL_SUBNET, "PrivateIpAddress": "10.0.0.10"}]})
    assert error_code(excinfo) == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:
        ec2.modify_launch_template(LaunchTemplateId=template_id(SERVERS[0]), DefaultVersion="9")
    assert error_code(excinfo) == "InvalidLaunchTemplateId.VersionNotFound"


def test_subnets_and_security_groups(clients):
    ec2, _ = clients
    subnets = ec2.describe_subnets(SubnetIds=[DRILL_SUBNET])["Subnets"]
    assert subnets[0]["CidrBlock"] == "10.99.0.0/24" and subnets[0]["AvailabilityZone"] == REGION + "a"
    groups = ec2.describe_security_groups(GroupIds=[DRILL_SG])["SecurityGroups"]
    assert groups[0]["GroupName"] == "drill-isolated"
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_security_groups(GroupIds=["sg-00000000000000bad"])
    assert error_code(excinfo) == "InvalidGroup.NotFound"


def test_recovery_snapshots_and_start_recovery_from_one(clients):
    _, drs = clients
    snapshots = drs.describe_recovery_snapshots(sourceServerID=SERVERS[2], order="DESC")["items"]
    assert len(snapshots) >= 2
    times = [s["timestamp"] for s in snapshots]
    assert times == sorted(times, reverse=True)
    older = snapshots[-1]
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": SERVERS[2], "recoverySnapshotID": older["snapshotID"]}], isDrill=True)["job"]
    deadline = time.monotonic() + 20
    while True:
        instances = drs.describe_recovery_instances(filters={"sourceServerIDs": [SERVERS[2]]})["items"]
        if instances:
            break
        assert time.monotonic() < deadline, f"no recovery instance for job {job['jobID']}"
        time.sleep(0.2)
    assert instances[0]["pointInTimeSnapshotDateTime"][:19] == older["timestamp"][:19]
    with pytest.raises(ClientError) as excinfo:
        drs.start_recovery(sourceServers=[{"sourceServerID": SERVERS[3], "recoverySnapshotID": "pit-00000000000000000"}])
    assert error_code(excinfo) == "ValidationException"


def test_instance_type_offerings(clients):
    ec2, _ = clients
    offered = ec2.describe_instance_type_offerings(
        LocationType="region", Filters=[{"Name": "instance-type", "Values": ["m5.large", "x9.nonexistent"]}])
    assert [o["InstanceType"] for o in offered["InstanceTypeOfferings"]] == ["m5.large"]
    assert offered["InstanceTypeOfferings"][0]["LocationType"] == "region"
    assert offered["InstanceTypeOfferings"][0]["Location"] == REGION
    everything = ec2.describe_instance_type_offerings()["InstanceTypeOfferings"]
    assert len(everything) > 1 and all(o["Location"] == REGION for o in everything)

