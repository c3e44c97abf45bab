#!/usr/bin/env python3
"""Asks IAM's policy simulator whether the launcher's identity in one target
account may do everything a Muster drill and recovery need (see README.md,
"Checking the permissions"). Uses the AWS SDK's default credential chain — run
it with the launcher's credentials — and optionally assumes the target role
first, as the launcher does (session name muster-launcher, external id).

Exit status: 0 all allowed, 1 something denied, 2 could not check."""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MANAGED = "AWSElasticDisasterRecoveryLaunchActionsPolicy"
TAG = "AWSElasticDisasterRecoveryManaged"


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def checks(partition, region, account):
    """(action, resource ARN, context entries, why) for every action Muster's drills and recoveries need."""
    arn = lambda service, resource, acct=account: f"arn:{partition}:{service}:{region}:{acct}:{resource}"
    server, job = arn("drs", "source-server/s-0123456789abcdef0"), arn("drs", "job/drsjob-0123456789abcdef0")
    recovery = arn("drs", "recovery-instance/i-0123456789abcdef0")
    instance, volume = arn("ec2", "instance/i-0123456789abcdef0"), arn("ec2", "volume/vol-0123456789abcdef0")
    snapshot, template = arn("ec2", "snapshot/snap-0123456789abcdef0", ""), arn("ec2", "launch-template/lt-0123456789abcdef0")

    def ctx(key, values, kind="string"):
        return {"ContextKeyName": key, "ContextKeyValues": values, "ContextKeyType": kind}

    managed_request = [ctx(f"aws:RequestTag/{TAG}", ["true"])]
    managed_resource = [ctx(f"aws:ResourceTag/{TAG}", ["true"])]
    rows = [
        ("drs:DescribeJobs", "*", [], "poll jobs"),
        ("drs:DescribeSourceServers", "*", [], "inventory"),
        ("drs:DescribeRecoveryInstances", "*", [], "recovery-instance look-ups"),
        ("drs:DescribeJobLogItems", job, [], "job logs"),
        ("drs:DescribeRecoverySnapshots", server, [], "recovery points (latest / before T / explicit)"),
        ("ec2:DescribeSubnets", "*", [], "launch profiles: subnet check"),
        ("ec2:DescribeSecurityGroups", "*", [], "launch profiles: security-group check"),
        ("ec2:CreateLaunchTemplateVersion", template, [], "launch profiles: the drill/recovery template version"),
        ("ec2:ModifyLaunchTemplate", template, [], "launch profiles: default version set, then restored"),
        ("ssm:StartAutomationExecution", arn("ssm", "automation-definition/Muster-Prepare:$DEFAULT"), [],
         "SSM Automation wave-hook step (issue 16)"),
        ("ssm:DescribeDocument", arn("ssm", "document/Muster-Prepare"), [],
         "readiness: an SSM wave-hook step's document exists (issue 16)"),
        ("ssm:GetAutomationExecution", arn("ssm", "automation-execution/0123abcd-0123-4567-89ab-0123456789ab"), [],
         "SSM wave-hook step: poll until terminal"),
        ("ssm:StopAutomationExecution", arn("ssm", "automation-execution/0123abcd-0123-4567-89ab-0123456789ab"), [],
         "SSM wave-hook step: stop at the step's timeout"),
        ("drs:GetLaunchConfiguration", server, [], "launch configuration check"),
        ("drs:UpdateLaunchConfiguration", server, [], "launch overrides / repair"),
        ("drs:StartRecovery", server, [], "launch drills and recoveries"),
        ("drs:TagResource", job, [ctx("drs:CreateAction", ["StartRecovery"]),
                                   ctx("aws:TagKeys", ["muster:executionId", "muster:launchGroup"], "stringList")],
         "muster:* tags on each job"),
        ("drs:TerminateRecoveryInstances", recovery, [], "drill clean-up"),
        ("drs:CreateRecoveryInstanceForDrs", server, [], "dependent of StartRecovery"),
        ("drs:TagResource", recovery, [ctx("drs:CreateAction", ["CreateRecoveryInstanceForDrs"])], "dependent"),
        ("drs:ListTagsForResource", "*", [], "dependent"),
        ("ec2:DescribeInstances", "*", [], "dependent"),
        ("ec2:DescribeLaunchTemplateVersions", "*", [], "dependent"),
        ("ec2:DescribeSnapshots", "*", [], "dependent"),
        ("ec2:RunInstances", instance, managed_request, "dependent: the recovery instance"),
        ("ec2:RunInstances", arn("ec2", "subnet/subnet-0123456789abcdef0"), [], "dependent: its subnet"),
        ("ec2:CreateVolume", volume, managed_request, "dependent: conversion volumes"),
        ("ec2:CreateSnapshot", snapshot, managed_request, "dependent: point-in-time snapshots"),
        ("ec2:CreateLaunchTemplate", template, managed_request, "dependent"),
        ("ec2:CreateTags", instance, [ctx("ec2:CreateAction", ["RunInstances"])], "dependent: tag on create"),
        ("ec2:TerminateInstances", instance, managed_resource, "dependent of TerminateRecoveryInstances"),
        ("ec2:DeleteVolume", volume, managed_resource, "dependent"),
        ("iam:PassRole", f"arn:{partition}:iam::{account}:role/service-role/AWSElasticDisasterRecoveryRecoveryInstanceRole",
         [ctx("iam:PassedToService", ["ec2.amazonaws.com"])], "dependent: recovery instance profile"),
        # Post-launch automation runs with the launcher's credentials (DRS User Guide).
        ("ssm:StartAutomationExecution", arn("ssm", "automation-definition/AWS-ConfigureCloudWatchOnEC2Instance:$DEFAULT"),
         [], "post-launch automation (" + MANAGED + ")"),
        ("ssm:SendCommand", arn("ssm", "document/AWS-RunShellScript", ""), [], "post-launch command (" + MANAGED + ")"),
        ("ssm:DescribeInstanceInformation", "*", [], "post-launch (" + MANAGED + ")"),
    ]
    return rows


def policy_actions():
    with open(os.path.join(HERE, "launcher-policy.json")) as handle:
        policy = json.load(handle)
    return {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True)
    parser.add_argument("--role-arn", help="the target-account role the launcher assumes (omit to check the caller itself)")
    parser.add_argument("--external-id")
    parser.add_argument("--account", help="target account id (default: from the role ARN or the caller)")
    parser.add_argument("--dry-run", action="store_true", help="list the checks; call nothing")
    args = parser.parse_args(argv)
    partition = partition_of(args.region)
    account = args.account or (args.role_arn.split(":")[4] if args.role_arn else "111122223333")
    rows = checks(partition, args.region, account)
    if args.dry_run:
        for action, resource, context, why in rows:
            print(f"{action:40} {resource:90} {why}")
        return 0
    try:
        import boto3
    except ImportError:
        print("boto3 is needed: pip install boto3", file=sys.stderr)
        return 2
    session = boto3.Session(region_name=args.region)
    if args.role_arn:
        assume = {"RoleArn": args.role_arn, "RoleSessionName": "muster-launcher"}
        if args.external_id:
            assume["ExternalId"] = args.external_id
        creds = session.client("sts").assume_role(**assume)["Credentials"]
        session = boto3.Session(region_name=args.region, aws_access_key_id=creds["AccessKeyId"],
                                aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    caller = session.client("sts").get_caller_identity()["Arn"]
    # The simulator takes the role, not the assumed-role session.
    principal = caller
    if ":assumed-role/" in caller:
        prefix, rest = caller.split(":assumed-role/", 1)
        principal = prefix.replace(":sts:", ":iam:") + ":role/" + rest.split("/")[0]
    iam = session.client("iam")
    denied = 0
    for action, resource, context, why in rows:
        try:
            result = iam.simulate_principal_policy(PolicySourceArn=principal, ActionNames=[action],
                                                   ResourceArns=[resource], ContextEntries=context)
        except Exception as error:  # noqa: BLE001 — report and stop: nothing else can be checked
            print(f"cannot simulate {action} for {principal}: {error}", file=sys.stderr)
            return 2
        evaluation = result["EvaluationResults"][0]
        decision = evaluation["EvalDecision"]
        statements = ", ".join(s.get("SourcePolicyId", "?") for s in evaluation.get("MatchedStatements", []))
        print(f"{decision:14} {action:36} {why} {('[' + statements + ']') if statements else ''}")
        denied += decision != "allowed"
    print(f"{len(rows) - denied}/{len(rows)} allowed for {principal}")
    return 1 if denied else 0


if __name__ == "__main__":
    sys.exit(main())
