"""Issue 13 end-to-end: protection-group profile overrides reach drs-sim's
EC2 launch templates and are restored after the drill; servers launched from
`latest` get a recovery point and RPO from the inventory's replication lag."""
import boto3
from conftest import REGION, finish, start, wait_for

DRILL_SUBNET = "subnet-0d1e2f3a4b5c60002"  # drs-sim's isolated drill subnet
DRILL_SG = "sg-0d1e2f3a4b5c60002"


def ec2_client(stack):
    return boto3.client("ec2", endpoint_url=stack["MUSTER_DRS_SIM"], region_name=REGION,
                        aws_access_key_id="AKIDMUSTERDEMO000001",
                        aws_secret_access_key="muster-demo-drs-sim-secret-not-a-real-key")


def test_group_profile_overrides_reach_drs_are_restored_and_latest_gets_an_rpo(team, servers, drs):
    api, ec2 = team["api"], ec2_client(team["stack"])
    grouped, plain = servers.take(2)
    group_a = api.post("/v1/protection-groups", {"name": "profiles-a", "region": REGION, "sourceServerIds": [grouped]},
                       expect=201)["id"]
    group_b = api.post("/v1/protection-groups", {"name": "profiles-b", "region": REGION, "sourceServerIds": [plain]},
                       expect=201)["id"]
    plan = api.post("/v1/plans", {
        "name": "group-profiles", "rpoTargetMinutes": 60,
        "launchProfiles": {
            "small": {"instanceType": "t3.small"},
            "isolated": {"subnetId": DRILL_SUBNET, "securityGroupIds": [DRILL_SG], "instanceType": "t3.micro"},
        },
        "drillProfile": "small",
        "protectionGroups": {group_a: {"drillProfile": "isolated"}},
        "waves": [{"name": "only", "protectionGroupIds": [group_a, group_b]}],
    }, expect=201)
    assert plan["protectionGroups"][group_a]["drillProfile"] == "isolated"
    templates = {s: drs.get_launch_configuration(sourceServerID=s)["ec2LaunchTemplateID"] for s in (grouped, plain)}

    def versions(server):
        return ec2.describe_launch_template_versions(LaunchTemplateId=templates[server])["LaunchTemplateVersions"]

    default_before = {s: [v["VersionNumber"] for v in versions(s) if v["DefaultVersion"]] for s in templates}
    known_before = {s: {v["VersionNumber"] for v in versions(s)} for s in templates}

    execution_id = start(api, plan["id"])
    execution = finish(api, execution_id)
    assert execution["status"] == "COMPLETED", execution

    # The version Muster made for each server carries its group's (or the plan's) profile.
    made = {s: [v for v in versions(s) if v["VersionNumber"] not in known_before[s]] for s in templates}
    assert len(made[grouped]) == 1 and len(made[plain]) == 1, made
    grouped_data = made[grouped][0]["LaunchTemplateData"]
    assert grouped_data["InstanceType"] == "t3.micro"
    assert grouped_data["NetworkInterfaces"][0]["SubnetId"] == DRILL_SUBNET
    assert grouped_data["NetworkInterfaces"][0]["Groups"] == [DRILL_SG]
    plain_data = made[plain][0]["LaunchTemplateData"]
    assert plain_data["InstanceType"] == "t3.small"
    assert all(i.get("SubnetId") != DRILL_SUBNET for i in plain_data.get("NetworkInterfaces", []))

    # After the drill the default versions are the ones before it.
    wait_for(lambda: all([v["VersionNumber"] for v in versions(s) if v["DefaultVersion"]] == default_before[s]
                         for s in templates), timeout=60, what="the launch templates' default versions restored")

    # Launched from `latest`: the recovery point and RPO come from the inventory's lag (drs-sim: 5–45 s).
    report = api.get(f"/v1/executions/{execution_id}/report")
    rows = {s["sourceServerId"]: s for w in report["waves"] for s in w["servers"]}
    for server in templates:
        assert rows[server]["recoveryPointBasis"] == "replication-lag", rows[server]
        assert 5 <= rows[server]["achievedRpoSeconds"] <= 45, rows[server]
        assert rows[server]["recoveryPointTime"], rows[server]
    assert report["rpoTargetMinutes"] == 60 and report["rpoMet"] is True
    assert report["worstAchievedRpoSeconds"] == max(rows[s]["achievedRpoSeconds"] for s in templates)
