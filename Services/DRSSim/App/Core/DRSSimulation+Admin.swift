import Foundation
import MusterDRS

/// A summary of the simulator's state for `GET /admin/state`.
public struct DRSSimStatus: Codable, Sendable, Equatable {
    /// Simulated seconds per wall-clock second.
    public var timeScale: Double
    /// Current simulated time.
    public var simulatedNow: String
    /// Quotas in force.
    public var quotas: DRSSimQuotas
    /// Rate limit in force.
    public var rateLimit: DRSSimRateLimit
    /// One entry per estate.
    public var estates: [EstateStatus]
    /// Faults in force.
    public var faults: [ActiveFault]
}

/// A summary of one estate.
public struct EstateStatus: Codable, Sendable, Equatable {
    /// Account id.
    public var accountID: String
    /// Region.
    public var region: String
    /// Source servers.
    public var sourceServers: Int
    /// Jobs ever created.
    public var jobs: Int
    /// Jobs not COMPLETED.
    public var activeJobs: [String]
    /// Live recovery instances.
    public var recoveryInstances: Int
}

extension DRSSimulation {
    /// Adds the seed's accounts, regions, servers and keys. Servers already present are replaced.
    public mutating func seed(_ document: SeedDocument, realNow: Date) throws(DRSSimAdminError) {
        let simulatedNow = clock.now(real: realNow)
        let now = timestamp(simulatedNow)
        for account in document.accounts {
            guard account.accountID.count == 12, account.accountID.allSatisfy(\.isNumber) else {
                throw DRSSimAdminError("accountID '\(account.accountID)' must be 12 digits")
            }
            for credential in account.credentials ?? [] {
                guard !credential.accessKeyID.isEmpty, !credential.secretAccessKey.isEmpty else {
                    throw DRSSimAdminError("account \(account.accountID): credentials need accessKeyID and secretAccessKey")
                }
                credentials[credential.accessKeyID] = DRSSimCredential(
                    secretAccessKey: credential.secretAccessKey, accountID: account.accountID
                )
            }
            for region in account.regions.keys.sorted() {
                guard let spec = account.regions[region] else { continue }
                let key = EstateKey(accountID: account.accountID, region: region)
                var estate = estates[key] ?? Estate(key: key)
                for server in spec.sourceServers ?? [] {
                    guard Validation.sourceServerID.matches(server.sourceServerID) else {
                        throw DRSSimAdminError(
                            "sourceServerID '\(server.sourceServerID)' in \(key) must look like s-0123456789abcdef0 (s- and 17 letters or digits)"
                        )
                    }
                    guard (server.lagSeconds ?? 0) >= 0, (server.lagSeconds ?? 0) <= 31_536_000 else {
                        throw DRSSimAdminError("lagSeconds of \(server.sourceServerID) in \(key) must be 0…31536000")
                    }
                    estate.put(SourceServerFactory.make(server, estate: key, addedAt: now, seededAt: simulatedNow))
                }
                if let generator = spec.generatedServers {
                    guard (0...10_000).contains(generator.count) else {
                        throw DRSSimAdminError("generatedServers.count in \(key) must be 0…10000")
                    }
                    for index in stride(from: 1, through: generator.count, by: 1) {
                        let seedServer = SeedSourceServer(
                            sourceServerID: "s-" + random.ids.hex(17),
                            hostname: "\(generator.hostnamePrefix ?? "server")-\(index)",
                            tags: generator.tags, replicationState: generator.replicationState
                        )
                        estate.put(SourceServerFactory.make(seedServer, estate: key, addedAt: now, seededAt: simulatedNow))
                    }
                }
                estates[key] = estate
            }
        }
    }

    /// Back to the start-up state (or `document`, if given): estates, faults, counters, rate
    /// limits, quotas, time scale and random streams. Simulated time keeps running forward.
    public mutating func reset(to document: SeedDocument?, realNow: Date) throws(DRSSimAdminError) {
        self = try DRSSimulation(
            configuration: configuration,
            clock: SimulatedClock(start: clock.now(real: realNow), realStart: realNow, timeScale: configuration.timeScale),
            seedDocument: document ?? configuration.seedDocument,
            realNow: realNow
        )
    }

    /// Replaces the undocumented-behaviour choices (for jobs created and lists answered from now on).
    public mutating func setBehaviour(_ behaviour: DRSSimBehaviour) {
        self.behaviour = behaviour
    }

    /// Changes the time scale from now on.
    public mutating func setTimeScale(_ scale: Double, realNow: Date) throws(DRSSimAdminError) {
        guard scale > 0, scale.isFinite else { throw DRSSimAdminError("timeScale must be a positive number, got \(scale)") }
        clock.setTimeScale(scale, real: realNow)
    }

    /// Jumps simulated time forward by `seconds` simulated seconds.
    public mutating func advanceClock(bySimulatedSeconds seconds: Double, realNow: Date) throws(DRSSimAdminError) {
        guard seconds >= 0, seconds.isFinite else { throw DRSSimAdminError("seconds must be zero or more, got \(seconds)") }
        clock.advance(by: seconds, real: realNow)
        advanceAll(realNow: realNow)
    }

    /// Replaces the quotas.
    public mutating func setQuotas(_ quotas: DRSSimQuotas) throws(DRSSimAdminError) {
        guard quotas.maxConcurrentJobs >= 1, quotas.maxServersInActiveJobs >= 1, (1...200).contains(quotas.maxServersPerJob) else {
            throw DRSSimAdminError("quotas must be at least 1, and maxServersPerJob at most 200 (the API maximum)")
        }
        self.quotas = quotas
    }

    /// Replaces the rate limit; buckets keep the tokens they have, up to the new burst.
    public mutating func setRateLimit(_ limit: DRSSimRateLimit, realNow: Date) throws(DRSSimAdminError) {
        guard limit.requestsPerSecond >= 0, limit.burst >= 1 else {
            throw DRSSimAdminError("rateLimit needs requestsPerSecond >= 0 and burst >= 1")
        }
        rateLimit = limit
        for key in limiters.keys {
            limiters[key]?.reconfigure(ratePerSecond: limit.requestsPerSecond, burst: limit.burst, now: realNow)
        }
    }

    /// Installs a fault (or, for `foreignJob`, starts the job and returns it).
    public mutating func addFault(_ fault: DRSSimFault, realNow: Date) throws(DRSSimAdminError) -> (ActiveFault?, Job?) {
        var stored = fault
        switch fault.type {
        case .launchFailure:
            guard let server = fault.sourceServerID, Validation.sourceServerID.matches(server) else {
                throw DRSSimAdminError("launchFailure needs sourceServerID (s-…)")
            }
            return (faults.add(stored, remaining: max(1, fault.count ?? 1)), nil)
        case .internalErrors:
            guard let rate = fault.rate, (0...1).contains(rate) else {
                throw DRSSimAdminError("internalErrors needs rate between 0 and 1")
            }
            return (faults.add(stored, remaining: fault.count), nil)
        case .ec2Throttling:
            return (faults.add(stored, remaining: fault.count.map { max(1, $0) }), nil)
        case .latency:
            guard let ms = fault.milliseconds, (0...60_000).contains(ms) else {
                throw DRSSimAdminError("latency needs milliseconds between 0 and 60000")
            }
            return (faults.add(stored, remaining: nil), nil)
        case .stall:
            if let seconds = fault.seconds {
                guard seconds >= 0 else { throw DRSSimAdminError("stall seconds must be zero or more (omit for forever)") }
                stored.seconds = clock.simulatedSeconds(forReal: seconds)
            }
            return (faults.add(stored, remaining: max(1, fault.count ?? 1)), nil)
        case .foreignJob:
            guard let account = fault.accountID, let region = fault.region,
                  let servers = fault.sourceServerIDs, !servers.isEmpty, let seconds = fault.seconds, seconds >= 0
            else {
                throw DRSSimAdminError("foreignJob needs accountID, region, sourceServerIDs and seconds")
            }
            let key = EstateKey(accountID: account, region: region)
            let now = clock.now(real: realNow)
            estates[key]?.advance(to: now, counters: &counters, format: behaviour.timestampFormat)
            do throws(DRSSimError) {
                let job = try createLaunchJob(
                    servers, isDrill: true, tags: ["drs-sim:foreign": "true"], key: key, now: now,
                    foreignSeconds: clock.simulatedSeconds(forReal: seconds)
                )
                counters.foreignJobsStarted += 1
                return (nil, job)
            } catch {
                throw DRSSimAdminError("foreignJob refused: \(error.message)", httpStatus: error.httpStatus == 404 ? 404 : 409)
            }
        }
    }

    /// Removes one fault; false if no fault has that id.
    public mutating func removeFault(id: String) -> Bool {
        faults.remove(id: id)
    }

    /// Removes every fault.
    public mutating func clearFaults() {
        faults.removeAll()
    }

    /// Faults in force.
    public var activeFaults: [ActiveFault] { faults.active }

    /// The state summary at `realNow`.
    public mutating func status(realNow: Date) -> DRSSimStatus {
        advanceAll(realNow: realNow)
        return DRSSimStatus(
            timeScale: clock.timeScale,
            simulatedNow: DRSDateTime.string(from: clock.now(real: realNow)),
            quotas: quotas,
            rateLimit: rateLimit,
            estates: estates.keys.sorted().compactMap { key in
                estates[key].map {
                    EstateStatus(
                        accountID: key.accountID, region: key.region, sourceServers: $0.servers.count,
                        jobs: $0.jobs.count, activeJobs: $0.activeJobIDs, recoveryInstances: $0.instances.count
                    )
                }
            },
            faults: faults.active
        )
    }

    /// Active jobs across all estates (for `/metrics`).
    public var activeJobCount: Int {
        estates.values.reduce(0) { $0 + $1.activeJobIDs.count }
    }
}
