/// The dependency graph of a plan's waves: must be a DAG. Pure.
enum WaveGraph {
    /// The first cycle found, as wave indices in order (the first repeated at
    /// the end), or nil when the graph is acyclic. `edges[i]` are the waves
    /// wave `i` depends on.
    static func findCycle(_ edges: [[Int]]) -> [Int]? {
        enum Mark { case unvisited, visiting, done }
        var marks = Array(repeating: Mark.unvisited, count: edges.count)
        var stack: [Int] = []

        func visit(_ node: Int) -> [Int]? {
            marks[node] = .visiting
            stack.append(node)
            for next in edges[node] {
                switch marks[next] {
                case .visiting:
                    let start = stack.firstIndex(of: next)!
                    return Array(stack[start...]) + [next]
                case .unvisited:
                    if let cycle = visit(next) { return cycle }
                case .done:
                    break
                }
            }
            stack.removeLast()
            marks[node] = .done
            return nil
        }

        for node in edges.indices where marks[node] == .unvisited {
            if let cycle = visit(node) { return cycle }
        }
        return nil
    }
}
