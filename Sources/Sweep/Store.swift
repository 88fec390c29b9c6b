import Conv
import Foundation
import Model
import Timing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sweep's output folder (docs/SWEEP.md):
///
///     DIR/points/<index>-<key>.json   one finished point (a PointResult), written atomically
///     DIR/logs/<index>-<key>.log      what the point's worker process printed
///     DIR/plan.json                   the plan of the last full run or `--plan --out DIR`
///     DIR/sweep.csv, DIR/sweep.json   the merged table, one row/object per point
///
/// Every file is written to a temporary name in the same folder and renamed into place, so a
/// reader (or a killed writer) never leaves or sees half a file. A point's result is found by
/// its key, not its index, and is reused only when its design equals the planned one.
public struct SweepStore: Sendable {
    public let directory: URL
    public var pointsDirectory: URL { directory.appendingPathComponent("points", isDirectory: true) }
    public var logsDirectory: URL { directory.appendingPathComponent("logs", isDirectory: true) }
    public var csvURL: URL { directory.appendingPathComponent("sweep.csv") }
    public var jsonURL: URL { directory.appendingPathComponent("sweep.json") }
    public var planURL: URL { directory.appendingPathComponent("plan.json") }

    public init(directory: URL) {
        self.directory = directory.standardizedFileURL
    }

    public static func fileName(_ point: SweepPoint) -> String { "\(point.index)-\(point.key).json" }
    public func url(for point: SweepPoint) -> URL { pointsDirectory.appendingPathComponent(Self.fileName(point)) }
    public func logURL(for point: SweepPoint) -> URL {
        logsDirectory.appendingPathComponent("\(point.index)-\(point.key).log")
    }

    public func prepare() throws {
        try FileManager.default.createDirectory(at: pointsDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: logsDirectory, withIntermediateDirectories: true)
    }

    // MARK: - Atomic writes

    /// Writes `data` to a hidden temporary file beside `url`, flushes it, and renames it into place.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".tmp-\(getpid())-\(UUID().uuidString.prefix(8))-\(url.lastPathComponent)")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot create \(tmp.path): \(String(cString: strerror(errno)))") }
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; break }
                off += n
            }
        }
        if fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok, rename(tmp.path, url.path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(tmp.path)
            throw StoreError("cannot write \(url.path): \(message)")
        }
    }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    // MARK: - Points

    /// Writes one finished point, and removes any other file holding the same key (left by an
    /// earlier grid in which the point had another index).
    public func write(_ result: PointResult) throws {
        let name = Self.fileName(result.point)
        try Self.writeAtomically(try Self.encoder.encode(result), to: url(for: result.point))
        for other in try names(key: result.point.key) where other != name {
            try? FileManager.default.removeItem(at: pointsDirectory.appendingPathComponent(other))
        }
    }

    /// Point file names in points/ (`<index>-<key>.json`), of one key or of all.
    func names(key: String? = nil) throws -> [String] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: pointsDirectory.path) else { return [] }
        return try fm.contentsOfDirectory(atPath: pointsDirectory.path).sorted().filter { name in
            guard name.hasSuffix(".json"), let dash = name.firstIndex(of: "-"),
                  !name[..<dash].isEmpty, name[..<dash].allSatisfy(\.isNumber) else { return false }
            return key.map { name[name.index(after: dash)...] == "\($0).json" } ?? true
        }
    }

    /// Every readable point file in points/, or those of one key (temporary and unreadable
    /// files are skipped).
    public func stored(key: String? = nil) throws -> [(URL, PointResult)] {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var out: [(URL, PointResult)] = []
        for name in try names(key: key) {
            let url = pointsDirectory.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url), let r = try? decoder.decode(PointResult.self, from: data) else { continue }
            out.append((url, r))
        }
        return out
    }

    /// The stored results that belong to `plan`, keyed by point key, with the plan's index.
    /// A stored result counts only when its workload, dataflow and design equal the planned ones.
    public func finished(in plan: [SweepPoint]) throws -> [String: PointResult] {
        let wanted = Dictionary(uniqueKeysWithValues: plan.map { ($0.key, $0) })
        var out: [String: PointResult] = [:]
        for (_, r) in try plan.count == 1 ? stored(key: plan[0].key) : stored() {
            guard let p = wanted[r.point.key], p.workload == r.point.workload, p.dataflow == r.point.dataflow,
                  p.config == r.point.config, p.network == r.point.network else { continue }
            var result = r
            result.point.index = p.index
            out[p.key] = result
        }
        return out
    }

    /// Removes temporary files left by killed writers (older than a minute, so a live
    /// writer's file is never touched).
    public func removeDebris() {
        let fm = FileManager.default
        let cutoff = Date().addingTimeInterval(-60)
        for dir in [pointsDirectory, directory] {
            guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { continue }
            for name in names where name.hasPrefix(".tmp-") {
                let url = dir.appendingPathComponent(name)
                let date = (try? fm.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? .distantPast
                if date < cutoff { try? fm.removeItem(at: url) }
            }
        }
    }

    public func writePlan(_ plan: [SweepPoint]) throws {
        try Self.writeAtomically(try Self.encoder.encode(plan), to: planURL)
    }

    // MARK: - Merge

    /// Writes sweep.csv and sweep.json: one row/object per result, in index order.
    public func writeTables(_ results: [PointResult]) throws {
        let sorted = results.sorted { $0.point.index < $1.point.index }
        try Self.writeAtomically(Data(Table.csv(sorted).utf8), to: csvURL)
        try Self.writeAtomically(Data(Table.json(sorted).utf8), to: jsonURL)
    }
}

private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, p, n)
    #else
    Darwin.write(fd, p, n)
    #endif
}

public struct StoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// The merged table: a fixed list of columns, each with a type and a unit (docs/SWEEP.md).
public enum Table {
    public enum Kind: String, Sendable { case int, double, string, bool }

    public enum Value: Sendable, Equatable {
        case int(Int), double(Double), string(String), bool(Bool), null
    }

    public struct Column: Sendable {
        public let name: String
        public let kind: Kind
        let value: @Sendable (PointResult) -> Value
    }

    static func int(_ name: String, _ f: @escaping @Sendable (PointResult) -> Int?) -> Column {
        Column(name: name, kind: .int) { r in f(r).map(Value.int) ?? .null }
    }
    static func double(_ name: String, _ f: @escaping @Sendable (PointResult) -> Double?) -> Column {
        Column(name: name, kind: .double) { r in f(r).flatMap { $0.isFinite ? Value.double($0) : nil } ?? .null }
    }
    static func bool(_ name: String, _ f: @escaping @Sendable (PointResult) -> Bool?) -> Column {
        Column(name: name, kind: .bool) { r in f(r).map(Value.bool) ?? .null }
    }
    static func string(_ name: String, _ f: @escaping @Sendable (PointResult) -> String?) -> Column {
        Column(name: name, kind: .string) { r in f(r).map(Value.string) ?? .null }
    }

    /// The columns, in order. Append new ones at the end; never reorder or rename.
    public static let columns: [Column] = [
        int("index") { $0.point.index },
        string("key") { $0.point.key },
        string("dataflow") { $0.point.dataflow.rawValue },
        int("rows") { $0.point.config.rows },
        int("cols") { $0.point.config.cols },
        // A network point has several arrays and a format per stage: its code widths (of the
        // array with the most MACs) here, the per-stage formats empty.
        int("input_bits") { $0.point.workload.isNetwork ? $0.network?.activationBits : $0.point.config.a.bits },
        int("input_frac") { $0.point.workload.isNetwork ? nil : $0.point.config.a.frac },
        int("weight_bits") { $0.point.workload.isNetwork ? $0.network?.weightBits : $0.point.config.b.bits },
        int("weight_frac") { $0.point.workload.isNetwork ? nil : $0.point.config.b.frac },
        int("acc_bits") { $0.point.workload.isNetwork ? nil : $0.point.config.accBits },
        int("output_bits") { $0.point.workload.isNetwork ? nil : $0.point.config.output.bits },
        int("output_frac") { $0.point.workload.isNetwork ? nil : $0.point.config.output.frac },
        string("rounding") { $0.point.config.rounding.rawValue },
        int("lfsr_width") { $0.point.workload.isNetwork ? nil : $0.point.config.lfsrWidth },
        string("status") { $0.status.rawValue },
        int("mismatches") { $0.simulated ? $0.mismatches : nil },
        int("cycles") { $0.simulated ? $0.cycles : nil },
        int("macs") { $0.simulated ? $0.macs : nil },
        double("utilization") { $0.simulated ? $0.utilization : nil },
        double("simulated_macs_per_s") { $0.simulated ? $0.simulatedMACsPerSecond : nil },
        double("rmse") { $0.simulated && !$0.point.workload.isNetwork ? $0.rmse : nil },
        double("max_abs_error") { $0.simulated && !$0.point.workload.isNetwork ? $0.maxAbsError : nil },
        double("bias") { $0.simulated && !$0.point.workload.isNetwork ? $0.bias : nil },
        double("sqnr_db") { $0.sqnrDB },
        int("generic_cells") { $0.synthesis?.genericCells },
        int("luts") { $0.synthesis?.luts },
        int("luts_as_memory") { $0.synthesis.map { $0.lutsAsMemory ?? 0 } },
        int("flip_flops") { $0.synthesis?.flipFlops },
        int("dsp48") { $0.synthesis?.dsp48 },
        int("bram") { $0.synthesis?.bram },
        int("logic_depth") { $0.synthesis?.logicDepth },
        int("round_unit_luts") { $0.synthesis?.unitLUTs },
        int("round_unit_flip_flops") { $0.synthesis?.unitFlipFlops },
        double("energy_pj_per_mac") { $0.energy?.picojoulesPerMAC },
        double("energy_total_pj") { $0.energy?.totalPicojoules },
        double("generate_s") { $0.generateSeconds },
        double("build_s") { $0.buildSeconds },
        double("simulate_s") { $0.simulateSeconds },
        double("synth_s") { $0.synthesis?.seconds },
        bool("synth_cached") { $0.synthesis.map { $0.cached ?? false } },
        string("message") { $0.message },
        string("workload") { $0.point.workload.rawValue },
        int("performed_macs") { $0.simulated ? $0.performedMACs : nil },
        int("gated_macs") { $0.simulated ? $0.gatedMACs : nil },
        bool("counts_agree") { $0.simulated ? $0.countsAgree : nil },
        string("lfsr_step") { $0.point.config.lfsrStep.rawValue },
        string("format") { $0.point.config.format.description },
        int("pe_luts") { $0.synthesis?.peLUTs },
        int("pe_flip_flops") { $0.synthesis?.peFlipFlops },
        int("pe_dsp48") { $0.synthesis?.peDSP48 },
        double("pe_mac_pj") { $0.peMACPicojoules },
        // Network points (docs/SWEEP.md, "Networks").
        string("scheme") { $0.network?.scheme },
        double("accuracy") { $0.network?.accuracy },
        double("float_accuracy") { $0.network?.floatAccuracy },
        double("accuracy_loss_points") { $0.network?.accuracyLossPoints },
        int("accuracy_images") { $0.network?.accuracyImages },
        int("hardware_images") { $0.network.flatMap { $0.hardwareImages > 0 ? $0.hardwareImages : nil } },
        double("hardware_accuracy") { $0.network.flatMap { $0.hardwareImages > 0 ? $0.hardwareAccuracy : nil } },
        double("energy_per_image_pj") { $0.network.flatMap { $0.hardwareImages > 0 ? $0.energyPerImagePJ : nil } },
        double("cycles_per_image") { $0.network.flatMap { $0.hardwareImages > 0 ? $0.cyclesPerImage : nil } },
        int("arrays") { $0.network?.arrays },
        int("pool_luts") { $0.network?.poolLUTs },
        int("pool_flip_flops") { $0.network?.poolFlipFlops },
        bool("fine_tuned") { $0.network?.fineTuned },
        // Place and route (`--pnr`, docs/TIMING.md): Fmax is the median of three placement seeds.
        string("pnr_device") { $0.pnr?.device },
        double("fmax_mhz") { $0.pnr?.fmaxMHz },
        string("critical_path") { $0.pnr?.criticalPath },
        double("critical_path_ns") { $0.pnr?.criticalPathNs },
        int("pnr_luts") { $0.pnr?.logicCells },
        int("pnr_ffs") { $0.pnr?.flipFlops },
        int("mult18") { $0.pnr?.mult18 },
        int("pnr_bram") { $0.pnr?.bram },
        double("pnr_seconds") { $0.pnr.map { $0.synthSeconds + $0.pnrSeconds } },
        bool("pnr_cached") { $0.pnr.map { $0.cached ?? false } },
        string("pnr_note") { $0.pnr?.notApplicable.map { "n/a: \($0)" } },
        double("gops") { $0.gops },
        double("gops_per_klut") { r in r.gops.flatMap { g in r.pnr?.logicCells.flatMap { $0 > 0 ? 1000 * g / Double($0) : nil } } },
        double("gops_per_dsp") { r in r.gops.flatMap { g in r.pnr.flatMap { $0.mult18 > 0 ? g / Double($0.mult18) : nil } } },
        double("inferences_per_second") { $0.inferencesPerSecond },
        // Pipelining (docs/TIMING.md): stages of the PEs and of the ROUND units.
        int("pe_pipeline") { $0.point.config.pePipeline },
        int("round_pipeline") { $0.point.config.roundPipeline },
    ]

    public static var columnNames: [String] { columns.map(\.name) }

    static func text(_ v: Value) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        }
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. Line
    /// breaks inside messages become "; " so every row is one line.
    static func csvField(_ s: String) -> String {
        let flat = s.replacingOccurrences(of: "\r\n", with: "; ").replacingOccurrences(of: "\n", with: "; ")
            .replacingOccurrences(of: "\r", with: "; ")
        guard flat.contains(where: { $0 == "," || $0 == "\"" }) else { return flat }
        return "\"" + flat.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func csv(_ results: [PointResult]) -> String {
        var lines = [columnNames.joined(separator: ",")]
        for r in results { lines.append(columns.map { csvField(text($0.value(r))) }.joined(separator: ",")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A JSON array with one object per point: the CSV's columns (numbers as numbers, empty
    /// cells as null) plus `energy_breakdown_pj` (energy by component) and `xilinx_cells`
    /// (every synth_xilinx primitive with its count).
    public static func json(_ results: [PointResult]) -> String {
        func quote(_ s: String) -> String {
            String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
        }
        func literal(_ v: Value) -> String {
            switch v {
            case .int(let i): return String(i)
            case .double(let d): return "\(d)"
            case .string(let s): return quote(s)
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            }
        }
        let objects = results.map { r -> String in
            var fields = columns.map { "    \(quote($0.name)): \(literal($0.value(r)))" }
            if let breakdown = r.energy?.breakdown {
                let parts = breakdown.sorted { $0.key < $1.key }.map { "\(quote($0.key)): \(literal(.double($0.value).finiteOrNull))" }
                fields.append("    \"energy_breakdown_pj\": {\(parts.joined(separator: ", "))}")
            } else {
                fields.append("    \"energy_breakdown_pj\": null")
            }
            if let cells = r.synthesis?.xilinxCells {
                let parts = cells.sorted { $0.key < $1.key }.map { "\(quote($0.key)): \($0.value)" }
                fields.append("    \"xilinx_cells\": {\(parts.joined(separator: ", "))}")
            } else {
                fields.append("    \"xilinx_cells\": null")
            }
            return "  {\n" + fields.joined(separator: ",\n") + "\n  }"
        }
        return objects.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }
}

extension PointResult {
    /// Whether the point got through simulation (a finished workload has at least one cycle);
    /// the simulation columns are empty (null) when it did not.
    public var simulated: Bool { cycles > 0 }

    /// Useful operations per second at the placed Fmax, in G: 2 (multiply and add) × the
    /// workload's measured MACs per cycle × Fmax. nil without a simulation or an Fmax.
    public var gops: Double? {
        guard simulated, let fmax = pnr?.fmaxMHz else { return nil }
        return 2 * Double(macs) / Double(cycles) * fmax / 1000
    }

    /// A network point's images per second at the placed Fmax: Fmax over the co-simulated cycles
    /// per image. nil without both.
    public var inferencesPerSecond: Double? {
        guard let n = network, n.hardwareImages > 0, n.cyclesPerImage > 0, let fmax = pnr?.fmaxMHz else { return nil }
        return fmax * 1e6 / n.cyclesPerImage
    }

    /// The energy model's price of one MAC in the point's PE (its multiply, or what replaces
    /// it, and its accumulate; docs/ENERGY.md), pJ; nil when the point has no energy estimate.
    public var peMACPicojoules: Double? {
        energy == nil || point.workload.isNetwork ? nil : EnergyModel(Datapath(point.config)).mac
    }
}

extension Table.Value {
    var finiteOrNull: Table.Value {
        if case .double(let d) = self, !d.isFinite { return .null }
        return self
    }
}
