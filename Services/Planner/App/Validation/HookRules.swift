import Foundation
import MusterAPI
import MusterDomain

/// One wave hook step as submitted (`waves[i].before[j]`, `waves[i].after[j]`).
struct HookStepInput: Codable, Sendable {
    struct SSM: Codable, Sendable {
        var documentName: String
        var documentVersion: String?
        var parameters: [String: [String]]?
        var accountId: String?
        var region: String?
    }
    struct Callout: Codable, Sendable {
        var url: String
        var subscriptionId: String?
    }
    struct Approval: Codable, Sendable {
        var role: String?
        var notStarter: Bool?
        var onDecline: String?
    }

    var name: String
    var kind: String
    var timeoutSeconds: Int?
    var onFailure: String?
    var ssm: SSM?
    var callout: Callout?
    var approval: Approval?
}

extension HookStepInput {
    /// A validated step in the shape it was submitted (plan views).
    init(_ step: HookStep) {
        self.init(
            name: step.name, kind: step.kind.rawValue, timeoutSeconds: step.timeoutSeconds,
            onFailure: step.onFailure.rawValue,
            ssm: step.ssm.map { .init(documentName: $0.documentName, documentVersion: $0.documentVersion,
                                      parameters: $0.parameters, accountId: $0.accountID, region: $0.region) },
            callout: step.callout.map { .init(url: $0.url, subscriptionId: $0.subscriptionID) },
            approval: step.approval.map { .init(role: $0.role?.rawValue, notStarter: $0.notStarter, onDecline: $0.onDecline.rawValue) })
    }
}

/// The rules for wave hook steps (issue 16), pure.
enum HookRules {
    /// Most steps in one phase of one wave.
    static let maxStepsPerPhase = 10
    /// Shortest and longest step timeout, seconds (one week: approvals wait for people).
    static let timeoutSeconds = 1...604_800
    /// Default step timeout, seconds.
    static let defaultTimeoutSeconds = 3600
    /// Step names: URL-safe, they are the `{step}` of the approvals route.
    static var namePattern: Regex<Substring> { #/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/# }
    /// SSM document names (AWS: `^[a-zA-Z0-9_\-.:/]{3,128}$`).
    static var documentPattern: Regex<Substring> { #/^[a-zA-Z0-9_\-.:\/]{3,128}$/# }
    /// SSM document versions.
    static var versionPattern: Regex<(Substring, Substring)> { #/^(\$DEFAULT|\$LATEST|[0-9]{1,10})$/# }
    /// SSM parameter names.
    static var parameterPattern: Regex<Substring> { #/^[A-Za-z0-9_]{1,50}$/# }
    static let maxParameters = 50
    static let maxParameterValues = 50
    static let maxParameterValueLength = 4096
    static let maxURLLength = 2048

    /// Validates both phases of every wave; step names are unique across the plan.
    static func validate(_ waves: [PlanInput.Wave]) throws -> [(before: [HookStep], after: [HookStep])] {
        var seen: [String: String] = [:]
        return try waves.enumerated().map { index, wave in
            (try phase(wave.before ?? [], field: "waves[\(index)].before", seen: &seen),
             try phase(wave.after ?? [], field: "waves[\(index)].after", seen: &seen))
        }
    }

    static func phase(_ steps: [HookStepInput], field: String, seen: inout [String: String]) throws -> [HookStep] {
        guard steps.count <= maxStepsPerPhase else {
            throw ValidationFailure(field: field, rule: "maxItems",
                                    message: "a wave has at most \(maxStepsPerPhase) steps in each phase")
        }
        return try steps.enumerated().map { position, input in
            let path = "\(field)[\(position)]"
            let step = try self.step(input, field: path)
            if let other = seen[step.name.lowercased()] {
                throw ValidationFailure(field: "\(path).name", rule: "unique",
                                        message: "step name \(step.name) is already used at \(other); step names are unique in a plan")
            }
            seen[step.name.lowercased()] = path
            return step
        }
    }

    static func step(_ input: HookStepInput, field: String) throws -> HookStep {
        guard input.name.wholeMatch(of: namePattern) != nil else {
            throw ValidationFailure(field: "\(field).name", rule: "format",
                                    message: "must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        let kind = try choice(HookKind.self, input.kind, field: "\(field).kind")
        let onFailure = try input.onFailure.map { try choice(HookFailurePolicy.self, $0, field: "\(field).onFailure") }
        let timeout = input.timeoutSeconds ?? defaultTimeoutSeconds
        try FieldRules.range(timeout, timeoutSeconds, field: "\(field).timeoutSeconds", unit: "seconds")
        var step = HookStep(name: input.name, kind: kind, timeoutSeconds: timeout, onFailure: onFailure ?? .failWave)
        for (present, owner, name) in [(input.ssm != nil, HookKind.ssmAutomation, "ssm"),
                                       (input.callout != nil, .httpCallout, "callout"),
                                       (input.approval != nil, .approval, "approval")] where present && owner != kind {
            throw ValidationFailure(field: "\(field).\(name)", rule: "exclusive",
                                    message: "\(name) settings belong to \(owner.rawValue) steps; this step is \(kind.rawValue)")
        }
        switch kind {
        case .ssmAutomation:
            guard let ssm = input.ssm else {
                throw ValidationFailure(field: "\(field).ssm", rule: "required",
                                        message: "an SSM_AUTOMATION step needs ssm.documentName")
            }
            step.ssm = try self.ssm(ssm, field: "\(field).ssm")
        case .httpCallout:
            guard let callout = input.callout else {
                throw ValidationFailure(field: "\(field).callout", rule: "required",
                                        message: "an HTTP_CALLOUT step needs callout.url")
            }
            let url = try url(callout.url, field: "\(field).callout.url")
            guard let subscription = callout.subscriptionId, let id = UUID(uuidString: subscription) else {
                throw ValidationFailure(field: "\(field).callout.subscriptionId", rule: callout.subscriptionId == nil ? "required" : "format",
                                        message: "must be the id (a UUID) of one of the team's notifier subscriptions; its secret signs the callout")
            }
            step.callout = .init(url: url, subscriptionID: id.uuidString.lowercased())
        case .approval:
            let approval = input.approval
            step.approval = HookStep.Approval(
                role: try approval?.role.map { raw in
                    guard let role = Role(rawValue: raw) else {
                        throw ValidationFailure(field: "\(field).approval.role", rule: "enum",
                                                message: "must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return role
                },
                notStarter: approval?.notStarter ?? false,
                onDecline: try approval?.onDecline.map { try choice(DeclineAction.self, $0, field: "\(field).approval.onDecline") }
                    ?? .fail)
        }
        return step
    }

    static func ssm(_ input: HookStepInput.SSM, field: String) throws -> HookStep.SSMAutomation {
        guard input.documentName.wholeMatch(of: documentPattern) != nil else {
            throw ValidationFailure(field: "\(field).documentName", rule: "format",
                                    message: "must be 3–128 characters: letters, digits, _ - . : / (an SSM document name or ARN)")
        }
        if let version = input.documentVersion, version.wholeMatch(of: versionPattern) == nil {
            throw ValidationFailure(field: "\(field).documentVersion", rule: "format",
                                    message: "must be $DEFAULT, $LATEST or a version number")
        }
        let parameters = input.parameters ?? [:]
        guard parameters.count <= maxParameters else {
            throw ValidationFailure(field: "\(field).parameters", rule: "maxItems",
                                    message: "at most \(maxParameters) parameters")
        }
        for (name, values) in parameters.sorted(by: { $0.key < $1.key }) {
            guard name.wholeMatch(of: parameterPattern) != nil else {
                throw ValidationFailure(field: "\(field).parameters.\(name)", rule: "format",
                                        message: "parameter names are 1–50 letters, digits or '_'")
            }
            guard values.count <= maxParameterValues else {
                throw ValidationFailure(field: "\(field).parameters.\(name)", rule: "maxItems",
                                        message: "at most \(maxParameterValues) values")
            }
            if let index = values.firstIndex(where: { $0.unicodeScalars.count > maxParameterValueLength }) {
                throw ValidationFailure(field: "\(field).parameters.\(name)[\(index)]", rule: "maxLength",
                                        message: "at most \(maxParameterValueLength) characters")
            }
        }
        if let account = input.accountId, account.wholeMatch(of: #/^[0-9]{12}$/#) == nil {
            throw ValidationFailure(field: "\(field).accountId", rule: "format", message: "must be a 12-digit AWS account id")
        }
        if let region = input.region, region.wholeMatch(of: #/^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/#) == nil {
            throw ValidationFailure(field: "\(field).region", rule: "format", message: "must be an AWS region such as us-east-1")
        }
        guard (input.accountId == nil) == (input.region == nil) else {
            throw ValidationFailure(field: "\(field).region", rule: "required",
                                    message: "give accountId and region together, or neither (the wave's own)")
        }
        return .init(documentName: input.documentName, documentVersion: input.documentVersion, parameters: parameters,
                     accountID: input.accountId, region: input.region)
    }

    static func url(_ text: String, field: String) throws -> String {
        guard text.count <= maxURLLength, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              ["https", "http"].contains(scheme), let host = url.host, !host.isEmpty, url.user == nil else {
            throw ValidationFailure(field: field, rule: "format",
                                    message: "must be an absolute http(s) URL without credentials, at most \(maxURLLength) characters")
        }
        return text
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ raw: String, field: String) throws -> T
        where T.RawValue == String
    {
        guard let value = T(rawValue: raw) else {
            throw ValidationFailure(field: field, rule: "enum",
                                    message: "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// At start: an SSM step without its own account and region runs in the
    /// wave's, which must then be a single one.
    static func resolve(_ steps: [HookStep], servers: [ExecutionBlueprint.Server], field: String) throws -> [HookStep] {
        let endpoints = Set(servers.map { "\($0.accountID)/\($0.region)" }).sorted()
        return try steps.enumerated().map { position, step in
            guard var ssm = step.ssm, ssm.accountID == nil else { return step }
            guard endpoints.count == 1, let server = servers.first else {
                throw APIError.validation(ValidationFailure(
                    field: "planId", rule: "reference",
                    message: "SSM step \(step.name) (\(field)[\(position)]) has no accountId and region, and its wave spans "
                        + "\(endpoints.joined(separator: ", ")); give the step its own"))
            }
            ssm.accountID = server.accountID
            ssm.region = server.region
            var resolved = step
            resolved.ssm = ssm
            return resolved
        }
    }
}
