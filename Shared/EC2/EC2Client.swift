import Foundation
import Logging
import MusterAWS
import MusterHTTP

/// A client for the EC2 operations Muster uses to apply and restore launch
/// settings: Query protocol (`POST /` with a form body, XML answer), signed
/// with SigV4 (`service=ec2`) over the same layers as `DRSClient`. It does not
/// retry; callers decide with ``EC2Error/isRetryable``.
public final class EC2Client: Sendable {
    /// The region requests are signed for.
    public let region: String
    /// The base URL, e.g. `https://ec2.us-east-1.amazonaws.com` or drs-sim.
    public let endpoint: String
    private let credentials: any AWSCredentialsProvider
    private let httpClient: HTTPClient
    private let logger: Logger
    private let timeout: Duration
    private let signer: SigV4Signer

    /// - Parameters:
    ///   - region: e.g. `us-east-1`.
    ///   - endpoint: overrides `https://ec2.{region}.amazonaws.com` (drs-sim, VPC endpoints).
    ///   - credentials: signs every request; asked afresh per call.
    ///   - timeout: limit for one call.
    public init(
        region: String, endpoint: String? = nil, credentials: any AWSCredentialsProvider, httpClient: HTTPClient,
        logger: Logger, timeout: Duration = .seconds(30)
    ) {
        self.region = region
        var base = endpoint ?? "https://ec2.\(region).amazonaws.com"
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.credentials = credentials
        self.httpClient = httpClient
        self.logger = logger
        self.timeout = timeout
        self.signer = SigV4Signer(service: "ec2", region: region)
    }

    /// `CreateLaunchTemplateVersion` from `sourceVersion` with `settings` on top;
    /// `clientToken` makes a repeated request return the same version.
    public func createLaunchTemplateVersion(
        templateID: String, sourceVersion: String, settings: LaunchTemplateSettings, description: String?,
        clientToken: String
    ) async throws(EC2Error) -> LaunchTemplateVersion {
        var form = EC2QueryForm(action: "CreateLaunchTemplateVersion")
        form.add("ClientToken", clientToken)
        form.add("LaunchTemplateId", templateID)
        form.add("SourceVersion", sourceVersion)
        form.add("VersionDescription", description)
        settings.encode(into: &form)
        let xml = try await call(form)
        guard let node = xml.child("launchTemplateVersion"), let version = LaunchTemplateVersion(xml: node) else {
            throw .decoding(operation: "CreateLaunchTemplateVersion", reason: "no launchTemplateVersion")
        }
        return version
    }

    /// `ModifyLaunchTemplate`: makes `defaultVersion` the template's default.
    public func modifyLaunchTemplate(templateID: String, defaultVersion: Int64) async throws(EC2Error) -> LaunchTemplateSummary {
        var form = EC2QueryForm(action: "ModifyLaunchTemplate")
        form.add("LaunchTemplateId", templateID)
        form.add("SetDefaultVersion", String(defaultVersion))
        let xml = try await call(form)
        guard let node = xml.child("launchTemplate"), let id = node.string("launchTemplateId"),
              let defaultNumber = node.string("defaultVersionNumber").flatMap(Int64.init)
        else { throw .decoding(operation: "ModifyLaunchTemplate", reason: "no launchTemplate") }
        return LaunchTemplateSummary(
            launchTemplateID: id, defaultVersionNumber: defaultNumber,
            latestVersionNumber: node.string("latestVersionNumber").flatMap(Int64.init) ?? defaultNumber)
    }

    /// `DescribeLaunchTemplateVersions` of one template (`versions` such as `$Default`, `$Latest`, `3`).
    public func describeLaunchTemplateVersions(
        templateID: String, versions: [String]
    ) async throws(EC2Error) -> [LaunchTemplateVersion] {
        var form = EC2QueryForm(action: "DescribeLaunchTemplateVersions")
        form.add("LaunchTemplateId", templateID)
        form.add(list: "LaunchTemplateVersion", versions)
        return try await call(form).items("launchTemplateVersionSet").compactMap(LaunchTemplateVersion.init(xml:))
    }

    /// The template's default version.
    public func defaultVersion(templateID: String) async throws(EC2Error) -> LaunchTemplateVersion {
        guard let version = try await describeLaunchTemplateVersions(templateID: templateID, versions: ["$Default"]).first else {
            throw .decoding(operation: "DescribeLaunchTemplateVersions", reason: "no default version of \(templateID)")
        }
        return version
    }

    /// `DescribeSubnets` by id.
    public func describeSubnets(ids: [String]) async throws(EC2Error) -> [EC2Subnet] {
        var form = EC2QueryForm(action: "DescribeSubnets")
        form.add(list: "SubnetId", ids)
        return try await call(form).items("subnetSet").compactMap { item in
            guard let id = item.string("subnetId"), let cidr = item.string("cidrBlock") else { return nil }
            return EC2Subnet(subnetID: id, vpcID: item.string("vpcId"), cidrBlock: cidr,
                             availabilityZone: item.string("availabilityZone"))
        }
    }

    /// `DescribeInstanceTypeOfferings` in the client's region filtered by `types`: the types offered there
    /// (an unknown or unoffered type is left out; EC2 answers no error for it).
    public func describeInstanceTypeOfferings(types: [String]) async throws(EC2Error) -> [String] {
        var form = EC2QueryForm(action: "DescribeInstanceTypeOfferings")
        form.add("LocationType", "region")
        form.add("Filter.1.Name", "instance-type")
        form.add(list: "Filter.1.Value", types)
        return try await call(form).items("instanceTypeOfferingSet").compactMap { $0.string("instanceType") }
    }

    /// `DescribeSecurityGroups` by id.
    public func describeSecurityGroups(ids: [String]) async throws(EC2Error) -> [EC2SecurityGroup] {
        var form = EC2QueryForm(action: "DescribeSecurityGroups")
        form.add(list: "GroupId", ids)
        return try await call(form).items("securityGroupInfo").compactMap { item in
            item.string("groupId").map { EC2SecurityGroup(groupID: $0, groupName: item.string("groupName"), vpcID: item.string("vpcId")) }
        }
    }

    /// Signs and sends one form; the parsed answer, or ``EC2Error``.
    func call(_ form: EC2QueryForm) async throws(EC2Error) -> XMLNode {
        let action = form.value("Action") ?? "?"
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch {
            throw .credentials(error)
        }
        let request = signer.sign(
            HTTPRequest(method: "POST", url: endpoint + "/",
                        headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                                  HTTPHeader("User-Agent", "muster-ec2-client/1")],
                        body: Array(form.encoded.utf8), timeout: timeout),
            credentials: credentials, date: Date())
        let response: HTTPResponse
        do {
            response = try await httpClient.execute(request)
        } catch let error as HTTPClientError {
            throw .transport(error)
        } catch {
            throw .decoding(operation: action, reason: "\(error)")
        }
        logger.debug("EC2 call", metadata: ["action": "\(action)", "status": "\(response.status)"])
        guard response.isSuccess else { throw EC2Error.from(status: response.status, body: response.body) }
        guard let xml = XMLNode.parse(response.body) else {
            throw .decoding(operation: action, reason: "the answer is not XML")
        }
        return xml
    }
}
