import Conv
import Cores
import Cosim
import Foundation
import Golden
import HDL
import Model
import Runtime
import Timing
import Verification
import Verilog
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fixed workload every point runs: the same GEMM shapes and the same random operands
/// (uniform over each input format's whole range, from one seed) for every design.
public struct Workload: Hashable, Sendable, Codable {
    public struct GEMM: Hashable, Sendable, Codable {
        public var m: Int, n: Int, k: Int
        public init(m: Int, n: Int, k: Int) { (self.m, self.n, self.k) = (m, n, k) }
    }
    public var gemms: [GEMM]
    public var seed: UInt64

    public init(gemms: [GEMM], seed: UInt64) {
        self.gemms = gemms
        self.seed = seed
    }

    /// 64×64×64 (square, K comparable to the arrays) and 100×37×300 (ragged edges, long K).
    public static let standard = Workload(gemms: [GEMM(m: 64, n: 64, k: 64), GEMM(m: 100, n: 37, k: 300)], seed: 1)

    public var macs: Int { gemms.reduce(0) { $0 + $1.m * $1.n * $1.k } }
}

public struct RunOptions: Sendable {
    public var synthesize: Bool
    public var workload: Workload
    /// What convolution points run (`SweepPoint.workload == .conv`).
    public var convWorkload: ConvWorkload
    /// Place and route every design on this device (`--pnr`; a network point's every array).
    public var pnr: Device?
    public init(synthesize: Bool = true, workload: Workload = .standard, convWorkload: ConvWorkload = .standard, pnr: Device? = nil) {
        self.synthesize = synthesize
        self.pnr = pnr
        self.workload = workload
        self.convWorkload = convWorkload
    }
}

/// Runs one point, in process: generate, lint, build, simulate, synthesize, estimate energy.
public enum Runner {
    /// Messages are cut to this many characters (lint or build logs can be long).
    static let messageLimit = 4000

    /// Never throws: an invalid configuration, a tool failure or a crash-free exception becomes
    /// a result with status `error` (keeping whatever was measured before it), mismatches a
    /// result with status `fail` and the first mismatch as its message.
    public static func run(_ point: SweepPoint, options: RunOptions = .init()) -> PointResult {
        var r = PointResult(point: point, status: .pass)
        var stage = "config"
        do {
            guard Grid.dataflows(for: point.workload).contains(point.dataflow) else {
                throw SweepUsageError(flag: "dataflow", value: point.dataflow.rawValue, allowed: Grid.allowedDataflows(point.workload))
            }
            switch point.workload {
            case .gemm: try runGEMM(point.config, options, &r, &stage)
            case .conv: try runConv(point, options, &r, &stage)
            case .lenet5, .mlp: try runNetwork(point, options, &r, &stage)
            }
        } catch {
            if r.status == .fail {
                // Keep the mismatch as the verdict; the later stage's error goes with it.
                r.message = clip("\(r.message ?? ""); then \(stage): \(describe(error))")
            } else {
                r.status = .error
                r.message = clip("\(stage): \(describe(error))")
            }
        }
        return r
    }

    static func runGEMM(_ c: ArrayConfig, _ options: RunOptions, _ r: inout PointResult, _ stage: inout String) throws {
        try c.validate()
        r.energy = energy(c, options.workload)
        let top = try generate({ try Systolic.module(c) }, &r, &stage)

        // Simulate the fixed workload against the golden model.
        stage = "simulate"
        let t = Date()
        try simulate(c, options.workload, into: &r)
        r.simulateSeconds = Date().timeIntervalSince(t)

        if options.synthesize {
            stage = "synthesis"
            let unit = c.rounder(column: 0).moduleName
            r.synthesis = try SynthesisRunner.metrics(for: top, options: .init(unit: unit, pe: peModule(of: top, c, excluding: unit)))
        }
        try placeAndRoute(top, options, &r, &stage)
    }

    /// `--pnr`: a failure (the tool missing, the design not fitting) becomes the point's error
    /// through `run`; a design with more multipliers than the device is placed not at all and
    /// says why in `pnr.notApplicable`.
    static func placeAndRoute(_ top: ModuleDefinition, _ options: RunOptions, _ r: inout PointResult, _ stage: inout String) throws {
        guard let device = options.pnr else { return }
        stage = "place and route"
        r.pnr = try PlaceAndRoute.metrics(for: top, options: .init(device: device))
    }

    /// The name of an array top's PE module: the module it instantiates rows × cols times
    /// (the ROUND unit `excluding` aside, which a one-row array has as often); when several
    /// are (a 1×1 array also has one FIFO), the one named as a PE (`pe_…`, `…_pe_…`). Read off
    /// the hierarchy, so it holds for every dataflow's array. nil when none qualifies.
    static func peModule(of top: ModuleDefinition, _ c: ArrayConfig, excluding: String?) -> String? {
        var counts: [String: Int] = [:]
        for i in top.instances { counts[i.definition.name, default: 0] += 1 }
        let candidates = counts.filter { $0.value == c.rows * c.cols && $0.key != excluding }.map(\.key).sorted()
        if candidates.count == 1 { return candidates[0] }
        return candidates.first { $0.hasPrefix("pe_") || $0.contains("_pe_") || $0.hasPrefix("pe") }
    }

    /// Elaborates, emits and lints the top (`generate`, `lint`), then builds it in Verilator
    /// (`build`, cached: the same design and options the harness or engine then simulates).
    static func generate(_ elaborate: () throws -> ModuleDefinition, _ r: inout PointResult, _ stage: inout String) throws -> ModuleDefinition {
        stage = "generate"
        var t = Date()
        let top = try elaborate()
        let files = try VerilogEmitter.emit(top)
        let sources = Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, $0.text) })
        stage = "lint"
        try Lint.verilator(sources: sources, top: top.name)
        r.generateSeconds = Date().timeIntervalSince(t)

        stage = "build"
        t = Date()
        _ = try Verilator.build(try cosimDesign(top))
        r.buildSeconds = Date().timeIntervalSince(t)
        return top
    }

    static func simulate(_ c: ArrayConfig, _ w: Workload, into r: inout PointResult) throws {
        let harness = try GEMMCheck(c, record: false)
        var g = SplitMix64(seed: w.seed)
        var reports: [GEMMReport] = []
        var errorSquares = 0.0, errorSum = 0.0, signal = 0.0, count = 0, maxAbs = 0.0, arrayMACs = 0.0, simSeconds = 0.0
        for (n, shape) in w.gemms.enumerated() {
            // Codes uniform over each operand's codes (fixed point: its integers, the same draws
            // as before formats), as `simulate gemm` draws them.
            let (a, b) = harness.random(m: shape.m, k: shape.k, n: shape.n, using: &g)
            let report = try harness.run(label: "gemm\(n) \(shape.m)x\(shape.k)x\(shape.n)", a: a, b: b)
            reports.append(report)
            let e = report.error, elements = Double(shape.m * shape.n)
            count += shape.m * shape.n
            let sq = e.rmse * e.rmse * elements
            errorSquares += sq
            errorSum += e.meanError * elements
            maxAbs = max(maxAbs, e.maxAbsError)
            if let db = e.sqnrDB {
                signal += sq * pow(10, db / 10)
            } else {
                let exact = GEMMModel.realProduct(a: harness.codes.a.values(a), formatA: c.a.golden,
                                                  b: harness.codes.b.values(b), formatB: c.b.golden)
                signal += exact.elements.reduce(0) { $0 + $1 * $1 }
            }
            let work = Double(report.tiles * c.rows * c.cols * report.k)
            arrayMACs += work
            simSeconds += work / max(report.simulatedMACsPerSecond, 1e-9)
        }
        r.cycles = reports.reduce(0) { $0 + $1.cycles }
        r.macs = reports.reduce(0) { $0 + $1.macs }
        r.mismatches = reports.reduce(0) { $0 + $1.mismatches }
        r.utilization = r.cycles > 0 ? Double(r.macs) / Double(r.cycles * c.rows * c.cols) : 0
        r.simulatedMACsPerSecond = arrayMACs / max(simSeconds, 1e-9)
        r.rmse = count > 0 ? (errorSquares / Double(count)).squareRoot() : 0
        r.bias = count > 0 ? errorSum / Double(count) : 0
        r.maxAbsError = maxAbs
        r.sqnrDB = errorSquares > 0 ? 10 * log10(signal / errorSquares) : nil
        if let bad = reports.first(where: { !$0.passed }) {
            r.status = .fail
            var text = "\(bad.label): \(bad.mismatches) mismatches; first: \(bad.firstMismatch ?? "?")"
            if let wave = bad.waveform { text += "; waveform \(wave)" }
            r.message = clip(text)
        }
    }

    /// The workload's energy: the sum over its GEMMs; pJ/MAC = total / MACs of the workload.
    static func energy(_ c: ArrayConfig, _ w: Workload) -> EnergyEstimate {
        var total = 0.0
        var breakdown: [String: Double] = [:]
        for g in w.gemms {
            let e = EnergyModel.systolic(c, m: g.m, n: g.n, k: g.k)
            total += e.totalPicojoules
            breakdown.merge(e.breakdown, uniquingKeysWith: +)
        }
        return EnergyEstimate(picojoulesPerMAC: w.macs > 0 ? total / Double(w.macs) : 0, totalPicojoules: total, breakdown: breakdown)
    }

    static func describe(_ error: Error) -> String {
        String(describing: error)
    }

    static func clip(_ s: String) -> String {
        s.count <= messageLimit ? s : String(s.prefix(messageLimit)) + " …"
    }
}

extension SweepStore {
    /// The merge: sweep.csv and sweep.json (one row/object per result, in index order), then
    /// the report (`Report.write`, plots and report.md in the same folder). A failed report
    /// leaves the tables written and is returned as the failure.
    public func writeOutputs(_ results: [PointResult]) throws -> Result<URL, Error> {
        try writeTables(results)
        do {
            return .success(try Report.write(results: results.sorted { $0.point.index < $1.point.index }, to: directory))
        } catch {
            return .failure(error)
        }
    }
}


// MARK: - Parallel runs

/// How far a sweep has got, for the progress line.
public struct Progress: Sendable {
    /// Points finished in this sweep (stored earlier or run now) and the sweep's total.
    public var done: Int
    public var total: Int
    /// Points run by this invocation so far, and how many it has still to run.
    public var ranNow: Int
    public var remaining: Int
    public var elapsed: Double
    /// Estimated cost (`Scheduler.cost`) of the points finished and of those not finished.
    public var costDone: Double
    public var costLeft: Double
    /// Seconds left: the time so far per unit of estimated cost finished, times the cost left;
    /// nil before the first point.
    public var eta: Double? { ranNow > 0 && costDone > 0 ? elapsed / costDone * costLeft : nil }
}

/// Runs points on `jobs` threads, each handing its point to `execute` (normally a worker
/// process) and reporting every finished point to `finished` (called under a lock, in
/// completion order). The most expensive points start first (longest-processing-time
/// order), so a big array does not start last and run alone.
public final class Scheduler: @unchecked Sendable {
    /// A rough relative cost of a point, in seconds on a busy 2-core machine with cold caches:
    /// Verilator build and synthesis time grow with the number of PEs.
    public static func cost(_ p: SweepPoint) -> Double {
        // A network point builds and synthesizes one to three arrays and may fine-tune first.
        (p.workload.isNetwork ? 150 : 30) + 0.6 * Double(p.config.rows * p.config.cols) * Double(max(p.config.a.bits, 8)) / 8
    }

    let points: [SweepPoint]
    let jobs: Int
    let alreadyDone: Int
    let total: Int
    let execute: @Sendable (SweepPoint) -> PointResult?
    let finished: @Sendable (PointResult, Progress) -> Void
    let lock = NSLock()
    var next = 0
    var results: [PointResult] = []
    let start = Date()

    /// `execute` returns nil when the point was abandoned (the sweep is being interrupted).
    var costDone = 0.0
    var costLeft: Double
    let started: @Sendable (SweepPoint) -> Void

    public init(points: [SweepPoint], jobs: Int, alreadyDone: Int, total: Int,
                execute: @escaping @Sendable (SweepPoint) -> PointResult?,
                started: @escaping @Sendable (SweepPoint) -> Void = { _ in },
                finished: @escaping @Sendable (PointResult, Progress) -> Void) {
        // Stable sort: equal costs keep plan order.
        self.points = points.enumerated().sorted { x, y in
            let (cx, cy) = (Self.cost(x.element), Self.cost(y.element))
            return cx != cy ? cx > cy : x.offset < y.offset
        }.map(\.element)
        self.costLeft = points.reduce(0) { $0 + Self.cost($1) }
        self.started = started
        self.jobs = max(1, min(jobs, points.count))
        self.alreadyDone = alreadyDone
        self.total = total
        self.execute = execute
        self.finished = finished
    }

    /// Blocks until every point has run; returns the results in completion order.
    public func run() -> [PointResult] {
        guard !points.isEmpty else { return [] }
        let group = DispatchGroup()
        for _ in 0..<jobs {
            group.enter()
            let t = Thread { [self] in
                while let p = take() {
                    guard let r = execute(p) else { continue }
                    lock.lock()
                    results.append(r)
                    costDone += Self.cost(p)
                    costLeft -= Self.cost(p)
                    let progress = Progress(done: alreadyDone + results.count, total: total, ranNow: results.count,
                                            remaining: points.count - results.count, elapsed: Date().timeIntervalSince(start),
                                            costDone: costDone, costLeft: max(0, costLeft))
                    finished(r, progress)
                    lock.unlock()
                }
                group.leave()
            }
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        return results
    }

    func take() -> SweepPoint? {
        lock.lock()
        defer { lock.unlock() }
        guard next < points.count else { return nil }
        next += 1
        started(points[next - 1])
        return points[next - 1]
    }
}

/// Runs each point in a child process (`sweep … --point I`), so a crash, a hang killed from
/// outside or an exhausted memory stays that point's error. The child writes the point file;
/// when it does not (it crashed), the parent writes an error result with the log's tail.
public final class WorkerPool: @unchecked Sendable {
    public let executable: URL
    /// Arguments that select the same plan (grid flags, --out, --no-synth); `--point I` is appended.
    public let arguments: [String]
    public let store: SweepStore
    let lock = NSLock()
    var running: [Int32: Process] = [:]
    var stopping = false

    /// Set in a worker's environment: the parent's process id. The worker exits when its
    /// parent dies (even by SIGKILL), so no orphan keeps running after a killed sweep.
    public static let parentVariable = "ACCELGEN_SWEEP_PARENT"

    public init(executable: URL, arguments: [String], store: SweepStore) {
        self.executable = executable
        self.arguments = arguments
        self.store = store
    }

    /// The running executable (for spawning workers). On Linux `/proc/self/exe`, which the
    /// child resolves while it is still a copy of this process: the workers run this very
    /// binary even when a rebuild has replaced the file meanwhile.
    public static var currentExecutable: URL {
        #if os(Linux)
        if FileManager.default.isExecutableFile(atPath: "/proc/self/exe") { return URL(fileURLWithPath: "/proc/self/exe") }
        #endif
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }

    /// Stops every worker (SIGTERM) and makes `run` abandon what they were doing.
    public func stop() {
        lock.lock()
        stopping = true
        let pids = Array(running.keys)
        lock.unlock()
        for pid in pids { kill(pid, SIGTERM) }
    }

    public var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    public func run(_ point: SweepPoint) -> PointResult? {
        if isStopping { return nil }
        let start = Date()
        let log = store.logURL(for: point)
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments + ["--point", String(point.index)]
        var env = ProcessInfo.processInfo.environment
        env[Self.parentVariable] = String(getpid())
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        do {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            p.standardOutput = handle
            p.standardError = handle
            lock.lock()
            if stopping { lock.unlock(); return nil }
            try p.run()
            running[p.processIdentifier] = p
            lock.unlock()
            p.waitUntilExit()
            try? handle.close()
        } catch {
            return record(PointResult(point: point, status: .error, message: "could not start a worker: \(error)"))
        }
        lock.lock()
        running[p.processIdentifier] = nil
        let abandoned = stopping
        lock.unlock()
        if abandoned { return nil }

        if let r = try? store.finished(in: [point])[point.key] { return r }
        let how = p.terminationReason == .uncaughtSignal ? "was killed by signal \(p.terminationStatus)"
                                                          : "exited with status \(p.terminationStatus)"
        let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(8).joined(separator: "\n")
        return record(PointResult(point: point, status: .error, message: Runner.clip(
            "worker \(how) after \(String(format: "%.1f", Date().timeIntervalSince(start))) s without a result (log \(log.path)):\n\(tail)")))
    }

    func record(_ r: PointResult) -> PointResult {
        do { try store.write(r) } catch {
            FileHandle.standardError.write(Data("sweep: warning: \(error)\n".utf8))
        }
        return r
    }

    /// In a worker: exit as soon as the parent named by `ACCELGEN_SWEEP_PARENT` is gone.
    public static func watchParent() {
        guard let text = ProcessInfo.processInfo.environment[parentVariable], let parent = Int32(text) else { return }
        let t = Thread {
            while true {
                if getppid() != parent { _exit(143) }
                usleep(200_000)
            }
        }
        t.start()
    }
}
