import Conv
import Cosim
import Cores
import Foundation
import Runtime
import HDL
import Model

/// Runs layers on a generated row-stationary array (docs/dataflows/RS.md). The engine plays
/// the global buffer and its sequencer: it holds the layer, issues one command per cycle in
/// the fold order of `RowStationaryMapper.Plan`, counts the DRAM words it fetches (each
/// element once, on first use), and records what each column rounded and delivered
/// (Verification's `ConvCheck` compares it with the golden model).
public struct RowStationaryEngine: ResettingConvEngine {
    public let config: RowStationaryConfig
    let mapper: RowStationaryMapper
    public var array: ArrayConfig { config.array }
    public var analytic: any DataflowMapper { mapper }
    let sim: any CycleSimulator
    let top: ModuleDefinition
    let io: RowStationary.Interface

    public init(config: RowStationaryConfig, initialState: InitialState = .default, backend: SimulatorBackend = .verilator) throws {
        self.config = config
        mapper = RowStationaryMapper(config: config)
        io = RowStationary.Interface(config)
        top = try RowStationary.module(config)
        sim = try backend.start(top, initialState: initialState)
    }

    /// One cycle's command; fields not set are idle.
    struct Command {
        var rowEn = 0, colEn = 0
        var wLoad = false, wAddr = 0, weights: [Int] = []
        var xLoad = false, xRows = 0, xLoadAddr = 0, xAddr = 0, laneValid: [Int] = [], lanes: [Int] = []
        var mac = false, macFirst = false, macLast = false, firstPass = false, outIndex = 0
        var drain = false, drainIndex = 0
    }


    /// The command stream of one layer, the outputs in the order the ROUND units see them
    /// (per drain cycle: column, NMEF index) and the DRAM words the global buffer fetched.
    struct Schedule {
        var commands: [Command] = []
        var drained: [[(column: Int, index: Int)]] = []
        var dramReads = 0
    }

    func schedule(_ s: ConvShape, input: [Int], weights: [Int]) -> Schedule {
        let p = mapper.plan(s)
        let (rows, cols, laneCount) = (config.rows, config.cols, RowStationary.lanes(config))
        let (S, U) = (s.filterWidth, s.stride)

        // The global buffer: DRAM words are fetched on first use.
        var fetchedInputs = Set<Int>(), fetchedWeights = Set<Int>()
        func weight(_ m: Int, _ c: Int, _ r: Int, _ q: Int) -> Int {
            let k = s.weightIndex(m: m, c: c, r: r, s: q)
            fetchedWeights.insert(k)
            return weights[k]
        }
        func activation(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
            guard y >= 0, y < s.height, x >= 0, x < s.width else { return 0 }
            let k = s.inputIndex(n: n, c: c, y: y, x: x)
            fetchedInputs.insert(k)
            return input[k]
        }

        var commands: [Command] = []
        var drained: [[(column: Int, index: Int)]] = []
        for n in 0..<s.batch {
            for m in 0..<s.filters {
                for eb in 0..<p.rowBlocks {
                    let colsIn = p.colsIn(block: eb)
                    for fb in 0..<p.columnBlocks {
                        let f0 = fb * p.blockWidth
                        for g in 0..<p.folds {
                            let sets = p.segments(fold: g)
                            let pass = Command(rowEn: (1 << p.rowsIn(fold: g)) - 1, colEn: (1 << colsIn) - 1)
                            func weightTap(_ cmd: inout Command, _ q: Int) {
                                cmd.wLoad = true
                                cmd.wAddr = q
                                cmd.weights = (0..<rows).map { i in
                                    guard i < p.rowsIn(fold: g) else { return 0 }
                                    let (c, r) = p.filterRow(fold: g, peRow: i)
                                    return weight(m, c, r, q)
                                }
                            }
                            // Element q of output column f's window into one PE set, through the
                            // diagonal lanes.
                            func load(_ cmd: inout Command, _ set: RowStationaryMapper.Segment, _ f: Int, _ q: Int) {
                                cmd.xLoad = true
                                cmd.xRows = ((1 << set.rows) - 1) << set.peRow
                                cmd.xLoadAddr = p.windowEntry(output: f, tap: q)
                                cmd.lanes = [Int](repeating: 0, count: laneCount)
                                cmd.laneValid = cmd.lanes
                                for i in set.peRow..<(set.peRow + set.rows) {
                                    let r = set.filterRow + i - set.peRow
                                    for j in 0..<colsIn {
                                        let lane = i + j * U
                                        let y = (eb * cols + j) * U + r - s.padding
                                        cmd.lanes[lane] = activation(n, set.channel, y, f * U + q - s.padding)
                                        cmd.laneValid[lane] = 1
                                    }
                                }
                            }
                            func macStep(_ cmd: inout Command, _ k: Int, _ q: Int) {
                                cmd.mac = true
                                cmd.wAddr = q
                                cmd.xAddr = p.windowEntry(output: f0 + k, tap: q)
                                cmd.macFirst = q == 0
                                cmd.macLast = q == S - 1
                                cmd.firstPass = g == 0
                                cmd.outIndex = k
                            }
                            let outputs = p.outputsIn(block: fb)
                            if p.overlapped {
                                // The taps load alongside the first windows; then each output's MAC
                                // steps run alongside the next output's loads.
                                for t in 0..<(sets.count * S) {
                                    var cmd = pass
                                    if t < S { weightTap(&cmd, t) }
                                    load(&cmd, sets[t / S], f0, t % S)
                                    commands.append(cmd)
                                }
                                for k in 0..<outputs {
                                    let next = k + 1 < outputs ? p.loads(output: k + 1) : 0
                                    for t in 0..<max(S, sets.count * next) {
                                        var cmd = pass
                                        if t < S { macStep(&cmd, k, t) }
                                        if t < sets.count * next { load(&cmd, sets[t / next], f0 + k + 1, S - next + t % next) }
                                        commands.append(cmd)
                                    }
                                }
                            } else {
                                for q in 0..<S {
                                    var cmd = pass
                                    weightTap(&cmd, q)
                                    commands.append(cmd)
                                }
                                for k in 0..<outputs {
                                    for set in sets {
                                        for q in (S - p.loads(output: k))..<S {
                                            var cmd = pass
                                            load(&cmd, set, f0 + k, q)
                                            commands.append(cmd)
                                        }
                                    }
                                    for q in 0..<S {
                                        var cmd = pass
                                        macStep(&cmd, k, q)
                                        commands.append(cmd)
                                    }
                                }
                            }
                        }
                        commands += [Command(), Command()]  // the last MAC's write-back
                        for k in 0..<p.outputsIn(block: fb) {
                            commands.append(Command(rowEn: (1 << p.drainRows) - 1, colEn: (1 << colsIn) - 1, drain: true, drainIndex: k))
                            drained.append((0..<colsIn).map { j in (j, s.outputIndex(n: n, m: m, e: eb * cols + j, f: f0 + k)) })
                        }
                    }
                }
            }
        }
        commands.append(Command())  // the last ROUND result leaves its register
        return Schedule(commands: commands, drained: drained, dramReads: fetchedInputs.count + fetchedWeights.count)
    }

    /// Each command as one row of input words, in the order of `inputs`.
    func encode(_ commands: [Command], stride: Int) -> [[UInt64]] {
        let (rows, laneCount) = (config.rows, RowStationary.lanes(config))
        let wa = config.a.bits, wb = config.b.bits
        return commands.map { cmd -> [UInt64] in
            func bit(_ b: Bool) -> UInt64 { b ? 1 : 0 }
            var w: [UInt64] = [UInt64(stride), UInt64(cmd.rowEn), UInt64(cmd.colEn), bit(cmd.wLoad), UInt64(cmd.wAddr)]
            w += Self.packed(cmd.weights, width: wb, count: rows, words: (io.wData.shape.width + 63) / 64)
            w += [bit(cmd.xLoad), UInt64(cmd.xLoadAddr), UInt64(cmd.xRows), UInt64(cmd.xAddr)]
            w += Self.packed(cmd.laneValid, width: 1, count: laneCount, words: (laneCount + 63) / 64)
            w += Self.packed(cmd.lanes, width: wa, count: laneCount, words: (io.xData.shape.width + 63) / 64)
            w += [bit(cmd.mac), bit(cmd.macFirst), bit(cmd.macLast), bit(cmd.firstPass), UInt64(cmd.outIndex),
                  bit(cmd.drain), UInt64(cmd.drainIndex)]
            return w
        }
    }

    /// Resets the array for one cycle and runs the layer; with `abandonAfter`, stops issuing
    /// commands after that many cycles and returns nil, leaving the layer in flight.
    public func execute(_ shape: ConvShape, input: [Int], weights: [Int], abandonAfter: Int?) throws -> ConvDelivery? {
        try mapper.validate(shape)
        precondition(input.count == shape.inputCount && weights.count == shape.weightCount, "tensor sizes do not match the shape")
        let s = shape, cols = config.cols
        let plan = schedule(s, input: input, weights: weights)
        let (commands, drained) = (plan.commands, plan.drained)

        // Drive it: reset, then one bulk run of every command.
        let rows64 = encode(commands, stride: s.stride)
        guard let sampled = try resetAndFeed(sim, inputs: io.inputs, outputs: [io.yValid, io.yData], rows: rows64, abandonAfter: abandonAfter) else { return nil }
        var hardware = try DataMovement(from: sim)

        // Collect: each cycle's valid columns are the next drained group.
        let wo = config.output.bits
        let validWords = (cols + 63) / 64
        var got = [Int](repeating: 0, count: s.outputCount)
        var delivered = [Int](repeating: -1, count: s.outputCount)
        var group = 0, lastCycle = 0
        var problems: [String] = []
        for (cycle, row) in sampled.enumerated() {
            let valid = row[0]
            guard valid != 0 else { continue }
            let data = row[validWords...]
            guard group < drained.count else {
                problems.append("an unexpected output beat at cycle \(cycle)")
                continue
            }
            let want = drained[group].reduce(UInt64(0)) { $0 | 1 << UInt64($1.column) }
            if valid != want { problems.append("cycle \(cycle): valid columns \(String(valid, radix: 2)), expected \(String(want, radix: 2))") }
            for (j, index) in drained[group] {
                got[index] = Int(SystolicHarness.field(data, at: j * wo, width: wo, signed: config.output.signed))
                delivered[index] = cycle
            }
            group += 1
            lastCycle = cycle
        }
        if group < drained.count { problems.append("only \(group) of \(drained.count) output beats were delivered") }
        hardware.dramReads = plan.dramReads
        hardware.dramWrites = delivered.filter { $0 >= 0 }.count

        var order = [[Int?]](repeating: [], count: cols)
        for group in drained { for (j, index) in group { order[j].append(index) } }
        return ConvDelivery(got: got, cycleOf: delivered.map { $0 >= 0 ? $0 : nil }, columnOrder: order,
                            roundedBefore: Array(repeating: 0, count: cols), cycles: lastCycle + 1,
                            simulatedCycles: sampled.count, hardwareCounts: hardware, problems: problems)
    }

    public func waveform(_ s: ConvShape) -> String? {
        try? sim.dumpWaveform(to: waveformURL("\(top.name)-\(s.batch)x\(s.channels)x\(s.height)x\(s.width)-m\(s.filters)r\(s.filterHeight)s\(s.filterWidth)u\(s.stride)p\(s.padding)")).path
    }

    /// `count` fields of `width` bits (element 0 lowest) in `words` 64-bit words.
    static func packed(_ values: [Int], width: Int, count: Int, words: Int) -> [UInt64] {
        guard words > 0 else { return [] }
        var out: [UInt64] = []
        SystolicHarness.pack((0..<count).map { $0 < values.count ? Int128(values[$0]) : 0 }, width: width, into: &out)
        while out.count < words { out.append(0) }
        return out
    }
}
