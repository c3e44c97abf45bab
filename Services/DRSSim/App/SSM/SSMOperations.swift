import Foundation

/// An SSM error answer (JSON 1.1: `{"__type": …, "message": …}`).
struct SSMSimError: Error, Sendable, Equatable {
    var type: String
    var message: String
    var status = 400
}

extension DRSSimulation {
    /// The SSM operations drs-sim serves (JSON 1.1, `X-Amz-Target: AmazonSSM.<Operation>`).
    static let ssmOperations = ["StartAutomationExecution", "GetAutomationExecution", "StopAutomationExecution",
                                "DescribeDocument"]

    /// Runs one SSM JSON 1.1 request for `accountID`/`region`; `target` is
    /// the `X-Amz-Target` header.
    public mutating func performSSM(target: String, body: Data, accountID: String, region: String, realNow: Date)
        -> DRSSimResponse
    {
        let key = EstateKey(accountID: accountID, region: region)
        let operation = target.hasPrefix("AmazonSSM.") ? String(target.dropFirst("AmazonSSM.".count)) : target
        counters.recordCall("ssm:\(operation)", account: accountID)
        do throws(SSMSimError) {
            guard estates[key] != nil else {
                throw SSMSimError(type: "UnrecognizedClientException",
                                  message: "account \(accountID) has no estate in \(region)", status: 400)
            }
            var bucket = limiters[key]
                ?? TokenBucket(ratePerSecond: rateLimit.requestsPerSecond, burst: rateLimit.burst, now: realNow)
            let wait = bucket.take(now: realNow)
            limiters[key] = bucket
            if wait != nil {
                throw SSMSimError(type: "ThrottlingException", message: "Rate exceeded", status: 400)
            }
            let input: [String: Any]
            if body.isEmpty {
                input = [:]
            } else if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
                input = object
            } else {
                throw SSMSimError(type: "SerializationException", message: "the request body is not a JSON object")
            }
            let now = clock.now(real: realNow)
            let output: [String: Any]
            switch operation {
            case "StartAutomationExecution": output = try startAutomation(input, key: key, now: now)
            case "GetAutomationExecution": output = try getAutomation(input, key: key, now: now)
            case "StopAutomationExecution": output = try stopAutomation(input, key: key, now: now)
            case "DescribeDocument": output = try describeDocument(input, accountID: accountID, now: now)
            default:
                throw SSMSimError(type: "UnknownOperationException",
                                  message: "drs-sim serves the SSM operations " + Self.ssmOperations.joined(separator: ", "))
            }
            let data = (try? JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])) ?? Data("{}".utf8)
            return DRSSimResponse(status: 200, headers: ["Content-Type": "application/x-amz-json-1.1"], body: data)
        } catch {
            counters.errors["ssm:\(operation)", default: [:]][error.type, default: 0] += 1
            let data = (try? JSONSerialization.data(
                withJSONObject: ["__type": error.type, "message": error.message], options: [.sortedKeys])) ?? Data()
            return DRSSimResponse(status: error.status, headers: ["Content-Type": "application/x-amz-json-1.1"], body: data)
        }
    }

    private mutating func startAutomation(_ input: [String: Any], key: EstateKey, now: Date) throws(SSMSimError)
        -> [String: Any]
    {
        guard let name = input["DocumentName"] as? String, !name.isEmpty, name.count <= 1011 else {
            throw SSMSimError(type: "ValidationException", message: "DocumentName is required (1…1011 characters)")
        }
        let version = input["DocumentVersion"] as? String ?? "$DEFAULT"
        var parameters: [String: [String]] = [:]
        if let given = input["Parameters"] {
            guard let map = given as? [String: Any] else {
                throw SSMSimError(type: "ValidationException", message: "Parameters must be a map of string lists")
            }
            for (name, values) in map {
                guard let list = values as? [String] else {
                    throw SSMSimError(type: "InvalidAutomationExecutionParametersException",
                                      message: "parameter \(name) must be a list of strings")
                }
                parameters[name] = list
            }
        }
        let token = input["ClientToken"] as? String
        if let token {
            guard token.wholeMatch(of: #/[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}/#) != nil
            else {
                throw SSMSimError(type: "ValidationException",
                                  message: "1 validation error detected: Value at 'clientToken' failed to satisfy "
                                      + "constraint: Member must satisfy regular expression pattern: UUID")
            }
            if let id = ssm.clientTokens[key]?[token.lowercased()], let existing = ssm.automations[key]?[id] {
                guard existing.documentName == name, existing.parameters == parameters else {
                    throw SSMSimError(type: "IdempotentParameterMismatch",
                                      message: "ClientToken \(token) was used with different parameters")
                }
                counters.ssmIdempotentStarts += 1
                return ["AutomationExecutionId": id]
            }
        }
        guard !behaviour.ssmMissingDocuments.contains(name) else {
            throw SSMSimError(type: "AutomationDefinitionNotFoundException",
                              message: "Automation definition \(name):\(version) not found")
        }
        let document = behaviour.ssmDocuments[name] ?? behaviour.ssmDefault
        let id = random.ids.uuid()
        let automation = SimAutomation(
            id: id, documentName: name, documentVersion: version == "$DEFAULT" || version == "$LATEST" ? "1" : version,
            parameters: parameters, clientToken: token, startedAt: now,
            endsAt: now.addingTimeInterval(document.durationSeconds), behaviour: document)
        ssm.automations[key, default: [:]][id] = automation
        if let token { ssm.clientTokens[key, default: [:]][token.lowercased()] = id }
        counters.ssmAutomationsStarted += 1
        return ["AutomationExecutionId": id]
    }

    private func automation(_ input: [String: Any], key: EstateKey) throws(SSMSimError) -> SimAutomation {
        guard let id = input["AutomationExecutionId"] as? String, id.count == 36 else {
            throw SSMSimError(type: "ValidationException", message: "AutomationExecutionId must be 36 characters")
        }
        guard let automation = ssm.automations[key]?[id] else {
            throw SSMSimError(type: "AutomationExecutionNotFoundException",
                              message: "Automation execution \(id) does not exist")
        }
        return automation
    }

    private func getAutomation(_ input: [String: Any], key: EstateKey, now: Date) throws(SSMSimError) -> [String: Any] {
        let run = try automation(input, key: key)
        let status = run.status(at: now)
        var execution: [String: Any] = [
            "AutomationExecutionId": run.id, "DocumentName": run.documentName, "DocumentVersion": run.documentVersion,
            "ExecutionStartTime": run.startedAt.timeIntervalSince1970, "AutomationExecutionStatus": status,
            "Parameters": run.parameters, "Mode": "Auto", "StepExecutions": [] as [Any],
        ]
        if let ended = run.endedAt(now) {
            execution["ExecutionEndTime"] = ended.timeIntervalSince1970
            if status == "Success" {
                execution["Outputs"] = run.behaviour.outputs ?? [:]
            } else {
                execution["FailureMessage"] = status == "Cancelled" && run.stoppedAt != nil
                    ? "Automation execution was cancelled (StopAutomationExecution)"
                    : run.behaviour.failureMessage ?? "Step fails when it is executing. Simulated \(status) outcome."
            }
        }
        if let token = run.clientToken { execution["ClientToken"] = token }
        return ["AutomationExecution": execution]
    }

    private mutating func stopAutomation(_ input: [String: Any], key: EstateKey, now: Date) throws(SSMSimError)
        -> [String: Any]
    {
        var run = try automation(input, key: key)
        if let type = input["Type"] as? String, !["Complete", "Cancel"].contains(type) {
            throw SSMSimError(type: "ValidationException", message: "Type must be Complete or Cancel")
        }
        guard run.endedAt(now) == nil else {
            throw SSMSimError(type: "InvalidAutomationStatusUpdateException",
                              message: "Automation execution \(run.id) is \(run.status(at: now)) and cannot be stopped")
        }
        run.stoppedAt = now
        ssm.automations[key]?[run.id] = run
        counters.ssmAutomationsStopped += 1
        return [:]
    }

    /// `DescribeDocument` for the readiness check: drs-sim knows every Automation document it would start
    /// (the named `ssmDocuments` and, with the default behaviour, any other name) except `ssmMissingDocuments`,
    /// which answer `InvalidDocument` as SSM does for a document that does not exist or is not shared with the
    /// account. A version other than `$DEFAULT`, `$LATEST` or `1` answers `InvalidDocumentVersion` (drs-sim's
    /// documents have one version).
    private func describeDocument(_ input: [String: Any], accountID: String, now: Date) throws(SSMSimError)
        -> [String: Any]
    {
        guard let name = input["Name"] as? String, !name.isEmpty, name.count <= 1011 else {
            throw SSMSimError(type: "ValidationException",
                              message: "1 validation error detected: Value at 'name' failed to satisfy constraint: "
                                  + "Member must not be null")
        }
        // An ARN names a shared document by its last path element.
        let bare = name.hasPrefix("arn:") ? String(name.split(separator: "/").last ?? Substring(name)) : name
        guard !behaviour.ssmMissingDocuments.contains(name), !behaviour.ssmMissingDocuments.contains(bare) else {
            throw SSMSimError(type: "InvalidDocument", message: "Document with name \(name) does not exist.")
        }
        if let version = input["DocumentVersion"] as? String, !["$DEFAULT", "$LATEST", "1"].contains(version) {
            throw SSMSimError(type: "InvalidDocumentVersion",
                              message: "Document \(name) does not have a version \(version).")
        }
        return ["Document": [
            "Name": bare, "DocumentType": "Automation", "Status": "Active", "DocumentVersion": "1",
            "DefaultVersion": "1", "LatestVersion": "1", "SchemaVersion": "0.3", "DocumentFormat": "YAML",
            "Owner": bare.hasPrefix("AWS-") ? "Amazon" : accountID, "PlatformTypes": ["Windows", "Linux", "MacOS"],
            "CreatedDate": now.timeIntervalSince1970, "HashType": "Sha256",
        ] as [String: Any]]
    }
}
