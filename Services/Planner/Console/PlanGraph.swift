/// A plan's wave DAG laid out for SVG: a wave's column is the length of the
/// longest dependency chain before it, so every edge points right; waves of
/// one column stack downwards in plan order. Pure.
public struct PlanGraph: Sendable {
    /// One wave as a box.
    public struct Node: Sendable {
        public var number: Int, name: String, groups: String, gate: Bool, continueOnFailure: Bool
        public var x: Int, y: Int, width: Int, height: Int, textX: Int, nameY: Int, groupsY: Int, gateX: Int
    }
    /// One dependency as a cubic curve from the dependency's right edge to the dependant's left edge.
    public struct Edge: Sendable {
        public var path: String, from: String, to: String
    }
    /// The input: a wave, its groups' names and the 0-based indexes it depends on.
    public struct Wave: Sendable {
        public var name: String, groups: [String], dependsOn: [Int], pauseBefore: Bool, continueOnFailure: Bool
        public init(name: String, groups: [String], dependsOn: [Int], pauseBefore: Bool, continueOnFailure: Bool) {
            self.name = name; self.groups = groups; self.dependsOn = dependsOn; self.pauseBefore = pauseBefore
            self.continueOnFailure = continueOnFailure
        }
    }

    public var nodes: [Node], edges: [Edge], width: Int, height: Int
    /// A sentence describing the graph for screen readers.
    public var summary: String

    static let boxWidth = 180, boxHeight = 60, columnGap = 70, rowGap = 24, margin = 16

    /// Lays out `waves` (already validated as a DAG).
    public init(_ waves: [Wave]) {
        let depth = waves.indices.map { Self.depth(of: $0, waves) }
        var rowsUsed: [Int: Int] = [:]
        var nodes: [Node] = []
        for (index, wave) in waves.enumerated() {
            let column = depth[index], row = rowsUsed[column, default: 0]
            rowsUsed[column] = row + 1
            let x = Self.margin + column * (Self.boxWidth + Self.columnGap)
            let y = Self.margin + row * (Self.boxHeight + Self.rowGap)
            let groups = wave.groups.joined(separator: ", ")
            nodes.append(Node(number: index + 1, name: wave.name,
                              groups: groups.count > 26 ? String(groups.prefix(25)) + "…" : groups,
                              gate: wave.pauseBefore, continueOnFailure: wave.continueOnFailure, x: x, y: y,
                              width: Self.boxWidth, height: Self.boxHeight, textX: x + 10, nameY: y + 24,
                              groupsY: y + 44, gateX: x + Self.boxWidth - 22))
        }
        edges = waves.enumerated().flatMap { index, wave in
            wave.dependsOn.filter { nodes.indices.contains($0) }.map { dependency in
                let a = nodes[dependency], b = nodes[index]
                let x1 = a.x + a.width, y1 = a.y + a.height / 2, x2 = b.x - 6, y2 = b.y + b.height / 2
                let mid = (x1 + x2) / 2
                return Edge(path: "M\(x1),\(y1) C\(mid),\(y1) \(mid),\(y2) \(x2),\(y2)", from: a.name, to: b.name)
            }
        }
        self.nodes = nodes
        let columns = (depth.max() ?? 0) + 1, rows = rowsUsed.values.max() ?? 1
        width = 2 * Self.margin + columns * Self.boxWidth + (columns - 1) * Self.columnGap
        height = 2 * Self.margin + rows * Self.boxHeight + (rows - 1) * Self.rowGap
        summary = waves.isEmpty ? "No waves." : waves.enumerated().map { index, wave in
            let after = wave.dependsOn.compactMap { waves.indices.contains($0) ? waves[$0].name : nil }
            return "Wave \(index + 1) \(wave.name)" + (after.isEmpty ? " starts first" : " after \(after.joined(separator: ", "))")
                + (wave.pauseBefore ? ", with an approval gate" : "")
        }.joined(separator: "; ") + "."
    }

    /// The longest dependency chain before `index` (cycles, impossible in a validated plan, are cut).
    private static func depth(of index: Int, _ waves: [Wave], visiting: Set<Int> = []) -> Int {
        let parents = waves[index].dependsOn.filter { waves.indices.contains($0) && !visiting.contains($0) }
        guard !parents.isEmpty else { return 0 }
        return 1 + parents.map { depth(of: $0, waves, visiting: visiting.union([index])) }.max()!
    }
}
