import Foundation
import Testing
import TestTags

/// `generate-rtl … --pnr` (docs/TIMING.md): the MAC placed and routed through the binary, with
/// the P&R cache in a temporary folder; nextpnr-ecp5 comes from .venv (`make deps`).
@Suite("generate-rtl --pnr", .tags(.synthesis, .python))
struct TimingCLITests {
    static func run(_ arguments: [String], cache: URL) throws -> GenerateRTLTests.Run {
        let p = Process()
        p.executableURL = try GenerateRTLTests.binary("generate-rtl")
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(["ACCELGEN_PNR_CACHE": cache.path]) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return GenerateRTLTests.Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                                    stderr: String(decoding: e, as: UTF8.self))
    }

    @Test("the figures on stdout and in timing.json; the folder can be written again")
    func mac() throws {
        let dir = GenerateRTLTests.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = dir.appendingPathComponent("cache"), out = dir.appendingPathComponent("mac")
        let r = try Self.run(["mac", "--out", out.path, "--pnr", "ecp5"], cache: cache)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("LFE5U-85F-6 CABGA381") && r.stdout.contains("MHz (median"), "\(r.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("timing.json"))) as! [String: Any]
        let fmax = try #require(json["fmaxMHz"] as? Double)
        #expect((120...400).contains(fmax))
        #expect((json["seedFmaxMHz"] as? [Double])?.count == 3 && json["mult18"] as? Int == 1)
        #expect(json["cached"] == nil, "timing.json says what was measured, not where it came from")

        // timing.json belongs to the folder: a second run replaces it with the rest.
        let again = try Self.run(["mac", "--out", out.path, "--pnr", "ecp5"], cache: cache)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("(cached)"), "\(again.stdout)")
        let plain = try Self.run(["mac", "--out", out.path], cache: cache)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("timing.json").path))
    }

    @Test("an unknown device: one line naming --pnr, the value and what is allowed; nothing written")
    func refused() throws {
        let dir = GenerateRTLTests.freshDirectory()
        let r = try Self.run(["mac", "--out", dir.path, "--pnr", "ecp5-99k"], cache: dir.appendingPathComponent("cache"))
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("--pnr") && r.stderr.contains("ecp5-99k") && r.stderr.contains("ecp5-<25k|45k|85k>"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path))
    }
}
