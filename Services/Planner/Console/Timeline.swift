import Foundation

/// An execution on a time axis for SVG: one row per wave then its servers,
/// bars from start to end (or now), the RTO target as a vertical line. Pure.
public struct Timeline: Sendable {
    /// One bar.
    public struct Row: Sendable {
        public var label: String, tone: String, y: Int, textY: Int, x: Int, barWidth: Int, wave: Bool
    }
    /// An axis tick.
    public struct Tick: Sendable { public var x: Int, label: String }

    public var rows: [Row], ticks: [Tick], width: Int, height: Int, axisY: Int
    public var rtoX: Int, hasRTO: Bool, rtoLabel: String, labelWidth: Int

    /// The input: a bar's label, status and times.
    public struct Bar: Sendable {
        public var label: String, status: String, start: Date?, end: Date?, wave: Bool
        public init(label: String, status: String, start: Date?, end: Date?, wave: Bool) {
            self.label = label; self.status = status; self.start = start; self.end = end; self.wave = wave
        }
    }

    static let labelWidth = 170, plotWidth = 560, rowHeight = 22

    /// Lays out `bars` from `origin` to `now` with an optional RTO target.
    public init(bars: [Bar], origin: Date, now: Date, rtoMinutes: Int?) {
        let rtoEnd = rtoMinutes.map { origin.addingTimeInterval(Double($0) * 60) }
        let lastEnd = bars.compactMap { $0.end ?? ($0.start == nil ? nil : now) }.max() ?? now
        let span = max(lastEnd.timeIntervalSince(origin), 1) * 1.1
        func x(_ date: Date) -> Int {
            Self.labelWidth + Int((date.timeIntervalSince(origin) / span * Double(Self.plotWidth)).rounded())
        }
        rows = bars.enumerated().map { index, bar in
            let y = 8 + index * Self.rowHeight
            let start = bar.start.map(x) ?? Self.labelWidth
            let end = bar.start == nil ? start : x(bar.end ?? now)
            return Row(label: bar.label, tone: Badge(bar.status).tone, y: y, textY: y + 14, x: start,
                       barWidth: max(end - start, bar.start == nil ? 0 : 2), wave: bar.wave)
        }
        axisY = 8 + bars.count * Self.rowHeight + 4
        height = axisY + 24
        width = Self.labelWidth + Self.plotWidth + 20
        labelWidth = Self.labelWidth
        ticks = (0...4).map { step in
            let seconds = span * Double(step) / 4
            return Tick(x: Self.labelWidth + Self.plotWidth * step / 4, label: Self.duration(seconds))
        }
        if let rtoEnd, rtoEnd.timeIntervalSince(origin) <= span {
            rtoX = x(rtoEnd); hasRTO = true
        } else {
            rtoX = 0; hasRTO = false
        }
        rtoLabel = rtoMinutes.map { "RTO \($0) min" } ?? ""
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? "\(total / 3600)h\(total % 3600 / 60)m" : total >= 60 ? "\(total / 60)m\(total % 60)s" : "\(total)s"
    }
}
