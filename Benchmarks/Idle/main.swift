// muster-bench-idle: the CPU an idle stack uses (no executions running): the
// four services and the broker, as started by scripts/stack.sh and
// scripts/infra.sh, sampled from /proc over BENCH_SECONDS (60). Prints, per
// process, the share of one core (user + system time ÷ wall time) and the
// wake-ups per second (voluntary context switches of all its threads), then
// the total of the four services and the broker, which the target is about
// (< 2 % of one core). drs-sim and PostgreSQL are printed apart: drs-sim stands
// in for AWS, and PostgreSQL's cost is the services' queries, shown for context.
// Then, per counted process, its threads grouped by name (librdkafka's rdk:main and
// rdk:broker…, the concurrency pool's dispatch threads, NIO, the broker's workers):
// which threads wake and spend the time.
// Run it through `scripts/bench.sh idle` (production profile) or against any
// running stack: MUSTER_STACK_DIR (.local/run/stack), MUSTER_INFRA_DIR (.local/run).
import Foundation

let environment = ProcessInfo.processInfo.environment
let root = FileManager.default.currentDirectoryPath
let stackDir = environment["MUSTER_STACK_DIR"] ?? "\(root)/.local/run/stack"
let infraDir = environment["MUSTER_INFRA_DIR"] ?? "\(root)/.local/run"
let seconds = Double(environment["BENCH_SECONDS"] ?? "60") ?? 60
let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

func readPID(_ path: String) -> Int32? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return Int32(text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "")
}

/// utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat; the
/// command name may hold spaces, so fields are counted after its closing parenthesis).
func cpuTicks(_ pid: Int32, task: Int32? = nil) -> Double? {
    let path = task.map { "/proc/\(pid)/task/\($0)/stat" } ?? "/proc/\(pid)/stat"
    guard let stat = try? String(contentsOfFile: path, encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return user + system
}

/// Voluntary context switches summed over the process's threads.
func wakeUps(_ pid: Int32) -> Double {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.reduce(0) { sum, task in
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { return sum }
        let line = status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
        return sum + (line.flatMap { Double($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0)
    }
}

/// The children of `parent` (PostgreSQL's backends), found by scanning /proc.
func children(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[2]) == parent
    }
}

/// Per thread of `pid`: its name (`comm`), CPU ticks and voluntary context switches.
func threads(_ pid: Int32) -> [Int32: (name: String, cpu: Double, wakes: Double)] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    var result: [Int32: (name: String, cpu: Double, wakes: Double)] = [:]
    for task in tasks {
        guard let tid = Int32(task), let cpu = cpuTicks(pid, task: tid),
              let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
        let lines = status.split(separator: "\n")
        let name = lines.first { $0.hasPrefix("Name:") }.map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) } ?? "?"
        let wakes = lines.first { $0.hasPrefix("voluntary_ctxt_switches:") }
            .flatMap { Double($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        result[tid] = (name, cpu, wakes)
    }
    return result
}

struct Watched {
    var name: String
    var pids: [Int32]
    var counted: Bool
}

var found: [Watched] = []
for name in ["planner", "launcher", "poller", "notifier"] {
    guard let pid = readPID("\(stackDir)/\(name).pid") else {
        print("muster-bench-idle: no \(stackDir)/\(name).pid — start the stack first (scripts/bench.sh idle does)")
        exit(2)
    }
    found.append(Watched(name: name, pids: [pid], counted: true))
}
guard let broker = readPID("\(infraDir)/kafka/pid") else {
    print("muster-bench-idle: no \(infraDir)/kafka/pid — start the infrastructure first")
    exit(2)
}
found.append(Watched(name: "broker (\(environment["MUSTER_BROKER"] ?? "tansu"))", pids: [broker], counted: true))
if let simulator = readPID("\(stackDir)/drs-sim.pid") {
    found.append(Watched(name: "drs-sim", pids: [simulator], counted: false))
}
if let postmaster = readPID("\(infraDir)/pg/data/postmaster.pid") {
    found.append(Watched(name: "postgresql (all backends)", pids: [postmaster] + children(of: postmaster), counted: false))
}

let watched = found

func sample(_ watched: [Watched]) -> [(cpu: Double, wakes: Double)] {
    watched.map { process in
        (process.pids.compactMap { cpuTicks($0) }.reduce(0, +), process.pids.map(wakeUps).reduce(0, +))
    }
}

print("muster-bench-idle: sampling \(watched.count) processes for \(Int(seconds)) s with no executions running")
let before = sample(watched)
let threadsBefore = watched.map { $0.counted ? threads($0.pids[0]) : [:] }
let started = Date()
Thread.sleep(forTimeInterval: seconds)
// PostgreSQL backends that came and went meanwhile are missed; those still there are counted in full.
let after = sample(watched)
let threadsAfter = watched.map { $0.counted ? threads($0.pids[0]) : [:] }
let elapsed = Date().timeIntervalSince(started)

func row(_ name: String, _ cpu: Double, _ wakes: Double) -> String {
    name.padding(toLength: 28, withPad: " ", startingAt: 0)
        + String(format: "%8.2f %%   %9.1f /s", cpu, wakes)
}
print("process                      % of a core   wake-ups")
var total = 0.0
var totalWakes = 0.0
for (index, process) in watched.enumerated() {
    let cpu = (after[index].cpu - before[index].cpu) / ticksPerSecond / elapsed * 100
    let wakes = (after[index].wakes - before[index].wakes) / elapsed
    print(row(process.name, cpu, wakes))
    if process.counted {
        total += cpu
        totalWakes += wakes
    }
}
print(row("total: 4 services + broker", total, totalWakes))
print(String(format: "target: < 2 %% of one core — %@", total < 2 ? "met" : "NOT met"))

print("\nthreads of each counted process, grouped by name (threads that neither ran nor woke are left out):")
for (index, process) in watched.enumerated() where process.counted {
    var groups: [String: (count: Int, cpu: Double, wakes: Double)] = [:]
    for (tid, now) in threadsAfter[index] {
        let then = threadsBefore[index][tid]
        var group = groups[now.name] ?? (0, 0, 0)
        group.count += 1
        group.cpu += (now.cpu - (then?.cpu ?? 0)) / ticksPerSecond / elapsed * 100
        group.wakes += (now.wakes - (then?.wakes ?? 0)) / elapsed
        groups[now.name] = group
    }
    print("  \(process.name):")
    for (name, group) in groups.sorted(by: { $0.value.wakes > $1.value.wakes }) where group.cpu > 0 || group.wakes >= 0.05 {
        print(row("    \(name) ×\(group.count)", group.cpu, group.wakes))
    }
}
