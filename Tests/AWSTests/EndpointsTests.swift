import MusterAWS
import Testing

/// Partition-aware endpoints, checked against what botocore 1.44 resolves
/// (`boto3.client(svc, region_name=r, config=Config(use_fips_endpoint=f)).meta.endpoint_url`).
@Suite("Partition-aware endpoints (as botocore resolves them)")
struct EndpointsTests {
    static let botocore: [(service: String, region: String, fips: Bool, url: String)] = [
        ("drs", "us-east-1", false, "https://drs.us-east-1.amazonaws.com"),
        ("drs", "us-east-1", true, "https://drs-fips.us-east-1.amazonaws.com"),
        ("sts", "us-east-1", true, "https://sts-fips.us-east-1.amazonaws.com"),
        ("iam", "eu-west-1", false, "https://iam.amazonaws.com"),
        ("iam", "eu-west-1", true, "https://iam-fips.amazonaws.com"),
        ("ssm", "eu-west-1", true, "https://ssm-fips.eu-west-1.amazonaws.com"),
        ("drs", "cn-northwest-1", false, "https://drs.cn-northwest-1.amazonaws.com.cn"),
        ("sts", "cn-northwest-1", false, "https://sts.cn-northwest-1.amazonaws.com.cn"),
        ("iam", "cn-northwest-1", false, "https://iam.cn-north-1.amazonaws.com.cn"),
        ("ec2", "cn-northwest-1", false, "https://ec2.cn-northwest-1.amazonaws.com.cn"),
        ("drs", "us-gov-west-1", false, "https://drs.us-gov-west-1.amazonaws.com"),
        ("drs", "us-gov-west-1", true, "https://drs-fips.us-gov-west-1.amazonaws.com"),
        ("sts", "us-gov-west-1", true, "https://sts.us-gov-west-1.amazonaws.com"),
        ("ssm", "us-gov-west-1", true, "https://ssm.us-gov-west-1.amazonaws.com"),
        ("ec2", "us-gov-west-1", true, "https://ec2.us-gov-west-1.amazonaws.com"),
        ("iam", "us-gov-west-1", false, "https://iam.us-gov.amazonaws.com"),
        ("drs", "us-iso-east-1", false, "https://drs.us-iso-east-1.c2s.ic.gov"),
    ]

    @Test func endpointsMatchBotocore() {
        for row in Self.botocore {
            #expect(AWSEndpoints.url(service: row.service, region: row.region, fips: row.fips) == row.url,
                    "\(row.service) \(row.region) fips=\(row.fips)")
        }
    }

    @Test func partitionsFollowBotocoresRegionPatterns() {
        #expect(AWSPartition.of(region: "ap-southeast-7").id == "aws")
        #expect(AWSPartition.of(region: "il-central-1").id == "aws")
        #expect(AWSPartition.of(region: "cn-north-1") == .awsCN)
        #expect(AWSPartition.of(region: "us-gov-east-1") == .awsUSGov)
        #expect(AWSPartition.of(region: "us-isob-east-1").dnsSuffix == "sc2s.sgov.gov")
        #expect(AWSPartition.of(region: "eusc-de-east-1").dnsSuffix == "amazonaws.eu")
        #expect(AWSPartition.of(region: "us-gov-west").id == "aws", "not a region: botocore's default partition")
    }

    @Test func templatesExpandRegionSuffixAndPartition() {
        #expect(AWSEndpoints.expand("https://drs.{region}.{dnsSuffix}", region: "cn-north-1")
                == "https://drs.cn-north-1.amazonaws.com.cn")
        #expect(AWSEndpoints.expand("arn:{partition}:drs:{region}", region: "us-gov-west-1") == "arn:aws-us-gov:drs:us-gov-west-1")
        #expect(AWSEndpoints.expand("http://127.0.0.1:8089", region: "us-east-1") == "http://127.0.0.1:8089")
    }
}
