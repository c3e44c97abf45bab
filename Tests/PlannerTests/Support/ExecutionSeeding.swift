import Foundation
import MusterPostgres
@testable import PlannerApp

extension PlannerTestApp {
    /// Ends an execution as COMPLETED at `endedAt`, ten minutes after its start, every server launched
    /// with a recovery instance (test seeding: the launch itself is covered by the execution tests).
    func complete(_ id: String, endedAt ended: Date) async throws {
        let uuid = UUID(uuidString: id)!
        let row = try await pool.query("SELECT state::text AS s FROM \(schema).executions WHERE id = $1", [uuid]).rows
        var state = try ExecutionStore.decode(try row[0].decode(String.self, "s"))
        state.createdAt = ended.addingTimeInterval(-600)
        state.endedAt = ended
        state.status = .completed
        for (index, key) in state.servers.keys.sorted().enumerated() {
            state.servers[key]?.status = .launched
            state.servers[key]?.postLaunch = .notApplicable
            state.servers[key]?.launchedAt = ended.addingTimeInterval(-60)
            state.servers[key]?.recoveryInstanceID = String(format: "i-%017x", index + 1)
        }
        for index in state.waves.indices {
            state.waves[index].status = .completed
            state.waves[index].startedAt = state.createdAt
            state.waves[index].endedAt = ended
        }
        try await pool.query(
            "UPDATE \(schema).executions SET status = 'COMPLETED', created_at = $2, ended_at = $3, state = $4 WHERE id = $1",
            [uuid, state.createdAt, ended, try ExecutionStore.document(state)])
        try await pool.query("UPDATE \(schema).execution_servers SET status = 'LAUNCHED' WHERE execution_id = $1", [uuid])
    }
}
