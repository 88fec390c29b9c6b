import ArgumentParser
import Cores
import Foundation
import Sweep
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Sweep accelerator designs: generate, lint, build, co-simulate a fixed GEMM or convolution workload, synthesize, estimate energy.",
        discussion: """
        The grid is the cartesian product of the list flags (comma-separated), or the sub-grids of --config FILE, or (with neither) the default grid of docs/SWEEP.md (21 points).

        Each finished point is written to DIR/points/; a rerun skips finished points; the merge writes DIR/sweep.csv, DIR/sweep.json and the report (DIR/report.md, DIR/plots/). --plan lists the points, --point I runs one, --merge gathers them (for job arrays and other machines).

        Exit status: 0 when every point passed, 1 when a point failed or has no result (the tables are written anyway), 2 for a refused flag (one line on stderr, nothing written).
        """)

    @Option(help: ArgumentHelp("Array rows, comma-separated, each 1...128 (default 8).", valueName: "list")) var rows: String?
    @Option(help: ArgumentHelp("Array columns, comma-separated, each 1...128 (default: square, cols = rows).", valueName: "list")) var cols: String?
    @Option(help: ArgumentHelp("Bits of A and B, comma-separated, each 2...16 (default 8); fractional bits are bits - 2.", valueName: "list")) var inputBits: String?
    @Option(help: ArgumentHelp("Bits of C, comma-separated, each 2...32 (default: the input bits); fractional bits are bits - 8.", valueName: "list")) var outputBits: String?
    @Option(help: ArgumentHelp("Output rounding, comma-separated: truncate, nearest, stochastic (default stochastic).", valueName: "list")) var rounding: String?
    @Option(help: ArgumentHelp("What every point runs: gemm (GEMMs on the systolic array) or conv (convolution layers on PE arrays) (default gemm).", valueName: "gemm|conv")) var workload: String?
    @Option(help: ArgumentHelp("Dataflows, comma-separated: os with --workload gemm (the default); os, ws, rs with --workload conv (default all three).", valueName: "list")) var dataflow: String?
    @Option(help: ArgumentHelp("JSON file with a list of sub-grids (docs/SWEEP.md); not with the grid flags.", valueName: "file")) var config: String?
    @Option(help: ArgumentHelp("Output folder.", valueName: "dir")) var out = "sweep-results"
    @Option(name: .customLong("jobs"), help: ArgumentHelp("Points run in parallel, 1...64 (default 2).", valueName: "n")) var jobsText: String?
    @Flag(name: .customLong("no-synth"), help: "Skip synthesis (yosys).") var noSynth = false
    @Flag(help: "Rerun points even when DIR/points holds a result for them.") var force = false
    @Flag(help: "List the points (index, key, parameters) and exit.") var plan = false
    @Flag(help: "With --plan: print the plan as JSON.") var json = false
    @Option(name: .customLong("point"), help: ArgumentHelp("Run only point I of the plan (writes its file in DIR/points).", valueName: "I")) var pointText: String?
    @Flag(help: "Gather DIR/points into DIR/sweep.csv, DIR/sweep.json and the report.") var merge = false

    static let jobsRange = 1...64
    var jobs: Int { jobsText.flatMap { Int($0) } ?? 2 }
    var point: Int? { pointText.flatMap { Int($0) } }

    var gridFlags: [(String, String)] {
        [("rows", rows), ("cols", cols), ("input-bits", inputBits), ("output-bits", outputBits),
         ("rounding", rounding), ("workload", workload), ("dataflow", dataflow)].compactMap { name, v in v.map { (name, $0) } }
    }

    func grids() throws -> [SubGrid] {
        if let config {
            if let (flag, _) = gridFlags.first {
                throw SweepUsageError(flag: flag, value: gridFlags[0].1, allowed: "no grid flags together with --config (put it in the file)")
            }
            return try Grid.load(configFile: URL(fileURLWithPath: config))
        }
        if gridFlags.isEmpty { return Grid.defaultGrid }
        let kind = try workload.map { try Grid.workload($0) } ?? .gemm
        return [SubGrid(
            dataflow: try dataflow.map { try Grid.dataflowList($0, workload: kind) } ?? Grid.dataflows(for: kind),
            rows: try rows.map { try Grid.intList($0, flag: "rows", range: SystolicConfig.sizes) } ?? [8],
            cols: try cols.map { try Grid.intList($0, flag: "cols", range: SystolicConfig.sizes) },
            inputBits: try inputBits.map { try Grid.intList($0, flag: "input-bits", range: SystolicConfig.operandBits) } ?? [8],
            outputBits: try outputBits.map { try Grid.intList($0, flag: "output-bits", range: SystolicConfig.outputBits) },
            rounding: try rounding.map { try Grid.roundingList($0) } ?? [.stochastic],
            workload: kind)]
    }

    /// The flags a worker needs to compute the same plan and write to the same place.
    var workerArguments: [String] {
        var args: [String] = []
        if let config { args += ["--config", URL(fileURLWithPath: config).standardizedFileURL.path] }
        for (flag, value) in gridFlags { args += ["--\(flag)", value] }
        args += ["--out", URL(fileURLWithPath: out).standardizedFileURL.path]
        if noSynth { args.append("--no-synth") }
        if force { args.append("--force") }
        return args
    }

    func validate() throws {
        if let text = jobsText, !(Int(text).map(Self.jobsRange.contains) ?? false) {
            throw SweepUsageError(flag: "jobs", value: "'\(text)'", allowed: "an integer in 1...64")
        }
        if let text = pointText, !(Int(text).map { $0 >= 0 } ?? false) {
            throw SweepUsageError(flag: "point", value: "'\(text)'", allowed: "a point index from --plan, 0 or more")
        }
        let modes = [plan ? "--plan" : nil, point.map { "--point \($0)" }, merge ? "--merge" : nil].compactMap { $0 }
        if modes.count > 1 {
            throw SweepUsageError("invalid combination \(modes.joined(separator: " ")): allowed at most one of --plan, --point I, --merge")
        }
        if json && !plan { throw SweepUsageError("invalid flag --json without --plan: allowed only with --plan") }
    }

    func run() throws {
        let points = Grid.points(try grids())
        let store = SweepStore(directory: URL(fileURLWithPath: out))
        if plan { return try printPlan(points) }
        if let i = point {
            guard points.indices.contains(i) else {
                throw SweepUsageError(flag: "point", value: String(i), allowed: "0...\(points.count - 1) (the plan has \(points.count) point\(points.count == 1 ? "" : "s"); see --plan)")
            }
            return try runOne(points[i], store: store)
        }
        if merge { return try mergeAll(points, store: store) }
        try runAll(points, store: store)
    }

    // MARK: - Modes

    func printPlan(_ points: [SweepPoint]) throws {
        if json {
            struct Entry: Encodable {
                let index: Int
                let key: String
                let workload: String
                let dataflow: String
                let config: SystolicConfig
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let entries = points.map { Entry(index: $0.index, key: $0.key, workload: $0.workload.rawValue, dataflow: $0.dataflow, config: $0.config) }
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        print(table(["index", "key", "dataflow", "rows", "cols", "A/B", "acc", "C", "rounding", "lfsr"], points.map { p in
            let c = p.config
            return [String(p.index), p.key, p.dataflow, String(c.rows), String(c.cols), c.a.description, c.accumulator.description,
                    c.output.description, c.rounding.rawValue, c.rounding == .stochastic ? String(c.lfsrWidth) : "-"]
        }))
        print("\(points.count) points")
    }

    func runOne(_ p: SweepPoint, store: SweepStore) throws {
        try store.prepare()
        if !force, let done = try store.finished(in: [p])[p.key] {
            if !FileManager.default.fileExists(atPath: store.url(for: p).path) { try store.write(done) }
            print("point \(p.index) \(p.key): already done (\(done.status.rawValue)) in \(store.url(for: p).path); --force reruns it")
            if done.status != .pass { throw ExitCode(1) }
            return
        }
        WorkerPool.watchParent()
        // Test hook (docs/SWEEP.md): the worker of this key dies as an out-of-memory kill would.
        if ProcessInfo.processInfo.environment["ACCELGEN_SWEEP_CRASH"] == p.key { kill(getpid(), SIGKILL) }
        let r = Runner.run(p, options: RunOptions(synthesize: !noSynth))
        try store.write(r)
        print(describe(r))
        if let m = r.message, r.status != .pass { print(m) }
        if r.status != .pass { throw ExitCode(1) }
    }

    func mergeAll(_ points: [SweepPoint], store: SweepStore) throws {
        let found = try store.finished(in: points)
        let results = points.compactMap { found[$0.key] }
        try finish(results, store: store)
        let missing = points.filter { found[$0.key] == nil }
        if !missing.isEmpty {
            warn("\(missing.count) of \(points.count) points have no result yet: \(missing.map { String($0.index) }.joined(separator: ", ")) (run them with --point I)")
            throw ExitCode(1)
        }
        if results.contains(where: { $0.status != .pass }) { throw ExitCode(1) }
    }

    func runAll(_ points: [SweepPoint], store: SweepStore) throws {
        try store.prepare()
        store.removeDebris()
        try store.writePlan(points)
        var done = force ? [:] : try store.finished(in: points)
        // Results stored under another index (an earlier grid) move to this plan's file name.
        for (key, r) in done where !FileManager.default.fileExists(atPath: store.url(for: r.point).path) {
            try store.write(r)
            done[key] = r
        }
        let todo = points.filter { done[$0.key] == nil }
        let jobs = min(self.jobs, max(todo.count, 1))
        warn("\(points.count) points: \(done.count) already done, \(todo.count) to run on \(jobs) job\(jobs == 1 ? "" : "s")"
             + "\(noSynth ? ", no synthesis" : ""); results in \(store.directory.path)")

        let pool = WorkerPool(executable: WorkerPool.currentExecutable, arguments: workerArguments, store: store)
        let sources = installSignalHandlers(pool: pool, store: store, points: points)
        let scheduler = Scheduler(points: todo, jobs: jobs, alreadyDone: done.count, total: points.count,
                                  execute: { pool.run($0) },
                                  started: { p in if !pool.isStopping { warn("start point \(p.index) \(p.key)") } },
                                  finished: { r, progress in
                                      var line = "[\(progress.done)/\(progress.total)] \(describe(r))"
                                      if let eta = progress.eta, progress.remaining > 0 { line += "; ETA \(duration(eta))" }
                                      warn(line)
                                  })
        let ran = scheduler.run()
        sources.forEach { $0.cancel() }
        var all = done
        for r in ran { all[r.point.key] = r }
        try finish(points.compactMap { all[$0.key] }, store: store)
        if all.values.contains(where: { $0.status != .pass }) { throw ExitCode(1) }
    }

    /// Writes the tables and the report, prints the summary.
    func finish(_ results: [PointResult], store: SweepStore) throws {
        let report = try store.writeOutputs(results)
        print(table(["index", "key", "status", "cycles", "util", "RMSE", "bias", "SQNR dB", "cells", "LUTs", "pJ/MAC", "time"],
                    results.map { r in
                        let sim = r.simulated
                        return [String(r.point.index), r.point.key, r.status.rawValue, sim ? String(r.cycles) : "-",
                         sim ? String(format: "%.1f%%", r.utilization * 100) : "-", sim ? String(format: "%.4g", r.rmse) : "-",
                         sim ? String(format: "%+.3g", r.bias) : "-",
                         r.sqnrDB.map { String(format: "%.1f", $0) } ?? "-",
                         r.synthesis.map { String($0.genericCells) } ?? "-", r.synthesis.map { String($0.luts) } ?? "-",
                         r.energy.map { String(format: "%.3g", $0.picojoulesPerMAC) } ?? "-",
                         duration(wallSeconds(r))]
                    }))
        for r in results where r.status != .pass {
            print("\npoint \(r.point.index) \(r.point.key) \(r.status.rawValue.uppercased()): \(r.message ?? "?")")
        }
        let passed = results.filter { $0.status == .pass }.count
        print("\n\(results.count) points, \(passed) passed, \(results.count - passed) failed; wrote \(store.csvURL.path) and \(store.jsonURL.path)")
        switch report {
        case .success(let url): print("report: \(url.path)")
        case .failure(let error):
            warn("report: \(error)")
            throw ExitCode(1)
        }
    }

    /// SIGINT/SIGTERM: stop the workers and exit. Finished points are already on disk.
    func installSignalHandlers(pool: WorkerPool, store: SweepStore, points: [SweepPoint]) -> [DispatchSourceSignal] {
        ([SIGINT, SIGTERM] as [Int32]).map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                pool.stop()
                let kept = (try? store.finished(in: points).count) ?? 0
                warn("interrupted (\(sig == SIGINT ? "SIGINT" : "SIGTERM")): \(kept) of \(points.count) points are finished and kept in \(store.pointsDirectory.path); rerun the same command to continue")
                Glibc.exit(128 + sig)
            }
            source.resume()
            return source
        }
    }
}

// MARK: - Output helpers

func warn(_ line: String) {
    FileHandle.standardError.write(Data("sweep: \(line)\n".utf8))
}

func duration(_ s: Double) -> String {
    if s < 60 { return String(format: "%.1f s", s) }
    let t = Int(s.rounded())
    return t < 3600 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m"
}

/// The time this point took when it ran (a cached synthesis costs nothing).
func wallSeconds(_ r: PointResult) -> Double {
    r.generateSeconds + r.buildSeconds + r.simulateSeconds + (r.synthesis.map { $0.cached == true ? 0 : $0.seconds } ?? 0)
}

func describe(_ r: PointResult) -> String {
    var s = "point \(r.point.index) \(r.point.key): \(r.status.rawValue)"
    let total = wallSeconds(r)
    if total > 0 {
        s += " in \(duration(total)) (generate \(String(format: "%.1f", r.generateSeconds)), build \(String(format: "%.1f", r.buildSeconds)), simulate \(String(format: "%.1f", r.simulateSeconds))"
        if let synth = r.synthesis { s += synth.cached == true ? ", synth cached" : ", synth \(String(format: "%.1f", synth.seconds))" }
        s += ")"
    }
    if r.status != .pass, let m = r.message { s += ": " + (m.split(separator: "\n").first.map(String.init) ?? m) }
    return s
}

/// Left-aligned first two columns, right-aligned numbers, a rule under the header.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max()! }
    var lines: [String] = []
    for (n, row) in ([header] + rows).enumerated() {
        lines.append(row.enumerated().map { i, cell in
            i == 1 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                   : String(repeating: " ", count: widths[i] - cell.count) + cell
        }.joined(separator: "  "))
        if n == 0 { lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))) }
    }
    return lines.joined(separator: "\n")
}

/// One line on stderr, status 2, for anything the user got wrong; ArgumentParser's help as usual.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sweep: error: \(message)\n".utf8))
    exit(2)
}

let parsed: ParsableCommand
do {
    parsed = try SweepCommand.parseAsRoot()
} catch let e as SweepUsageError {
    fail(e.description)
} catch {
    if SweepCommand.exitCode(for: error) == .success { SweepCommand.exit(withError: error) }
    let first = SweepCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    fail(first + " (see sweep --help)")
}
guard let command = parsed as? SweepCommand else {
    // --help and the like.
    var other = parsed
    do { try other.run() } catch { SweepCommand.exit(withError: error) }
    exit(0)
}
do {
    try command.run()
} catch let e as SweepUsageError {
    fail(e.description)
} catch let e as ExitCode {
    exit(e.rawValue)
} catch {
    FileHandle.standardError.write(Data("sweep: error: \(error)\n".utf8))
    exit(1)
}
