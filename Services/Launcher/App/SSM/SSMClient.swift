import Foundation
import Logging
import MusterAWS
import MusterDomain
import MusterHTTP

/// Why an SSM call failed: SSM's error type (`__type`, namespace dropped) and
/// message, or a transport/credentials failure. Never carries a secret.
public struct SSMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `ThrottlingException`, `AutomationExecutionNotFoundException`, … or
    /// `Transport`, `Credentials`, `Decoding`.
    public var type: String
    /// HTTP status (0 when no answer came).
    public var status: Int
    /// SSM's message.
    public var message: String

    /// Throttling, 5xx and transport failures may be repeated (every SSM call
    /// the launcher makes is idempotent: reads, stops, starts with a ClientToken).
    public var isRetryable: Bool {
        isThrottling || status >= 500 || type == "Transport" || type == "InternalServerError"
    }

    /// SSM's throttling answers.
    public var isThrottling: Bool {
        ["ThrottlingException", "TooManyUpdates", "Throttling", "RequestLimitExceeded"].contains(type)
    }

    /// `type: message`.
    public var description: String { "\(type): \(message)" }
}

/// `GetAutomationExecution`'s view of one execution (the fields Muster uses).
public struct SSMAutomationExecution: Sendable, Equatable {
    /// The execution id.
    public var id: String
    /// `AutomationExecutionStatus`.
    public var status: AutomationExecutionStatus
    /// Outputs (`Step.Output` → values).
    public var outputs: [String: [String]]
    /// Why it failed.
    public var failureMessage: String?

    /// True once it ended.
    public var isTerminal: Bool { status.isTerminal }
}

/// `DescribeDocument`'s view of one document (the fields readiness uses).
public struct SSMDocumentDescription: Sendable, Equatable {
    /// The document's name.
    public var name: String
    /// `Automation`, `Command`, … (nil when SSM did not say).
    public var documentType: String?
    /// `Active`, `Creating`, `Updating`, `Deleting`, `Failed` (nil when SSM did not say).
    public var status: String?
}

/// A client for the SSM Automation operations wave hooks use: AWS JSON 1.1
/// (`POST /`, `X-Amz-Target: AmazonSSM.<Operation>`), signed with SigV4
/// (`service=ssm`) over the same layers as `DRSClient`. It does not retry:
/// the gate decides (``SSMError/isRetryable``).
public final class SSMClient: Sendable {
    /// The region requests are signed for.
    public let region: String
    /// The base URL, e.g. `https://ssm.us-east-1.amazonaws.com` or drs-sim.
    public let endpoint: String
    private let credentials: any AWSCredentialsProvider
    private let httpClient: HTTPClient
    private let logger: Logger
    private let timeout: Duration
    private let signer: SigV4Signer

    /// - Parameters:
    ///   - endpoint: the base URL (drs-sim, VPC endpoints, or the region's SSM endpoint).
    ///   - credentials: signs every request; asked afresh per call.
    public init(
        region: String, endpoint: String, credentials: any AWSCredentialsProvider, httpClient: HTTPClient,
        logger: Logger, timeout: Duration = .seconds(30)
    ) {
        self.region = region
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.credentials = credentials
        self.httpClient = httpClient
        self.logger = logger
        self.timeout = timeout
        self.signer = SigV4Signer(service: "ssm", region: region)
    }

    /// `StartAutomationExecution`; `clientToken` (a UUID) makes a repeated
    /// request answer the same execution id instead of starting another.
    public func startAutomationExecution(
        documentName: String, documentVersion: String?, parameters: [String: [String]], clientToken: String
    ) async throws(SSMError) -> String {
        var input: [String: Any] = ["DocumentName": documentName, "ClientToken": clientToken]
        if let documentVersion { input["DocumentVersion"] = documentVersion }
        if !parameters.isEmpty { input["Parameters"] = parameters }
        let output = try await call("StartAutomationExecution", input)
        guard let id = output["AutomationExecutionId"] as? String, !id.isEmpty else {
            throw SSMError(type: "Decoding", status: 200, message: "StartAutomationExecution answered no AutomationExecutionId")
        }
        return id
    }

    /// `GetAutomationExecution`.
    public func getAutomationExecution(id: String) async throws(SSMError) -> SSMAutomationExecution {
        let output = try await call("GetAutomationExecution", ["AutomationExecutionId": id])
        guard let execution = output["AutomationExecution"] as? [String: Any],
              let status = execution["AutomationExecutionStatus"] as? String else {
            throw SSMError(type: "Decoding", status: 200,
                           message: "GetAutomationExecution answered no AutomationExecution.AutomationExecutionStatus")
        }
        var outputs: [String: [String]] = [:]
        for (name, values) in execution["Outputs"] as? [String: Any] ?? [:] {
            outputs[name] = (values as? [Any])?.map { "\($0)" } ?? []
        }
        return SSMAutomationExecution(
            id: id, status: AutomationExecutionStatus(rawValue: status), outputs: outputs, failureMessage: execution["FailureMessage"] as? String)
    }

    /// `StopAutomationExecution` with `Type: Cancel`.
    public func stopAutomationExecution(id: String) async throws(SSMError) {
        _ = try await call("StopAutomationExecution", ["AutomationExecutionId": id, "Type": "Cancel"])
    }

    /// `DescribeDocument`: the document as SSM knows it in this account and region. A document that does not
    /// exist (or is not shared with the account) is SSM's `InvalidDocument` error, an unknown version
    /// `InvalidDocumentVersion` — thrown like every other error.
    public func describeDocument(name: String, version: String?) async throws(SSMError) -> SSMDocumentDescription {
        var input: [String: Any] = ["Name": name]
        if let version { input["DocumentVersion"] = version }
        let output = try await call("DescribeDocument", input)
        guard let document = output["Document"] as? [String: Any] else {
            throw SSMError(type: "Decoding", status: 200, message: "DescribeDocument answered no Document")
        }
        return SSMDocumentDescription(
            name: document["Name"] as? String ?? name, documentType: document["DocumentType"] as? String,
            status: document["Status"] as? String)
    }

    private func call(_ operation: String, _ input: [String: Any]) async throws(SSMError) -> [String: Any] {
        let body: [UInt8]
        do {
            body = Array(try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys]))
        } catch {
            throw SSMError(type: "Decoding", status: 0, message: "request could not be encoded")
        }
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch {
            throw SSMError(type: "Credentials", status: 0, message: "no credentials: \(type(of: error))")
        }
        let request = signer.sign(
            HTTPRequest(method: "POST", url: endpoint + "/", headers: [
                HTTPHeader("Content-Type", "application/x-amz-json-1.1"),
                HTTPHeader("X-Amz-Target", "AmazonSSM.\(operation)"),
                HTTPHeader("User-Agent", "muster-ssm-client/1"),
            ], body: body, timeout: timeout),
            credentials: credentials, date: Date())
        let response: HTTPResponse
        do {
            response = try await httpClient.execute(request)
        } catch {
            logger.debug("SSM call failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
            throw SSMError(type: "Transport", status: 0, message: "\(error)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.isEmpty ? Array("{}".utf8) : response.body)))
            as? [String: Any]
        guard response.isSuccess else {
            let rawType = response.header("x-amzn-ErrorType") ?? json?["__type"] as? String ?? "HTTP\(response.status)"
            let type = rawType.split(separator: "#").last.map { String($0.split(separator: ":").first ?? $0) } ?? rawType
            let message = (json?["message"] ?? json?["Message"]) as? String ?? ""
            throw SSMError(type: type, status: response.status, message: message)
        }
        guard let json else {
            throw SSMError(type: "Decoding", status: response.status, message: "\(operation) answered no JSON object")
        }
        return json
    }
}
