import ArgumentParser
import Foundation
import MusterCLIKit

/// The stored endpoint and token (`~/.config/muster/config.json`, mode 600).
struct CLIConfig: Codable {
    var endpoint: String?
    var token: String?

    static var path: URL {
        if let path = ProcessInfo.processInfo.environment["MUSTER_CONFIG"] { return URL(fileURLWithPath: path) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/muster/config.json")
    }

    static func load() -> CLIConfig {
        guard let data = try? Data(contentsOf: path), let config = try? JSONDecoder().decode(CLIConfig.self, from: data)
        else { return CLIConfig() }
        return config
    }

    func save() throws {
        try FileManager.default.createDirectory(at: Self.path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(self).write(to: Self.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: Self.path.path)
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Store the API endpoint and token for later commands.")

    @Option(help: "Planner API base URL.") var endpoint: String?
    @Flag(help: "Read the token from standard input (keeps it out of shell history).") var tokenStdin = false

    func run() throws {
        var config = CLIConfig.load()
        if let endpoint { config.endpoint = endpoint }
        if tokenStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CLIError.notConfigured("no token on standard input")
            }
            config.token = line
        }
        try config.save()
        print("endpoint: \(config.endpoint ?? "(unset)"); token: \(config.token == nil ? "(unset)" : "stored")")
    }
}
