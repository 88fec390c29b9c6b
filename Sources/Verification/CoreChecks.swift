import Cosim
import Cores
import Foundation
import Golden
import HDL
import Runtime

/// MAC unit against `MACModel`: corner products (every pair of extremes, the most-negative
/// product accumulated K times), then random operands with random enable, clear and reset.
public enum MACCheck {
    /// `model` defaults to `c`; a different one makes a deliberately wrong reference (tests use
    /// it to show that a disagreement is caught and reported).
    public static func run(_ c: MACConfig, randomCycles: Int = 10_000, seed: UInt64 = 1, model modelConfig: MACConfig? = nil,
                           initialState: InitialState = .default) throws -> CheckReport {
        let top = try MAC.module(c)
        let fa = c.a.golden, fb = c.b.golden
        var g = SplitMix64(seed: seed)
        // rows: rst, a, b, en, clear
        var rows: [[Int128]] = [[1, 0, 0, 0, 0], [1, 0, 0, 1, 0]]
        for x in fa.corners {
            for y in fb.corners {
                rows.append([0, x, y, 1, 1])  // start a new sum with this product
                rows.append([0, x, y, 1, 0])
                rows.append([0, x, y, 0, 0])  // hold
            }
        }
        // The largest-magnitude product, accumulated over the declared reduction length.
        let extremeA = fa.isSigned ? fa.minInt : fa.maxInt
        let extremeB = fb.isSigned ? fb.minInt : fb.maxInt
        let k = min(c.maxK, 4096)
        rows.append([0, extremeA, extremeB, 1, 1])
        for _ in 1..<max(k, 1) { rows.append([0, extremeA, extremeB, 1, 0]) }
        rows.append([0, 0, 0, 0, 0])
        for _ in 0..<randomCycles {
            let r = UInt64.random(in: 0..<1000, using: &g)
            rows.append([r < 2 ? 1 : 0, fa.random(using: &g), fb.random(using: &g), r < 900 ? 1 : 0, r >= 950 ? 1 : 0])
        }
        var model = MACModel(a: fa, b: fb, accBits: (modelConfig ?? c).accBits)
        let io = MAC.Interface(c)
        let harness = BulkComparison(design: try cosimDesign(top), top: top,
                                     inputs: ([Port.reset] + io.inputs).map(\.name), outputs: [io.acc.name])
        return try harness.run(initialState: initialState, name: "mac \(c.a) x \(c.b) acc\(c.accBits)", rows: rows) { cycle, _ in
            let expected: Int128? = cycle == 0 ? nil : model.acc  // undefined before the first reset
            let r = rows[cycle]
            model.clock(a: r[1], b: r[2], enable: r[3] == 1, clear: r[4] == 1, reset: r[0] == 1)
            return [expected]
        }
    }
}

/// Rounding unit against `RounderModel`: saturation at both ends, exact ties around even and
/// odd quotients, values near the saturation limits, then random values in and beyond range.
public enum RounderCheck {
    /// `backend`: Verilator (the default) or in process; `module` replaces the unit `c`
    /// describes (to show that the check tells designs apart).
    public static func run(_ c: RounderConfig, randomCycles: Int = 10_000, seed: UInt64 = 1,
                           initialState: InitialState = .default, backend: SimulatorBackend = .verilator,
                           module: ModuleDefinition? = nil) throws -> CheckReport {
        let top = try module ?? Rounder.module(c)
        let fin = c.input.golden, fout = c.output.golden
        let d = c.dropBits
        var g = SplitMix64(seed: seed)
        var values: [Int128] = fin.corners
        let one = Int128(1) << d
        let half = d > 0 ? one / 2 : 0
        for q in Int128(-4)...4 { values += [q * one + half, q * one + half - 1, q * one + half + 1, q * one] }
        for limit in [fout.minInt, fout.maxInt] {
            for delta in [-one, -half, -1, 0, 1, half, one, one + half] { values.append(limit * one + delta) }
        }
        values = values.filter(fin.contains)
        // rows: rst, in_valid, x
        var rows: [[Int128]] = [[1, 0, 0], [1, 1, 0]]
        for v in values { rows += [[0, 1, v], [0, 0, v]] }
        let lo = max(fin.minInt, (fout.minInt - 2) * one), hi = min(fin.maxInt, (fout.maxInt + 2) * one)
        for _ in 0..<randomCycles {
            let r = UInt64.random(in: 0..<1000, using: &g)
            let x = r % 4 == 0 ? fin.random(using: &g) : Int128.random(in: lo...hi, using: &g)
            rows.append([r < 2 ? 1 : 0, r < 800 ? 1 : 0, x])
        }
        let mode = c.rounding
        var model = RounderModel(input: fin, output: fout, mode: mode, lfsrWidth: c.lfsr.width, seed: c.lfsr.seed,
                                 draw: c.lfsrStep, stages: c.pipeline)
        let io = Rounder.Interface(c)
        // With a dynamic shift, each run of cycles holds one shift (as a layer does): 0...D and
        // past D, which acts as D.
        let shiftPort = io.shift.map { [$0] } ?? []
        let shiftFor = { (cycle: Int) -> Int in (cycle / 97) % (d + 2) }
        if io.shift != nil { for n in rows.indices { rows[n].append(Int128(min(shiftFor(n), (1 << c.shiftBits) - 1))) } }
        var harness = BulkComparison(design: try cosimDesign(top), top: top,
                                     inputs: ([Port.reset, io.inValid, io.x] + shiftPort).map(\.name), outputs: [io.outValid, io.y].map(\.name))
        harness.backend = backend
        return try harness.run(initialState: initialState, name: "rounder \(c.input) -> \(c.output) \(c.rounding)", rows: rows) { cycle, _ in
            let expected: [Int128?] = cycle == 0 ? [nil, nil] : [model.outValid ? 1 : 0, model.out]
            let r = rows[cycle]
            if io.shift != nil { model.shift = Int(r[3]) }
            model.clock(valid: r[1] == 1, x: r[2], reset: r[0] == 1)
            return expected
        }
    }
}

extension RounderCheck {
    /// Rounds each of `xs` in hardware (one valid input per cycle) and returns the outputs.
    public static func outputs(_ c: RounderConfig, for xs: [Int128]) throws -> [Int128] {
        let top = try Rounder.module(c)
        let sim = try Simulation(try cosimDesign(top))
        defer { sim.close() }
        let shape = c.output.shape
        var rows: [[UInt64]] = [[1, 0] + words(0, width: c.input.bits)]
        for x in xs { rows.append([0, 1] + words(x, width: c.input.bits)) }
        for _ in 0..<c.latency { rows.append([0, 0] + words(0, width: c.input.bits)) }
        let io = Rounder.Interface(c)
        let out = try sim.run(inputs: [Port.reset, io.inValid, io.x].map(\.name), values: rows, outputs: [io.y.name])
        // The result of the input in row i is visible in row i + latency.
        return (1 + c.latency..<out.count).map { value(out[$0][...], width: shape.width, signed: shape.isSigned) }
    }
}

/// LFSR state, cycle by cycle, against `LFSRModel` with a random enable (a leaping LFSR
/// against `steps` single steps of the model).
public enum LFSRCheck {
    public static func run(_ c: LFSRConfig, cycles: Int = 10_000, seed: UInt64 = 1,
                           initialState: InitialState = .default) throws -> CheckReport {
        let top = try LFSR.module(c)
        var g = SplitMix64(seed: seed)
        var rows: [[Int128]] = [[1, 0], [1, 1]]
        for _ in 0..<cycles {
            let r = UInt64.random(in: 0..<1000, using: &g)
            rows.append([r < 2 ? 1 : 0, r < 700 ? 1 : 0])
        }
        var model = LFSRModel(width: c.width, seed: c.seed)
        let io = LFSR.Interface(c)
        let harness = BulkComparison(design: try cosimDesign(top), top: top, inputs: [Port.reset, io.en].map(\.name), outputs: [io.state.name])
        return try harness.run(initialState: initialState, name: "\(c.moduleName) seed \(c.seed)", rows: rows) { cycle, _ in
            // Before the first reset edge the register holds whatever the simulator chose.
            let expected: Int128? = cycle == 0 ? nil : Int128(model.state)
            let r = rows[cycle]
            if r[0] == 1 {
                model = LFSRModel(width: c.width, seed: c.seed)
            } else if r[1] == 1 {
                for _ in 0..<c.steps { model.step() }
            }
            return [expected]
        }
    }

    /// Measures each width's period in hardware: one design holds an LFSR per width (seed 1),
    /// each with a counter that latches the step count at which the state first returns to the
    /// seed. Returns width -> measured period (nil if it never returned).
    public static func periods(widths: ClosedRange<Int>) throws -> [Int: Int?] {
        let counterBits = widths.upperBound + 2
        var definitions: [Int: ModuleDefinition] = [:]
        for w in widths { definitions[w] = try LFSR.module(LFSRConfig(width: w, seed: 1)) }
        let top = try ModuleDefinition.define("lfsr_period_probe") { m in
            let on = m.constant(1, .bit)
            let count = m.register("count", .unsigned(counterBits))
            count.assign(count &+ 1)
            for w in widths {
                let io = LFSR.Interface(LFSRConfig(width: w, seed: 1))
                let state = m.instance(definitions[w]!, name: "lfsr\(w)", connecting: [io.en: on])[io.state]
                let found = m.register("found\(w)", .bit)
                let period = m.register("period\(w)", .unsigned(counterBits), enable: nil)
                let hit = (state .== 1) & (count .!= 0) & ~found
                found.assign(found | hit)
                period.assign(mux(hit, count, period))
                m.output("found\(w)", found)
                m.output("period\(w)", period)
            }
        }
        let sim = try Simulation(try cosimDesign(top))
        defer { sim.close() }
        try sim.poke(Port.reset.name, 1)
        try sim.step(1)
        try sim.poke(Port.reset.name, 0)
        try sim.step((1 << widths.upperBound) + 2)
        var result: [Int: Int?] = [:]
        for w in widths {
            let found = try sim.peekUnsigned("found\(w)") == 1
            result[w] = found ? Int(try sim.peekUnsigned("period\(w)")) : nil
        }
        return result
    }
}
