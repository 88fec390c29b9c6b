import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds designs with Verilator into a content-addressed cache.
///
/// Cache layout (root = `$ACCELGEN_CACHE` or `~/.cache/accelgen/verilator`):
///
///     <key>/model, manifest.txt, build.log, src/   one finished model per key
///     runtime/<rkey>/*.o                           Verilator's runtime library, compiled once
///     tmp/                                         builds in progress (renamed into place)
///     failed/<key>/                                the last failed build of a key, for inspection
///     .build.lock                                  builds run one at a time (2 cores, `-j 2`)
///
/// The key is the SHA-256 (computed by `sha256sum`) of the Verilog sources, top,
/// ports, clock, options, the build flags, the Testbench driver sources and the
/// versions of Verilator and g++. A finished model is renamed into place
/// atomically, so concurrent builders never see a half-built model.
public enum Verilator {
    /// Bump when the build recipe changes in a way the key would not see.
    static let recipeVersion = "accelgen-cosim-recipe 3"

    /// Runtime-library optimization (compiled once per cache, so make it fast).
    static let runtimeOpt = "-O2"

    /// Testbench files that go into every build (and into the key).
    static let testbenchFiles = ["cosim_driver.cpp", "cosim_protocol.h"]

    /// The folder holding the C++ driver: `$ACCELGEN_TESTBENCH` if set, else
    /// `Testbench/` at the package root, found from this source file's path.
    public static var testbenchDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["ACCELGEN_TESTBENCH"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()   // Sources/Cosim
            .deletingLastPathComponent()   // Sources
            .deletingLastPathComponent()   // package root
            .appendingPathComponent("Testbench", isDirectory: true)
    }

    /// `$ACCELGEN_CACHE` if set, else `~/.cache/accelgen/verilator`.
    public static var cacheRoot: URL {
        if let env = ProcessInfo.processInfo.environment["ACCELGEN_CACHE"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/accelgen/verilator", isDirectory: true)
    }

    /// The first line of `verilator --version`.
    public static func version() throws -> String {
        try Toolchain.shared().verilatorVersion
    }

    /// Builds `design` (or finds it in the cache) and returns the driver executable.
    public static func build(_ design: CosimDesign, options: BuildOptions = .init()) throws -> BuiltModel {
        let start = Date()
        try design.validate()
        let tools = try Toolchain.shared()
        let testbench = try Testbench.load(program: options.program)
        let flags = makeVariables(options)
        let key = try cacheKey(design, options: options, flags: flags, tools: tools, testbench: testbench)
        let root = cacheRoot
        let entry = root.appendingPathComponent(key, isDirectory: true)
        let model = entry.appendingPathComponent("model")

        func result(hit: Bool) -> BuiltModel {
            BuiltModel(executable: model, cacheHit: hit, buildSeconds: Date().timeIntervalSince(start),
                       key: key, directory: entry, design: design, options: options)
        }
        if FileManager.default.isExecutableFile(atPath: model.path) { return result(hit: true) }

        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let lock = try FileLock(root.appendingPathComponent(".build.lock").path)
        defer { lock.unlock() }
        removeStaleBuilds(root)
        // Someone else may have finished it while we waited.
        if FileManager.default.isExecutableFile(atPath: model.path) { return result(hit: true) }

        try buildModel(design, options: options, key: key, flags: flags, tools: tools,
                       testbench: testbench, root: root, entry: entry)
        return result(hit: false)
    }

    // MARK: - Key

    static func makeVariables(_ options: BuildOptions) -> [String] {
        ["OPT_FAST=\(options.optimize ? "-O1" : "-O0")", "OPT_SLOW=", "OPT_GLOBAL=\(runtimeOpt)"]
    }

    static func verilatorArguments(_ design: CosimDesign, options: BuildOptions) -> [String] {
        // Inlining bigger submodules than Verilator's default (2000) puts the PE arrays' PEs
        // into the top's straight-line code instead of two calls per PE per cycle: the 16×16
        // weight-stationary array simulates about 5× faster and builds a little faster too.
        // `--x-initial unique` and `--x-assign unique` leave every register and memory word
        // to the run-time initialisation the driver chooses (random from a seed by default,
        // zero on request), so a design that only works from all-zero registers fails here.
        var args = ["--cc", "--exe", "--top-module", design.top, "--prefix", "Vdut", "--inline-mult", "10000",
                    "--x-assign", "unique", "--x-initial", "unique"]
        if options.trace { args.append("--trace") }
        return args + options.verilatorFlags
    }

    static func cacheKey(_ design: CosimDesign, options: BuildOptions, flags: [String],
                         tools: Toolchain, testbench: [(String, String)]) throws -> String {
        var m = "\(recipeVersion)\n"
        m += "verilator \(tools.verilatorVersion)\ncxx \(tools.cxxVersion)\n"
        m += "top \(design.top)\nclock \(design.clock)\n"
        for p in design.ports { m += "port \(p.name) \(p.width) \(p.direction.rawValue)\n" }
        m += "trace \(options.trace) optimize \(options.optimize)\n"
        if let program = options.program { m += "program \(program)\n" }
        m += "verilator-args \(verilatorArguments(design, options: options).joined(separator: " "))\n"
        m += "make \(flags.joined(separator: " "))\n"
        for (name, text) in design.sources.sorted(by: { $0.key < $1.key }) {
            m += "source \(name) \(text.utf8.count)\n\(text)\n"
        }
        for (name, text) in testbench {
            m += "testbench \(name) \(text.utf8.count)\n\(text)\n"
        }
        return try sha256(Array(m.utf8), tools: tools)
    }

    /// SHA-256 in hex, by `sha256sum` (cache keys here and in the synthesis cache).
    public static func sha256(_ bytes: [UInt8]) throws -> String {
        try sha256(bytes, tools: Toolchain.shared())
    }

    static func sha256(_ bytes: [UInt8], tools: Toolchain) throws -> String {
        let (status, out) = try Subprocess.capture(tools.sha256sum, ["-b", "-"], input: bytes)
        let hex = out.prefix(64)
        guard status == 0, hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) else {
            throw CosimError.toolFailed(command: "sha256sum", status: status, output: out)
        }
        return String(hex)
    }

    // MARK: - Build

    static func buildModel(_ design: CosimDesign, options: BuildOptions, key: String, flags: [String],
                           tools: Toolchain, testbench: [(String, String)], root: URL, entry: URL) throws {
        let fm = FileManager.default
        let tmpRoot = root.appendingPathComponent("tmp", isDirectory: true)
        // Builds are serialized by the lock, so one fixed build folder suffices; a
        // fixed path also lets ccache hit when the generated C++ is unchanged.
        let tmp = tmpRoot.appendingPathComponent("build", isDirectory: true)
        try? fm.removeItem(at: tmp)
        let src = tmp.appendingPathComponent("src", isDirectory: true)
        let obj = tmp.appendingPathComponent("obj", isDirectory: true)
        try fm.createDirectory(at: src, withIntermediateDirectories: true)
        try fm.createDirectory(at: obj, withIntermediateDirectories: true)
        let log = tmp.appendingPathComponent("build.log")
        _ = fm.createFile(atPath: log.path, contents: nil)

        func fail(_ excerpt: [String]) -> CosimError {
            let failed = root.appendingPathComponent("failed", isDirectory: true)
            let dest = failed.appendingPathComponent(key, isDirectory: true)
            try? fm.createDirectory(at: failed, withIntermediateDirectories: true)
            try? fm.removeItem(at: dest)
            let kept = (try? fm.moveItem(at: tmp, to: dest)) != nil ? dest : tmp
            return .buildFailed(top: design.top, excerpt: excerpt, directory: kept)
        }
        func run(_ exe: String, _ args: [String]) throws -> Bool {
            appendLog(log, "$ \(([exe] + args).joined(separator: " "))\n")
            let pid = try Subprocess.spawn(exe, args, stdin: .null, stdout: .file(log.path), stderr: .file(log.path))
            let status = Subprocess.wait(pid)
            if status != 0 { appendLog(log, "exit status \(status)\n") }
            return status == 0
        }

        // Sources and the generated port table.
        var compiled = [String]()
        for (name, text) in design.sources.sorted(by: { $0.key < $1.key }) {
            let url = src.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            if CosimDesign.isCompiledSource(name) { compiled.append(url.path) }
        }
        for (name, text) in testbench {
            try Data(text.utf8).write(to: obj.appendingPathComponent(name))
        }

        // 1. Verilate.
        var vargs = verilatorArguments(design, options: options)
        let main = testbench.first { $0.0.hasSuffix(".cpp") }?.0 ?? "cosim_driver.cpp"
        vargs += ["-Mdir", obj.path, "-I\(src.path)"] + compiled + [obj.appendingPathComponent(main).path]
        guard try run(tools.verilator, vargs) else { throw fail(errorExcerpt(log)) }

        // 2. Check the port list against what Verilator saw.
        let header = (try? String(contentsOf: obj.appendingPathComponent("Vdut.h"), encoding: .utf8)) ?? ""
        do {
            try checkPorts(design, header: header)
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }

        // 3. The port table, and whether the falling edge may be folded into
        //    the next evaluation (see clock_cycle in cosim_driver.cpp).
        let merge = !options.trace && fallingEdgeIsInert(design, generated: generatedSources(obj))
        try Data(portTableHeader(design, mergeFallingEdge: merge).utf8)
            .write(to: obj.appendingPathComponent("cosim_ports.h"))

        // 4. Compile. Verilator's runtime library (verilated.cpp & co., the slow
        //    part) is compiled once per cache and linked from there.
        let classes = (try? String(contentsOf: obj.appendingPathComponent("Vdut_classes.mk"), encoding: .utf8)) ?? ""
        let runtime = try runtimeInfo(classes: classes, tools: tools, root: root)
        var margs = ["-C", obj.path, "-f", "Vdut.mk", "-j", "2"] + flags
        if let ccache = tools.ccache { margs.append("OBJCACHE=\(ccache)") }
        let prebuilt = runtime.objects.allSatisfy { fm.fileExists(atPath: runtime.directory.appendingPathComponent($0).path) }
        if prebuilt && !runtime.objects.isEmpty {
            margs += ["VM_GLOBAL_FAST=", "VM_GLOBAL_SLOW=",
                      "VM_USER_LDLIBS=" + runtime.objects.map { runtime.directory.appendingPathComponent($0).path }.joined(separator: " ")]
        }
        guard try run(tools.make, margs) else { throw fail(errorExcerpt(log)) }
        if !prebuilt { harvestRuntime(runtime, from: obj, root: root) }

        // 5. Keep the executable, sources, log and a manifest; drop the objects.
        try fm.moveItem(at: obj.appendingPathComponent("Vdut"), to: tmp.appendingPathComponent("model"))
        let manifest = """
            top: \(design.top)
            clock: \(design.clock)
            ports: \(design.ports.map { "\($0.direction.rawValue) \($0.name)[\($0.width)]" }.joined(separator: ", "))
            options: trace=\(options.trace) optimize=\(options.optimize)
            verilator: \(tools.verilatorVersion)
            cxx: \(tools.cxxVersion)
            key: \(key)
            runtime: \(prebuilt ? "prebuilt " : "built ")\(runtime.directory.lastPathComponent)
            falling edge merged: \(merge)
            built: \(ISO8601DateFormatter().string(from: Date()))

            """
        try Data(manifest.utf8).write(to: tmp.appendingPathComponent("manifest.txt"))
        try? fm.removeItem(at: obj)

        // 6. Publish atomically; if another process won the race, keep theirs.
        if rename(tmp.path, entry.path) != 0 {
            let err = errno
            try? fm.removeItem(at: tmp)
            if !fm.isExecutableFile(atPath: entry.appendingPathComponent("model").path) {
                throw CosimError.toolFailed(command: "rename \(tmp.path) \(entry.path)", status: err,
                                            output: String(cString: strerror(err)))
            }
        }
    }

    /// Every build runs under the lock, so anything left in tmp/ well before we
    /// got it is debris of a killed build.
    static func removeStaleBuilds(_ root: URL) {
        let fm = FileManager.default
        let tmp = root.appendingPathComponent("tmp", isDirectory: true)
        guard let items = try? fm.contentsOfDirectory(at: tmp, includingPropertiesForKeys: [.contentModificationDateKey]) else { return }
        let cutoff = Date().addingTimeInterval(-600)
        for item in items {
            let date = (try? item.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate ?? .distantPast
            if date < cutoff { try? fm.removeItem(at: item) }
        }
    }

    /// The per-design C++ header: model class, clock index, port table.
    static func portTableHeader(_ design: CosimDesign, mergeFallingEdge: Bool) -> String {
        let clockIndex = design.clockPort.flatMap { c in design.ports.firstIndex(of: c) } ?? -1
        var h = """
            // Generated by Sources/Cosim for top module `\(design.top)`. Do not edit.
            #pragma once
            #include "Vdut.h"
            #define COSIM_NPORTS \(design.ports.count)
            #define COSIM_CLOCK \(clockIndex)
            #define COSIM_MERGE_FALL \(mergeFallingEdge ? 1 : 0)
            static void cosim_bind(Vdut* m, CosimPort* p) {
              (void)m; (void)p;

            """
        for (i, port) in design.ports.enumerated() {
            let storage = port.width <= 8 ? 1 : port.width <= 16 ? 2 : port.width <= 32 ? 4 : port.width <= 64 ? 8 : 0
            let bytes = storage == 0 ? 4 * ((port.width + 31) / 32) : storage
            let ptr = storage == 0 ? "m->\(port.name).data()" : "&m->\(port.name)"
            h += "  static_assert(sizeof(m->\(port.name)) == \(bytes), \"port \(port.name): width \(port.width) does not match the Verilog\");\n"
            h += "  p[\(i)] = CosimPort{\"\(port.name)\", \(port.width), \(port.direction == .output ? 1 : 0), \(storage), (void*)\(ptr)};\n"
        }
        h += "}\n"
        return h
    }

    /// The C++ Verilator generated (for trigger inspection).
    static func generatedSources(_ obj: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: obj.path)) ?? []
        return files.filter { $0.hasPrefix("Vdut") && $0.hasSuffix(".cpp") }.compactMap {
            try? String(contentsOf: obj.appendingPathComponent($0), encoding: .utf8)
        }
    }

    /// True when no logic reacts to the clock's falling edge: every trigger of
    /// Verilator's 'act' region is `posedge <clock>` or an edge of another
    /// top-level input. Then evaluating the falling edge together with the next
    /// inputs gives the same results as evaluating it on its own.
    static func fallingEdgeIsInert(_ design: CosimDesign, generated: [String]) -> Bool {
        guard let clock = design.clockPort?.name else { return false }
        let inputs = Set(design.ports.filter { $0.direction == .input && $0.name != clock }.map(\.name))
        guard let regex = try? NSRegularExpression(pattern: #"'act' region trigger index \d+ is active: ([^"\\]*)"#) else {
            return false
        }
        var triggers = 0
        for text in generated {
            let ns = text as NSString
            for m in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let trigger = ns.substring(with: m.range(at: 1))
                guard trigger.hasPrefix("@("), trigger.hasSuffix(")") else { return false }
                for term in trigger.dropFirst(2).dropLast().components(separatedBy: " or ") {
                    let parts = term.split(separator: " ").map(String.init)
                    guard parts.count == 2, parts[0] == "posedge" || parts[0] == "negedge" else { return false }
                    if parts[1] == clock {
                        guard parts[0] == "posedge" else { return false }
                    } else {
                        guard inputs.contains(parts[1]) else { return false }
                    }
                }
                triggers += 1
            }
        }
        return triggers > 0
    }

    /// Compares the declared ports with the `VL_IN*/VL_OUT*` lines of Vdut.h.
    static func checkPorts(_ design: CosimDesign, header: String) throws {
        let regex = try NSRegularExpression(pattern: #"VL_(IN|OUT|INOUT)(?:8|16|64|W)?\(&(\w+),(\d+),(\d+)"#)
        var found = [String: (String, Int)]()
        var order = [String]()
        let ns = header as NSString
        for m in regex.matches(in: header, range: NSRange(location: 0, length: ns.length)) {
            let dir = ns.substring(with: m.range(at: 1))
            let name = ns.substring(with: m.range(at: 2))
            let msb = Int(ns.substring(with: m.range(at: 3))) ?? 0
            let lsb = Int(ns.substring(with: m.range(at: 4))) ?? 0
            found[name] = (dir, abs(msb - lsb) + 1)
            order.append(name)
        }
        guard !found.isEmpty else { return }  // unexpected header layout: rely on the static_asserts
        var problems = [String]()
        for p in design.ports {
            guard let (dir, width) = found[p.name] else {
                problems.append("`\(p.name)` is not a port of the Verilog"); continue
            }
            let expected = p.direction == .input ? "IN" : "OUT"
            if dir != expected { problems.append("`\(p.name)` is \(dir == "IN" ? "an input" : dir == "OUT" ? "an output" : "an inout") in the Verilog") }
            if width != p.width { problems.append("`\(p.name)` is \(width) bits wide in the Verilog, not \(p.width)") }
        }
        let listed = Set(design.ports.map(\.name))
        for name in order where !listed.contains(name) {
            problems.append("Verilog port `\(name)` (\(found[name]!.0.lowercased())put, \(found[name]!.1) bits) is missing from the port list")
        }
        if !problems.isEmpty {
            throw CosimError.portMismatch(top: design.top, message: problems.joined(separator: "; "))
        }
    }

    /// First error lines of a build log (or its last lines if none look like errors).
    static func errorExcerpt(_ log: URL) -> [String] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        // Verilator warnings are fatal in builds (no -Wno-fatal), so they count as errors.
        let errors = lines.filter {
            $0.hasPrefix("%Error") || $0.hasPrefix("%Warning") || $0.contains(" error: ") || $0.contains(": error:")
                || $0.contains("fatal error") || $0.contains("undefined reference")
        }
        if !errors.isEmpty { return Array(errors.prefix(8)) }
        return Array(lines.filter { !$0.hasPrefix("$ ") }.suffix(8))
    }

    static func appendLog(_ log: URL, _ text: String) {
        if let h = try? FileHandle(forWritingTo: log) {
            h.seekToEndOfFile()
            h.write(Data(text.utf8))
            try? h.close()
        }
    }

    // MARK: - Runtime library cache

    struct Runtime {
        var objects: [String]
        var directory: URL
    }

    /// Which runtime objects this build needs and where their cached copies live.
    static func runtimeInfo(classes: String, tools: Toolchain, root: URL) throws -> Runtime {
        // Scalar settings (VM_TRACE = 1, ...) and the VM_GLOBAL_FAST/SLOW lists.
        var settings = [String]()
        var objects = [String]()
        var inGlobal = false
        for raw in classes.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.isEmpty { inGlobal = false; continue }
            if line.hasPrefix("VM_GLOBAL_FAST") || line.hasPrefix("VM_GLOBAL_SLOW") { inGlobal = true; continue }
            if line.hasPrefix("VM_") {
                inGlobal = false
                if line.contains(" = ") { settings.append(line) }
                continue
            }
            if inGlobal { objects.append(line.replacingOccurrences(of: "\\", with: "").trimmingCharacters(in: .whitespaces) + ".o") }
        }
        objects = objects.filter { $0 != ".o" }
        let text = "runtime\n\(tools.verilatorVersion)\n\(tools.cxxVersion)\n\(runtimeOpt)\n\(settings.joined(separator: "\n"))\n\(objects.joined(separator: " "))\n"
        let rkey = try sha256(Array(text.utf8), tools: tools)
        return Runtime(objects: objects, directory: root.appendingPathComponent("runtime/\(rkey.prefix(24))", isDirectory: true))
    }

    static func harvestRuntime(_ runtime: Runtime, from obj: URL, root: URL) {
        let fm = FileManager.default
        guard !runtime.objects.isEmpty, !fm.fileExists(atPath: runtime.directory.path) else { return }
        let staging = root.appendingPathComponent("tmp/runtime-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            for o in runtime.objects {
                try fm.copyItem(at: obj.appendingPathComponent(o), to: staging.appendingPathComponent(o))
            }
            try fm.createDirectory(at: runtime.directory.deletingLastPathComponent(), withIntermediateDirectories: true)
            if rename(staging.path, runtime.directory.path) != 0 { try? fm.removeItem(at: staging) }
        } catch {
            try? fm.removeItem(at: staging)
        }
    }
}

// MARK: - Tools

struct Toolchain: Sendable {
    var verilator: String
    var make: String
    var sha256sum: String
    var ccache: String?
    var verilatorVersion: String
    var cxxVersion: String

    private static let cache = Locked<Toolchain?>(nil)

    /// Finds the tools once per process (re-tried while something is missing).
    static func shared() throws -> Toolchain {
        try cache.withLock { cached in
            if let t = cached { return t }
            let t = try discover()
            cached = t
            return t
        }
    }

    static func discover() throws -> Toolchain {
        guard let verilator = Subprocess.which(ProcessInfo.processInfo.environment["VERILATOR"] ?? "verilator") else {
            throw CosimError.toolMissing("verilator")
        }
        guard let make = Subprocess.which("make") else { throw CosimError.toolMissing("make") }
        guard let cxx = Subprocess.which("g++") else { throw CosimError.toolMissing("g++") }
        guard let sha = Subprocess.which("sha256sum") else { throw CosimError.toolMissing("sha256sum") }
        let (vs, vout) = try Subprocess.capture(verilator, ["--version"])
        guard vs == 0, let vline = vout.split(separator: "\n").first else {
            throw CosimError.toolFailed(command: "verilator --version", status: vs, output: vout)
        }
        let (cs, cout) = try Subprocess.capture(cxx, ["--version"])
        guard cs == 0, let cline = cout.split(separator: "\n").first else {
            throw CosimError.toolFailed(command: "g++ --version", status: cs, output: cout)
        }
        // ccache (OBJCACHE) when installed, unless ACCELGEN_CCACHE=0.
        let ccache = ProcessInfo.processInfo.environment["ACCELGEN_CCACHE"] == "0" ? nil : Subprocess.which("ccache")
        return Toolchain(verilator: verilator, make: make, sha256sum: sha, ccache: ccache,
                         verilatorVersion: String(vline), cxxVersion: String(cline))
    }
}

/// The Testbench sources, read from disk (cheap; re-read on each build so edits count): the
/// driver's, or a program's (`BuildOptions.program`: its .cpp first, then the headers beside it),
/// as (file name, text).
enum Testbench {
    static func load(program: String? = nil) throws -> [(String, String)] {
        let dir = Verilator.testbenchDirectory
        var files = Verilator.testbenchFiles
        if let program {
            guard program.hasSuffix(".cpp"), !program.hasPrefix("/"), !program.split(separator: "/").contains("..") else {
                throw CosimError.usage("program `\(program)` must be a .cpp file inside the Testbench folder")
            }
            let folder = (program as NSString).deletingLastPathComponent
            let listing = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(folder).path)) ?? []
            files = [program] + listing.filter { $0.hasSuffix(".h") }.sorted().map { folder.isEmpty ? $0 : "\(folder)/\($0)" }
        }
        return try files.map { path in
            let url = dir.appendingPathComponent(path)
            let name = (path as NSString).lastPathComponent
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw CosimError.toolFailed(command: "read \(url.path)", status: -1,
                                            output: "Testbench source missing; set ACCELGEN_TESTBENCH to the Testbench folder")
            }
            return (name, text)
        }
    }
}

/// An exclusive advisory lock on a file (flock), held until `unlock`.
final class FileLock {
    private var fd: Int32

    init(_ path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CosimError.toolFailed(command: "open \(path)", status: errno, output: String(cString: strerror(errno)))
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR {
                let err = errno
                close(fd)
                throw CosimError.toolFailed(command: "flock \(path)", status: err, output: String(cString: strerror(err)))
            }
        }
    }

    func unlock() {
        if fd >= 0 { flock(fd, LOCK_UN); close(fd); fd = -1 }
    }

    deinit { unlock() }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&value)
    }
}
