import Cosim
import Cores
import Foundation
import Golden
import HDL
import Verilog

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

/// Emits a module hierarchy and describes its top-level ports for Verilator.
public func cosimDesign(_ top: ModuleDefinition) throws -> CosimDesign {
    let files = try VerilogEmitter.emit(top)
    return CosimDesign(
        top: top.name,
        sources: Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, $0.text) }),
        ports: top.ports.map { PortSpec(name: $0.name, width: $0.shape.width, direction: $0.direction == .input ? .input : .output) })
}

/// Where waveforms go: `$ACCELGEN_WAVES` or `.build/waveforms` under the current folder.
public func waveformURL(_ name: String) -> URL {
    let env = ProcessInfo.processInfo.environment["ACCELGEN_WAVES"]
    let dir = URL(fileURLWithPath: env ?? ".build/waveforms", isDirectory: true)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name + ".vcd").standardizedFileURL
}

/// Two's-complement words (least significant first) of `value` in `width` bits.
func words(_ value: Int128, width: Int) -> [UInt64] {
    let bits = UInt128(truncatingIfNeeded: value)
    let n = (width + 63) / 64
    var out: [UInt64] = []
    for i in 0..<n {
        var w = UInt64(truncatingIfNeeded: bits >> (64 * i))
        let remaining = width - 64 * i
        if remaining < 64 { w &= (UInt64(1) << remaining) - 1 }
        out.append(w)
    }
    return out
}

/// The integer held by `words` read as a `width`-bit signed or unsigned number.
func value(_ words: ArraySlice<UInt64>, width: Int, signed: Bool) -> Int128 {
    var bits: UInt128 = 0
    for (i, w) in words.enumerated() where i < 2 { bits |= UInt128(w) << (64 * i) }
    if width < 128 { bits &= (UInt128(1) << width) - 1 }
    if signed && width < 128 && (bits >> (width - 1)) & 1 == 1 {
        return Int128(bits) - (Int128(1) << width)
    }
    return Int128(truncatingIfNeeded: bits)
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

    func run(initialState: InitialState = .default, name: String, rows: [[Int128]],
             expect: (Int, [Int128]) -> [Int128?]) throws -> CheckReport {
        let start = Date()
        let shapes = Dictionary(uniqueKeysWithValues: top.ports.map { ($0.name, $0.shape) })
        let sim = try Simulation(design, initialState: initialState)
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

extension FixedPoint {
    /// The golden model's view of the same format.
    public var golden: FixedFormat { FixedFormat(wordLength: bits, fracLength: frac, signed: signed) }
}

/// Small deterministic generator (SplitMix64) so that every run with a seed is reproducible.
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension FixedFormat {
    /// A uniformly random integer of the format.
    func random(using g: inout SplitMix64) -> Int128 {
        Int128.random(in: minInt...maxInt, using: &g)
    }

    /// Extremes a test should always include.
    var corners: [Int128] {
        Array(Set([minInt, minInt + 1, -1, 0, 1, maxInt - 1, maxInt].filter(contains))).sorted()
    }
}
