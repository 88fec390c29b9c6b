import Conv
import Cores
import Dataflows
import Foundation
import Networks

/// A refused sweep flag or config-file entry: one line naming it, its value and what is allowed
/// (the command line prints it and exits with status 2).
public struct SweepUsageError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public init(flag: String, value: String, allowed: String) {
        message = "invalid value \(value) for --\(flag): allowed \(allowed)"
    }
    public var description: String { message }
}

/// One value of the `--format` dimension (docs/SWEEP.md, "Number formats"): fixed point at the
/// grid's input bits (`fixed`) or at its own (`fixed<N>`: A and B N bits, whatever the grid's
/// input bits), or a number format of the PEs applied to the grid's input bits.
public enum SweepFormat: Hashable, Sendable, Codable, CustomStringConvertible {
    case fixed(bits: Int?)
    case coded(NumberFormat)

    /// What `--format` accepts, for refusals.
    public static let allowed = "comma-separated fixed, fixed<\(NumberFormat.fixedBitsRange.lowerBound)..\(NumberFormat.fixedBitsRange.upperBound)>, " + NumberFormat.allowed(except: ["fixed"])

    public init?(_ text: String) {
        if text == "fixed" {
            self = .fixed(bits: nil)
        } else if text.hasPrefix("fixed") {
            guard let n = Int(text.dropFirst(5)), String(n) == text.dropFirst(5), NumberFormat.fixedBitsRange.contains(n) else { return nil }
            self = .fixed(bits: n)
        } else if let f = NumberFormat(text), f != .fixed {
            self = .coded(f)
        } else {
            return nil
        }
    }

    /// Whether A takes the grid's input bits: not for `fixed<N>` (its own bits) nor binary (±1).
    public var usesInputBits: Bool {
        switch self {
        case .fixed(let bits): bits == nil
        case .coded(let f): f != .binary
        }
    }

    public var description: String {
        switch self {
        case .fixed(let bits): "fixed" + (bits.map(String.init) ?? "")
        case .coded(let f): f.description
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let f = SweepFormat(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown sweep format '\(text)'"))
        }
        self = f
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// One sub-grid: the cartesian product of its lists, in the order
/// dataflow, rows, cols, input bits, output bits, rounding, input frac, output frac, format,
/// PE pipeline, ROUND pipeline;
/// every point runs the sub-grid's one workload, and its stochastic points the one `lfsrStep`.
///
/// `nil` lists take the derived defaults of `Grid.config` (docs/SWEEP.md, "Fractional bits"):
/// `cols` nil means square arrays (cols = rows), `outputBits` nil means output bits = input
/// bits, `inputFrac`/`outputFrac` nil mean the rule, `format` nil means fixed point at the
/// input bits (the grid as it was before formats).
public struct SubGrid: Hashable, Sendable, Codable {
    public var dataflow: [Dataflow]
    public var rows: [Int]
    public var cols: [Int]?
    public var inputBits: [Int]
    public var outputBits: [Int]?
    public var rounding: [RoundingMode]
    public var inputFrac: [Int]?
    public var outputFrac: [Int]?
    public var workload: WorkloadKind
    public var lfsrStep: LFSRDraw
    public var format: [SweepFormat]?
    /// Network workloads only: test images the golden network classifies for the accuracy
    /// (nil: all 10,000) and images the hardware co-simulates (nil: 32).
    public var accuracyImages: Int?
    public var hardwareImages: Int?
    /// Pipeline stages of the PEs and of the ROUND units (docs/TIMING.md; nil: [0]). GEMM and
    /// convolution points on the output-stationary array only.
    public var pePipeline: [Int]?
    public var roundPipeline: [Int]?

    public init(dataflow: [Dataflow] = [.os], rows: [Int], cols: [Int]? = nil, inputBits: [Int], outputBits: [Int]? = nil,
                rounding: [RoundingMode], inputFrac: [Int]? = nil, outputFrac: [Int]? = nil, workload: WorkloadKind = .gemm,
                lfsrStep: LFSRDraw = .leap, format: [SweepFormat]? = nil, accuracyImages: Int? = nil, hardwareImages: Int? = nil,
                pePipeline: [Int]? = nil, roundPipeline: [Int]? = nil) {
        self.pePipeline = pePipeline
        self.roundPipeline = roundPipeline
        self.accuracyImages = accuracyImages
        self.hardwareImages = hardwareImages
        self.workload = workload
        self.lfsrStep = lfsrStep
        self.format = format
        self.dataflow = dataflow
        self.rows = rows
        self.cols = cols
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.rounding = rounding
        self.inputFrac = inputFrac
        self.outputFrac = outputFrac
    }
}

public enum Grid {
    /// Dataflows a workload can run on: GEMMs on the output-stationary systolic array;
    /// convolution layers on the OS (im2col), weight-stationary and row-stationary PE arrays;
    /// networks on every dataflow that runs some network format (the registry's capabilities).
    public static func dataflows(for workload: WorkloadKind) -> [Dataflow] {
        switch workload {
        case .gemm: [.os]
        case .conv: Dataflows.all.map(\.dataflow)
        case .lenet5, .mlp: Dataflows.all.filter { !$0.capabilities.networkFormats.isEmpty }.map(\.dataflow)
        }
    }

    /// The formats each dataflow builds, for help texts.
    public static var formatsByDataflow: String { Dataflows.formatsByDataflow(\.formats) }

    /// The network formats each dataflow runs, for help texts.
    public static var networkFormatsByDataflow: String { Dataflows.formatsByDataflow(\.networkFormats) }

    /// What a sub-grid without a dataflow list runs: all of its workload's, but networks on the
    /// systolic array only (each other dataflow builds an array per layer shift: ask for it).
    public static func defaultDataflows(for workload: WorkloadKind) -> [Dataflow] {
        workload.isNetwork ? [.os] : dataflows(for: workload)
    }

    /// What `--dataflow` accepts with `workload`, for refusals: the other workload's list too,
    /// so a user who asked for `ws` with GEMMs learns which flag to add.
    static func allowedDataflows(_ workload: WorkloadKind, workloadKey: String = "--workload") -> String {
        // The asked workload first, then the array workloads (a network runs on os only).
        ([workload] + [WorkloadKind.gemm, .conv].filter { $0 != workload }).map { w in
            dataflows(for: w).map(\.rawValue).joined(separator: ", ") + " with \(workloadKey) \(w.rawValue)"
        }.joined(separator: "; ")
    }

    /// Integer bits (beyond the sign) every derived output format keeps: outputs span
    /// [-128, 128), which holds the sums of the fixed workload (inputs in [-2, 2), K <= 300:
    /// standard deviation about 23) with saturation only past 5 standard deviations.
    public static let outputIntegerBits = 7

    /// The default grid: square arrays 2...32 at 4, 8 and 16 bits with stochastic rounding,
    /// plus the 8×8 array at 4, 8 and 16 bits with every rounding mode (21 points).
    public static let defaultGrid: [SubGrid] = [
        SubGrid(rows: [2, 4, 8, 16, 32], inputBits: [4, 8, 16], rounding: [.stochastic]),
        SubGrid(rows: [8], cols: [8], inputBits: [4, 8, 16], rounding: [.truncate, .nearest, .stochastic]),
    ]

    /// The design of one grid point. A and B share the format `s<bits>.<bits-2>` (values in
    /// [-2, 2)); C is `s<outputBits>.<outputBits-8>` (7 integer bits, see `outputIntegerBits`)
    /// but never keeps more fractional bits than the accumulator has, so rounding drops
    /// `2·inputFrac - outputFrac >= 0` bits; each column's LFSR has at least 16 bits and at least
    /// the dropped bits (at most 32). Explicit fracs override the rule. `lfsrStep` applies to
    /// stochastic rounding only (other modes keep the default, so they have one config).
    ///
    /// With a number format (docs/SWEEP.md, "Number formats"): `fixed<N>` is the rule at N input
    /// bits. Every other format keeps A at the input bits, `s<b>.<b-2>` (binary: ±1, two signed
    /// bits, fraction 0), and gives B the scale that keeps its values in [-2, 2) as well: ±1 and
    /// {-1, 0, +1} fraction 0, powers of two up to 2^(2^E-2) fraction 2^E - 2 (so the largest is
    /// 1), a codebook's entries A's format. C follows the rule with the accumulator's fraction
    /// (A's plus B's) in place of `2·inputFrac`.
    public static func config(rows: Int, cols: Int, inputBits: Int, outputBits: Int? = nil, rounding: RoundingMode,
                              inputFrac: Int? = nil, outputFrac: Int? = nil, lfsrStep: LFSRDraw = .leap,
                              format: SweepFormat = .fixed(bits: nil)) -> ArrayConfig {
        let number: NumberFormat
        switch format {
        case .fixed(let bits):
            if let bits, bits != inputBits {
                return config(rows: rows, cols: cols, inputBits: bits, outputBits: outputBits, rounding: rounding,
                              inputFrac: inputFrac, outputFrac: outputFrac, lfsrStep: lfsrStep)
            }
            number = .fixed
        case .coded(let f):
            number = f
        }
        if number != .fixed {
            let aFrac = inputFrac ?? (number == .binary ? 0 : inputBits - 2)
            let bFrac: Int
            switch number {
            case .binary, .binaryWeights, .ternary: bFrac = 0
            case .powerOfTwo(let e): bFrac = (1 << e) - 2
            case .fixed, .codebook: bFrac = aFrac
            }
            let outBits = outputBits ?? inputBits
            let outFrac = outputFrac ?? min(outBits - 1 - outputIntegerBits, aFrac + bFrac)
            let drop = aFrac + bFrac - outFrac
            return ArrayConfig(rows: rows, cols: cols, a: FixedPoint(bits: inputBits, frac: aFrac), b: FixedPoint(bits: inputBits, frac: bFrac),
                               output: FixedPoint(bits: outBits, frac: outFrac), rounding: rounding,
                               lfsrWidth: min(32, max(16, drop)), seed: 1, lfsrStep: rounding == .stochastic ? lfsrStep : .leap,
                               format: number)
        }
        let inFrac = inputFrac ?? inputBits - 2
        let outBits = outputBits ?? inputBits
        let outFrac = outputFrac ?? min(outBits - 1 - outputIntegerBits, 2 * inFrac)
        let drop = 2 * inFrac - outFrac
        let input = FixedPoint(bits: inputBits, frac: inFrac)
        return ArrayConfig(rows: rows, cols: cols, a: input, b: input, output: FixedPoint(bits: outBits, frac: outFrac),
                              rounding: rounding, lfsrWidth: min(32, max(16, drop)), seed: 1,
                              lfsrStep: rounding == .stochastic ? lfsrStep : .leap)
    }

    /// Every point of the sub-grids in order, deduplicated by key (the first occurrence keeps
    /// its place), indexed 0, 1, 2, ...; combinations a dataflow cannot build are left out
    /// (`plan` says which).
    public static func points(_ grids: [SubGrid]) -> [SweepPoint] { plan(grids).points }

    /// The points, and one line for each combination of dataflow and number format that was
    /// left out because the dataflow refuses the format (row stationary builds fixed point
    /// only; binary activations have no zero, so no convolution point, which gates zeros and
    /// pads, runs them): the refusal of the dataflow's `validate`, which names `--format`.
    public static func plan(_ grids: [SubGrid]) -> (points: [SweepPoint], skipped: [String]) {
        var seen = Set<String>()
        var out: [SweepPoint] = []
        var skipped: [String] = []
        for g in grids {
            // A network point's design: fixed<N> at N bits, other formats at 8-bit activations
            // (the quantizer's); its weights and image counts.
            let run = g.workload.isNetwork ? NetworkWorkload.runSpec(g) : nil
            for dataflow in g.dataflow {
                for rows in g.rows {
                    for cols in g.cols ?? [rows] {
                        for bits in g.inputBits {
                            for outBits in g.outputBits ?? [bits] {
                                for rounding in g.rounding {
                                    for inFrac in g.inputFrac.map({ $0.map(Optional.some) }) ?? [nil] {
                                        for outFrac in g.outputFrac.map({ $0.map(Optional.some) }) ?? [nil] {
                                            for format in g.format ?? [.fixed(bits: run == nil ? nil : 8)] {
                                            for pe in g.pePipeline ?? [0] {
                                            for round in g.roundPipeline ?? [0] {
                                                var c = run == nil
                                                    ? config(rows: rows, cols: cols, inputBits: bits, outputBits: outBits,
                                                             rounding: rounding, inputFrac: inFrac, outputFrac: outFrac, lfsrStep: g.lfsrStep,
                                                             format: format)
                                                    : NetworkWorkload.config(rows: rows, cols: cols, rounding: rounding, lfsrStep: g.lfsrStep,
                                                                             format: format, fixedBits: bits)
                                                (c.pePipeline, c.roundPipeline) = (pe, round)
                                                let p = SweepPoint(index: out.count, dataflow: dataflow, config: c, workload: g.workload,
                                                                   network: run)
                                                guard !seen.contains(p.key) else { continue }
                                                if let why = refusedFormat(p) {
                                                    let line = "\(g.workload.rawValue) \(dataflow) with \(c.format) (allowed: \(why))"
                                                    if !skipped.contains(line) { skipped.append(line) }
                                                    continue
                                                }
                                                if (pe, round) != (0, 0), Dataflows.entry(dataflow)?.capabilities.pipelining != true {
                                                    let line = "\(g.workload.rawValue) \(dataflow) with pipelining (allowed: \(Dataflows.offering { $0.pipelining }))"
                                                    if !skipped.contains(line) { skipped.append(line) }
                                                    continue
                                                }
                                                seen.insert(p.key)
                                                out.append(p)
                                            }
                                            }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (out, skipped)
    }

    /// Why the point's dataflow does not build its number format (nil for fixed point, and
    /// for any other refusal, which stays the point's own `error`).
    static func refusedFormat(_ p: SweepPoint) -> String? {
        guard p.config.format != .fixed else { return nil }
        do {
            switch p.workload {
            case .gemm: try p.config.validate()
            case .conv: try p.design()?.validate()
            case .lenet5, .mlp:
                try Dataflows.checkNetwork(format: p.config.format, spelled: p.schemeName, on: p.dataflow) {
                    QuantizationScheme.allowedNames(families: $0)
                }
            }
        } catch let e as ParameterError where e.parameter == "format" {
            return e.allowed
        } catch {}
        return nil
    }

    // MARK: - Parsing

    /// A comma-separated list of integers, each in `range`.
    public static func intList(_ text: String, flag: String, range: ClosedRange<Int>) throws -> [Int] {
        let allowed = "comma-separated integers in \(range.lowerBound)...\(range.upperBound)"
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty else { throw SweepUsageError(flag: flag, value: "'\(text)'", allowed: allowed) }
        return try items.map { item in
            guard let v = Int(item), range.contains(v) else { throw SweepUsageError(flag: flag, value: "'\(item)'", allowed: allowed) }
            return v
        }
    }

    public static func roundingList(_ text: String, flag: String = "rounding") throws -> [RoundingMode] {
        let allowed = "comma-separated " + RoundingMode.allCases.map(\.rawValue).joined(separator: ", ")
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            guard let r = RoundingMode(rawValue: item.trimmingCharacters(in: .whitespaces)) else {
                throw SweepUsageError(flag: flag, value: "'\(item)'", allowed: allowed)
            }
            return r
        }
    }

    public static func lfsrStep(_ text: String, flag: String = "lfsr-step") throws -> LFSRDraw {
        guard let s = LFSRDraw(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw SweepUsageError(flag: flag, value: "'\(text)'", allowed: LFSRDraw.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return s
    }

    public static func dataflowList(_ text: String, flag: String = "dataflow", workload: WorkloadKind = .gemm) throws -> [Dataflow] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let d = Dataflow(rawValue: item.trimmingCharacters(in: .whitespaces))
            guard dataflows(for: workload).contains(d) else {
                throw SweepUsageError(flag: flag, value: "'\(item)'", allowed: allowedDataflows(workload))
            }
            return d
        }
    }

    /// A comma-separated list of `SweepFormat`s (`fixed8,bwn,pow2`).
    public static func formatList(_ text: String, flag: String = "format") throws -> [SweepFormat] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            guard let f = SweepFormat(item.trimmingCharacters(in: .whitespaces)) else {
                throw SweepUsageError(flag: flag, value: "'\(item)'", allowed: SweepFormat.allowed)
            }
            return f
        }
    }

    public static func workload(_ text: String, flag: String = "workload") throws -> WorkloadKind {
        guard let w = WorkloadKind(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw SweepUsageError(flag: flag, value: "'\(text)'", allowed: WorkloadKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return w
    }

    /// Reads a config file: a JSON list of sub-grids (or `{"grids": [...]}`). Each sub-grid is
    /// an object whose keys are `workload` (one value), `dataflow`, `rows`, `cols`, `inputBits`,
    /// `outputBits`, `rounding`, `inputFrac`, `outputFrac`, `lfsrStep` (one value); each value
    /// but the workload and the LFSR step is one value or a list. `rows`, `inputBits` and
    /// `rounding` are required.
    public static func load(configFile url: URL) throws -> [SubGrid] {
        let flag = "config"
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SweepUsageError(flag: flag, value: url.path, allowed: "a readable JSON file (cannot read it)")
        }
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw SweepUsageError(flag: flag, value: url.path, allowed: "a JSON list of sub-grids (not valid JSON)")
        }
        let list: [Any]
        if let l = root as? [Any] {
            list = l
        } else if let o = root as? [String: Any], let l = o["grids"] as? [Any], o.count == 1 {
            list = l
        } else {
            throw SweepUsageError(flag: flag, value: url.path, allowed: "a JSON list of sub-grids, or {\"grids\": [...]}")
        }
        if list.isEmpty { throw SweepUsageError(flag: flag, value: url.path, allowed: "at least one sub-grid") }
        return try list.enumerated().map { n, item in try subGrid(item, file: url.lastPathComponent, number: n) }
    }

    static let configKeys = ["workload", "dataflow", "rows", "cols", "inputBits", "outputBits", "rounding", "inputFrac", "outputFrac", "lfsrStep",
                             "format", "accuracyImages", "hardwareImages", "pePipeline", "roundPipeline"]

    /// Keys a network sub-grid refuses (its bits come from the format) and those only it takes.
    static let networkRefusedKeys = ["inputBits", "outputBits", "inputFrac", "outputFrac", "pePipeline", "roundPipeline"]
    static let networkOnlyKeys = ["accuracyImages", "hardwareImages"]

    static func subGrid(_ item: Any, file: String, number: Int) throws -> SubGrid {
        let place = "\(file) sub-grid \(number)"
        guard let o = item as? [String: Any] else {
            throw SweepUsageError("invalid \(place): allowed an object with keys \(configKeys.joined(separator: ", "))")
        }
        for key in o.keys.sorted() where !configKeys.contains(key) {
            throw SweepUsageError("invalid key '\(key)' in \(place): allowed \(configKeys.joined(separator: ", "))")
        }
        func values(_ key: String) -> [Any]? {
            guard let v = o[key] else { return nil }
            return (v as? [Any]) ?? [v]
        }
        func ints(_ key: String, _ range: ClosedRange<Int>) throws -> [Int]? {
            guard let vs = values(key) else { return nil }
            let allowed = "integers in \(range.lowerBound)...\(range.upperBound)"
            guard !vs.isEmpty else { throw SweepUsageError("invalid value [] for \(key) in \(place): allowed \(allowed)") }
            return try vs.map { v in
                guard let n = v as? NSNumber, !"\(type(of: v))".contains("Bool"), let i = Int(exactly: n.doubleValue),
                      range.contains(i) else {
                    throw SweepUsageError("invalid value \(v) for \(key) in \(place): allowed \(allowed)")
                }
                return i
            }
        }
        func strings(_ key: String, _ allowed: [String], described: String? = nil) throws -> [String]? {
            guard let vs = values(key) else { return nil }
            let text = described ?? allowed.joined(separator: ", ")
            guard !vs.isEmpty else { throw SweepUsageError("invalid value [] for \(key) in \(place): allowed \(text)") }
            return try vs.map { v in
                guard let s = v as? String, allowed.contains(s) else {
                    throw SweepUsageError("invalid value \(v) for \(key) in \(place): allowed \(text)")
                }
                return s
            }
        }
        func required<T>(_ key: String, _ v: T?) throws -> T {
            guard let v else { throw SweepUsageError("missing key '\(key)' in \(place): rows, inputBits and rounding are required") }
            return v
        }
        func formats() throws -> [SweepFormat]? {
            guard let vs = values("format") else { return nil }
            let allowed = SweepFormat.allowed.replacingOccurrences(of: "comma-separated ", with: "")
            guard !vs.isEmpty else { throw SweepUsageError("invalid value [] for format in \(place): allowed \(allowed)") }
            return try vs.map { v in
                guard let text = v as? String, let f = SweepFormat(text) else {
                    throw SweepUsageError("invalid value \(v) for format in \(place): allowed \(allowed)")
                }
                return f
            }
        }
        let fracs = -64...64
        /// A key that takes one value per sub-grid (not a list), one of `T`'s cases.
        func one<T: RawRepresentable & CaseIterable>(_ key: String, _ fallback: T) throws -> T where T.RawValue == String {
            guard let v = o[key] else { return fallback }
            guard let text = v as? String, let value = T(rawValue: text) else {
                // One line even for a list.
                let shown = (try? JSONSerialization.data(withJSONObject: v, options: .fragmentsAllowed)).map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
                throw SweepUsageError("invalid value \(shown) for \(key) in \(place): allowed one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        let workload = try one("workload", WorkloadKind.gemm)
        let lfsrStep = try one("lfsrStep", LFSRDraw.leap)
        if workload.isNetwork {
            if let key = networkRefusedKeys.first(where: { o[$0] != nil }) {
                throw SweepUsageError("invalid key '\(key)' in \(place) with workload \(workload.rawValue): allowed rows, cols, rounding, lfsrStep, format, dataflow, accuracyImages, hardwareImages (a network's bits come from its format)")
            }
            func count(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
                guard let v = o[key] else { return nil }
                guard let n = v as? NSNumber, !"\(type(of: v))".contains("Bool"), let i = Int(exactly: n.doubleValue), range.contains(i) else {
                    throw SweepUsageError("invalid value \(v) for \(key) in \(place): allowed one integer in \(range.lowerBound)...\(range.upperBound)")
                }
                return i
            }
            let formats = try formats()
            if formats?.contains(.fixed(bits: nil)) == true {
                throw SweepUsageError("invalid value fixed for format in \(place) with workload \(workload.rawValue): allowed \(NetworkWorkload.allowedFormats)")
            }
            return SubGrid(
                dataflow: try strings("dataflow", dataflows(for: workload).map(\.rawValue),
                                      described: allowedDataflows(workload, workloadKey: "workload"))?.map(Dataflow.init(rawValue:))
                    ?? defaultDataflows(for: workload),
                rows: try required("rows", try ints("rows", Systolic.sizes)),
                cols: try ints("cols", Systolic.sizes),
                inputBits: [8],
                rounding: try required("rounding", try strings("rounding", RoundingMode.allCases.map(\.rawValue)))
                    .map { RoundingMode(rawValue: $0)! },
                workload: workload, lfsrStep: lfsrStep, format: formats,
                accuracyImages: try count("accuracyImages", NetworkWorkload.accuracyImagesRange),
                hardwareImages: try count("hardwareImages", NetworkWorkload.hardwareImagesRange))
        }
        if let key = networkOnlyKeys.first(where: { o[$0] != nil }) {
            throw SweepUsageError("invalid key '\(key)' in \(place) with workload \(workload.rawValue): allowed only with workload lenet5 or mlp")
        }
        return SubGrid(
            dataflow: try strings("dataflow", dataflows(for: workload).map(\.rawValue),
                                  described: allowedDataflows(workload, workloadKey: "workload"))?.map(Dataflow.init(rawValue:))
                ?? defaultDataflows(for: workload),
            rows: try required("rows", try ints("rows", Systolic.sizes)),
            cols: try ints("cols", Systolic.sizes),
            inputBits: try required("inputBits", try ints("inputBits", ArrayConfig.operandBits)),
            outputBits: try ints("outputBits", ArrayConfig.outputBits),
            rounding: try required("rounding", try strings("rounding", RoundingMode.allCases.map(\.rawValue)))
                .map { RoundingMode(rawValue: $0)! },
            inputFrac: try ints("inputFrac", fracs),
            outputFrac: try ints("outputFrac", fracs),
            workload: workload, lfsrStep: lfsrStep,
            format: try formats(),
            pePipeline: try ints("pePipeline", ArrayConfig.pePipelines),
            roundPipeline: try ints("roundPipeline", ArrayConfig.roundPipelines))
    }
}
