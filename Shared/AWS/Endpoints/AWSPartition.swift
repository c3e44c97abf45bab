import Foundation

/// An AWS partition: the region pattern, DNS suffix and ARN prefix its
/// services share, as in botocore's `endpoints.json` (`partitions[]`:
/// `partition`, `regionRegex`, `dnsSuffix`, and the `fips` variant
/// `{service}-fips.{region}.{dnsSuffix}`).
public struct AWSPartition: Sendable, Equatable, CustomStringConvertible {
    /// `aws`, `aws-cn`, `aws-us-gov`, … (also the ARN's partition field).
    public var id: String
    /// `amazonaws.com`, `amazonaws.com.cn`, …
    public var dnsSuffix: String
    /// The region prefixes that select this partition (botocore's `regionRegex`, simplified
    /// to the prefix before `-<area>-<n>`).
    let regionPrefixes: [String]

    /// The standard partition (`^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`).
    public static let aws = AWSPartition(
        id: "aws", dnsSuffix: "amazonaws.com", regionPrefixes: ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"])
    /// China (`^cn-\w+-\d+$`).
    public static let awsCN = AWSPartition(id: "aws-cn", dnsSuffix: "amazonaws.com.cn", regionPrefixes: ["cn"])
    /// GovCloud (US) (`^us-gov-\w+-\d+$`).
    public static let awsUSGov = AWSPartition(id: "aws-us-gov", dnsSuffix: "amazonaws.com", regionPrefixes: ["us-gov"])
    /// US ISO East (`^us-iso-\w+-\d+$`).
    public static let awsISO = AWSPartition(id: "aws-iso", dnsSuffix: "c2s.ic.gov", regionPrefixes: ["us-iso"])
    /// US ISOB East (`^us-isob-\w+-\d+$`).
    public static let awsISOB = AWSPartition(id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", regionPrefixes: ["us-isob"])
    /// European Sovereign Cloud (`^eusc-(de)-\w+-\d+$`).
    public static let awsEUSC = AWSPartition(id: "aws-eusc", dnsSuffix: "amazonaws.eu", regionPrefixes: ["eusc-de"])

    /// Every partition, most specific region pattern first.
    public static let all: [AWSPartition] = [awsUSGov, awsISOB, awsISO, awsCN, awsEUSC, aws]

    /// The partition of `region`, as botocore resolves it: the one whose
    /// pattern matches, else the standard partition (botocore's default).
    public static func of(region: String) -> AWSPartition {
        let region = region.lowercased()
        for partition in all {
            for prefix in partition.regionPrefixes where matches(region, prefix: prefix) { return partition }
        }
        return .aws
    }

    /// `<prefix>-<word>-<digits>`.
    private static func matches(_ region: String, prefix: String) -> Bool {
        guard region.hasPrefix(prefix + "-") else { return false }
        let rest = region.dropFirst(prefix.count + 1).split(separator: "-", omittingEmptySubsequences: false)
        return rest.count == 2 && !rest[0].isEmpty && rest[0].allSatisfy { $0.isLetter || $0.isNumber }
            && !rest[1].isEmpty && rest[1].allSatisfy(\.isNumber)
    }

    /// The partition's id.
    public var description: String { id }
}

/// Regional service endpoints resolved from the region, as botocore does:
/// `https://{service}.{region}.{dnsSuffix}`, or with `fips`
/// `https://{service}-fips.{region}.{dnsSuffix}` — except where botocore's
/// `endpoints.json` names other hosts (IAM's global endpoint per partition;
/// STS, SSM and EC2 in GovCloud, whose regular endpoints are FIPS already).
public enum AWSEndpoints {
    /// The HTTPS endpoint of `service` (the endpoint prefix: `drs`, `sts`, `ec2`, `ssm`, `iam`) in `region`.
    public static func url(service: String, region: String, fips: Bool = false) -> String {
        "https://" + host(service: service, region: region, fips: fips)
    }

    /// The host name only.
    public static func host(service: String, region: String, fips: Bool = false) -> String {
        let partition = AWSPartition.of(region: region)
        switch (service, partition.id) {
        // IAM is global per partition (botocore's `aws-global`, `aws-cn-global`, `aws-us-gov-global`).
        case ("iam", "aws"): return fips ? "iam-fips.amazonaws.com" : "iam.amazonaws.com"
        case ("iam", "aws-cn"): return "iam.cn-north-1.amazonaws.com.cn"
        case ("iam", "aws-us-gov"): return "iam.us-gov.amazonaws.com"
        // GovCloud's regular endpoints of these services are FIPS endpoints already.
        case ("sts", "aws-us-gov"), ("ssm", "aws-us-gov"), ("ec2", "aws-us-gov"):
            return "\(service).\(region).\(partition.dnsSuffix)"
        default:
            return "\(service)\(fips ? "-fips" : "").\(region).\(partition.dnsSuffix)"
        }
    }

    /// Expands an endpoint template: `{region}`, `{dnsSuffix}` and `{partition}`.
    /// A template without placeholders is returned unchanged (a fixed endpoint, e.g. drs-sim).
    public static func expand(_ template: String, region: String) -> String {
        let partition = AWSPartition.of(region: region)
        return template.replacingOccurrences(of: "{region}", with: region)
            .replacingOccurrences(of: "{dnsSuffix}", with: partition.dnsSuffix)
            .replacingOccurrences(of: "{partition}", with: partition.id)
    }
}
