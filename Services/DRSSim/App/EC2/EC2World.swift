import Foundation
import MusterDomain
import MusterEC2

/// A subnet drs-sim knows in every estate.
struct SimSubnet: Sendable, Equatable {
    var id: String
    var vpcID: String
    var cidr: IPv4CIDR
    var zone: String
}

/// One launch template: its versions, default and the client tokens seen.
struct SimLaunchTemplate: Sendable, Equatable {
    var id: String
    var name: String
    var versions: [Int64: LaunchTemplateSettings]
    var descriptions: [Int64: String] = [:]
    var defaultVersion: Int64
    var latestVersion: Int64
    var clientTokens: [String: Int64] = [:]
}

/// What a recovery instance takes from its server's launch template at launch.
struct SimInstanceNetwork: Sendable, Equatable {
    var subnetID: String?
    var privateIP: String?
    var securityGroupIDs: [String]
    var instanceType: String?
}

/// The EC2 side of drs-sim (issue 13): per estate, two subnets and security
/// groups (production and an isolated drill network) and one launch template
/// per source server, created on first use from the server's launch
/// configuration (`ec2LaunchTemplateID`).
struct EC2World: Sendable, Equatable {
    /// Launch templates by estate and id.
    var templates: [EstateKey: [String: SimLaunchTemplate]] = [:]

    /// The production subnet every template starts in.
    static let productionSubnet = SimSubnet(
        id: "subnet-0a1b2c3d4e5f60001", vpcID: "vpc-0a1b2c3d4e5f60001", cidr: IPv4CIDR("10.0.0.0/20")!, zone: "a")
    /// An isolated subnet for drills (its own VPC).
    static let drillSubnet = SimSubnet(
        id: "subnet-0d1e2f3a4b5c60002", vpcID: "vpc-0d1e2f3a4b5c60002", cidr: IPv4CIDR("10.99.0.0/24")!, zone: "a")
    /// Subnets of every estate.
    static let subnets = [productionSubnet, drillSubnet]
    /// Security groups of every estate: (id, name, vpc).
    static let securityGroups: [(id: String, name: String, vpc: String)] = [
        ("sg-0a1b2c3d4e5f60001", "production", productionSubnet.vpcID),
        ("sg-0d1e2f3a4b5c60002", "drill-isolated", drillSubnet.vpcID),
    ]

    static func subnet(_ id: String) -> SimSubnet? { subnets.first { $0.id == id } }

    /// The instance types offered in every region of the simulation (DescribeInstanceTypeOfferings).
    static let instanceTypes = [
        "c5.large", "c5.xlarge", "m5.2xlarge", "m5.large", "m5.xlarge", "r5.large", "r5.xlarge", "t3.large", "t3.medium",
        "t3.micro", "t3.small",
    ]
}

extension DRSSimulation {
    /// The template `id` of `key`, created from its server's launch configuration on first use.
    mutating func launchTemplate(_ id: String, key: EstateKey) -> SimLaunchTemplate? {
        if let template = ec2.templates[key]?[id] { return template }
        guard let estate = estates[key],
              let server = estate.serverOrder.lazy.compactMap({ estate.servers[$0] })
                  .first(where: { $0.launchConfiguration.ec2LaunchTemplateID == id })
        else { return nil }
        let initial = LaunchTemplateSettings(
            instanceType: server.server.sourceProperties?.recommendedInstanceType ?? "m5.large",
            subnetID: EC2World.productionSubnet.id, securityGroupIDs: [EC2World.securityGroups[0].id])
        let template = SimLaunchTemplate(
            id: id, name: "drs-\(server.id)", versions: [1: initial], defaultVersion: 1, latestVersion: 1)
        ec2.templates[key, default: [:]][id] = template
        return template
    }

    /// The network a recovery instance of `server` gets now: its template's default version.
    mutating func instanceNetwork(for server: SimSourceServer, key: EstateKey) -> SimInstanceNetwork? {
        guard let id = server.launchConfiguration.ec2LaunchTemplateID, let template = launchTemplate(id, key: key),
              let settings = template.versions[template.defaultVersion]
        else { return nil }
        var ip = settings.privateIPAddress
        if ip == nil, server.launchConfiguration.copyPrivateIp == true {
            ip = server.server.sourceProperties?.networkInterfaces?.first?.ips?.first
        }
        return SimInstanceNetwork(
            subnetID: settings.subnetID, privateIP: ip, securityGroupIDs: settings.securityGroupIDs ?? [],
            instanceType: settings.instanceType)
    }

    /// Private IPs held by live recovery instances of `key`, with the instance holding each.
    func privateIPsInUse(_ key: EstateKey) -> [String: String] {
        var used: [String: String] = [:]
        for instance in (estates[key]?.instances ?? [:]).values {
            guard instance.ec2InstanceState != .terminated, let id = instance.recoveryInstanceID else { continue }
            for interface in instance.recoveryInstanceProperties?.networkInterfaces ?? [] {
                for ip in interface.ips ?? [] { used[ip] = id }
            }
        }
        return used
    }
}
