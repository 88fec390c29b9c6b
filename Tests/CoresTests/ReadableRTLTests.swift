import Testing
import Cores
import Golden
import HDL
import Verilog

/// The default systolic array's Verilog: one LFSR and one ROUND module serve every column
/// (seeds are parameters), and few declarations are anonymous.
@Suite struct ReadableRTLTests {
    /// The LFSR leaps the 10 dropped bits per output (`lfsr16_leap10`); with `.one` it is the
    /// one-step `lfsr16`, and the ROUND module's name says which.
    @Test(arguments: [(LFSRDraw.leap, "lfsr16_leap10"), (.one, "lfsr16")])
    func oneLFSRAndOneRoundModuleServeEveryColumn(step: LFSRDraw, lfsr: String) throws {
        let c = ArrayConfig(lfsrStep: step)
        let files = try VerilogEmitter.emit(try Systolic.module(c))
        #expect(files.filter { $0.module.hasPrefix("lfsr") }.map(\.module) == [lfsr])
        let roundName = "round_s28f12_to_s8f2_stochastic_\(lfsr)"
        #expect(files.filter { $0.module.hasPrefix("round_") }.map(\.module) == [roundName])
        let top = try #require(files.last)
        #expect(top.module == "systolic_8x8_s8f6_s8f6_acc28_s8f2_stochastic_\(lfsr)_seed1")
        for j in 0..<c.cols {
            let seed = String(c.columnSeed(j), radix: 16)
            #expect(top.text.contains("\(roundName) #(.SEED(16'h\(seed))) round_\(j) ("))
        }
        let round = try #require(files.first { $0.module.hasPrefix("round_") }).text
        #expect(round.contains("\(lfsr) #(.SEED(SEED)) rng ("))
    }

    /// Names made of an operation and a counter (`_mux_2`, `_bits_4`, `_const`): at most 10% of
    /// the 8×8 top's declarations (237 of 595 before temporaries were named after what they feed).
    @Test func fewAnonymousDeclarations() throws {
        let top = try #require(try VerilogEmitter.emit(try Systolic.module(ArrayConfig())).last).text
        // `wire [7:0] name;`, `wire [7:0] name = ...;`, `reg name;`: the word after the range.
        let declared = top.split(separator: "\n").filter { $0.hasPrefix("    wire ") || $0.hasPrefix("    reg ") }.map { line in
            let words = line.split(separator: ";")[0].split(separator: "=")[0].split(separator: " ")
            return String(words[1].hasPrefix("[") ? words[2] : words[1])
        }
        let kinds = ["const", "not", "mux", "cat", "bits", "ext", "rd", "reduce_and", "reduce_or", "reduce_xor",
                     "add", "sub", "mul", "and", "or", "xor", "eq", "ne", "lt", "le", "shl", "shr"]
        let anonymous = declared.filter { name in
            kinds.contains { kind in
                name == "_" + kind || (name.hasPrefix("_\(kind)_") && Int(name.dropFirst(kind.count + 2)) != nil)
            }
        }
        #expect(declared.count > 250)
        #expect(anonymous.count * 10 <= declared.count, "\(anonymous.count) of \(declared.count): \(anonymous.prefix(10))")
        // No constant gets a wire of its own.
        #expect(!top.contains("_const"))
    }

    /// A core generated on its own keeps its seed as the parameter's default.
    @Test func aStandaloneLFSRStartsAtItsSeed() throws {
        let d = try LFSR.module(LFSRConfig(width: 16, seed: 5))
        #expect(d.name == "lfsr16")
        #expect(VerilogEmitter.emit(module: d).contains("parameter [15:0] SEED = 16'h5"))
        let sim = CircuitSimulator(d)
        try sim.poke("rst", 1)
        try sim.step()
        try sim.poke("rst", 0)
        try sim.poke("en", 1)
        var model = LFSRModel(width: 16, seed: 5)
        for _ in 0..<50 {
            #expect(try sim.peekUnsigned("state") == Int128(model.state))
            try sim.step()
            model.step()
        }
    }

    /// Each column's ROUND unit steps its LFSR from its own seed, set through two levels of
    /// parameters (array -> ROUND -> LFSR): the in-process simulator sees the seed on `rng`.
    @Test func columnSeedsReachTheLFSRs() throws {
        let c = ArrayConfig()
        let rounder = try Rounder.module(c.rounder(column: 0))
        let wrapper = try ModuleDefinition.define("two_columns") { m in
            let x = m.input("x", c.accumulator.shape)
            for j in [0, 5] {
                let unit = m.instance(rounder, name: "round_\(j)", parameters: Rounder.parameters(c.rounder(column: j), seed: c.columnSeed(j), in: m),
                                      ["in_valid": m.constant(1, .bit), "x": x])
                m.output("y_\(j)", unit["y"])
            }
        }
        let sim = CircuitSimulator(wrapper)
        try sim.poke("rst", 1)
        try sim.step()
        try sim.poke("rst", 0)
        var models = [0, 5].map {
            RounderModel(input: c.accumulator.golden, output: c.output.golden, mode: .stochastic, lfsrWidth: c.lfsrWidth, seed: c.columnSeed($0))
        }
        // Inputs between two output steps, so each result depends on the column's LFSR.
        var differ = false
        for step in 0..<64 {
            let x = Int128(step * 37 % 1000) << 6
            try sim.poke("x", x)
            for k in models.indices { models[k].clock(valid: true, x: x) }
            try sim.step()
            #expect(try sim.peekSigned("y_0") == models[0].out)
            #expect(try sim.peekSigned("y_5") == models[1].out)
            if models[0].out != models[1].out { differ = true }
        }
        #expect(differ)
    }
}
