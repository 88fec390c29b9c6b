import Cosim
import Foundation
import HDL
import Verilog

/// Area and depth figures from yosys, for one design (docs/ENERGY.md, "Synthesis metrics").
///
/// One call runs two yosys flows over the emitted hierarchy, never flattened, so each distinct
/// module is synthesized once and `stat -top` multiplies its cells by its instance count:
///
/// - **generic**: the steps of `synth` (coarse, then fine: techmap, `abc -fast`), except that
///   memories stay one `$mem_v2` cell each instead of being expanded into flip-flops and read
///   multiplexers (`memory_map`): the output FIFO of a 32×32 array would otherwise be
///   130 000 gates and 50 of the 60 seconds. `genericCells` counts gates, flip-flops and those
///   memory cells. `logicDepth` is the longest combinational path, in gates, of this netlist:
///   yosys `ltp -noff` per module with the submodule instances removed (ltp only sees paths
///   inside one module), maximum over modules. Every output of the PE and ROUND modules is a
///   register, so this equals `ltp -noff` of the flattened netlist (checked by the tests).
/// - **xilinx**: `synth_xilinx -noiopad -noclkbuf` (7-series: LUT6, CARRY4, DSP48E1,
///   RAMB18E1/RAMB36E1). `luts` counts LUT1…LUT6 and INV (a LUT1 once placed), `flipFlops`
///   every FD* (FDRE, FDSE, ...), `dsp48` DSP48E1, `bram` RAMB18E1 + RAMB36E1 (a RAMB36E1
///   counts as one). Shift registers (SRL16E/SRLC32E, the skew lines) and distributed RAM are
///   in `lutsAsMemory` and `xilinxCells`, not in `luts`.
///
/// The two flows run as two yosys processes at once. Results are cached by a SHA-256 of the
/// sources, the scripts and the yosys version (`$ACCELGEN_SYNTH_CACHE`, else
/// `~/.cache/accelgen/yosys`), so a rerun of a sweep does not synthesize again; a cached result
/// keeps the `seconds` of the run that produced it and has `cached == true`.
public enum SynthesisRunner {
    public struct Options: Sendable {
        /// Read and write the result cache.
        public var cache: Bool
        /// Run the generic and the Xilinx flows as two processes at once.
        public var parallel: Bool
        /// Overrides `$ACCELGEN_SYNTH_CACHE` / `~/.cache/accelgen/yosys`.
        public var cacheDirectory: URL?
        /// A submodule whose own `synth_xilinx` LUTs and flip-flops (its children included) are
        /// reported as `unitLUTs`/`unitFlipFlops`: the sweep names the ROUND unit.
        public var unit: String?
        /// A second submodule synthesized alone, reported as `peLUTs`, `peFlipFlops` and
        /// `peDSP48`: the sweep names the array's PE. It runs as a yosys process of its own that
        /// reads only its file and those of its submodules: yosys 0.23's results for a module
        /// depend on what the process read and synthesized before (the names of its internal
        /// cells, and so ABC's mapping, follow a process-wide counter), so only a fresh process
        /// gives the module's own figure (docs/ENERGY.md).
        public var pe: String?

        public init(cache: Bool = true, parallel: Bool = true, cacheDirectory: URL? = nil, unit: String? = nil, pe: String? = nil) {
            self.cache = cache
            self.parallel = parallel
            self.cacheDirectory = cacheDirectory
            self.unit = unit
            self.pe = pe
        }
    }

    /// Bump when a script or the parsing changes in a way the key would not see.
    static let recipeVersion = "accelgen-synth-recipe 4"

    public static func metrics(for top: ModuleDefinition) throws -> SynthesisMetrics {
        try metrics(for: top, options: Options())
    }

    public static func metrics(for top: ModuleDefinition, options: Options) throws -> SynthesisMetrics {
        try metrics(files: VerilogEmitter.emit(top), top: top.name, options: options)
    }

    /// The same for already emitted files (one module per file).
    public static func metrics(files: [VerilogFile], top: String, options: Options = Options()) throws -> SynthesisMetrics {
        let start = Date()
        let sources = files.map { ($0.fileName, $0.text) }.sorted { $0.0 < $1.0 }
        let version = try yosysVersion()
        var cacheFile: URL?
        if options.cache {
            var material = "\(recipeVersion)\n\(version)\ntop \(top)\n"
            material += "generic\n\(genericScript(files: sources.map(\.0), top: top))\n"
            material += "xilinx\n\(xilinxScript(files: sources.map(\.0), top: top, unit: options.unit))\n"
            if let pe = options.pe { material += "pe\n\(peScript(files: unitFiles(pe, sources), unit: pe))\n" }
            for (name, text) in sources { material += "source \(name) \(text.utf8.count)\n\(text)\n" }
            let root = options.cacheDirectory ?? cacheRoot
            cacheFile = root.appendingPathComponent(try Verilator.sha256(Array(material.utf8)) + ".json")
            if let file = cacheFile, let data = try? Data(contentsOf: file),
               var cached = try? JSONDecoder().decode(SynthesisMetrics.self, from: data) {
                cached.cached = true
                return cached
            }
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in sources {
            try text.write(to: dir.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        let names = sources.map(\.0)
        try genericScript(files: names, top: top).write(to: dir.appendingPathComponent("generic.ys"), atomically: false, encoding: .utf8)
        try xilinxScript(files: names, top: top, unit: options.unit).write(to: dir.appendingPathComponent("xilinx.ys"), atomically: false, encoding: .utf8)
        var flows = ["generic", "xilinx"]
        if let pe = options.pe {
            try peScript(files: unitFiles(pe, sources), unit: pe).write(to: dir.appendingPathComponent("pe.ys"), atomically: false, encoding: .utf8)
            flows.append("pe")
        }

        let results = try runFlows(flows.map { "\($0).ys" }, in: dir, parallel: options.parallel)
        for (script, r) in zip(flows, results) where r.status != 0 || r.output.contains("ERROR:") {
            throw ToolError.failed(tool: "yosys (\(script) flow, top \(top))", output: String(r.output.suffix(4000)))
        }
        func read(_ name: String) throws -> String {
            try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        let generic = parseTotals(try read("generic_stat.txt"))
        let xilinx = parseTotals(try read("xilinx_stat.txt"))
        let depth = parseLongestPath(try read("ltp.txt"))

        var m = metrics(generic: generic, xilinx: xilinx, depth: depth)
        if options.unit != nil {
            let unit = classify(parseTotals(try read("unit_stat.txt")).types)
            (m.unitLUTs, m.unitFlipFlops) = (unit.luts, unit.flipFlops)
        }
        if options.pe != nil {
            let pe = classify(parseTotals(try read("pe_stat.txt")).types)
            (m.peLUTs, m.peFlipFlops, m.peDSP48) = (pe.luts, pe.flipFlops, pe.dsp)
        }
        m.seconds = Date().timeIntervalSince(start)
        m.cached = false
        if let file = cacheFile {
            try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .prettyPrinted]
            // A unique temporary file beside it, flushed, then renamed into place: tasks on other
            // nodes sharing the cache never read half a file, and two writers of one key both
            // write the same figures, the last rename winning.
            if let data = try? enc.encode(m) { try? SweepStore.writeAtomically(data, to: file) }
        }
        return m
    }

    /// `$ACCELGEN_SYNTH_CACHE` if set, else `~/.cache/accelgen/yosys`.
    public static var cacheRoot: URL {
        if let env = ProcessInfo.processInfo.environment["ACCELGEN_SYNTH_CACHE"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/accelgen/yosys", isDirectory: true)
    }

    // MARK: - Scripts

    static func readCommand(_ files: [String]) -> String {
        "read_verilog " + files.joined(separator: " ")
    }

    /// `synth` without `memory_map` (see the type's comment), then `stat -top` and per-module
    /// `ltp -noff` with the submodule instances deleted.
    static func genericScript(files: [String], top: String) -> String {
        """
        \(readCommand(files))
        synth -top \(top) -run begin:fine
        opt -fast -full
        opt -full
        techmap
        opt -fast
        abc -fast
        opt -fast
        hierarchy -check
        tee -q -o generic_stat.txt stat -top \(top)
        delete c:* t:$* %d
        tee -q -o ltp.txt ltp -noff

        """
    }

    static func xilinxScript(files: [String], top: String, unit: String? = nil) -> String {
        """
        \(readCommand(files))
        synth_xilinx -top \(top) -noiopad -noclkbuf
        tee -q -o xilinx_stat.txt stat -top \(top)
        \(unit.map { unitScript(files: files, unit: $0) } ?? "")

        """
    }

    /// The PE's own flow, a process of its own (see `Options.pe`).
    static func peScript(files: [String], unit: String) -> String {
        """
        \(readCommand(files))
        synth_xilinx -top \(unit) -noiopad -noclkbuf
        tee -q -o pe_stat.txt stat -top \(unit)

        """
    }

    /// The files of `unit` and of every module it instantiates (one module per file, named
    /// after it): a file is included when its module's name appears as a word in an included
    /// file. Sorted.
    static func unitFiles(_ unit: String, _ sources: [(String, String)]) -> [String] {
        let text = Dictionary(sources, uniquingKeysWith: { a, _ in a })
        var included: Set<String> = ["\(unit).v"]
        var queue = ["\(unit).v"]
        while let file = queue.popLast() {
            guard let body = text[file] else { continue }
            let words = Set(body.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
            for name in text.keys where !included.contains(name) && name.hasSuffix(".v") && words.contains(String(name.dropLast(2))) {
                included.insert(name)
                queue.append(name)
            }
        }
        return included.sorted()
    }

    /// The unit synthesized as a top of its own: in the array every instance sets its
    /// parameters (the LFSR seed), so the unit exists there only as `$paramod` copies. Its
    /// defaults cost the same cells as any seed.
    static func unitScript(files: [String], unit: String) -> String {
        """
        design -reset
        \(readCommand(files))
        synth_xilinx -top \(unit) -noiopad -noclkbuf
        tee -q -o unit_stat.txt stat -top \(unit)
        """
    }

    /// A flattened run of one flow, for checking the hierarchical totals: `synth -flatten`
    /// (generic, memories mapped as `synth` does) or `synth_xilinx -flatten`. Returns the cell
    /// counts by type and, for the generic flow, `ltp -noff` of the flat netlist.
    public static func flattenedCells(files: [VerilogFile], top: String, xilinx: Bool) throws -> (cells: [String: Int], logicDepth: Int) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in files { try f.text.write(to: dir.appendingPathComponent(f.fileName), atomically: false, encoding: .utf8) }
        let read = readCommand(files.map(\.fileName).sorted())
        let script = xilinx
            ? "\(read)\nsynth_xilinx -top \(top) -flatten -noiopad -noclkbuf\ntee -q -o stat.txt stat\n"
            : "\(read)\nsynth -top \(top) -flatten\ntee -q -o stat.txt stat\ntee -q -o ltp.txt ltp -noff\n"
        try script.write(to: dir.appendingPathComponent("flat.ys"), atomically: false, encoding: .utf8)
        let r = try runTool("yosys", ["-q", "-s", "flat.ys"], in: dir)
        if r.status != 0 || r.output.contains("ERROR:") { throw ToolError.failed(tool: "yosys (flattened)", output: String(r.output.suffix(4000))) }
        let cells = parseTotals(try String(contentsOf: dir.appendingPathComponent("stat.txt"), encoding: .utf8))
        let depth = xilinx ? 0 : parseLongestPath(try String(contentsOf: dir.appendingPathComponent("ltp.txt"), encoding: .utf8))
        return (cells.types, depth)
    }

    // MARK: - Running

    final class Outputs: @unchecked Sendable {
        let lock = NSLock()
        var results: [Int: Result<ToolOutput, Error>] = [:]
        func set(_ i: Int, _ r: Result<ToolOutput, Error>) { lock.lock(); results[i] = r; lock.unlock() }
    }

    static func runFlows(_ scripts: [String], in dir: URL, parallel: Bool) throws -> [ToolOutput] {
        let outputs = Outputs()
        if parallel {
            let group = DispatchGroup()
            for (i, script) in scripts.enumerated() {
                DispatchQueue.global().async(group: group) {
                    outputs.set(i, Result { try runTool("yosys", ["-q", "-s", script], in: dir) })
                }
            }
            group.wait()
        } else {
            for (i, script) in scripts.enumerated() {
                outputs.set(i, Result { try runTool("yosys", ["-q", "-s", script], in: dir) })
            }
        }
        return try scripts.indices.map { try outputs.results[$0]!.get() }
    }

    nonisolated(unsafe) static var versionCache: String?
    static let versionLock = NSLock()

    static func yosysVersion() throws -> String {
        versionLock.lock()
        defer { versionLock.unlock() }
        if let v = versionCache { return v }
        let r = try runTool("yosys", ["-V"])
        guard r.status == 0 else { throw ToolError.failed(tool: "yosys -V", output: r.output) }
        let v = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        versionCache = v
        return v
    }

    // MARK: - Parsing

    /// Cell counts of a `stat` report: the "design hierarchy" totals when `stat -top` printed
    /// them (a design with submodules), else the last module's block.
    struct Totals {
        var cells: Int
        var types: [String: Int]
    }

    static func parseTotals(_ text: String) -> Totals {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var from = lines.startIndex
        if let h = lines.lastIndex(where: { $0.contains("=== design hierarchy ===") }) {
            from = h
        } else if let last = lines.lastIndex(where: { $0.hasPrefix("=== ") }) {
            from = last
        }
        guard let start = lines[from...].firstIndex(where: { $0.contains("Number of cells:") }) else {
            return Totals(cells: 0, types: [:])
        }
        let total = Int(lines[start].split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) ?? 0
        var types: [String: Int] = [:]
        for line in lines[(start + 1)...] {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let n = Int(parts[1]) else { break }
            types[String(parts[0]), default: 0] += n
        }
        return Totals(cells: total, types: types)
    }

    /// The largest `length=N` of the "Longest topological path in ..." lines (0 if none).
    static func parseLongestPath(_ text: String) -> Int {
        var best = 0
        for line in text.split(separator: "\n") where line.contains("Longest topological path") {
            guard let r = line.range(of: "(length=") else { continue }
            let digits = line[r.upperBound...].prefix { $0.isNumber || $0 == "-" }
            best = max(best, Int(digits) ?? 0)
        }
        return best
    }

    /// LUTs a memory or shift-register primitive occupies (7-series).
    static let lutMemoryCost: [String: Int] = [
        "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1,
        "RAM32X1S": 1, "RAM32X1D": 2, "RAM32M": 4, "RAM32M16": 8,
        "RAM64X1S": 1, "RAM64X1D": 2, "RAM64M": 4, "RAM64M8": 8,
        "RAM128X1S": 2, "RAM128X1D": 4, "RAM256X1S": 4, "RAM256X1D": 8, "RAM512X1S": 8,
    ]

    /// 7-series primitives by kind.
    static func classify(_ types: [String: Int]) -> (luts: Int, flipFlops: Int, dsp: Int, bram: Int, lutMemory: Int) {
        var luts = 0, ffs = 0, dsp = 0, bram = 0, lutMemory = 0
        for (type, n) in types {
            if type.hasPrefix("LUT"), let k = Int(type.dropFirst(3)), (1...6).contains(k) {
                luts += n
            } else if type == "INV" {
                luts += n  // a LUT1 once placed
            } else if type.hasPrefix("FD") {
                ffs += n
            } else if type.hasPrefix("DSP48") {
                dsp += n
            } else if type == "RAMB18E1" || type == "RAMB36E1" {
                bram += n
            } else if let cost = lutMemoryCost[type] {
                lutMemory += n * cost
            }
        }
        return (luts, ffs, dsp, bram, lutMemory)
    }

    static func metrics(generic: Totals, xilinx: Totals, depth: Int) -> SynthesisMetrics {
        let x = classify(xilinx.types)
        var m = SynthesisMetrics(genericCells: generic.cells, luts: x.luts, flipFlops: x.flipFlops, dsp48: x.dsp, bram: x.bram,
                                 logicDepth: depth, seconds: 0)
        m.lutsAsMemory = x.lutMemory
        m.xilinxCells = xilinx.types
        return m
    }
}
