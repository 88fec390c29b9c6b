import Cosim
import Cores
import Foundation
import Golden
import Runtime

/// One GEMM on the systolic array, compared element by element with the golden model.
public struct GEMMReport: Sendable, Codable {
    public let label: String
    public let m: Int
    public let n: Int
    public let k: Int
    public let tiles: Int
    /// From the first beat accepted to the last row of C delivered, inclusive.
    public let cycles: Int
    /// The analytic count of docs/SYSTOLIC.md (only meaningful when C is always ready).
    public let expectedCycles: Int
    public let macs: Int
    public let utilization: Double
    public let mismatches: Int
    public let firstMismatch: String?
    public let waveform: String?
    /// Rounded outputs against the exact real product.
    public let error: ErrorSummary
    public let simulatedMACsPerSecond: Double
    public let wallSeconds: Double
    public var passed: Bool { mismatches == 0 }
}

/// Error statistics in a JSON-safe form (SQNR is null when there is no error at all).
public struct ErrorSummary: Sendable, Codable {
    public let count: Int
    public let maxAbsError: Double
    public let rmse: Double
    public let meanError: Double
    public let sqnrDB: Double?
    /// Sums of squared errors and of squared exact values (what merging runs needs).
    public let errorEnergy: Double
    public let signalEnergy: Double

    public init(_ s: ErrorStats) {
        count = s.count
        maxAbsError = s.maxAbsError
        rmse = s.rmse
        meanError = s.meanError
        sqnrDB = s.sqnrDB.isFinite ? s.sqnrDB : nil
        errorEnergy = s.errorEnergy
        signalEnergy = s.signalEnergy
    }

    /// The figures of several runs taken together (not an average of their figures).
    public init(merging parts: [ErrorSummary]) {
        self.init(ErrorStats(merging: parts.map {
            ErrorStats(count: $0.count, maxAbsError: $0.maxAbsError, rmse: $0.rmse, meanError: $0.meanError,
                       errorEnergy: $0.errorEnergy, signalEnergy: $0.signalEnergy)
        }))
    }
}


/// A systolic array in Verilator and its golden model side by side, both kept running across
/// GEMMs (the LFSRs carry on, as in hardware): the harness streams, this compares.
public final class GEMMCheck {
    public let harness: SystolicHarness
    public var config: ArrayConfig { harness.config }
    /// What the codes of A and B stand for.
    public private(set) var codes: (a: OperandCode, b: OperandCode)
    var model: SystolicModel
    /// The outputs the hardware delivered in the last `run` (codes of the output format, or
    /// threshold bits), for a caller that feeds them on (a network's next layer).
    public private(set) var lastOutput: Matrix<Int128>?
    /// The dynamic shift in force (nil: dropBits).
    public private(set) var shift: Int?

    /// A codebook array runs with `codebook` as its table (default: `config.defaultCodebook`),
    /// loaded once. `backend` runs the array in Verilator or in process.
    public init(_ config: ArrayConfig, codebook: [Int128]? = nil, record: Bool = true, initialState: InitialState = .default,
                backend: SimulatorBackend = .verilator) throws {
        harness = try SystolicHarness(config, record: record, initialState: initialState, backend: backend)
        let table = codebook ?? config.defaultCodebook
        codes = config.operandCodes(codebook: table)
        if let table { try harness.load(codebook: table) }
        model = Self.model(config)
    }

    /// Random codes for an m×k A and a k×n B (for fixed point: integers over the whole format).
    public func random(m: Int, k: Int, n: Int, using g: inout SplitMix64) -> (Matrix<Int128>, Matrix<Int128>) {
        let (ca, cb) = (codes.a.codes, codes.b.codes)
        return (Matrix(rows: m, cols: k) { _, _ in Int128.random(in: ca, using: &g) },
                Matrix(rows: k, cols: n) { _, _ in Int128.random(in: cb, using: &g) })
    }

    static func model(_ c: ArrayConfig) -> SystolicModel {
        SystolicModel(rows: c.rows, cols: c.cols, a: c.a.golden, b: c.b.golden, accBits: c.accBits, output: c.output.golden,
                      mode: c.rounding, lfsrWidth: c.lfsrWidth, seed: c.seed,
                      draw: c.lfsrStep)
    }

    /// Holds `rst` for `cycles` edges, at any point of a run: the array and its golden model
    /// both start over (accumulators, FIFO, and the LFSRs from their seeds).
    public func reset(cycles: Int = 1) throws {
        try harness.reset(cycles: cycles)
        model = Self.model(config)
        model.setShift(shift)
    }

    /// Starts C = A·B and abandons it after `cycles` cycles, operands and results still in
    /// flight (for tests that reset in the middle of a GEMM). The golden model is not advanced.
    public func abandon(a: Matrix<Int128>, b: Matrix<Int128>, after cycles: Int) throws {
        try harness.abandon(a: a, b: b, after: cycles)
    }

    /// A codebook array's new table (a network's layers each bring their own), loaded into the
    /// array and into what the codes of B stand for.
    public func load(codebook table: [Int128]) throws {
        try harness.load(codebook: table)
        codes = config.operandCodes(codebook: table)
    }

    /// Dynamic fixed point: the array and the golden model drop `shift` bits (0...dropBits) for
    /// the GEMMs that follow, their LFSRs carrying on.
    public func setShift(_ shift: Int) throws {
        try harness.load(shift: shift)
        model.setShift(shift)
        self.shift = shift
    }

    /// Corner-case operands: for fixed point the harness's (`SystolicHarness.cornerCase`); for
    /// coded formats, rows of A at the lowest and highest code, columns of B at the lowest and
    /// highest code and one that walks through every code (every codebook entry, both exponent
    /// extremes, zero weights), the rest random.
    public func cornerCase(m: Int, k: Int, n: Int, seed: UInt64) -> (Matrix<Int128>, Matrix<Int128>) {
        if config.format == .fixed { return harness.cornerCase(m: m, k: k, n: n, seed: seed) }
        var g = SplitMix64(seed: seed)
        var (a, b) = random(m: m, k: k, n: n, using: &g)
        let (ca, cb) = (codes.a.codes, codes.b.codes)
        for p in 0..<k {
            if m > 0 { a[0, p] = ca.lowerBound }
            if m > 1 { a[1, p] = ca.upperBound }
            if n > 0 { b[p, 0] = cb.lowerBound }
            if n > 1 { b[p, 1] = cb.upperBound }
            if n > 2 { b[p, 2] = cb.lowerBound + Int128(p) % Int128(cb.count) }
        }
        return (a, b)
    }

    /// Random thresholds for n output columns of a K-term GEMM: T over the sums' range (±K for
    /// binary, ±K·max|a| for binary weights) and one past each end (every output the same),
    /// flip at random.
    public func randomThresholds(n: Int, k: Int, using g: inout SplitMix64) -> [Threshold] {
        let top = Int128(k) * max(abs(codes.a.value(codes.a.codes.lowerBound)), abs(codes.a.value(codes.a.codes.upperBound)))
        return (0..<n).map { _ in Threshold(Int128.random(in: (-top - 1)...(top + 1), using: &g), flip: Bool.random(using: &g)) }
    }

    /// Runs C = A·B (A: m×k, B: k×n, codes of the operand formats) and checks every element;
    /// an array with thresholds takes one per column of B (default: `randomThresholds` from
    /// a fixed seed).
    public func run(label: String, a: Matrix<Int128>, b: Matrix<Int128>, thresholds given: [Threshold]? = nil,
                    ready: ReadyPattern = .always) throws -> GEMMReport {
        var g = SplitMix64(seed: 0x7E57)
        let thresholds = config.thresholds ? given ?? randomThresholds(n: b.cols, k: a.cols, using: &g) : nil
        let start = Date()
        let (R, C) = (config.rows, config.cols)
        let m = a.rows, k = a.cols, n = b.cols
        let tilesN = (n + C - 1) / C
        let tiles = ((m + R - 1) / R) * tilesN
        let expectedCycles = config.expectedCycles(m: m, n: n, k: k)
        let simStart = Date()
        let delivery = try harness.deliver(a: a, b: b, thresholds: thresholds, ready: ready)
        lastOutput = delivery.c
        let simSeconds = Date().timeIntervalSince(simStart)
        let (va, vb) = (codes.a.values(a), codes.b.values(b))
        var golden = model.gemm(a: va, b: vb).c
        // A binary array with thresholds outputs (sum >= T) xor flip instead of rounding.
        if let thresholds {
            let sums = GEMMModel.multiply(a: va, b: vb, accBits: config.accBits, signed: true)
            golden = Matrix(rows: m, cols: n) { i, j in thresholds[j].activation(sums[i, j]) }
        }
        let fa = config.a.golden, fb = config.b.golden

        var mismatches = 0
        var first: String?
        func miss(_ text: @autoclosure () -> String) {
            mismatches += 1
            if first == nil { first = text() }
        }
        for problem in delivery.problems { miss(problem) }
        var hardware = [Double](), reference = [Double]()
        // With a dynamic shift the output's fractional length is the accumulator's minus the shift.
        let outputFrac = shift.map { config.accumulator.frac - $0 } ?? config.output.frac
        let scale = thresholds == nil ? pow(2.0, Double(-outputFrac)) : 1
        var exact = GEMMModel.realProduct(a: va, formatA: fa, b: vb, formatB: fb)
        if let thresholds {
            let unit = pow(2.0, Double(config.accumulator.frac))
            exact = Matrix(rows: m, cols: n) { i, j in Double(thresholds[j].activation(Int128((exact[i, j] * unit).rounded()))) }
        }
        for i in 0..<m {
            for j in 0..<n {
                guard let cycle = delivery.rowCycles[i * tilesN + j / C] else { continue }
                let got = delivery.c[i, j], want = golden[i, j]
                if got != want {
                    miss("C[\(i)][\(j)] (tile \((i / R) * tilesN + j / C), row \(i % R), column \(j % C), cycle \(cycle)): expected \(want), got \(got)")
                }
                hardware.append(Double(got) * scale)
                reference.append(exact[i, j])
            }
        }
        var wave: String?
        if mismatches > 0 {
            wave = try? harness.sim.dumpWaveform(to: waveformURL("\(config.moduleName)-\(label)".replacingOccurrences(of: " ", with: "_"))).path
        }
        let cycles = delivery.cycles
        let macs = m * n * k
        return GEMMReport(
            label: label, m: m, n: n, k: k, tiles: tiles, cycles: cycles, expectedCycles: expectedCycles, macs: macs,
            utilization: Double(macs) / Double(cycles * R * C), mismatches: mismatches, firstMismatch: first, waveform: wave,
            error: ErrorSummary(ErrorStats(reference: reference, actual: hardware)),
            simulatedMACsPerSecond: Double(tiles * R * C * k) / max(simSeconds, 1e-9),
            wallSeconds: Date().timeIntervalSince(start))
    }

}

extension ErrorSummary {
    /// Error statistics of `actual` against `reference` (e.g. a layer against ConvModel.real).
    public init(reference: [Double], actual: [Double]) { self.init(ErrorStats(reference: reference, actual: actual)) }
}
