/// The launch-template settings Muster changes for a launch (a subset of EC2's
/// `RequestLaunchTemplateData` / `ResponseLaunchTemplateData`). Nil members are
/// not sent, so a new version created from a source version keeps them.
public struct LaunchTemplateSettings: Sendable, Equatable, Codable {
    /// `InstanceType`, e.g. `m5.large`.
    public var instanceType: String?
    /// The primary network interface's `SubnetId`.
    public var subnetID: String?
    /// The primary network interface's security groups (`Groups`).
    public var securityGroupIDs: [String]?
    /// The primary network interface's `PrivateIpAddress` (a static IP).
    public var privateIPAddress: String?
    /// `IamInstanceProfile.Arn`.
    public var iamInstanceProfileARN: String?
    /// `KeyName`.
    public var keyName: String?
    /// Tags for the instance (`TagSpecifications` with `ResourceType=instance`).
    public var tags: [String: String]?

    /// Creates settings.
    public init(
        instanceType: String? = nil, subnetID: String? = nil, securityGroupIDs: [String]? = nil,
        privateIPAddress: String? = nil, iamInstanceProfileARN: String? = nil, keyName: String? = nil,
        tags: [String: String]? = nil
    ) {
        self.instanceType = instanceType
        self.subnetID = subnetID
        self.securityGroupIDs = securityGroupIDs
        self.privateIPAddress = privateIPAddress
        self.iamInstanceProfileARN = iamInstanceProfileARN
        self.keyName = keyName
        self.tags = tags
    }

    /// True when nothing is set (no template version is needed).
    public var isEmpty: Bool { self == LaunchTemplateSettings() }

    /// Adds the `LaunchTemplateData.*` parameters (botocore `ec2` names).
    public func encode(into form: inout EC2QueryForm, prefix: String = "LaunchTemplateData") {
        form.add("\(prefix).InstanceType", instanceType)
        form.add("\(prefix).KeyName", keyName)
        form.add("\(prefix).IamInstanceProfile.Arn", iamInstanceProfileARN)
        if subnetID != nil || securityGroupIDs != nil || privateIPAddress != nil {
            let interface = "\(prefix).NetworkInterface.1"
            form.add("\(interface).DeviceIndex", "0")
            form.add("\(interface).SubnetId", subnetID)
            form.add("\(interface).PrivateIpAddress", privateIPAddress)
            form.add(list: "\(interface).SecurityGroupId", securityGroupIDs ?? [])
        }
        if let tags, !tags.isEmpty {
            let spec = "\(prefix).TagSpecification.1"
            form.add("\(spec).ResourceType", "instance")
            for (index, key) in tags.keys.sorted().enumerated() {
                form.add("\(spec).Tag.\(index + 1).Key", key)
                form.add("\(spec).Tag.\(index + 1).Value", tags[key])
            }
        }
    }

    /// Reads a `launchTemplateData` element.
    public init(xml: XMLNode) {
        instanceType = xml.string("instanceType")
        keyName = xml.string("keyName")
        iamInstanceProfileARN = xml.child("iamInstanceProfile")?.string("arn")
        let primary = xml.items("networkInterfaceSet").first { ($0.string("deviceIndex") ?? "0") == "0" }
        subnetID = primary?.string("subnetId")
        privateIPAddress = primary?.string("privateIpAddress")
        let groups = primary?.items("groupSet").compactMap { $0.string("groupId") ?? nonEmpty($0.trimmedText) } ?? []
        securityGroupIDs = groups.isEmpty ? nil : groups
        var tags: [String: String] = [:]
        for spec in xml.items("tagSpecificationSet") where spec.string("resourceType") == "instance" {
            for tag in spec.items("tagSet") { if let key = tag.string("key") { tags[key] = tag.string("value") ?? "" } }
        }
        self.tags = tags.isEmpty ? nil : tags
    }
}

private func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

/// One version of a launch template (`LaunchTemplateVersion`).
public struct LaunchTemplateVersion: Sendable, Equatable {
    /// `lt-…`.
    public var launchTemplateID: String
    /// The version number.
    public var versionNumber: Int64
    /// Whether it is the template's default version.
    public var isDefault: Bool
    /// `versionDescription`.
    public var versionDescription: String?
    /// The settings Muster reads.
    public var settings: LaunchTemplateSettings

    /// Creates a version.
    public init(launchTemplateID: String, versionNumber: Int64, isDefault: Bool, versionDescription: String? = nil,
                settings: LaunchTemplateSettings) {
        self.launchTemplateID = launchTemplateID
        self.versionNumber = versionNumber
        self.isDefault = isDefault
        self.versionDescription = versionDescription
        self.settings = settings
    }

    /// Reads a `launchTemplateVersion` element (or an `item` of `launchTemplateVersionSet`).
    public init?(xml: XMLNode) {
        guard let id = xml.string("launchTemplateId"), let number = xml.string("versionNumber").flatMap(Int64.init) else {
            return nil
        }
        self.init(
            launchTemplateID: id, versionNumber: number, isDefault: xml.string("defaultVersion") == "true",
            versionDescription: xml.string("versionDescription"),
            settings: xml.child("launchTemplateData").map(LaunchTemplateSettings.init(xml:)) ?? LaunchTemplateSettings())
    }
}

/// A launch template's version pointers (`LaunchTemplate`).
public struct LaunchTemplateSummary: Sendable, Equatable {
    /// `lt-…`.
    public var launchTemplateID: String
    /// `defaultVersionNumber`.
    public var defaultVersionNumber: Int64
    /// `latestVersionNumber`.
    public var latestVersionNumber: Int64

    /// Creates a summary.
    public init(launchTemplateID: String, defaultVersionNumber: Int64, latestVersionNumber: Int64) {
        self.launchTemplateID = launchTemplateID
        self.defaultVersionNumber = defaultVersionNumber
        self.latestVersionNumber = latestVersionNumber
    }
}

/// A subnet (`Subnet`): what a launch profile is checked against.
public struct EC2Subnet: Sendable, Equatable {
    /// `subnet-…`.
    public var subnetID: String
    /// `vpc-…`.
    public var vpcID: String?
    /// The IPv4 CIDR block, e.g. `10.99.0.0/24`.
    public var cidrBlock: String
    /// The availability zone, e.g. `us-east-1a`.
    public var availabilityZone: String?

    /// Creates a subnet.
    public init(subnetID: String, vpcID: String?, cidrBlock: String, availabilityZone: String?) {
        self.subnetID = subnetID
        self.vpcID = vpcID
        self.cidrBlock = cidrBlock
        self.availabilityZone = availabilityZone
    }
}

/// A security group (`SecurityGroup`).
public struct EC2SecurityGroup: Sendable, Equatable {
    /// `sg-…`.
    public var groupID: String
    /// The group's name.
    public var groupName: String?
    /// `vpc-…`.
    public var vpcID: String?

    /// Creates a group.
    public init(groupID: String, groupName: String?, vpcID: String?) {
        self.groupID = groupID
        self.groupName = groupName
        self.vpcID = vpcID
    }
}
