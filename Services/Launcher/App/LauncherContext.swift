import Foundation
import Logging
import MusterDomain
import MusterMessaging
import MusterPostgres
import Synchronization

/// Test seams. `afterStartRecovery` runs right after StartRecovery returned
/// a job and before its id is stored; throwing `LauncherCrash` there ends the
/// scheduler as if the process died on that line.
public struct LauncherHooks: Sendable {
    /// Called with the new job id.
    public var afterStartRecovery: @Sendable (_ jobID: JobID) throws -> Void
    /// Called after the launch intent is written and before the request leaves
    /// (throwing `LauncherCrash` there: a crash with the request never sent).
    public var beforeSend: @Sendable () throws -> Void
    /// Called after a chunk's launch settings were changed and before its request leaves.
    public var afterApplyingSettings: @Sendable () throws -> Void
    /// Called after a server's settings were put back and before the restore is marked done.
    public var beforeClosingRestore: @Sendable (_ sourceServerID: SourceServerID) throws -> Void
    /// Called after an SSM step's start intent is stored and before StartAutomationExecution leaves.
    public var beforeSSMStart: @Sendable (_ stepName: String) throws -> Void
    /// Called after StartAutomationExecution answered and before the automation id is stored.
    public var afterSSMStart: @Sendable (_ automationID: String) throws -> Void

    /// No seams.
    public init(
        afterStartRecovery: @escaping @Sendable (_ jobID: JobID) throws -> Void = { _ in },
        beforeSend: @escaping @Sendable () throws -> Void = {},
        afterApplyingSettings: @escaping @Sendable () throws -> Void = {},
        beforeClosingRestore: @escaping @Sendable (_ sourceServerID: SourceServerID) throws -> Void = { _ in },
        beforeSSMStart: @escaping @Sendable (_ stepName: String) throws -> Void = { _ in },
        afterSSMStart: @escaping @Sendable (_ automationID: String) throws -> Void = { _ in }
    ) {
        self.beforeSSMStart = beforeSSMStart
        self.afterSSMStart = afterSSMStart
        self.afterStartRecovery = afterStartRecovery
        self.beforeSend = beforeSend
        self.afterApplyingSettings = afterApplyingSettings
        self.beforeClosingRestore = beforeClosingRestore
    }
}

/// Thrown from a hook to simulate the process dying: the scheduler stops at once.
public struct LauncherCrash: Error, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// What happened.
    public var description: String { "simulated launcher crash" }
}

/// What every part of the launcher shares.
final class LauncherContext: Sendable {
    let instanceID: String
    let configuration: LauncherConfiguration
    let pool: PostgresPool
    let store: LaunchStore
    let jobs: JobStore
    let inventoryStore: InventoryStore
    let gate: DRSGate
    let accounts: AccountDirectory
    let launchConfiguration: LaunchConfigurationCheck
    let hooks: LauncherHooks
    let logger: Logger
    /// Wakes the outbox relay after a commit that enqueued events.
    let wakeRelay: @Sendable () -> Void
    /// Chunks this process is calling StartRecovery for right now: never orphans.
    let inFlight = Mutex<Set<Int64>>([])
    /// Which endpoints this instance may act for (the consumer group's assignment).
    let ownership = Ownership()
    /// The chunk lifecycle's rules.
    let lifecycle: ChunkLifecycle
    /// How long an ambiguous request may still land.
    let reconcileWindow: Reconciler.Window

    init(
        instanceID: String, configuration: LauncherConfiguration, pool: PostgresPool, store: LaunchStore, gate: DRSGate,
        accounts: AccountDirectory, launchConfiguration: LaunchConfigurationCheck, hooks: LauncherHooks, logger: Logger,
        wakeRelay: @escaping @Sendable () -> Void
    ) {
        self.instanceID = instanceID
        self.configuration = configuration
        self.pool = pool
        self.store = store
        self.jobs = JobStore(launch: store)
        self.inventoryStore = InventoryStore(launch: store)
        self.lifecycle = ChunkLifecycle(
            conflict: configuration.conflict, quotaDelay: max(1, 10 * configuration.conflict.scale), throttleDelay: 1)
        self.reconcileWindow = Reconciler.Window(
            clientTimeout: LauncherConfiguration.seconds(configuration.drsTimeout),
            margin: LauncherConfiguration.seconds(configuration.ambiguityMargin),
            recheck: LauncherConfiguration.seconds(configuration.reconcileInterval))
        self.gate = gate
        self.accounts = accounts
        self.launchConfiguration = launchConfiguration
        self.hooks = hooks
        self.logger = logger
        self.wakeRelay = wakeRelay
    }
}
