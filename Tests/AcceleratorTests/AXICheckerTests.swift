import Cosim
import Foundation
import HDL
import Runtime
import Testing

/// Ports as plain values the test sets cycle by cycle: the checker reads them like a simulator.
final class Wires: CycleSimulator {
    var values: [String: UInt64] = [:]
    private(set) var cycle = 0
    func poke(_ port: String, _ value: Int128) throws { values[port] = UInt64(truncatingIfNeeded: value) }
    func poke(_ port: String, words: [UInt64]) throws { values[port] = words.first ?? 0 }
    func peek(_ port: String) throws -> [UInt64] { [values[port] ?? 0] }
    func peekUnsigned(_ port: String) throws -> Int128 { Int128(values[port] ?? 0) }
    func peekSigned(_ port: String) throws -> Int128 { Int128(Int64(bitPattern: values[port] ?? 0)) }
    func step(_ cycles: Int) throws { cycle += cycles }
    func run(cycles: Int, inputs: [String], values: [UInt64], outputs: [String]) throws -> [UInt64] { [] }
    func run(inputs: [String], values: [[UInt64]], outputs: [String]) throws -> [[UInt64]] { [] }
    func stream(inputs: [StreamInput], output: StreamOutput?, expectBeats: Int, maxCycles: Int, hold: [String: UInt64]) throws -> StreamResult {
        throw HostError("not a simulator")
    }
    func dumpWaveform(to url: URL) throws -> URL { url }
    func close() {}
}

/// The checker catches each rule broken on purpose, and names the cycle and channel.
@Suite struct AXICheckerTests {
    let axi = AXI4Ports(prefix: "m_axi", role: .manager, addressBits: 32, dataBits: 64)

    /// Runs `cycles` (each a list of port values set on top of all-zero ports) through a
    /// checker; returns the violation, if any.
    func violation(_ cycles: [[String: UInt64]]) -> AXIViolation? {
        let wires = Wires()
        let checker = AXIChecker(axi: axi)
        for values in cycles {
            wires.values = values
            do { try checker.check(wires, cycle: wires.cycle) } catch let v as AXIViolation { return v } catch { return nil }
            try? wires.step(1)
        }
        return nil
    }

    func ar(addr: UInt64, len: UInt64, ready: UInt64) -> [String: UInt64] {
        ["m_axi_arvalid": 1, "m_axi_araddr": addr, "m_axi_arlen": len, "m_axi_arsize": 3, "m_axi_arburst": 1, "m_axi_arready": ready]
    }

    @Test func cleanTrafficPasses() {
        #expect(violation([ar(addr: 0x1000, len: 3, ready: 0), ar(addr: 0x1000, len: 3, ready: 1),
                           ["m_axi_rvalid": 1, "m_axi_rready": 1], ["m_axi_rvalid": 1, "m_axi_rready": 1],
                           ["m_axi_rvalid": 1, "m_axi_rready": 1], ["m_axi_rvalid": 1, "m_axi_rready": 1, "m_axi_rlast": 1]]) == nil)
    }

    @Test func payloadChangedWhileWaiting() {
        let v = violation([ar(addr: 0x1000, len: 0, ready: 0), ar(addr: 0x1008, len: 0, ready: 1)])
        #expect(v == AXIViolation(cycle: 1, channel: "m_axi_ar", problem: "m_axi_araddr changed while valid and not ready"))
    }

    @Test func validDroppedBeforeHandshake() {
        let v = violation([ar(addr: 0x1000, len: 0, ready: 0), [:]])
        #expect(v?.cycle == 1 && v?.channel == "m_axi_ar" && v?.problem == "valid dropped before the handshake")
    }

    @Test func burstCrossing4KiB() {
        let v = violation([ar(addr: 0x1FF8, len: 1, ready: 1)])
        #expect(v?.channel == "m_axi_ar" && v?.problem.contains("crosses a 4 KiB boundary") == true)
    }

    @Test func wlastMisplaced() {
        let aw: [String: UInt64] = ["m_axi_awvalid": 1, "m_axi_awaddr": 0x2000, "m_axi_awlen": 1, "m_axi_awsize": 3, "m_axi_awburst": 1, "m_axi_awready": 1]
        let early = violation([aw, ["m_axi_wvalid": 1, "m_axi_wready": 1, "m_axi_wlast": 1]])
        #expect(early?.channel == "m_axi_w" && early?.cycle == 1 && early?.problem == "WLAST after 1 beats of a 2-beat burst")
        let late = violation([aw, ["m_axi_wvalid": 1, "m_axi_wready": 1], ["m_axi_wvalid": 1, "m_axi_wready": 1]])
        #expect(late?.channel == "m_axi_w" && late?.cycle == 2)
    }

    @Test func responsesNotAskedFor() {
        #expect(violation([["m_axi_bvalid": 1, "m_axi_bready": 1]])?.channel == "m_axi_b")
        #expect(violation([["m_axi_rvalid": 1, "m_axi_rready": 1]])?.channel == "m_axi_r")
        let rlastEarly = violation([ar(addr: 0, len: 1, ready: 1), ["m_axi_rvalid": 1, "m_axi_rready": 1, "m_axi_rlast": 1]])
        #expect(rlastEarly?.problem == "RLAST 1 on beat 1 of 2")
    }

    @Test func burstRules() {
        #expect(violation([ar(addr: 0x1004, len: 0, ready: 1)])?.problem.contains("not beat-aligned") == true)
        var fixed = ar(addr: 0, len: 0, ready: 1); fixed["m_axi_arburst"] = 0
        #expect(violation([fixed])?.problem.contains("not INCR") == true)
        var narrow = ar(addr: 0, len: 0, ready: 1); narrow["m_axi_arsize"] = 2
        #expect(violation([narrow])?.problem.contains("not the full beat") == true)
    }
}
