import ArgumentParser
import CLIOptions
import Cores
import Foundation
import Sweep
import Timing
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

        On a Slurm cluster: --slurm submits one array task per point and a dependent merge job (resources: --partition, --time, --mem, --cpus-per-task, --max-parallel, --sbatch-arg); --status DIR shows where each point stands; --slurm --resume DIR resubmits the missing and failed points and a new merge.

        Exit status: 0 when every point passed, 1 when a point failed or has no result (the tables are written anyway), 2 for a refused flag (one line on stderr, nothing written).
        """)

    @Option(help: ArgumentHelp("Array rows, comma-separated, each 1...128 (default 8).", valueName: "list")) var rows: String?
    @Option(help: ArgumentHelp("Array columns, comma-separated, each 1...128 (default: square, cols = rows).", valueName: "list")) var cols: String?
    @Option(help: ArgumentHelp("Bits of A and B, comma-separated, each 2...16 (default 8); fractional bits are bits - 2.", valueName: "list")) var inputBits: String?
    @Option(help: ArgumentHelp("Bits of C, comma-separated, each 2...32 (default: the input bits); fractional bits are bits - 8.", valueName: "list")) var outputBits: String?
    @Option(help: ArgumentHelp("Output rounding, comma-separated: truncate, nearest, stochastic (default stochastic).", valueName: "list")) var rounding: String?
    @Option(help: ArgumentHelp("How far each ROUND unit's LFSR advances per output in stochastic points: one step, or a leap of the dropped bits so every output draws fresh bits (default leap).", valueName: "one|leap")) var lfsrStep: String?
    @Option(help: ArgumentHelp("What every point runs: gemm (GEMMs on the systolic array), conv (convolution layers on PE arrays), or a whole network on Fashion-MNIST: lenet5 or mlp (quantized in each --format, accuracy, co-simulation, energy per image; docs/SWEEP.md, \"Networks\") (default gemm).", valueName: "gemm|conv|lenet5|mlp")) var workload: String?
    @Option(help: ArgumentHelp("Dataflows, comma-separated: os with --workload gemm (the default); " + Grid.dataflows(for: .conv).map(\.rawValue).joined(separator: ", ") + " with --workload conv (default all of them); " + Grid.dataflows(for: .lenet5).map(\.rawValue).joined(separator: ", ") + " with --workload lenet5 or mlp (default os; " + Grid.networkFormatsByDataflow + ").", valueName: "list")) var dataflow: String?
    @Option(help: ArgumentHelp("Number formats of the PEs, comma-separated: fixed (the input bits), fixed<N> (A and B N bits, \(NumberFormat.fixedBitsRange.lowerBound)...\(NumberFormat.fixedBitsRange.upperBound)), \(NumberFormat.allowed(except: ["fixed"])) (default: fixed). Other formats take A at the input bits (binary: ±1). A format a point's dataflow does not build is left out with its reason (convolution with binary too: it gates zeros and pads); the dataflows build " + Grid.formatsByDataflow + ".", valueName: "list")) var format: String?
    @Option(help: ArgumentHelp("PE pipeline stages, comma-separated, each 0...2 (default 0): 1 registers the product, 2 also the multiplier's operands (docs/TIMING.md); GEMM and convolution points on os.", valueName: "list")) var pePipeline: String?
    @Option(help: ArgumentHelp("ROUND unit pipeline stages, comma-separated, each 0...1 (default 0; docs/TIMING.md); GEMM and convolution points on os.", valueName: "list")) var roundPipeline: String?
    @Option(help: ArgumentHelp("With --workload lenet5|mlp: test images the golden network classifies for the accuracy, 1...10000 (default 10000).", valueName: "n")) var accuracyImages: String?
    @Option(help: ArgumentHelp("With --workload lenet5|mlp: test images co-simulated on the hardware, every output checked, 1...10000 (default 32).", valueName: "n")) var hardwareImages: String?
    @Option(help: ArgumentHelp("JSON file with a list of sub-grids (docs/SWEEP.md); not with the grid flags.", valueName: "file")) var config: String?
    @Option(name: .customLong("out"), help: ArgumentHelp("Output folder (default sweep-results).", valueName: "dir")) var outText: String?
    @Option(name: .customLong("jobs"), help: ArgumentHelp("Points run in parallel, 1...64 (default 2).", valueName: "n")) var jobsText: String?
    @Flag(name: .customLong("no-synth"), help: "Skip synthesis (yosys).") var noSynth = false
    @Option(name: .customLong("pnr"), help: ArgumentHelp("Also place and route every design on this device: " + Device.allowed + "; yosys synth_ecp5 and nextpnr-ecp5 out of context, three placement seeds: Fmax, critical path, utilization, GOPS (docs/TIMING.md); for networks every distinct array, at the slowest one's Fmax, and inferences per second.", valueName: "device")) var pnrText: String?
    @Flag(help: "Rerun points even when DIR/points holds a result for them.") var force = false
    @Flag(help: "List the points (index, key, parameters) and exit.") var plan = false
    @Flag(help: "With --plan: print the plan as JSON.") var json = false
    @Option(name: .customLong("point"), help: ArgumentHelp("Run only point I of the plan (writes its file in DIR/points).", valueName: "I")) var pointText: String?
    @Flag(help: "Gather DIR/points into DIR/sweep.csv, DIR/sweep.json and the report.") var merge = false
    @Flag(name: .customLong("from-plan"), help: "Take the points from DIR/plan.json (written by a full run or --slurm) instead of grid flags.") var fromPlan = false

    // Slurm (docs/SWEEP.md, "On a Slurm cluster").
    @Flag(help: "Submit the sweep to Slurm: one array task per point, then a merge job; prints the job ids.") var slurm = false
    @Option(name: .customLong("resume"), help: ArgumentHelp("With --slurm: resubmit the missing and failed points of this --slurm output folder, and a new merge.", valueName: "dir")) var resumeText: String?
    @Option(name: .customLong("status"), help: ArgumentHelp("Show which points of this output folder are done, failed, running, pending or missing (with squeue when there).", valueName: "dir")) var statusText: String?
    @Option(name: .customLong("partition"), help: ArgumentHelp("--slurm: the partition (default: the cluster's).", valueName: "name")) var partitionText: String?
    @Option(name: .customLong("time"), help: ArgumentHelp("--slurm: time limit of each point's task, in Slurm's formats (default 01:00:00).", valueName: "time")) var timeText: String?
    @Option(name: .customLong("mem"), help: ArgumentHelp("--slurm: memory of each point's task (default 4G).", valueName: "size")) var memText: String?
    @Option(name: .customLong("cpus-per-task"), help: ArgumentHelp("--slurm: CPUs of each point's task, 1...256 (default 2).", valueName: "n")) var cpusText: String?
    @Option(name: .customLong("max-parallel"), help: ArgumentHelp("--slurm: at most this many tasks at once, 1...10000 (default: no limit).", valueName: "n")) var maxParallelText: String?
    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue, help: ArgumentHelp("--slurm: one more sbatch option for every job (repeatable), e.g. --sbatch-arg=--qos=normal.", valueName: "option")) var sbatchArgs: [String] = []
    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("--slurm: the tasks' Verilator and yosys caches go to DIR/verilator and DIR/yosys; '$TMPDIR/accelgen' is expanded on the node.", valueName: "dir")) var cacheDirText: String?

    static let jobsRange = 1...64
    var jobs: Int { jobsText.flatMap { Int($0) } ?? 2 }
    var point: Int? { pointText.flatMap { Int($0) } }
    var out: String { resumeText ?? outText ?? "sweep-results" }
    /// `--pnr`'s device (checked in `validate`).
    var pnr: Device? { pnrText.flatMap(Device.parse) }

    /// The Slurm-only flags that were given, with their values.
    var slurmFlags: [(String, String)] {
        [("partition", partitionText), ("time", timeText), ("mem", memText), ("cpus-per-task", cpusText),
         ("max-parallel", maxParallelText), ("cache-dir", cacheDirText)].compactMap { name, v in v.map { (name, $0) } }
            + sbatchArgs.map { ("sbatch-arg", $0) }
    }

    var gridFlags: [(String, String)] {
        [("rows", rows), ("cols", cols), ("input-bits", inputBits), ("output-bits", outputBits),
         ("rounding", rounding), ("lfsr-step", lfsrStep), ("workload", workload), ("dataflow", dataflow), ("format", format),
         ("accuracy-images", accuracyImages), ("hardware-images", hardwareImages),
         ("pe-pipeline", pePipeline), ("round-pipeline", roundPipeline)].compactMap { name, v in v.map { (name, $0) } }
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
        if kind.isNetwork { return [try networkGrid(kind)] }
        for (flag, value) in [("accuracy-images", accuracyImages), ("hardware-images", hardwareImages)] {
            if let value { throw SweepUsageError(flag: flag, value: "'\(value)'", allowed: "only with --workload lenet5 or mlp") }
        }
        let formats = try format.map { try Grid.formatList($0) }
        // Input bits no format of the list uses (binary A is ±1, fixed<N> brings its own) contradict it.
        if let inputBits, let format, let formats, formats.allSatisfy({ !$0.usesInputBits }) {
            throw SweepUsageError(flag: "input-bits", value: "'\(inputBits)'",
                                  allowed: "only with a format that takes A at the input bits (fixed, bwn, ternary, pow2, codebook), not with --format \(format)")
        }
        return [SubGrid(
            dataflow: try dataflow.map { try Grid.dataflowList($0, workload: kind) } ?? Grid.defaultDataflows(for: kind),
            rows: try rows.map { try Grid.intList($0, flag: "rows", range: Systolic.sizes) } ?? [8],
            cols: try cols.map { try Grid.intList($0, flag: "cols", range: Systolic.sizes) },
            inputBits: try inputBits.map { try Grid.intList($0, flag: "input-bits", range: ArrayConfig.operandBits) } ?? [8],
            outputBits: try outputBits.map { try Grid.intList($0, flag: "output-bits", range: ArrayConfig.outputBits) },
            rounding: try rounding.map { try Grid.roundingList($0) } ?? [.stochastic],
            workload: kind,
            lfsrStep: try lfsrStep.map { try Grid.lfsrStep($0) } ?? .leap,
            format: formats,
            pePipeline: try pePipeline.map { try Grid.intList($0, flag: "pe-pipeline", range: ArrayConfig.pePipelines) },
            roundPipeline: try roundPipeline.map { try Grid.intList($0, flag: "round-pipeline", range: ArrayConfig.roundPipelines) })]
    }

    /// `--workload lenet5|mlp`: the bits come from the formats, so the bit flags are refused.
    func networkGrid(_ kind: WorkloadKind) throws -> SubGrid {
        for (flag, value) in [("pe-pipeline", pePipeline), ("round-pipeline", roundPipeline)] {
            if let value { throw SweepUsageError(flag: flag, value: "'\(value)'", allowed: "only with --workload gemm or conv") }
        }
        for (flag, value) in [("input-bits", inputBits), ("output-bits", outputBits)] {
            if let value {
                throw SweepUsageError(flag: flag, value: "'\(value)'", allowed: "only with --workload gemm or conv (with --workload \(kind.rawValue) the bits come from --format: fixed<N>, binary, ...)")
            }
        }
        let formats = try format.map { try Grid.formatList($0) }
        if formats?.contains(.fixed(bits: nil)) == true {
            throw SweepUsageError(flag: "format", value: "'fixed'", allowed: NetworkWorkload.allowedFormats + " with --workload \(kind.rawValue)")
        }
        func count(_ text: String?, _ flag: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text else { return nil }
            guard let n = Int(text), range.contains(n) else {
                throw SweepUsageError(flag: flag, value: "'\(text)'", allowed: "an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        return SubGrid(
            dataflow: try dataflow.map { try Grid.dataflowList($0, workload: kind) } ?? Grid.defaultDataflows(for: kind),
            rows: try rows.map { try Grid.intList($0, flag: "rows", range: Systolic.sizes) } ?? [16],
            cols: try cols.map { try Grid.intList($0, flag: "cols", range: Systolic.sizes) },
            inputBits: [8],
            rounding: try rounding.map { try Grid.roundingList($0) } ?? [.stochastic],
            workload: kind,
            lfsrStep: try lfsrStep.map { try Grid.lfsrStep($0) } ?? .leap,
            format: formats,
            accuracyImages: try count(accuracyImages, "accuracy-images", NetworkWorkload.accuracyImagesRange),
            hardwareImages: try count(hardwareImages, "hardware-images", NetworkWorkload.hardwareImagesRange))
    }

    /// The plan of the grid: its points, after a note on stderr for each combination of
    /// dataflow and format left out; a grid with nothing left is a refused flag.
    func plannedPoints() throws -> [SweepPoint] {
        let grids = try grids()
        let (points, skipped) = Grid.plan(grids)
        if points.isEmpty, let first = skipped.first {
            let flag = format != nil ? "format" : "config"
            throw SweepUsageError(flag: flag, value: "'\(format ?? config ?? "")'",
                                  allowed: "a format the grid's dataflows build (none is left: \(first))")
        }
        // A worker recomputes the plan: only the parent says what was left out.
        if !skipped.isEmpty && ProcessInfo.processInfo.environment[WorkerPool.parentVariable] == nil {
            for line in skipped { warn("note: left out \(line)") }
        }
        return points
    }

    /// The flags a worker needs to compute the same plan and write to the same place.
    var workerArguments: [String] {
        var args: [String] = []
        if fromPlan { args.append("--from-plan") }
        if let config { args += ["--config", URL(fileURLWithPath: config).standardizedFileURL.path] }
        for (flag, value) in gridFlags { args += ["--\(flag)", value] }
        args += ["--out", URL(fileURLWithPath: out).standardizedFileURL.path]
        if noSynth { args.append("--no-synth") }
        if let pnr { args += ["--pnr", pnr.flagValue] }
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
        if let text = pnrText, Device.parse(text) == nil {
            throw SweepUsageError(flag: "pnr", value: "'\(text)'", allowed: Device.allowed)
        }
        try validateSlurm()
    }

    func validateSlurm() throws {
        if let dir = statusText {
            let others = gridFlags.map { "--\($0.0)" } + slurmFlags.map { "--\($0.0)" }
                + [config.map { _ in "--config" }, outText.map { _ in "--out" }, plan ? "--plan" : nil, pointText.map { _ in "--point" },
                   merge ? "--merge" : nil, slurm ? "--slurm" : nil, resumeText.map { _ in "--resume" }, jobsText.map { _ in "--jobs" },
                   noSynth ? "--no-synth" : nil, pnrText.map { _ in "--pnr" }, force ? "--force" : nil, fromPlan ? "--from-plan" : nil].compactMap { $0 }
            if let other = others.first {
                throw SweepUsageError(flag: "status", value: "'\(dir)'", allowed: "alone (not with \(other)): sweep --status DIR")
            }
        }
        if resumeText != nil && !slurm {
            throw SweepUsageError(flag: "resume", value: "'\(resumeText!)'", allowed: "only with --slurm: sweep --slurm --resume DIR")
        }
        if !slurm, let (flag, value) = slurmFlags.first {
            throw SweepUsageError(flag: flag, value: "'\(value)'", allowed: "only with --slurm")
        }
        if slurm {
            let other = [plan ? "--plan" : nil, pointText.map { _ in "--point" }, merge ? "--merge" : nil,
                         jobsText.map { _ in "--jobs (use --max-parallel)" }, fromPlan ? "--from-plan (use --resume DIR)" : nil].compactMap { $0 }
            if let o = other.first { throw SweepUsageError("invalid combination --slurm \(o): allowed --slurm with grid flags or --config, --out, --no-synth, --force and the Slurm flags") }
        }
        if let dir = resumeText {
            let other = gridFlags.map { "--\($0.0)" } + [config.map { _ in "--config" }, outText.map { _ in "--out" },
                        noSynth ? "--no-synth" : nil, pnrText.map { _ in "--pnr" }, force ? "--force" : nil].compactMap { $0 }
            if let o = other.first {
                throw SweepUsageError(flag: "resume", value: "'\(dir)'", allowed: "without \(o): the grid and options come from the folder (plan.json, slurm/run.json)")
            }
        }
        if fromPlan, let (flag, _) = gridFlags.first ?? (config.map { ("config", $0) }) {
            throw SweepUsageError("invalid combination --from-plan --\(flag): allowed --from-plan without grid flags or --config (the points come from DIR/plan.json)")
        }
        if let t = partitionText { _ = try SlurmOptions.partition(t) }
        if let t = timeText { _ = try SlurmOptions.time(t) }
        if let t = memText { _ = try SlurmOptions.memory(t) }
        if let t = cpusText { _ = try SlurmOptions.integer(t, flag: "cpus-per-task", range: SlurmOptions.cpusRange) }
        if let t = maxParallelText { _ = try SlurmOptions.integer(t, flag: "max-parallel", range: SlurmOptions.maxParallelRange) }
        if let t = cacheDirText { _ = try SlurmOptions.cacheDirectory(t) }
        for a in sbatchArgs { _ = try SlurmOptions.sbatchArg(a) }
    }

    func run() throws {
        if let dir = statusText { return try showStatus(dir) }
        if slurm { return try submit() }
        let store = SweepStore(directory: URL(fileURLWithPath: out))
        let points = fromPlan ? try planFromFolder(store, flag: "from-plan") : try plannedPoints()
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
                let config: ArrayConfig
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let entries = points.map { Entry(index: $0.index, key: $0.key, workload: $0.workload.rawValue, dataflow: $0.dataflow.rawValue, config: $0.config) }
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        if points.allSatisfy({ $0.workload.isNetwork }) {
            // A network's arrays follow from its quantized layers: the scheme says it all.
            print(sweepTable(["index", "key", "workload", "dataflow", "rows", "cols", "scheme", "rounding", "lfsr", "accuracy images", "HW images", "weights"],
                        points.map { p in
                            let c = p.config
                            return [String(p.index), p.key, p.workload.rawValue, p.dataflow.rawValue, String(c.rows), String(c.cols), p.schemeName, c.rounding.rawValue,
                                    c.rounding == .stochastic ? c.lfsrStep.rawValue : "-", String(p.network?.accuracyImages ?? 0),
                                    String(p.network?.hardwareImages ?? 0), p.network?.weights ?? "-"]
                        }))
            print("\(points.count) points")
            return
        }
        // With number formats: the format, and A and B apart (a coded B has its own format).
        let formats = points.contains { $0.config.format != .fixed }
        let header = formats ? ["index", "key", "dataflow", "rows", "cols", "format", "A", "B", "acc", "C", "rounding", "lfsr"]
                             : ["index", "key", "dataflow", "rows", "cols", "A/B", "acc", "C", "rounding", "lfsr"]
        print(sweepTable(header, points.map { p in
            let c = p.config
            let operands = formats ? [c.format.description, c.a.description, c.b.description] : [c.a.description]
            return [String(p.index), p.key, p.dataflow.rawValue, String(c.rows), String(c.cols)] + operands
                + [c.accumulator.description, c.output.description, c.rounding.rawValue, c.rounding == .stochastic ? "\(c.lfsrWidth) \(c.lfsrStep)" : "-"]
        }))
        print("\(points.count) points")
    }

    func runOne(_ p: SweepPoint, store: SweepStore) throws {
        try store.prepare()
        if !force, let done = try store.finished(in: [p])[p.key], hasTiming(done, pnr) {
            if !FileManager.default.fileExists(atPath: store.url(for: p).path) { try store.write(done) }
            print("point \(p.index) \(p.key): already done (\(done.status.rawValue)) in \(store.url(for: p).path); --force reruns it")
            if done.status != .pass { throw ExitCode(1) }
            return
        }
        WorkerPool.watchParent()
        // Test hooks (docs/SWEEP.md): the worker of this key dies as an out-of-memory kill
        // would, or waits ten minutes before running (so a test can cancel it mid-run).
        if ProcessInfo.processInfo.environment["ACCELGEN_SWEEP_CRASH"] == p.key { kill(getpid(), SIGKILL) }
        if ProcessInfo.processInfo.environment["ACCELGEN_SWEEP_HOLD"] == p.key {
            FileHandle.standardOutput.write(Data("point \(p.index) \(p.key): held by ACCELGEN_SWEEP_HOLD\n".utf8))
            sleep(600)
        }
        let r = Runner.run(p, options: RunOptions(synthesize: !noSynth, pnr: pnr))
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
        var done = force ? [:] : try store.finished(in: points).filter { hasTiming($0.value, pnr) }
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

    // MARK: - Slurm

    /// The plan in DIR/plan.json; a folder without one is a refused flag value.
    func planFromFolder(_ store: SweepStore, flag: String) throws -> [SweepPoint] {
        guard let points = try? SlurmFolder(store: store).readPlan() else {
            throw SweepUsageError(flag: flag, value: "'\(flag == "from-plan" ? out : store.directory.path)'",
                                  allowed: "an output folder holding the plan.json of a full run or of sweep --slurm (\(store.planURL.path) is missing or unreadable)")
        }
        return points
    }

    /// The options of this submission: the flags, over those of the folder's last run when resuming.
    func slurmOptions(base: SlurmOptions?) throws -> SlurmOptions {
        // The caches of this shell, as absolute paths; a value starting with $ ('$TMPDIR/x') is
        // kept as written, for the task's shell to expand on the node.
        func cache(_ name: String) -> String? {
            guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else { return nil }
            return v.hasPrefix("$") ? v : URL(fileURLWithPath: v).standardizedFileURL.path
        }
        var o = base ?? SlurmOptions(noSynth: noSynth, verilatorCache: cache("ACCELGEN_CACHE"), synthCache: cache("ACCELGEN_SYNTH_CACHE"))
        if base == nil, let pnr {
            o.pnr = pnr.flagValue
            o.pnrCache = cache("ACCELGEN_PNR_CACHE")
            o.nextpnr = URL(fileURLWithPath: PlaceAndRoute.tool).standardizedFileURL.path
        }
        if let t = partitionText { o.partition = try SlurmOptions.partition(t) }
        if let t = timeText { o.time = try SlurmOptions.time(t) }
        if let t = memText { o.mem = try SlurmOptions.memory(t) }
        if let t = cpusText { o.cpusPerTask = try SlurmOptions.integer(t, flag: "cpus-per-task", range: SlurmOptions.cpusRange) }
        if let t = maxParallelText { o.maxParallel = try SlurmOptions.integer(t, flag: "max-parallel", range: SlurmOptions.maxParallelRange) }
        if let t = cacheDirText { o.cacheDir = try SlurmOptions.cacheDirectory(t) }
        if !sbatchArgs.isEmpty { o.sbatchArgs = try sbatchArgs.map(SlurmOptions.sbatchArg) }
        return o
    }

    /// `--slurm` and `--slurm --resume DIR`.
    func submit() throws {
        let resume = resumeText != nil
        let store = SweepStore(directory: URL(fileURLWithPath: out))
        let folder = SlurmFolder(store: store)
        let points: [SweepPoint]
        var base: SlurmOptions?
        if resume {
            points = try planFromFolder(store, flag: "resume")
            guard let o = try? folder.readOptions() else {
                throw SweepUsageError(flag: "resume", value: "'\(store.directory.path)'",
                                      allowed: "an output folder of sweep --slurm (\(folder.runURL.path) is missing or unreadable)")
            }
            base = o
        } else {
            points = try plannedPoints()
        }
        let options = try slurmOptions(base: base)
        do {
            let lines = try SlurmSubmitter.submit(points: points, store: store, options: options, resume: resume, force: force,
                                                  isDone: { hasTiming($0, options.pnr.flatMap(Device.parse)) },
                                                  binary: WorkerPool.currentExecutable, warn: warn)
            for line in lines { print(line) }
            print("follow with: \(CommandLine.arguments[0]) --status \(store.directory.path)")
        } catch let failure as SlurmSubmitter.Failure {
            warn("error: \(failure.message)")
            throw ExitCode(1)
        }
    }

    /// `--status DIR`.
    func showStatus(_ dir: String) throws {
        let store = SweepStore(directory: URL(fileURLWithPath: dir))
        let folder = SlurmFolder(store: store)
        let points = try planFromFolder(store, flag: "status")
        let submissions = folder.submissions()
        let jobs = Set(submissions.flatMap { [$0.arrayJob, $0.mergeJob].compactMap { $0 } })
        let (queue, note) = Slurm.queue(jobs: jobs)
        let status = try SweepStatus.compute(plan: points, store: store, submissions: submissions, queue: queue)
        // The detail (a message, a job) goes unpadded after the aligned columns.
        let lines = sweepTable(["index", "key", "state"], status.entries.map { [String($0.point.index), $0.point.key, $0.state.rawValue] })
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let details = ["detail", ""] + status.entries.map(\.detail)
        print(zip(lines, details).map { $1.isEmpty ? $0 : "\($0)  \($1)" }.joined(separator: "\n"))
        print("\n\(points.count) points: " + SweepStatus.State.allCases.map { "\(status.count($0)) \($0.rawValue)" }.joined(separator: ", "))
        for (job, state) in status.merges { print("merge job \(job): \(state)") }
        if let last = submissions.last {
            print("last submission \(last.submitted): array job \(last.arrayJob ?? "-") (\(last.points.count) point\(last.points.count == 1 ? "" : "s")), merge job \(last.mergeJob ?? "-")")
        }
        if jobs.isEmpty { print("no Slurm submission recorded in \(folder.submissionsURL.path)") }
        else if let note { print("queue not read: \(note)") }
        if FileManager.default.fileExists(atPath: store.csvURL.path) { print("merged table: \(store.csvURL.path)") }
    }

    /// Writes the tables and the report, prints the summary.
    func finish(_ results: [PointResult], store: SweepStore) throws {
        let report = try store.writeOutputs(results)
        let timing = results.contains { $0.pnr != nil }
        print(sweepTable(["index", "key", "status", "cycles", "util", "RMSE", "bias", "SQNR dB", "cells", "LUTs", "pJ/MAC"] + (timing ? ["Fmax MHz", "GOPS"] : []) + ["time"],
                    results.map { r in
                        let sim = r.simulated
                        let errors = sim && r.network == nil
                        var row: [String] = [String(r.point.index), r.point.key, r.status.rawValue, sim ? String(r.cycles) : "-",
                         sim ? String(format: "%.1f%%", r.utilization * 100) : "-", errors ? String(format: "%.4g", r.rmse) : "-",
                         errors ? String(format: "%+.3g", r.bias) : "-",
                         r.sqnrDB.map { String(format: "%.1f", $0) } ?? "-",
                         r.synthesis.map { String($0.genericCells) } ?? "-", r.synthesis.map { String($0.luts) } ?? "-",
                         r.energy.map { String(format: "%.3g", $0.picojoulesPerMAC) } ?? "-"]
                        if timing {
                            let fmax: String = r.pnr.map { p in p.fmaxMHz.map { String(format: "%.1f", $0) } ?? "n/a" } ?? "-"
                            let gops: String = r.gops.map { String(format: "%.2f", $0) } ?? "-"
                            row += [fmax, gops]
                        }
                        row.append(duration(wallSeconds(r)))
                        return row
                    }))
        let networks = results.filter { $0.network != nil }
        if !networks.isEmpty {
            print("\nnetworks:")
            print(sweepTable(["index", "key", "status", "accuracy", "loss pts", "images", "HW images", "LUTs", "nJ/image", "cycles/image"],
                        networks.map { r in
                            let n = r.network!
                            let hw = n.hardwareImages > 0
                            return [String(r.point.index), r.point.key, r.status.rawValue, String(format: "%.2f%%", 100 * n.accuracy),
                                    String(format: "%.2f", n.accuracyLossPoints), String(n.accuracyImages),
                                    hw ? "\(n.hardwareImages) (\(r.mismatches) mismatches)" : "-",
                                    r.synthesis.map { String($0.luts) } ?? "-",
                                    hw ? String(format: "%.1f", n.energyPerImagePJ / 1000) : "-",
                                    hw ? String(format: "%.0f", n.cyclesPerImage) : "-"]
                        }))
        }
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

/// Whether a stored result has what this run asks for: with `--pnr`, a passing point stored
/// without place and route on that device is run again (a failed one stays done, as always).
func hasTiming(_ r: PointResult, _ device: Device?) -> Bool {
    guard let device, r.status == .pass else { return true }
    return r.pnr?.device == device.description
}

/// The time this point took when it ran (a cached synthesis costs nothing).
func wallSeconds(_ r: PointResult) -> Double {
    r.generateSeconds + r.buildSeconds + r.simulateSeconds + (r.synthesis.map { $0.cached == true ? 0 : $0.seconds } ?? 0)
        + (r.network.map { $0.quantizeSeconds + $0.accuracySeconds } ?? 0)
        + (r.pnr.map { $0.cached == true ? 0 : $0.synthSeconds + $0.pnrSeconds } ?? 0)
}

func describe(_ r: PointResult) -> String {
    var s = "point \(r.point.index) \(r.point.key): \(r.status.rawValue)"
    let total = wallSeconds(r)
    if total > 0 {
        if let n = r.network { s += String(format: " (accuracy %.2f%%)", 100 * n.accuracy) }
        s += " in \(duration(total)) (\(r.network.map { String(format: "quantize %.1f, accuracy %.1f, ", $0.quantizeSeconds, $0.accuracySeconds) } ?? "")generate \(String(format: "%.1f", r.generateSeconds)), build \(String(format: "%.1f", r.buildSeconds)), simulate \(String(format: "%.1f", r.simulateSeconds))"
        if let synth = r.synthesis { s += synth.cached == true ? ", synth cached" : ", synth \(String(format: "%.1f", synth.seconds))" }
        if let p = r.pnr {
            s += p.cached == true ? ", pnr cached" : ", pnr \(String(format: "%.1f", p.synthSeconds + p.pnrSeconds))"
            s += p.fmaxMHz.map { String(format: "; %.1f MHz", $0) } ?? "; Fmax n/a"
        }
        s += ")"
    }
    if r.status != .pass, let m = r.message { s += ": " + (m.split(separator: "\n").first.map(String.init) ?? m) }
    return s
}

/// One line on stderr, status 2, for anything the user got wrong; ArgumentParser's help as usual.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sweep: error: \(message)\n".utf8))
    exit(2)
}

let front = CommandLineFront(SweepCommand.self, tool: "sweep")
let parsed = front.parse()
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

/// The sweep's tables: the key column (the second) left-aligned.
func sweepTable(_ header: [String], _ rows: [[String]]) -> String { table(header, rows, leftAligned: [1]) }
