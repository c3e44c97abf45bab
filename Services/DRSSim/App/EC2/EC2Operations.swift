import Foundation
import MusterDomain
import MusterEC2

/// An EC2 error answer (`<Response><Errors><Error>`), with botocore's codes.
struct EC2SimError: Error, Sendable, Equatable {
    var code: String
    var message: String
    var status = 400
}

/// An EC2 answer ready for the wire: status and XML body.
public struct EC2SimResponse: Sendable, Equatable {
    /// HTTP status.
    public var status: Int
    /// The XML document.
    public var body: String
}

extension DRSSimulation {
    /// The EC2 actions drs-sim serves (Query protocol).
    static let ec2Actions = [
        "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "DescribeLaunchTemplateVersions", "DescribeSubnets",
        "DescribeSecurityGroups", "DescribeInstanceTypeOfferings",
    ]

    /// Runs one EC2 Query-protocol request (form parameters) for `accountID`/`region`.
    public mutating func performEC2(form: [String: String], accountID: String, region: String, realNow: Date) -> EC2SimResponse {
        let key = EstateKey(accountID: accountID, region: region)
        let action = form["Action"] ?? ""
        counters.recordCall("ec2:\(action)", account: accountID)
        let requestID = random.ids.uuid()
        do throws(EC2SimError) {
            guard estates[key] != nil else {
                throw EC2SimError(code: "AuthFailure", message: "account \(accountID) has no estate in \(region)", status: 401)
            }
            if faults.takeEC2Throttling(key, action: action) {
                counters.ec2Throttled += 1
                throw EC2SimError(code: "RequestLimitExceeded", message: "Request limit exceeded.", status: 503)
            }
            let inner: String
            switch action {
            case "CreateLaunchTemplateVersion": inner = try createLaunchTemplateVersion(form, key: key, now: clock.now(real: realNow))
            case "ModifyLaunchTemplate": inner = try modifyLaunchTemplate(form, key: key)
            case "DescribeLaunchTemplateVersions": inner = try describeLaunchTemplateVersions(form, key: key)
            case "DescribeSubnets": inner = try describeSubnets(form, region: region)
            case "DescribeSecurityGroups": inner = try describeSecurityGroups(form)
            case "DescribeInstanceTypeOfferings": inner = try describeInstanceTypeOfferings(form, region: region)
            default:
                throw EC2SimError(code: "InvalidAction",
                                  message: "The action \(action) is not valid for this web service. drs-sim serves: "
                                      + Self.ec2Actions.joined(separator: ", "))
            }
            let body = """
                <?xml version="1.0" encoding="UTF-8"?>
                <\(action)Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>\(requestID)</requestId>\(inner)</\(action)Response>
                """
            return EC2SimResponse(status: 200, body: body)
        } catch {
            counters.recordError("ec2:\(action)", DRSSimError.validation(error.message))
            let body = """
                <?xml version="1.0" encoding="UTF-8"?>
                <Response><Errors><Error><Code>\(error.code)</Code><Message>\(XMLNode.escape(error.message))</Message></Error></Errors><RequestID>\(requestID)</RequestID></Response>
                """
            return EC2SimResponse(status: error.status, body: body)
        }
    }

    private mutating func template(_ form: [String: String], key: EstateKey) throws(EC2SimError) -> SimLaunchTemplate {
        guard let id = form["LaunchTemplateId"] else {
            throw EC2SimError(code: "MissingParameter", message: "The request must contain the parameter LaunchTemplateId")
        }
        guard id.hasPrefix("lt-"), id.count == 20 || id.count == 11 else {
            throw EC2SimError(code: "InvalidLaunchTemplateId.Malformed", message: "The launch template ID '\(id)' is malformed.")
        }
        guard let template = launchTemplate(id, key: key) else {
            throw EC2SimError(code: "InvalidLaunchTemplateId.NotFound",
                              message: "The specified launch template, with template ID \(id), does not exist.")
        }
        return template
    }

    private mutating func createLaunchTemplateVersion(
        _ form: [String: String], key: EstateKey, now: Date
    ) throws(EC2SimError) -> String {
        var template = try template(form, key: key)
        if let token = form["ClientToken"], let existing = template.clientTokens[token] {
            return "<launchTemplateVersion>\(versionXML(template, existing))</launchTemplateVersion>"
        }
        let source = try resolve(form["SourceVersion"] ?? "$Default", in: template, allowLatest: true)
        var settings = template.versions[source] ?? LaunchTemplateSettings()
        let requested = Self.settings(from: form)
        if let subnet = requested.subnetID {
            guard let known = EC2World.subnet(subnet) else {
                throw EC2SimError(code: "InvalidSubnetID.NotFound", message: "The subnet ID '\(subnet)' does not exist")
            }
            settings.subnetID = known.id
            if requested.securityGroupIDs == nil { settings.securityGroupIDs = nil }
            if requested.privateIPAddress == nil { settings.privateIPAddress = nil }
        }
        if let groups = requested.securityGroupIDs {
            for group in groups where !EC2World.securityGroups.contains(where: { $0.id == group }) {
                throw EC2SimError(code: "InvalidGroup.NotFound", message: "The security group '\(group)' does not exist")
            }
            settings.securityGroupIDs = groups
        }
        if let ip = requested.privateIPAddress {
            guard let address = IPv4Address(ip) else {
                throw EC2SimError(code: "InvalidParameterValue", message: "Invalid value '\(ip)' for PrivateIpAddress")
            }
            guard let subnet = settings.subnetID.flatMap(EC2World.subnet), subnet.cidr.isAssignable(address) else {
                throw EC2SimError(code: "InvalidParameterValue",
                                  message: "Address \(ip) does not fall within the subnet's address range")
            }
            if let holder = privateIPsInUse(key)[ip] {
                throw EC2SimError(code: "InvalidIPAddress.InUse", message: "Address \(ip) is in use by \(holder)")
            }
            settings.privateIPAddress = ip
        }
        if let type = requested.instanceType { settings.instanceType = type }
        if let arn = requested.iamInstanceProfileARN { settings.iamInstanceProfileARN = arn }
        if let name = requested.keyName { settings.keyName = name }
        if let tags = requested.tags { settings.tags = tags }
        let number = template.latestVersion + 1
        template.versions[number] = settings
        template.latestVersion = number
        if let description = form["VersionDescription"] { template.descriptions[number] = description }
        if let token = form["ClientToken"] { template.clientTokens[token] = number }
        ec2.templates[key, default: [:]][template.id] = template
        return "<launchTemplateVersion>\(versionXML(template, number))</launchTemplateVersion>"
    }

    private mutating func modifyLaunchTemplate(_ form: [String: String], key: EstateKey) throws(EC2SimError) -> String {
        var template = try template(form, key: key)
        if let wanted = form["SetDefaultVersion"] {
            template.defaultVersion = try resolve(wanted, in: template, allowLatest: true)
            ec2.templates[key, default: [:]][template.id] = template
        }
        return """
            <launchTemplate><launchTemplateId>\(template.id)</launchTemplateId><launchTemplateName>\(template.name)</launchTemplateName>\
            <defaultVersionNumber>\(template.defaultVersion)</defaultVersionNumber>\
            <latestVersionNumber>\(template.latestVersion)</latestVersionNumber></launchTemplate>
            """
    }

    private mutating func describeLaunchTemplateVersions(_ form: [String: String], key: EstateKey) throws(EC2SimError) -> String {
        let template = try template(form, key: key)
        var wanted: [String] = []
        var index = 1
        while let value = form["LaunchTemplateVersion.\(index)"] { wanted.append(value); index += 1 }
        var numbers: [Int64] = []
        if wanted.isEmpty {
            numbers = template.versions.keys.sorted()
        } else {
            for value in wanted { numbers.append(try resolve(value, in: template, allowLatest: true)) }
        }
        let items = numbers.map { "<item>\(versionXML(template, $0))</item>" }.joined()
        return "<launchTemplateVersionSet>\(items)</launchTemplateVersionSet>"
    }

    private func describeSubnets(_ form: [String: String], region: String) throws(EC2SimError) -> String {
        let ids = Self.list(form, "SubnetId")
        for id in ids where EC2World.subnet(id) == nil {
            throw EC2SimError(code: "InvalidSubnetID.NotFound", message: "The subnet ID '\(id)' does not exist")
        }
        let subnets = ids.isEmpty ? EC2World.subnets : ids.compactMap(EC2World.subnet)
        let items = subnets.map { subnet in
            """
            <item><subnetId>\(subnet.id)</subnetId><state>available</state><vpcId>\(subnet.vpcID)</vpcId>\
            <cidrBlock>\(subnet.cidr)</cidrBlock><availabilityZone>\(region)\(subnet.zone)</availabilityZone></item>
            """
        }.joined()
        return "<subnetSet>\(items)</subnetSet>"
    }

    /// Like EC2: the offered types among the `instance-type` filter's values (all without one); an unknown type
    /// is simply not offered — no error. Only `LocationType=region` is modelled.
    private func describeInstanceTypeOfferings(_ form: [String: String], region: String) throws(EC2SimError) -> String {
        let location = form["LocationType"] ?? "region"
        guard location == "region" else {
            throw EC2SimError(code: "InvalidParameterValue",
                              message: "drs-sim models LocationType region only, not \(location)")
        }
        var wanted: [String]?
        var index = 1
        while let name = form["Filter.\(index).Name"] {
            let values = Self.list(form, "Filter.\(index).Value")
            guard name == "instance-type" else {
                throw EC2SimError(code: "InvalidParameterValue", message: "drs-sim filters offerings by instance-type only, not \(name)")
            }
            wanted = (wanted ?? []) + values
            index += 1
        }
        let offered = EC2World.instanceTypes.filter { wanted?.contains($0) ?? true }
        let items = offered.map {
            "<item><instanceType>\($0)</instanceType><locationType>region</locationType><location>\(region)</location></item>"
        }.joined()
        return "<instanceTypeOfferingSet>\(items)</instanceTypeOfferingSet>"
    }

    private func describeSecurityGroups(_ form: [String: String]) throws(EC2SimError) -> String {
        let ids = Self.list(form, "GroupId")
        for id in ids where !EC2World.securityGroups.contains(where: { $0.id == id }) {
            throw EC2SimError(code: "InvalidGroup.NotFound", message: "The security group '\(id)' does not exist")
        }
        let groups = EC2World.securityGroups.filter { ids.isEmpty || ids.contains($0.id) }
        let items = groups.map {
            "<item><groupId>\($0.id)</groupId><groupName>\($0.name)</groupName><vpcId>\($0.vpc)</vpcId></item>"
        }.joined()
        return "<securityGroupInfo>\(items)</securityGroupInfo>"
    }

    private func resolve(_ version: String, in template: SimLaunchTemplate, allowLatest: Bool) throws(EC2SimError) -> Int64 {
        switch version {
        case "$Default": return template.defaultVersion
        case "$Latest" where allowLatest: return template.latestVersion
        default:
            guard let number = Int64(version), template.versions[number] != nil else {
                throw EC2SimError(code: "InvalidLaunchTemplateId.VersionNotFound",
                                  message: "Could not find launch template version \(version) for \(template.id)")
            }
            return number
        }
    }

    private func versionXML(_ template: SimLaunchTemplate, _ number: Int64) -> String {
        let settings = template.versions[number] ?? LaunchTemplateSettings()
        var data = ""
        if let type = settings.instanceType { data += "<instanceType>\(XMLNode.escape(type))</instanceType>" }
        if let key = settings.keyName { data += "<keyName>\(XMLNode.escape(key))</keyName>" }
        if let arn = settings.iamInstanceProfileARN { data += "<iamInstanceProfile><arn>\(XMLNode.escape(arn))</arn></iamInstanceProfile>" }
        if settings.subnetID != nil || settings.securityGroupIDs != nil || settings.privateIPAddress != nil {
            data += "<networkInterfaceSet><item><deviceIndex>0</deviceIndex>"
            if let subnet = settings.subnetID { data += "<subnetId>\(subnet)</subnetId>" }
            if let ip = settings.privateIPAddress { data += "<privateIpAddress>\(ip)</privateIpAddress>" }
            if let groups = settings.securityGroupIDs {
                data += "<groupSet>" + groups.map { "<item>\(XMLNode.escape($0))</item>" }.joined() + "</groupSet>"
            }
            data += "</item></networkInterfaceSet>"
        }
        if let tags = settings.tags, !tags.isEmpty {
            data += "<tagSpecificationSet><item><resourceType>instance</resourceType><tagSet>"
                + tags.keys.sorted().map { "<item><key>\(XMLNode.escape($0))</key><value>\(XMLNode.escape(tags[$0] ?? ""))</value></item>" }.joined()
                + "</tagSet></item></tagSpecificationSet>"
        }
        return """
            <launchTemplateId>\(template.id)</launchTemplateId><launchTemplateName>\(template.name)</launchTemplateName>\
            <versionNumber>\(number)</versionNumber>\
            \(template.descriptions[number].map { "<versionDescription>\(XMLNode.escape($0))</versionDescription>" } ?? "")\
            <defaultVersion>\(number == template.defaultVersion)</defaultVersion><launchTemplateData>\(data)</launchTemplateData>
            """
    }

    /// `name.1`, `name.2`, … of a form.
    static func list(_ form: [String: String], _ name: String) -> [String] {
        var values: [String] = []
        var index = 1
        while let value = form["\(name).\(index)"] { values.append(value); index += 1 }
        return values
    }

    /// The `LaunchTemplateData.*` parameters of a form.
    static func settings(from form: [String: String]) -> LaunchTemplateSettings {
        let prefix = "LaunchTemplateData."
        let interface = prefix + "NetworkInterface.1."
        var groups = list(form, interface + "SecurityGroupId")
        if groups.isEmpty { groups = list(form, prefix + "SecurityGroupId") }
        var tags: [String: String] = [:]
        var index = 1
        while let key = form[prefix + "TagSpecification.1.Tag.\(index).Key"] {
            tags[key] = form[prefix + "TagSpecification.1.Tag.\(index).Value"] ?? ""
            index += 1
        }
        return LaunchTemplateSettings(
            instanceType: form[prefix + "InstanceType"], subnetID: form[interface + "SubnetId"],
            securityGroupIDs: groups.isEmpty ? nil : groups, privateIPAddress: form[interface + "PrivateIpAddress"],
            iamInstanceProfileARN: form[prefix + "IamInstanceProfile.Arn"], keyName: form[prefix + "KeyName"],
            tags: tags.isEmpty ? nil : tags)
    }
}
