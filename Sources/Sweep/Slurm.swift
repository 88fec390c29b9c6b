import Cosim
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sweep --slurm` (docs/SWEEP.md, "On a Slurm cluster"): one array task per point and a
/// dependent merge job, everything they need in the output folder:
///
///     DIR/plan.json                  the plan; tasks read their point from it (`--from-plan`)
///     DIR/slurm/run.json             the run's options (synthesis, resources, caches), for --resume
///     DIR/slurm/submissions.json     every submission: array job, merge job, points, time
///     DIR/slurm/task.sh, merge.sh    the batch scripts (#SBATCH lines, absolute paths)
///     DIR/slurm/bin/sweep            a copy of the sweep binary that submitted them
///     DIR/slurm/Testbench/           a copy of the Verilator driver sources (ACCELGEN_TESTBENCH)
///     DIR/slurm/logs/                task-<array job>_<index>.out, merge-<job>.out
///     DIR/slurm/replaced/            failed point files moved aside by --resume
public struct SlurmOptions: Codable, Equatable, Sendable {
    public var partition: String?
    public var time: String
    public var mem: String
    public var cpusPerTask: Int
    public var maxParallel: Int?
    public var sbatchArgs: [String]
    public var noSynth: Bool
    /// Where each task keeps its Verilator and yosys caches (`<dir>/verilator`, `<dir>/yosys`);
    /// a value starting with `$` is expanded by the task's shell on the node (`$TMPDIR/accelgen`).
    /// Nil: `ACCELGEN_CACHE`/`ACCELGEN_SYNTH_CACHE` as set when submitting (a value starting
    /// with `$` expanded on the node), else each node's `~/.cache/accelgen`.
    public var cacheDir: String?
    public var verilatorCache: String?
    public var synthCache: String?
    /// `--pnr`: the device's flag value, the P&R cache (`ACCELGEN_PNR_CACHE` when submitting)
    /// and the nextpnr-ecp5 executable the tasks run (`ACCELGEN_NEXTPNR_ECP5`).
    public var pnr: String?
    public var pnrCache: String?
    public var nextpnr: String?

    public static let defaultTime = "01:00:00"
    public static let defaultMem = "4G"
    public static let defaultCPUs = 2
    /// The merge job's resources: it reads the point files and draws the plots.
    public static let mergeMem = "1G"
    public static let mergeTime = "00:30:00"

    public init(partition: String? = nil, time: String = defaultTime, mem: String = defaultMem, cpusPerTask: Int = defaultCPUs,
                maxParallel: Int? = nil, sbatchArgs: [String] = [], noSynth: Bool = false, cacheDir: String? = nil,
                verilatorCache: String? = nil, synthCache: String? = nil) {
        self.partition = partition
        self.time = time
        self.mem = mem
        self.cpusPerTask = cpusPerTask
        self.maxParallel = maxParallel
        self.sbatchArgs = sbatchArgs
        self.noSynth = noSynth
        self.cacheDir = cacheDir
        self.verilatorCache = verilatorCache
        self.synthCache = synthCache
    }

    // MARK: - Checking flags (one line each, docs/SWEEP.md)

    public static let cpusRange = 1...256
    public static let maxParallelRange = 1...10_000
    /// sbatch options that `sweep --slurm` sets itself.
    public static let reservedSbatchOptions = ["--array", "-a", "--dependency", "-d", "--output", "-o", "--error", "-e",
                                               "--parsable", "--wrap", "--chdir", "-D", "--job-name", "-J", "--test-only"]

    public static func partition(_ text: String) throws -> String {
        let ok = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-,".contains($0)) }
        guard ok else { throw SweepUsageError(flag: "partition", value: "'\(text)'", allowed: "a partition name (letters, digits, _ . -; several comma-separated)") }
        return text
    }

    /// Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED; more than zero.
    public static func time(_ text: String) throws -> String {
        let refuse = SweepUsageError(flag: "time", value: "'\(text)'",
                                     allowed: "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (Slurm's formats), more than zero, or UNLIMITED")
        if ["unlimited", "infinite"].contains(text.lowercased()) { return text }
        var days = 0
        var rest = Substring(text)
        if let dash = text.firstIndex(of: "-") {
            guard let d = Int(text[..<dash]), d >= 0 else { throw refuse }
            days = d
            rest = text[text.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { throw refuse }
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == parts.count else { throw refuse }
        if text.contains("-") {
            // D-H, D-H:M, D-H:M:S
            guard numbers[0] < 24, numbers.dropFirst().allSatisfy({ $0 < 60 }) else { throw refuse }
        } else if numbers.count > 1 {
            guard numbers.dropFirst().allSatisfy({ $0 < 60 }) else { throw refuse }
        }
        guard days > 0 || numbers.contains(where: { $0 > 0 }) else { throw refuse }
        return text
    }

    /// sbatch's --mem: a positive integer with an optional K, M, G or T suffix (megabytes without).
    public static func memory(_ text: String, flag: String = "mem") throws -> String {
        var digits = Substring(text)
        if let last = text.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(digits), v > 0 else {
            throw SweepUsageError(flag: flag, value: "'\(text)'", allowed: "a positive size in megabytes, or with a K, M, G or T suffix (4G, 500M)")
        }
        return text
    }

    public static func integer(_ text: String, flag: String, range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(text), range.contains(v) else {
            throw SweepUsageError(flag: flag, value: "'\(text)'", allowed: "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    public static func sbatchArg(_ text: String) throws -> String {
        let name = String(text.split(separator: "=", maxSplits: 1).first ?? "")
        let reserved = reservedSbatchOptions.contains(name) || reservedSbatchOptions.contains { $0.count == 2 && name.hasPrefix($0) && !name.hasPrefix("--") }
        guard text.hasPrefix("-"), text.count > 1, !reserved else {
            throw SweepUsageError(flag: "sbatch-arg", value: "'\(text)'",
                                  allowed: "one sbatch option, written as one word starting with - (--qos=normal, --account=lab), other than \(reservedSbatchOptions.filter { $0.hasPrefix("--") }.joined(separator: ", ")) (sweep sets those)")
        }
        return text
    }

    public static func cacheDirectory(_ text: String) throws -> String {
        let variable = text.range(of: #"^\$(\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)(/.*)?$"#, options: .regularExpression) != nil
        guard text.hasPrefix("/") || variable, !text.contains("\""), !text.contains("`"), !text.contains("\n") else {
            throw SweepUsageError(flag: "cache-dir", value: "'\(text)'",
                                  allowed: "an absolute path, or one starting with an environment variable the task's shell expands on the node ('$TMPDIR/accelgen')")
        }
        return text
    }

    // MARK: - sbatch options

    /// The options of every point's task (the #SBATCH lines of task.sh).
    public func taskOptions(folder: SlurmFolder) -> [String] {
        var o = ["--job-name=accelgen-sweep", "--chdir=\(folder.store.directory.path)",
                 "--output=\(folder.logs.path)/task-%A_%a.out",
                 "--cpus-per-task=\(cpusPerTask)", "--mem=\(mem)", "--time=\(time)"]
        if let partition { o.append("--partition=\(partition)") }
        return o + sbatchArgs
    }

    /// The merge job's options: one CPU and explicit memory, so it never claims a whole node.
    public func mergeOptions(folder: SlurmFolder) -> [String] {
        var o = ["--job-name=accelgen-merge", "--chdir=\(folder.store.directory.path)",
                 "--output=\(folder.logs.path)/merge-%j.out",
                 "--cpus-per-task=1", "--mem=\(Self.mergeMem)", "--time=\(Self.mergeTime)"]
        if let partition { o.append("--partition=\(partition)") }
        return o + sbatchArgs
    }

    /// Shell lines exporting the caches (see `cacheDir`).
    func cacheExports() -> [String] {
        var pnrLines: [String] = []
        if let tool = nextpnr { pnrLines.append("export ACCELGEN_NEXTPNR_ECP5=\(shellQuote(tool))") }
        if let dir = cacheDir {
            if pnr != nil { pnrLines.append("export ACCELGEN_PNR_CACHE=\"\(dir)/nextpnr\"") }
            return ["export ACCELGEN_CACHE=\"\(dir)/verilator\"", "export ACCELGEN_SYNTH_CACHE=\"\(dir)/yosys\""] + pnrLines
        }
        var lines: [String] = []
        func value(_ v: String) -> String { v.hasPrefix("$") && (try? Self.cacheDirectory(v)) != nil ? "\"\(v)\"" : shellQuote(v) }
        if let v = verilatorCache { lines.append("export ACCELGEN_CACHE=\(value(v))") }
        if let s = synthCache { lines.append("export ACCELGEN_SYNTH_CACHE=\(value(s))") }
        if let p = pnrCache, pnr != nil { lines.append("export ACCELGEN_PNR_CACHE=\(value(p))") }
        if lines.isEmpty { lines.append("# caches: each node's ~/.cache/accelgen (ACCELGEN_CACHE, ACCELGEN_SYNTH_CACHE unset when submitted)") }
        return lines + pnrLines
    }
}

/// Single-quotes a word for bash.
public func shellQuote(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// One `sweep --slurm` submission, as recorded in DIR/slurm/submissions.json.
public struct SlurmSubmission: Codable, Equatable, Sendable {
    public var arrayJob: String?
    public var mergeJob: String?
    public var points: [Int]
    public var submitted: String
    public init(arrayJob: String?, mergeJob: String?, points: [Int], submitted: String) {
        self.arrayJob = arrayJob
        self.mergeJob = mergeJob
        self.points = points
        self.submitted = submitted
    }
}

/// The Slurm part of an output folder.
public struct SlurmFolder: Sendable {
    public let store: SweepStore
    public init(store: SweepStore) { self.store = store }

    public var directory: URL { store.directory.appendingPathComponent("slurm", isDirectory: true) }
    public var logs: URL { directory.appendingPathComponent("logs", isDirectory: true) }
    public var runURL: URL { directory.appendingPathComponent("run.json") }
    public var submissionsURL: URL { directory.appendingPathComponent("submissions.json") }
    public var taskScript: URL { directory.appendingPathComponent("task.sh") }
    public var mergeScript: URL { directory.appendingPathComponent("merge.sh") }
    public var binary: URL { directory.appendingPathComponent("bin/sweep") }
    public var testbench: URL { directory.appendingPathComponent("Testbench", isDirectory: true) }
    public var replaced: URL { directory.appendingPathComponent("replaced", isDirectory: true) }

    /// The Testbench folder this process builds with (`ACCELGEN_TESTBENCH` or the source tree's).
    public static var testbenchSource: URL { Verilator.testbenchDirectory }

    public func readPlan() throws -> [SweepPoint] {
        let data = try Data(contentsOf: store.planURL)
        return try JSONDecoder().decode([SweepPoint].self, from: data)
    }

    public func readOptions() throws -> SlurmOptions {
        try JSONDecoder().decode(SlurmOptions.self, from: Data(contentsOf: runURL))
    }

    public func writeOptions(_ o: SlurmOptions) throws {
        try SweepStore.writeAtomically(try SweepStore.encoder.encode(o), to: runURL)
    }

    public func submissions() -> [SlurmSubmission] {
        guard let data = try? Data(contentsOf: submissionsURL) else { return [] }
        return (try? JSONDecoder().decode([SlurmSubmission].self, from: data)) ?? []
    }

    public func record(_ s: SlurmSubmission) throws {
        try SweepStore.writeAtomically(try SweepStore.encoder.encode(submissions() + [s]), to: submissionsURL)
    }

    /// Copies the running binary and the Testbench sources into the folder (written beside and
    /// renamed into place), so tasks need neither the build tree nor the source tree.
    public func install(binary source: URL, testbench: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: binary.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fm.createDirectory(at: logs, withIntermediateDirectories: true)
        // Read, not copied: /proc/self/exe is a link, and its file may have been replaced by a rebuild.
        try SweepStore.writeAtomically(try Data(contentsOf: source), to: binary)
        guard chmod(binary.path, 0o755) == 0 else { throw StoreError("cannot chmod \(binary.path): \(String(cString: strerror(errno)))") }

        let tbTmp = directory.appendingPathComponent(".tmp-\(getpid())-Testbench", isDirectory: true)
        try? fm.removeItem(at: tbTmp)
        try fm.copyItem(at: testbench, to: tbTmp)
        try? fm.removeItem(at: self.testbench)
        try fm.moveItem(at: tbTmp, to: self.testbench)
    }

    /// task.sh: runs point `$SLURM_ARRAY_TASK_ID` of DIR/plan.json. Resubmit an index by hand
    /// with `sbatch --array=I DIR/slurm/task.sh`.
    public func taskScriptText(_ o: SlurmOptions, force: Bool) -> String {
        var args = [shellQuote(binary.path), "--from-plan", "--out", shellQuote(store.directory.path), "--point", "\"$SLURM_ARRAY_TASK_ID\""]
        if o.noSynth { args.append("--no-synth") }
        if let pnr = o.pnr { args += ["--pnr", shellQuote(pnr)] }
        if force { args.append("--force") }
        return script(o.taskOptions(folder: self), o, comment: """
            # One point of the sweep in \(store.directory.path): the array index is the point's index
            # in plan.json. Written by sweep --slurm; resubmit one index by hand with
            #   sbatch --array=I \(taskScript.path)
            # (then the merge: sbatch \(mergeScript.path)).
            """, command: args.joined(separator: " "))
    }

    /// merge.sh: gathers DIR/points into the tables and the report.
    public func mergeScriptText(_ o: SlurmOptions) -> String {
        script(o.mergeOptions(folder: self), o, comment: """
            # The merge of the sweep in \(store.directory.path): sweep.csv, sweep.json, report.md, plots/.
            # Written by sweep --slurm; exits 1 when a point failed or has no result (the tables are written anyway).
            """, command: [shellQuote(binary.path), "--from-plan", "--out", shellQuote(store.directory.path), "--merge"].joined(separator: " "))
    }

    func script(_ options: [String], _ o: SlurmOptions, comment: String, command: String) -> String {
        var lines = ["#!/bin/bash"] + options.map { "#SBATCH \($0)" } + [comment, "set -eu",
                     "unset ACCELGEN_SWEEP_PARENT",
                     "export ACCELGEN_TESTBENCH=\(shellQuote(testbench.path))"]
        lines += o.cacheExports()
        lines.append("exec \(command)")
        return lines.joined(separator: "\n") + "\n"
    }

    public func writeScripts(_ o: SlurmOptions, force: Bool) throws {
        try SweepStore.writeAtomically(Data(taskScriptText(o, force: force).utf8), to: taskScript)
        try SweepStore.writeAtomically(Data(mergeScriptText(o).utf8), to: mergeScript)
        chmod(taskScript.path, 0o755)
        chmod(mergeScript.path, 0o755)
    }
}

// MARK: - Slurm commands

public enum Slurm {
    /// "0-2,5,7-8": indexes for --array.
    public static func arraySpec(_ indexes: [Int]) -> String {
        let sorted = Array(Set(indexes)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? String(sorted[i]) : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// The path of a command on PATH, or nil.
    public static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a command with this process's environment (so Slurm's clients find the cluster
    /// `SLURM_CONF` names); returns its status, stdout and stderr.
    public static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        guard let path = tool.hasPrefix("/") ? tool : which(tool) else {
            throw StoreError("\(tool) not found on PATH")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes to the end before waiting (neither can fill up and block the child).
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The job id of `sbatch --parsable` ("12" or "12;cluster").
    public static func parseJobID(_ out: String) -> String? {
        let id = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
    }

    /// One line of squeue for one of our jobs.
    public struct QueueEntry: Equatable, Sendable {
        /// The array job id (the job id for a job that is not an array).
        public var job: String
        /// The array index, or nil (a merge job, or an array's pending remainder as a range).
        public var task: Int?
        /// The raw %K field: an index, a range like "3-7%2" for pending tasks, or "N/A".
        public var taskField: String
        public var state: String
        public init(job: String, task: Int?, taskField: String, state: String) {
            (self.job, self.task, self.taskField, self.state) = (job, task, taskField, state)
        }
    }

    /// `squeue -h -r -o '%F|%K|%T'` lines.
    public static func parseQueue(_ text: String) -> [QueueEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 3, !f[0].isEmpty else { return nil }
            return QueueEntry(job: f[0], task: Int(f[1]), taskField: f[1], state: f[2])
        }
    }

    /// Indexes in a pending range field ("3-7%2", "1,4-5").
    public static func expand(_ field: String) -> [Int] {
        let body = field.split(separator: "%").first.map(String.init) ?? field
        return body.split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2, ends[0] <= ends[1] { return Array(ends[0]...ends[1]) }
            if ends.count == 1 { return [ends[0]] }
            return []
        }
    }

    /// Our jobs in the queue (pending, running, completing), or nil without squeue or when it
    /// failed (the second value says why).
    public static func queue(jobs: Set<String>) -> ([QueueEntry]?, String?) {
        guard !jobs.isEmpty else { return ([], nil) }
        guard which("squeue") != nil else { return (nil, "squeue not found") }
        do {
            let r = try run("squeue", ["-h", "-r", "-o", "%F|%K|%T", "-j", jobs.sorted().joined(separator: ",")])
            // squeue refuses a list of ids that have all left the queue: nothing is queued.
            if r.status != 0 {
                if r.err.contains("Invalid job id") { return ([], nil) }
                return (nil, "squeue: \(r.err.split(separator: "\n").first ?? "exit status \(r.status)")")
            }
            return (parseQueue(r.out).filter { jobs.contains($0.job) }, nil)
        } catch {
            return (nil, "\(error)")
        }
    }
}

// MARK: - Status

/// Where each point of a folder stands: done (a result that passed), failed (a result that
/// failed or errored), running or pending (a queued task), missing (none of these).
public struct SweepStatus: Sendable {
    public enum State: String, Sendable, CaseIterable { case done, failed, running, pending, missing }
    public struct Entry: Sendable {
        public var point: SweepPoint
        public var state: State
        public var detail: String
    }
    public var entries: [Entry]
    /// The merge jobs still queued, with their state.
    public var merges: [(job: String, state: String)]

    public func count(_ s: State) -> Int { entries.filter { $0.state == s }.count }

    /// Point index -> queue state of its task, from every recorded submission.
    public static func compute(plan: [SweepPoint], store: SweepStore, submissions: [SlurmSubmission],
                               queue: [Slurm.QueueEntry]?) throws -> SweepStatus {
        let found = try store.finished(in: plan)
        let arrays = Set(submissions.compactMap(\.arrayJob))
        var queued: [Int: (String, String)] = [:]   // index -> (state, job)
        var merges: [(String, String)] = []
        for e in queue ?? [] {
            if arrays.contains(e.job) {
                let indexes = e.task.map { [$0] } ?? Slurm.expand(e.taskField)
                for i in indexes { queued[i] = (e.state, "\(e.job)_\(i)") }
            } else {
                merges.append((e.job, e.state))
            }
        }
        let entries = plan.map { p -> Entry in
            if let r = found[p.key] {
                return Entry(point: p, state: r.status == .pass ? .done : .failed,
                             detail: r.status == .pass ? "pass" : "\(r.status.rawValue): \(r.message?.split(separator: "\n").first.map(String.init) ?? "")")
            }
            if let (state, job) = queued[p.index] {
                let running = ["RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING"].contains(state)
                return Entry(point: p, state: running ? .running : .pending, detail: "job \(job) \(state)")
            }
            return Entry(point: p, state: .missing, detail: submissions.contains { $0.points.contains(p.index) }
                         ? "no result and no task queued (cancelled, timed out, preempted or lost: --resume reruns it)" : "no result")
        }
        return SweepStatus(entries: entries, merges: merges)
    }
}

/// `sweep --slurm` and `sweep --slurm --resume DIR` as a library call (the front end parses the
/// flags and prints): sbatch judges the resources before anything is written; then the plan,
/// the worker binary and the job scripts are written, the missing (and on resume the failed)
/// points are submitted as one array job, and a merge job runs after it.
public enum SlurmSubmitter {
    /// A submission that could not be made (the folder is left as it was, or says what was done).
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Submits `points` into `store`; returns the lines to print (the job ids). `isDone` says
    /// whether a stored result counts as finished for this run; `warn` gets the notes for stderr.
    public static func submit(points: [SweepPoint], store: SweepStore, options: SlurmOptions, resume: Bool, force: Bool,
                              isDone: (PointResult) -> Bool, binary: URL, warn: (String) -> Void) throws -> [String] {
        let folder = SlurmFolder(store: store)
        guard Slurm.which("sbatch") != nil else {
            throw SweepUsageError("invalid flag --slurm: allowed only where Slurm's sbatch is on PATH (it is not; scripts/slurm-up.sh starts a single-node cluster)")
        }
        // Let sbatch judge the resources before anything is written.
        for (what, opts) in [("task", options.taskOptions(folder: folder)), ("merge", options.mergeOptions(folder: folder))] {
            let check = try Slurm.run("sbatch", ["--test-only"] + opts + ["--wrap", "true"])
            if check.status != 0 {
                let line = check.err.split(separator: "\n").first(where: { $0.contains("error") }) ?? check.err.split(separator: "\n").first ?? "exit status \(check.status)"
                throw SweepUsageError("invalid sbatch options for the \(what) jobs (\(opts.filter { !$0.hasPrefix("--chdir") && !$0.hasPrefix("--output") && !$0.hasPrefix("--job-name") }.joined(separator: " "))): \(line)")
            }
        }

        // Jobs of earlier submissions still in the queue.
        let earlier = folder.submissions()
        let (queue, note) = Slurm.queue(jobs: Set(earlier.flatMap { [$0.arrayJob, $0.mergeJob].compactMap { $0 } }))
        let status = try SweepStatus.compute(plan: points, store: store, submissions: earlier, queue: queue)
        let queuedArrays = Set((queue ?? []).map(\.job)).intersection(earlier.compactMap(\.arrayJob)).sorted()
        if !resume && !queuedArrays.isEmpty {
            throw Failure(message: "tasks of an earlier submission are still queued in \(store.directory.path) (array job \(queuedArrays.joined(separator: ", "))): wait for them, or scancel them, or add to them with sweep --slurm --resume \(store.directory.path)")
        }
        if let note, !earlier.isEmpty { warn("warning: cannot see the queue (\(note)); submitting as if no task were queued") }

        try store.prepare()
        store.removeDebris()
        if !resume { try store.writePlan(points) }
        var done = try store.finished(in: points).filter { isDone($0.value) }
        for (key, r) in done where !FileManager.default.fileExists(atPath: store.url(for: r.point).path) {
            try store.write(r)
            done[key] = r
        }
        let queued = Set(status.entries.filter { $0.state == .running || $0.state == .pending }.map(\.point.index))
        var todo: [SweepPoint] = []
        var replaced = 0
        for p in points where !queued.contains(p.index) {
            guard let r = done[p.key] else { todo.append(p); continue }
            if force { todo.append(p) }
            else if resume && r.status != .pass {
                // Move the failed result aside (kept for inspection), so the task reruns it.
                try FileManager.default.createDirectory(at: folder.replaced, withIntermediateDirectories: true)
                let file = store.url(for: p)
                let aside = folder.replaced.appendingPathComponent("\(Int(Date().timeIntervalSince1970))-\(file.lastPathComponent)")
                try FileManager.default.moveItem(at: file, to: aside)
                replaced += 1
                todo.append(p)
            }
        }

        try folder.install(binary: binary, testbench: SlurmFolder.testbenchSource)
        try folder.writeOptions(options)
        try folder.writeScripts(options, force: force)

        var arrayJob: String?
        if !todo.isEmpty {
            let spec = Slurm.arraySpec(todo.map(\.index)) + (options.maxParallel.map { "%\($0)" } ?? "")
            let r = try Slurm.run("sbatch", ["--parsable", "--array=\(spec)", folder.taskScript.path])
            guard r.status == 0, let id = Slurm.parseJobID(r.out) else {
                throw Failure(message: "sbatch could not submit the tasks: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            arrayJob = id
        }
        let after = ([arrayJob].compactMap { $0 } + queuedArrays)
        var mergeArgs = ["--parsable"]
        if !after.isEmpty { mergeArgs += ["--dependency=afterany:" + after.joined(separator: ":"), "--kill-on-invalid-dep=no"] }
        let m = try Slurm.run("sbatch", mergeArgs + [folder.mergeScript.path])
        let mergeJob = m.status == 0 ? Slurm.parseJobID(m.out) : nil
        try folder.record(SlurmSubmission(arrayJob: arrayJob, mergeJob: mergeJob, points: todo.map(\.index),
                                          submitted: ISO8601DateFormatter().string(from: Date())))
        let skipped = points.count - todo.count - queued.count
        warn("\(points.count) points: \(skipped) already done\(queued.isEmpty ? "" : ", \(queued.count) still queued")\(replaced > 0 ? ", \(replaced) failed moved to \(folder.replaced.path)" : ""), \(todo.count) submitted"
             + "\(options.noSynth ? ", no synthesis" : ""); results in \(store.directory.path)")
        var lines: [String] = []
        if let arrayJob {
            lines.append("submitted array job \(arrayJob) (points \(Slurm.arraySpec(todo.map(\.index)))\(options.maxParallel.map { ", at most \($0) at once" } ?? ""); logs in \(folder.logs.path))")
        }
        guard let mergeJob else {
            for line in lines { warn(line) }
            throw Failure(message: "sbatch could not submit the merge job: \(m.err.trimmingCharacters(in: .whitespacesAndNewlines)); run it by hand: sbatch \(folder.mergeScript.path)")
        }
        lines.append("submitted merge job \(mergeJob)\(after.isEmpty ? "" : " (after \(after.joined(separator: ", ")))")")
        return lines
    }
}
