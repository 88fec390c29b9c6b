import Cosim
import Foundation
import HDL
import Runtime

/// The outcome of co-simulating one design against its golden model.
public struct CheckReport: Sendable, Codable, CustomStringConvertible {
    public let design: String
    public let cycles: Int
    public let comparisons: Int
    public let mismatches: Int
    /// The first disagreement: cycle, port, expected and got.
    public let firstMismatch: String?
    /// VCD of the whole run, written when a comparison failed or on request.
    public let waveform: String?
    public let seconds: Double
    public var passed: Bool { mismatches == 0 }

    public var description: String {
        var s = "\(passed ? "PASS" : "FAIL") \(design): \(cycles) cycles, \(comparisons) values compared, \(mismatches) mismatches"
        if let m = firstMismatch { s += "\n  first mismatch: \(m)" }
        if let w = waveform { s += "\n  waveform: \(w)" }
        return s
    }
}

/// Drives a design cycle by cycle in bulk and compares every sampled output with a model.
///
/// `rows[c]` holds the input values for cycle c in the order of `inputs`; outputs are sampled
/// after the inputs settle and before the clock edge. `expect(c, sampled)` returns the
/// expected value for each output (nil: don't care) and advances the model by one edge.
struct BulkComparison {
    let design: CosimDesign
    let top: ModuleDefinition
    let inputs: [String]
    let outputs: [String]
    /// Verilator (the default) or the in-process simulator.
    var backend: SimulatorBackend = .verilator

    func run(initialState: InitialState = .default, name: String, rows: [[Int128]],
             expect: (Int, [Int128]) -> [Int128?]) throws -> CheckReport {
        let start = Date()
        let shapes = Dictionary(uniqueKeysWithValues: top.ports.map { ($0.name, $0.shape) })
        let sim: any CycleSimulator = backend == .verilator
            ? try Simulation(design, initialState: initialState) : try backend.start(top, initialState: initialState)
        defer { sim.close() }
        var stimulus: [[UInt64]] = []
        stimulus.reserveCapacity(rows.count)
        for row in rows {
            var flat: [UInt64] = []
            for (port, v) in zip(inputs, row) { flat += words(v, width: shapes[port]!.width) }
            stimulus.append(flat)
        }
        let results = try sim.run(inputs: inputs, values: stimulus, outputs: outputs)
        var mismatches = 0
        var comparisons = 0
        var first: String?
        for (c, row) in results.enumerated() {
            var sampled: [Int128] = []
            var offset = 0
            for port in outputs {
                let shape = shapes[port]!
                let n = (shape.width + 63) / 64
                sampled.append(value(row[offset..<(offset + n)], width: shape.width, signed: shape.isSigned))
                offset += n
            }
            for (i, want) in expect(c, sampled).enumerated() {
                guard let want else { continue }
                comparisons += 1
                if want != sampled[i] {
                    mismatches += 1
                    if first == nil {
                        let inputsText = zip(inputs, rows[c]).map { "\($0)=\($1)" }.joined(separator: " ")
                        first = "cycle \(c): \(outputs[i]) expected \(want), got \(sampled[i]) (inputs \(inputsText))"
                    }
                }
            }
        }
        var wave: String?
        if mismatches > 0 {
            wave = try? sim.dumpWaveform(to: waveformURL(name.replacingOccurrences(of: " ", with: "_"))).path
        }
        return CheckReport(design: name, cycles: rows.count, comparisons: comparisons, mismatches: mismatches,
                           firstMismatch: first, waveform: wave, seconds: Date().timeIntervalSince(start))
    }
}
