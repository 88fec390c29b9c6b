import Cores
import HDL
import Testing
import Verification
import TestTags

/// The default designs in Icarus Verilog (four-state: every register powers up X): after a
/// one-cycle reset, and after another in the middle of the run, no output bit is ever X or Z.
@Suite("Icarus: no X after reset", .tags(.verilator, .icarus))
struct IcarusTests {
    @Test("default systolic array, MAC, LFSR and every ROUND unit", arguments: [
        "systolic", "mac", "lfsr", "lfsr-leap", "rounder-truncate", "rounder-nearest", "rounder-stochastic",
        "rounder-stochastic-one", "systolic-4x3-counters",
    ])
    func noUndefinedOutputs(_ name: String) throws {
        let top = switch name {
        case "systolic": try Systolic.module(ArrayConfig())
        case "systolic-4x3-counters": try Systolic.module(ArrayConfig(rows: 4, cols: 3, zeroGating: true, counters: true, relu: true))
        case "mac": try MAC.module(MACConfig())
        case "lfsr": try LFSR.module(LFSRConfig())
        case "lfsr-leap": try LFSR.module(LFSRConfig(steps: 10))
        case "rounder-stochastic-one": try Rounder.module(RounderConfig(rounding: .stochastic, lfsrStep: .one))
        case "rounder-truncate": try Rounder.module(RounderConfig(rounding: .truncate))
        case "rounder-nearest": try Rounder.module(RounderConfig(rounding: .nearest))
        default: try Rounder.module(RounderConfig(rounding: .stochastic))
        }
        let report = try IcarusCheck.run(top, cycles: 400, resets: [150, 151, 290])
        #expect(report.cycles == 400)
        #expect(report.undefinedCycles == 0, "\(report.first ?? "")")
    }

    /// The check can fail: a register without reset feeding an output is X forever.
    @Test func detectsAnUnresetOutput() throws {
        let top = try ModuleDefinition.define("unreset") { m in
            let x = m.input("x", .unsigned(4))
            let r = m.register("r_q", .unsigned(4), reset: nil)
            r.assign(r &+ x)
            m.output("y", r)
        }
        let report = try IcarusCheck.run(top, cycles: 20, resets: [])
        #expect(report.undefinedCycles == 20)
    }
}
