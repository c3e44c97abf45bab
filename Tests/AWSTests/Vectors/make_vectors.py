#!/usr/bin/env python3
"""Signs a fixed set of requests with botocore's SigV4Auth (an independent
signer) and writes the results to sigv4.json, which the Swift tests compare
the project's SigV4Signer against byte for byte.

Run: /work/main/.local/venv/bin/python Tests/AWSTests/Vectors/make_vectors.py
(any python3 with botocore works). Re-run and check in sigv4.json whenever a
case is added. The keys below are AWS's documented example keys, not secrets.
"""
import base64
import datetime
import json
import pathlib
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQExampleToken+/="
FIXED_DATE = datetime.datetime(2024, 1, 15, 10, 30, 0)

JSON_BODY = b'{"sourceServers":[{"sourceServerID":"s-1234567890abcdef0"}],"isDrill":true}'
FORM_BODY = (
    b"Action=AssumeRole&Version=2011-06-15"
    b"&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmuster-drs"
    b"&RoleSessionName=muster-launcher&ExternalId=ext-42%2Fx&DurationSeconds=3600"
)

def ec2_form(operation, params):
    """The body botocore's own `ec2` serializer builds (Query protocol, EC2 flavour)."""
    import botocore.serialize
    import botocore.session
    model = botocore.session.get_session().get_service_model("ec2")
    request = botocore.serialize.create_serializer("ec2").serialize_to_request(params, model.operation_model(operation))
    return percent_encode_sequence(request["body"]).encode()


EC2_FORM_BODY = ec2_form("CreateLaunchTemplateVersion", {
    "ClientToken": "muster-7-42", "LaunchTemplateId": "lt-00000000000000001", "SourceVersion": "1",
    "VersionDescription": "muster drill ex-1",
    "LaunchTemplateData": {
        "InstanceType": "t3.small", "KeyName": "ops", "IamInstanceProfile": {"Arn": "arn:aws:iam::1:instance-profile/x"},
        "NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": "subnet-0d1e2f3a4b5c60002",
                               "PrivateIpAddress": "10.99.0.10", "Groups": ["sg-0d1e2f3a4b5c60002", "sg-2"]}],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "drill test"}]}],
    },
})

CASES = [
    dict(name="ec2-create-launch-template-version-form", method="POST",
         url="https://ec2.us-east-1.amazonaws.com/",
         headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body=EC2_FORM_BODY,
         service="ec2", region="us-east-1", token=TOKEN),
    dict(name="get-query-needing-encoding", method="GET",
         url="https://drs.us-east-1.amazonaws.com/ListThings",
         params=[("name", "a b/c"), ("Marker", "\u00fc\u20ac"), ("empty", ""), ("z", "~tilde*star+plus"),
                 ("dup", "2"), ("dup", "1"), ("a=b", "c&d")],
         headers=[], body=b"", service="drs", region="us-east-1", token=None),
    dict(name="post-json-no-token", method="POST",
         url="https://drs.us-east-1.amazonaws.com/StartRecovery",
         headers=[("Content-Type", "application/json")], body=JSON_BODY,
         service="drs", region="us-east-1", token=None),
    dict(name="post-json-with-token", method="POST",
         url="https://drs.eu-west-1.amazonaws.com/StartRecovery",
         headers=[("Content-Type", "application/json")], body=JSON_BODY,
         service="drs", region="eu-west-1", token=TOKEN),
    dict(name="post-empty-body", method="POST",
         url="https://drs.ap-southeast-2.amazonaws.com/DescribeJobs",
         headers=[("Content-Type", "application/json")], body=b"",
         service="drs", region="ap-southeast-2", token=TOKEN),
    dict(name="sts-assume-role-form", method="POST",
         url="https://sts.us-west-2.amazonaws.com/",
         headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body=FORM_BODY,
         service="sts", region="us-west-2", token=None),
    dict(name="unicode-path-encoded", method="GET",
         url="https://example.amazonaws.com/caf%C3%A9/na%C3%AFve%20file",
         headers=[], body=b"", service="service", region="us-east-1", token=None),
    dict(name="unicode-path-raw", method="GET",
         url="https://example.amazonaws.com/caf\u00e9/\u65e5\u672c",
         headers=[], body=b"", service="service", region="us-east-1", token=None),
    dict(name="dot-segments-and-double-slashes", method="GET",
         url="https://example.amazonaws.com/a/./b/../c//d/",
         headers=[], body=b"", service="service", region="us-east-1", token=None),
    dict(name="header-whitespace-duplicates-and-user-agent", method="POST",
         url="https://drs.us-east-1.amazonaws.com/DescribeSourceServers",
         headers=[("Content-Type", "application/json"), ("X-Custom", "  a   b\tc  "),
                  ("X-Dup", "first"), ("X-Dup", "second"), ("User-Agent", "muster/1.0")],
         body=b"{}", service="drs", region="us-east-1", token=None),
    dict(name="local-endpoint-with-port", method="POST",
         url="http://127.0.0.1:8080/DescribeJobs",
         headers=[("Content-Type", "application/json")], body=b'{"maxResults":10}',
         service="drs", region="us-east-1", token=TOKEN),
    dict(name="default-port-omitted-uppercase-host", method="POST",
         url="https://DRS.us-east-1.amazonaws.com:443/GetLaunchConfiguration",
         headers=[("Content-Type", "application/json")], body=b'{"sourceServerID":"s-1"}',
         service="drs", region="us-east-1", token=None),
    dict(name="content-sha256-header", method="POST",
         url="https://drs.us-east-1.amazonaws.com/TerminateRecoveryInstances",
         headers=[("Content-Type", "application/json")], body=b'{"recoveryInstanceIDs":["i-1"]}',
         service="drs", region="us-east-1", token=None, content_sha256=True),
]


def sign(case):
    headers = list(case["headers"])
    if case.get("content_sha256"):
        headers.append(("X-Amz-Content-SHA256", botocore.auth.sha256(case["body"]).hexdigest()))
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"],
                         params=case.get("params") or {})
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends, so duplicates survive
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, case["token"])
    signer = botocore.auth.SigV4Auth(credentials, case["service"], case["region"])
    captured = {}
    original = signer.canonical_request

    def capture(req):  # keep the canonical request botocore signed, for debugging
        captured["canonical"] = original(req)
        return captured["canonical"]

    signer.canonical_request = capture
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FIXED_DATE):
        signer.add_auth(request)
    canonical = captured["canonical"]
    wire_url = case["url"]
    if case.get("params"):
        wire_url += "?" + percent_encode_sequence(case["params"])
    return {
        "name": case["name"],
        "method": case["method"],
        "url": wire_url,
        "headers": [[n, v] for n, v in case["headers"]],
        "bodyBase64": base64.b64encode(case["body"]).decode(),
        "service": case["service"],
        "region": case["region"],
        "accessKeyID": ACCESS_KEY,
        "secretAccessKey": SECRET_KEY,
        "sessionToken": case["token"],
        "date": FIXED_DATE.strftime("%Y%m%dT%H%M%SZ"),
        "includeContentSHA256": bool(case.get("content_sha256")),
        "expectedAuthorization": request.headers["Authorization"],
        "expectedAmzDate": request.headers["X-Amz-Date"],
        "canonicalRequest": canonical,
        # Everything botocore's request carries once signed, plus the Host it
        # signed: what a server would receive (for the verifier tests).
        "sentHeaders": [[n, v] for n, v in request.headers.items()]
        + [["Host", botocore.auth._host_from_url(case["url"])]],
    }


def main():
    vectors = {"botocoreVersion": botocore.__version__, "cases": [sign(c) for c in CASES]}
    out = pathlib.Path(__file__).with_name("sigv4.json")
    out.write_text(json.dumps(vectors, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(vectors['cases'])} cases to {out}")


if __name__ == "__main__":
    main()
