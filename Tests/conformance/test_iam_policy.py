"""The IAM documents in deploy/iam hold together: no undocumented condition
key, every action the policy grants is checked by check-permissions.py, the
README explains every statement and the post-launch managed policy."""
import importlib.util
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IAM = os.path.join(ROOT, "deploy", "iam")


def _check_module():
    spec = importlib.util.spec_from_file_location("check_permissions", os.path.join(IAM, "check-permissions.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _keys(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


def test_policies_use_only_documented_condition_keys():
    documented = {"drs:CreateAction", "aws:TagKeys", "aws:RequestTag/AWSElasticDisasterRecoveryManaged",
                  "aws:ResourceTag/AWSElasticDisasterRecoveryManaged", "ec2:CreateAction", "iam:PassedToService",
                  "sts:ExternalId", "sts:RoleSessionName"}
    readme = open(os.path.join(IAM, "README.md")).read()
    for name in ("launcher-policy.json", "launcher-base-policy.json", "target-account-trust-policy.json"):
        policy = json.load(open(os.path.join(IAM, name)))
        for statement in policy["Statement"]:
            for operator in statement.get("Condition", {}).values():
                for key in operator:
                    assert key in documented, f"{name} {statement.get('Sid')}: undocumented condition key {key}"
                    assert f"`{key.split('/')[0]}" in readme, f"README does not cite a source for {key}"
        assert "aws:CalledVia" not in json.dumps(policy)


def test_every_granted_action_is_simulated_and_every_statement_explained():
    module = _check_module()
    simulated = {row[0] for row in module.checks("aws", "us-east-1", "111122223333")}
    granted = module.policy_actions()
    drs = {a for a in granted if a.startswith("drs:")}
    assert drs <= simulated, f"not simulated: {sorted(drs - simulated)}"
    assert {"ssm:StartAutomationExecution", "ssm:SendCommand"} <= simulated, "post-launch automation"
    readme = open(os.path.join(IAM, "README.md")).read()
    for statement in json.load(open(os.path.join(IAM, "launcher-policy.json")))["Statement"]:
        assert f"`{statement['Sid']}`" in readme, statement["Sid"]
    assert "AWSElasticDisasterRecoveryLaunchActionsPolicy" in open(os.path.join(IAM, "managed-policies.txt")).read()
    assert module.main(["--region", "cn-north-1", "--role-arn", "arn:aws-cn:iam::111122223333:role/r", "--dry-run"]) == 0
    china = module.checks("aws-cn", "cn-north-1", "111122223333")
    assert all(r[1] == "*" or r[1].startswith("arn:aws-cn:") for r in china)
