import Foundation
import Sweep
import Testing
#if canImport(Glibc)
import Glibc
import TestTags
#endif

/// `sweep --slurm` against a real single-node Slurm (scripts/slurm-up.sh), and its flags.
@Suite("sweep on Slurm", .serialized, .tags(.verilator, .synthesis, .slurm))
struct SlurmTests {
    typealias E = SweepEngineTests

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Columns that depend on the run's timing or on what the caches held, not on the design.
    static let timingColumns: Set<String> = ["generate_s", "build_s", "simulate_s", "synth_s", "simulated_macs_per_s", "synth_cached", "pnr_seconds", "pnr_cached"]

    /// Runs a shell command with its output in a file (not a pipe: a daemon it starts may keep
    /// the output open, and reading a pipe to its end would wait for the daemon).
    static func shell(_ command: String) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-test-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let r = try Slurm.run("/bin/bash", ["-c", "\(command) </dev/null >\(shellQuote(log.path)) 2>&1"])
        return (r.status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// Rows of DIR/sweep.csv without the timing columns.
    static func comparableRows(_ dir: URL) throws -> [[String: String]] {
        try E.csvRows(dir).map { $0.filter { !timingColumns.contains($0.key) } }
    }

    /// Waits until none of `jobs` is in the queue (pending, running or completing).
    static func waitForJobs(_ jobs: [String], timeout: Double = 900) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let (entries, note) = Slurm.queue(jobs: Set(jobs))
            if let entries, entries.isEmpty { return }
            if let note { Issue.record("squeue: \(note)"); return }
            usleep(500_000)
        }
        Issue.record("jobs \(jobs) still queued after \(Int(timeout)) s")
    }

    /// The job ids `sweep --slurm` printed.
    static func jobIDs(_ stdout: String) -> (array: String?, merge: String?) {
        func id(after prefix: String) -> String? {
            guard let r = stdout.range(of: prefix) else { return nil }
            return String(stdout[r.upperBound...].prefix(while: \.isNumber))
        }
        return (id(after: "submitted array job "), id(after: "submitted merge job "))
    }

    // MARK: - Pure parts

    @Test("array specs, squeue's pending ranges, Slurm time formats")
    func helpers() throws {
        #expect(Slurm.arraySpec([7, 0, 1, 2, 5, 8]) == "0-2,5,7-8")
        #expect(Slurm.arraySpec([3]) == "3")
        #expect(Slurm.expand("3-5%2") == [3, 4, 5])
        #expect(Slurm.expand("1,4-5") == [1, 4, 5])
        #expect(Slurm.parseJobID("12;cluster\n") == "12" && Slurm.parseJobID("x") == nil)
        #expect(Slurm.parseQueue("12|3|RUNNING\n12|4-6%2|PENDING\n13|N/A|PENDING\n")
                == [.init(job: "12", task: 3, taskField: "3", state: "RUNNING"),
                    .init(job: "12", task: nil, taskField: "4-6%2", state: "PENDING"),
                    .init(job: "13", task: nil, taskField: "N/A", state: "PENDING")])
        for ok in ["10", "10:00", "01:00:00", "1-0", "2-12:30", "1-00:00:00", "UNLIMITED"] {
            #expect(throws: Never.self, "\(ok)") { try SlurmOptions.time(ok) }
        }
        for bad in ["0", "00:00:00", "1:60", "abc", "1-24", "-5", "1:2:3:4", ""] {
            #expect(throws: SweepUsageError.self, "\(bad)") { try SlurmOptions.time(bad) }
        }
        #expect(try SlurmOptions.memory("4G") == "4G")
        #expect(throws: SweepUsageError.self) { try SlurmOptions.memory("0") }
        #expect(throws: SweepUsageError.self) { try SlurmOptions.sbatchArg("-a5") }
        #expect(try SlurmOptions.sbatchArg("--qos=normal") == "--qos=normal")
        #expect(try SlurmOptions.cacheDirectory("$TMPDIR/accelgen") == "$TMPDIR/accelgen")
        #expect(try SlurmOptions.cacheDirectory("${TMPDIR:-/tmp}/accelgen") == "${TMPDIR:-/tmp}/accelgen")

        // The scripts: absolute paths, the caches expanded on the node when they start with $.
        let folder = SlurmFolder(store: SweepStore(directory: URL(fileURLWithPath: "/shared/run 1")))
        let split = folder.taskScriptText(SlurmOptions(mem: "2G", noSynth: true, verilatorCache: "$TMPDIR/v", synthCache: "/shared/y's"), force: false)
        #expect(split.contains("\nexport ACCELGEN_CACHE=\"$TMPDIR/v\"\n"), "\(split)")
        #expect(split.contains("\nexport ACCELGEN_SYNTH_CACHE='/shared/y'\\''s'\n"), "\(split)")
        #expect(split.contains("#SBATCH --mem=2G\n") && split.contains("#SBATCH --chdir=/shared/run 1\n"), "\(split)")
        #expect(split.contains("exec '/shared/run 1/slurm/bin/sweep' --from-plan --out '/shared/run 1' --point \"$SLURM_ARRAY_TASK_ID\" --no-synth\n"), "\(split)")
        let both = folder.taskScriptText(SlurmOptions(cacheDir: "${TMPDIR:-/tmp}/a"), force: true)
        #expect(both.contains("export ACCELGEN_CACHE=\"${TMPDIR:-/tmp}/a/verilator\"") && both.contains("export ACCELGEN_SYNTH_CACHE=\"${TMPDIR:-/tmp}/a/yosys\""), "\(both)")
        #expect(both.contains(" --force\n") && !both.contains("--no-synth"), "\(both)")
        let merge = folder.mergeScriptText(SlurmOptions(partition: "batch"))
        #expect(merge.contains("#SBATCH --mem=\(SlurmOptions.mergeMem)\n") && merge.contains("#SBATCH --cpus-per-task=1\n")
                && merge.contains("#SBATCH --partition=batch\n") && merge.contains("--from-plan --out '/shared/run 1' --merge\n"), "\(merge)")
    }

    @Test("every refused Slurm flag: one line naming the flag, its value and what is allowed; status 2; nothing written")
    func refusedFlags() throws {
        let dir = E.freshDirectory()
        let empty = E.freshDirectory()
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let grid = ["--rows", "2", "--no-synth", "--out", dir.path]
        let cases: [([String], [String])] = [
            (["--slurm", "--time", "0"], ["--time", "'0'", "allowed"]),
            (["--slurm", "--time", "1:99"], ["--time", "'1:99'"]),
            (["--slurm", "--mem", "4X"], ["--mem", "'4X'", "allowed"]),
            (["--slurm", "--mem", "0"], ["--mem", "'0'"]),
            (["--slurm", "--cpus-per-task", "0"], ["--cpus-per-task", "'0'", "1...256"]),
            (["--slurm", "--max-parallel", "many"], ["--max-parallel", "'many'", "1...10000"]),
            (["--slurm", "--partition", "a b"], ["--partition", "'a b'"]),
            (["--slurm", "--sbatch-arg", "--array=1-3"], ["--sbatch-arg", "'--array=1-3'", "sweep sets those"]),
            (["--slurm", "--sbatch-arg", "qos"], ["--sbatch-arg", "'qos'"]),
            (["--slurm", "--cache-dir", "relative/cache"], ["--cache-dir", "'relative/cache'", "absolute"]),
            (["--partition", "debug"], ["--partition", "'debug'", "only with --slurm"]),
            (["--slurm", "--jobs", "2"], ["--slurm", "--jobs"]),
            (["--slurm", "--point", "0"], ["--slurm", "--point"]),
        ]
        for (flags, words) in cases {
            let r = try E.run(grid + flags)
            #expect(r.status == 2, "\(flags): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(flags): \(r.stderr)")
            #expect(r.stderr.hasPrefix("sweep: error: "), "\(flags): \(r.stderr)")
            for w in words { #expect(r.stderr.contains(w), "\(flags): \(w) not in \(r.stderr)") }
            #expect(!FileManager.default.fileExists(atPath: dir.path), "\(flags) wrote \(dir.path)")
        }
        // Folders without a plan.
        for flags in [["--status", empty.path], ["--slurm", "--resume", empty.path], ["--from-plan", "--merge", "--out", empty.path]] {
            let r = try E.run(flags)
            #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1, "\(flags): \(r.stderr)")
            #expect(r.stderr.contains(empty.path) && r.stderr.contains("plan.json"), "\(flags): \(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty, "\(flags) wrote into \(empty.path)")
        }
        let both = try E.run(["--resume", empty.path])
        #expect(both.status == 2 && both.stderr.contains("--resume") && both.stderr.contains("only with --slurm"), "\(both.stderr)")
        let grid2 = try E.run(["--slurm", "--resume", empty.path, "--rows", "2"])
        #expect(grid2.status == 2 && grid2.stderr.contains("--resume") && grid2.stderr.contains("--rows"), "\(grid2.stderr)")
        let status2 = try E.run(["--status", empty.path, "--rows", "2"])
        #expect(status2.status == 2 && status2.stderr.contains("--status") && status2.stderr.contains("--rows"), "\(status2.stderr)")
    }

    // MARK: - A real cluster

    @Test("a small grid through sweep --slurm on a single-node Slurm equals a local run; a task cancelled mid-run leaves no point, --resume completes it")
    func cluster() throws {
        // A private cluster: configuration, state, logs, pid files and munge under a temporary
        // folder, on ports of its own; the machine's /etc and any Slurm of its own are untouched.
        let etc = "/etc/slurm/slurm.conf"
        let etcBefore = FileManager.default.contents(atPath: etc)
        let dir = URL(fileURLWithPath: "/tmp/accelgen-slurm-\(UUID().uuidString.prefix(8))")
        let scripts = Self.packageRoot.appendingPathComponent("scripts").path
        var pids: [pid_t] = []
        var base: URL?
        var stopped = false
        func tearDown() {
            guard !stopped else { return }
            stopped = true
            pids = ["run/slurmctld.pid", "run/slurmd.pid", "munge/munged.pid"].compactMap {
                (try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            _ = try? Self.shell("bash \(shellQuote(scripts + "/slurm-down.sh")) \(shellQuote(dir.path))")
            unsetenv("SLURM_CONF")
            try? FileManager.default.removeItem(at: dir)
            if let base { try? FileManager.default.removeItem(at: base) }
        }
        defer { tearDown() }
        let up = try Self.shell("bash \(shellQuote(scripts + "/slurm-up.sh")) \(shellQuote(dir.path))")
        try #require(up.status == 0, """
            scripts/slurm-up.sh could not start a single-node Slurm (make deps installs slurmctld slurmd slurm-client munge; \
            it needs root): \(up.output)
            """)
        // sbatch, squeue and scancel, here and in sweep, find the cluster through this.
        setenv("SLURM_CONF", dir.appendingPathComponent("slurm.conf").path, 1)
        try body(base: { base = $0 })

        tearDown()
        #expect(pids.count == 3, "pid files: \(pids)")
        for pid in pids { #expect(!Self.running(pid), "daemon \(pid) still runs after slurm-down.sh") }
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        #expect(FileManager.default.contents(atPath: etc) == etcBefore, "\(etc) was written")
    }

    /// Whether `pid` runs: it exists and is not a zombie (exited, not yet reaped by its parent).
    static func running(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// The cluster test proper, on the cluster `SLURM_CONF` names; `base` receives its folder.
    func body(base record: (URL) -> Void) throws {
        let base = E.freshDirectory()
        record(base)
        let grid = ["--rows", "2", "--cols", "2,3,4", "--input-bits", "4", "--rounding", "truncate", "--no-synth"]
        let resources = ["--cpus-per-task", "1", "--mem", "1G", "--time", "15", "--max-parallel", "2"]

        // The reference: the same grid run locally.
        let local = base.appendingPathComponent("local")
        let l = try E.run(grid + ["--out", local.path])
        try #require(l.status == 0, "\(l.stdout)\n\(l.stderr)")
        let expected = try Self.comparableRows(local)
        #expect(expected.count == 3)

        // sbatch refuses a partition that does not exist: one line, status 2, nothing written.
        let badOut = base.appendingPathComponent("bad")
        let bad = try E.run(grid + resources + ["--slurm", "--partition", "nosuch", "--out", badOut.path])
        #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("partition"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: badOut.path))

        // 1. The whole grid through Slurm, submitted from another directory than the package root.
        let out = base.appendingPathComponent("slurm")
        let s = try Slurm.run("/bin/bash", ["-c", "cd / && exec \"$0\" \"$@\"", try E.binary.path] + grid + resources + ["--slurm", "--out", out.path])
        try #require(s.status == 0, "\(s.out)\n\(s.err)")
        let ids = Self.jobIDs(s.out)
        let array = try #require(ids.array, "\(s.out)"), merge = try #require(ids.merge, "\(s.out)")
        let task = try String(contentsOf: out.appendingPathComponent("slurm/task.sh"), encoding: .utf8)
        #expect(task.contains("--from-plan") && task.contains(out.appendingPathComponent("slurm/bin/sweep").path), "\(task)")
        #expect(task.contains("#SBATCH --mem=1G") && task.contains("#SBATCH --cpus-per-task=1"), "\(task)")
        let mergeScript = try String(contentsOf: out.appendingPathComponent("slurm/merge.sh"), encoding: .utf8)
        #expect(mergeScript.contains("#SBATCH --mem=\(SlurmOptions.mergeMem)"), "the merge job asks for its memory: \(mergeScript)")
        try Self.waitForJobs([array, merge])
        #expect(try Self.comparableRows(out) == expected, "sweep --slurm differs from the local run")
        let st = try E.run(["--status", out.path])
        #expect(st.status == 0 && st.stdout.contains("3 points: 3 done, 0 failed, 0 running, 0 pending, 0 missing"), "\(st.stdout)\n\(st.stderr)")

        // 2. One task held mid-run by the test hook and cancelled: no partial point is left.
        let out2 = base.appendingPathComponent("cancel")
        let held = "os-2x3-s4f2-s4f-4-truncate"
        let c = try Slurm.run("/usr/bin/env", ["ACCELGEN_SWEEP_HOLD=\(held)", try E.binary.path] + grid + resources + ["--slurm", "--out", out2.path])
        try #require(c.status == 0, "\(c.out)\n\(c.err)")
        let ids2 = Self.jobIDs(c.out)
        let array2 = try #require(ids2.array), merge2 = try #require(ids2.merge)
        let log = out2.appendingPathComponent("slurm/logs/task-\(array2)_1.out")
        let deadline = Date().addingTimeInterval(300)
        var running = false
        while Date() < deadline {
            let (q, _) = Slurm.queue(jobs: [array2])
            running = q?.contains { $0.task == 1 && $0.state == "RUNNING" } ?? false
            if running, ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("held by ACCELGEN_SWEEP_HOLD") { break }
            usleep(200_000)
        }
        #expect(running, "task \(array2)_1 never ran")
        let mid = try E.run(["--status", out2.path])
        #expect(mid.stdout.contains("\(held)  running  job \(array2)_1 RUNNING"), "\(mid.stdout)")
        let cancel = try Self.shell("scancel \(array2)_1")
        #expect(cancel.status == 0, "\(cancel.output)")
        try Self.waitForJobs([array2, merge2])
        let names = try FileManager.default.contentsOfDirectory(atPath: out2.appendingPathComponent("points").path)
        #expect(!names.contains { $0.contains(held) }, "a cancelled task left a point: \(names)")
        #expect(try E.pointFiles(out2).count == 2, "\(names)")
        let after = try E.run(["--status", out2.path])
        #expect(after.stdout.contains("3 points: 2 done, 0 failed, 0 running, 0 pending, 1 missing"), "\(after.stdout)")
        #expect(try E.csvRows(out2).count == 2, "the merge ran without the cancelled point")

        // 3. --resume resubmits only the missing point, and a new merge.
        let r = try E.run(["--slurm", "--resume", out2.path])
        try #require(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("(points 1,") || r.stdout.contains("(points 1)"), "\(r.stdout)")
        #expect(r.stderr.contains("2 already done") && r.stderr.contains("1 submitted"), "\(r.stderr)")
        let ids3 = Self.jobIDs(r.stdout)
        try Self.waitForJobs([ids3.array, ids3.merge].compactMap { $0 })
        #expect(try Self.comparableRows(out2) == expected, "the resumed sweep differs from the local run")
        let done = try E.run(["--status", out2.path])
        #expect(done.stdout.contains("3 points: 3 done"), "\(done.stdout)")
    }
}
