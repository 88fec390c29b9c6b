import Foundation
import HDL
import Runtime
import Verilog

/// A fuzzing run: batches of random circuits, each checked against the tools; the first
/// failure is shrunk and printed.
public struct Campaign {
    public var seed: UInt64 = 1
    public var circuits = 1000
    public var batchSize = 500
    public var cycles = 24
    public var tools: [Tool] = Tool.allCases
    /// Extra arguments of the Verilator builds: by default, the workarounds for Verilator 5.006.
    public var verilatorFlags = Batch.verilatorFlags
    public var lint = true
    /// Lint one batch in this many (a lint costs about as much as a Verilator build).
    public var lintEvery = 10
    public var shrink = true
    public var generator = CircuitGenerator()
    package var mutation: CircuitSimulator.Mutation?
    public var log: (String) -> Void = { print($0) }

    public init() {}

    public struct Summary: Sendable {
        /// Circuits checked against every tool.
        public var circuits = 0
        /// Circuits with at least one mismatching output.
        public var mismatchingCircuits = 0
        /// Generated circuits the DSL refused to elaborate.
        public var elaborationFailures = 0
        public var seconds: [String: Double] = [:]
        /// The shrunk failing circuit, its Verilog and how it differs; a circuit that did not
        /// elaborate. Empty when nothing failed.
        public var reports: [String] = []
    }

    /// The seed of batch `b`'s circuits and stimulus.
    func batchSeed(_ b: Int) -> UInt64 {
        var r = SplitMix64(seed: seed ^ (UInt64(b) &* 0xD1B5_4A32_D192_ED03))
        return r.next()
    }

    public func run() throws -> Summary {
        var summary = Summary()
        var checker = Checker(tools: tools, lint: lint, mutation: mutation)
        checker.verilatorFlags = verilatorFlags
        let start = Date()
        var b = 0
        while summary.circuits < circuits {
            let count = min(batchSize, circuits - summary.circuits)
            var rng = SplitMix64(seed: batchSeed(b))
            var list: [FuzzCircuit] = []
            for _ in 0..<count {
                let c = try generator.circuit(&rng)
                do {
                    _ = try CircuitBuilder.define(c, name: "probe")
                    list.append(c)
                } catch {
                    summary.elaborationFailures += 1
                    if summary.elaborationFailures == 1 {
                        summary.reports.append("a generated circuit does not elaborate (batch \(b)):\n\(error)\n\n" + Listing.text(c))
                    }
                }
            }
            let batch = Batch(circuits: list, cycles: cycles, stimulusSeed: rng.next())
            checker.lint = lint && b % max(1, lintEvery) == 0
            let mismatches = try checker.check(batch)
            summary.circuits += count
            let bad = Set(mismatches.map(\.circuit))
            summary.mismatchingCircuits += bad.count
            log("batch \(b + 1): \(count) circuits x \(cycles) cycles, \(bad.count) mismatching; \(summary.circuits) checked, "
                + "\(summary.mismatchingCircuits) mismatching so far (\(Int(Date().timeIntervalSince(start))) s)")
            if let first = mismatches.first {
                // Stop at the first failing batch: its circuit, shrunk, is the report.
                summary.reports.append(shrink ? try explain(batch, first, checker: checker) : describe(batch, [first]))
                break
            }
            b += 1
        }
        summary.seconds = checker.seconds
        summary.seconds["total"] = Date().timeIntervalSince(start)
        return summary
    }

    /// Shrinks the failing circuit with the tool that disagreed, then describes it.
    func explain(_ batch: Batch, _ first: Mismatch, checker: Checker) throws -> String {
        var single = checker
        single.tools = [first.tool]
        single.lint = false
        var shrinker = Shrinker(checker: single, cycles: batch.cycles, stimulusSeed: batch.stimulusSeed)
        shrinker.log = log
        log("shrinking circuit \(first.circuit) (\(batch.circuits[first.circuit].size) nodes), mismatching in \(first.tool.rawValue)")
        let isolated = try shrinker.isolate(batch.circuits, failing: first.circuit)
        guard isolated.count == 1 else {
            return "the batch fails only as a whole (\(isolated.count) circuits):\n" + describe(Batch(circuits: isolated, cycles: batch.cycles, stimulusSeed: batch.stimulusSeed), [first])
        }
        let small = try shrinker.shrink(isolated[0])
        let final = Batch(circuits: [small], cycles: batch.cycles, stimulusSeed: batch.stimulusSeed)
        return describe(final, try single.check(final))
    }

    /// The first mismatch of circuit 0 of `batch`, its inputs up to then, and its Verilog.
    func describe(_ batch: Batch, _ mismatches: [Mismatch]) -> String {
        guard let m = mismatches.first else { return "(the mismatch did not reproduce)" }
        let circuit = batch.circuits[m.circuit]
        var text = "MISMATCH against \(m.tool.rawValue): circuit \(m.circuit), cycle \(m.cycle)\n"
        guard let definition = try? CircuitBuilder.define(circuit, name: Batch.moduleName(m.circuit)) else { return text }
        // The circuit's outputs, concatenated with the first most significant.
        var position = definition.ports.filter { $0.direction == .output }.reduce(0) { $0 + $1.shape.width }
        for port in definition.ports where port.direction == .output {
            position -= port.shape.width
            let want = Listing.bits(m.expected, from: position, width: port.shape.width)
            let got = m.got.map { Listing.bits($0, from: position, width: port.shape.width) }
            let mark = want == got ? "" : "   <-- differs"
            text += "  \(port.name) (\(port.shape)): simulator \(want), \(m.tool.rawValue) \(got ?? "x")\(mark)\n"
        }
        text += "inputs (rst, then each input of the circuit) per cycle:\n"
        let rows = batch.stimulus()
        for c in 0...m.cycle {
            var line = "  cycle \(c): rst=\(rows[c][0])"
            var j = 0
            for node in circuit.nodes {
                guard case .input(let shape, let offset) = node else { continue }
                let (lo, w) = Batch.slice(shape, offset: offset)
                line += " i\(j)=\(Listing.bits(Array(rows[c].dropFirst()), from: lo, width: min(w, shape.width)))"
                j += 1
            }
            text += line + "\n"
        }
        if let files = try? VerilogEmitter.emit(definition) {
            text += "\n" + files.map(\.text).joined(separator: "\n")
        }
        return text
    }
}

/// Text helpers for reports.
enum Listing {
    /// Bits `from ..< from + width` of the words, as hex.
    static func bits(_ words: [UInt64], from: Int, width: Int) -> String {
        var digits: [String] = []
        var i = 0
        while i < width {
            let n = min(64, width - i)
            let p = from + i
            var v = p / 64 < words.count ? words[p / 64] >> UInt64(p % 64) : 0
            if p % 64 > 0 && p / 64 + 1 < words.count { v |= words[p / 64 + 1] << UInt64(64 - p % 64) }
            if n < 64 { v &= (1 << UInt64(n)) - 1 }
            digits.append(hex(v, digits: (n + 3) / 4))
            i += 64
        }
        return "0x" + digits.reversed().joined()
    }

    /// The circuit as data, one node per line.
    static func text(_ c: FuzzCircuit, indent: String = "") -> String {
        var t = ""
        for (i, node) in c.nodes.enumerated() { t += "\(indent)n\(i) = \(node)\n" }
        t += "\(indent)outputs: \(c.outputs.map { "n\($0)" }.joined(separator: ", "))\n"
        for (k, m) in c.memories.enumerated() {
            t += "\(indent)mem\(k): \(m.width) x \(m.depth), writes \(m.writes.map { "(en n\($0.enable), addr n\($0.address), data n\($0.data))" })\n"
        }
        for (k, child) in c.children.enumerated() { t += "\(indent)child \(k):\n" + text(child, indent: indent + "  ") }
        return t
    }
}
