import Foundation
import MusterDomain
import MusterEvents
@testable import PlannerApp
import TestSupport

/// Drives the pure state machine with a fake clock and records effects.
struct Harness {
    static let endpoint = Endpoint(accountID: "111122223333", region: "us-east-1")
    static let execution = ExecutionID.fixture(1)
    var state: ExecutionState
    var effects: [ExecutionEffect] = []
    var clock = Date(timeIntervalSince1970: 1_700_000_000)
    var jobCounter = 0

    /// `waves`: (name, dependsOn numbers, server count); options per wave by name.
    init(type: ExecutionType = .drill, waves: [(String, [Int], Int)], pauseBefore: Set<String> = [],
         continueOnFailure: Set<String> = [], endpoints: [Endpoint] = [Harness.endpoint],
         launchOverrides: LaunchOverrides? = nil, hooks: [String: (before: [HookStep], after: [HookStep])] = [:],
         initiatedBy: String = "alice") {
        var counter = 0
        let blueprint = ExecutionBlueprint(
            executionID: Harness.execution, teamID: .named("t-1"), planID: .named("p-1"), planName: "plan", type: type,
            initiatedBy: initiatedBy,
            rtoTargetMinutes: 30,
            waves: waves.map { name, deps, count in
                .init(name: name, dependsOn: deps, pauseBefore: pauseBefore.contains(name),
                      continueOnFailure: continueOnFailure.contains(name), timeoutSeconds: 600,
                      servers: (0..<count).map { _ in
                          counter += 1
                          let endpoint = endpoints[(counter - 1) % endpoints.count]
                          return .init(id: "s-\(name)\(counter)", accountID: endpoint.accountID, region: endpoint.region)
                      })
            },
            launchOverrides: launchOverrides)
        var withHooks = blueprint
        for index in withHooks.waves.indices {
            withHooks.waves[index].before = hooks[withHooks.waves[index].name]?.before ?? []
            withHooks.waves[index].after = hooks[withHooks.waves[index].name]?.after ?? []
        }
        (state, effects) = ExecutionStateMachine.start(withHooks, now: clock)
    }

    mutating func apply(_ input: ExecutionInput) throws {
        clock = clock.addingTimeInterval(1)
        let (next, new) = try ExecutionStateMachine.apply(input, to: state, now: clock)
        state = next
        effects.append(contentsOf: new)
    }

    /// Clears recorded effects, returning them.
    mutating func take() -> [ExecutionEffect] {
        defer { effects = [] }
        return effects
    }

    func wave(_ name: String) -> WaveState { state.waves.first { $0.name == name }! }
    func servers(_ wave: String) -> [ServerState] { state.servers(inWave: self.wave(wave).number) }

    func group(_ wave: String, endpoint: Endpoint = Harness.endpoint) -> LaunchGroupID {
        LaunchGroupID(executionID: Harness.execution, waveNumber: self.wave(wave).number, endpoint: endpoint)
    }

    /// Creates one job for all of a wave's servers in `endpoint`; returns its id.
    mutating func createJob(_ wave: String, endpoint: Endpoint = Harness.endpoint) throws -> JobID {
        jobCounter += 1
        let id: JobID = "drsjob-\(jobCounter)"
        let ids = servers(wave).filter { $0.endpoint == endpoint }.map { SourceServerID(rawValue: $0.id) }
        try apply(.jobCreated(JobCreated(
            launchGroup: group(wave, endpoint: endpoint), chunk: 0, chunkCount: 1, jobID: id, isDrill: state.type == .drill,
            sourceServerIDs: ids, createdAt: clock, waveStartedAt: clock, timeoutSeconds: 600)))
        return id
    }

    /// A snapshot of `job` with each server's status.
    mutating func observe(_ wave: String, job: JobID, status: DRSJobStatus, _ launch: [String: DRSLaunchStatus],
                          at time: Date? = nil, postLaunch: PostLaunchActionStatus? = nil, endpoint: Endpoint = Harness.endpoint) throws {
        let servers = launch.keys.sorted().map { id in
            ObservedServer(sourceServerID: SourceServerID(rawValue: id), launchStatus: launch[id] ?? .pending,
                           recoveryInstanceID: launch[id] == .launched ? "i-\(id)" : nil,
                           postLaunchActionsStatus: postLaunch)
        }
        try apply(.jobObserved(JobObserved(
            launchGroup: group(wave, endpoint: endpoint), chunk: 0, jobID: job, status: status, servers: servers,
            observedAt: time ?? clock.addingTimeInterval(1))))
    }

    /// Launches a whole wave successfully (one job per endpoint).
    mutating func launchAll(_ wave: String, postLaunch: PostLaunchActionStatus? = nil) throws {
        let endpoints = Set(servers(wave).map(\.endpoint))
        for endpoint in endpoints.sorted(by: { $0.key < $1.key }) {
            let job = try createJob(wave, endpoint: endpoint)
            let ids = servers(wave).filter { $0.endpoint == endpoint }.map(\.id)
            try observe(wave, job: job, status: .completed,
                        Dictionary(uniqueKeysWithValues: ids.map { ($0, .launched) }), postLaunch: postLaunch,
                        endpoint: endpoint)
        }
    }

    /// Fails a whole wave.
    mutating func failAll(_ wave: String) throws {
        let job = try createJob(wave)
        try observe(wave, job: job, status: .completed,
                    Dictionary(uniqueKeysWithValues: servers(wave).map { ($0.id, .failed) }))
    }
}

extension [ExecutionEffect] {
    /// Public event types, in order.
    var eventTypes: [ExecutionEventType] {
        compactMap { if case .publish(let event) = $0 { event.type } else { nil } }
    }
    /// Launch groups started, as `wave:endpoint`.
    var launchGroups: [LaunchGroupRequested] {
        compactMap { if case .startLaunchGroup(let payload) = $0 { payload } else { nil } }
    }
    /// Hook steps asked to run (SSM, callouts), by step name.
    var stepRuns: [String] {
        compactMap { if case .runStep(let run) = $0 { run.step.name } else { nil } }
    }
    /// Step events as `type:step:status`.
    var stepEvents: [String] {
        compactMap {
            if case .publish(let event) = $0, let step = event.step { "\(event.type.rawValue):\(step.name):\(step.status.rawValue)" } else { nil }
        }
    }
    /// Terminations requested.
    var terminations: [InstancesTerminate] {
        compactMap { if case .terminateInstances(let payload) = $0 { payload } else { nil } }
    }
}
