import Cores
import HDL

/// The weight-stationary PE array of docs/dataflows/WS.md. PE(i, j) holds the weight of
/// reduction row i (one of a fold's C·R·S terms) for filter column j, with a shadow register
/// so the next fold's weights load while this fold computes. im2col rows stream west to
/// east (skewed by one cycle per row), partial sums flow north to south, and the bottom of
/// each column adds the fold's partial sum into its psum buffer and, after the last reduction
/// fold, rounds, saturates and applies ReLU.
public enum WeightStationary {
    public static let sizes = 1...64
    /// Weight register file per PE: WS uses two entries (the active weight and its shadow).
    public static let weightRegisterRange = 2...256
    /// Depth of each column's psum buffer (`psumRegisters`): positions per block.
    public static let psumDepths = 2...4096
    /// Width of the event counters read out at the end of a layer.
    public static let counterBits = ArrayKit.counterBits

    /// The array's ports, declared once for the generator and the engine: im2col rows enter
    /// from the west with their flags, weights load one row per cycle, each column delivers its
    /// rounded outputs, and the event counters are read at the end of a layer.
    public struct Interface: Sendable {
        public let xValid, xData, xSwap, xFirst, xLast: Port
        public let wLoad, wRow, wValid, wData: Port
        public let yValid, yData: Port
        /// With a codebook format: the layer's weight table, held while its folds load.
        public let codebook: Port?
        /// With a dynamic shift: the ROUND units' shift, held while a layer runs.
        public let shift: Port?

        public init(_ c: WeightStationaryConfig) {
            let (R, C) = (c.rows, c.cols)
            (xValid, xData) = (.input("x_valid", .unsigned(R)), .input("x_data", .unsigned(R * c.aCode.width)))
            (xSwap, xFirst, xLast) = (.input("x_swap", .bit), .input("x_first", .bit), .input("x_last", .bit))
            (wLoad, wRow) = (.input("w_load", .bit), .input("w_row", .unsigned(max(1, ceilLog2(R)))))
            (wValid, wData) = (.input("w_valid", .unsigned(C)), .input("w_data", .unsigned(C * c.bCode.width)))
            (yValid, yData) = (.output("y_valid", .unsigned(C)), .output("y_data", .unsigned(C * c.output.bits)))
            codebook = ArrayKit.codebookPort(c.array)
            shift = Rounder.Interface(c.array.rounder(column: 0)).shift
        }

        /// In the order the engine drives them.
        public var inputs: [Port] { [xValid, xData, xSwap, xFirst, xLast, wLoad, wRow, wValid, wData] }
    }

    /// One PE's ports: activation, flags and swap from the west, weight bus from the column,
    /// partial sum and event counts from the north; the same leave east and south.
    struct PEInterface {
        let xIn, validIn, swapIn, wSel, wIn, wValidIn, psumIn, psumValidIn, macsIn: Port
        /// With zero gating.
        let zeroIn, gatedIn: Port
        let psumOut, psumValidOut, macsOut, gatedOut, zeroOut, xOut, validOut, swapOut: Port

        init(_ c: WeightStationaryConfig) {
            let acc = c.accumulator.shape, events = Shape.unsigned(eventBits(c))
            (xIn, validIn, swapIn) = (.input("x_in", c.aCode), .input("valid_in", .bit), .input("swap_in", .bit))
            (wSel, wIn, wValidIn) = (.input("w_sel", .bit), .input("w_in", c.peWeight), .input("w_valid_in", .bit))
            (psumIn, psumValidIn, macsIn) = (.input("psum_in", acc), .input("psum_valid_in", .bit), .input("macs_in", events))
            (zeroIn, gatedIn) = (.input("zero_in", .bit), .input("gated_in", events))
            (psumOut, psumValidOut, macsOut) = (.output("psum_out", acc), .output("psum_valid_out", .bit), .output("macs_out", events))
            (gatedOut, zeroOut) = (.output("gated_out", events), .output("zero_out", .bit))
            (xOut, validOut, swapOut) = (.output("x_out", c.aCode), .output("valid_out", .bit), .output("swap_out", .bit))
        }
    }

    /// A beat entering `x_data` at cycle c leaves column j's `y_data` at cycle c + outputLatency(j):
    /// input register, row skew (rows - 1), column skew (j), the PE's operand register and
    /// psum register, the psum-buffer add and the ROUND unit's register.
    public static func outputLatency(rows: Int, column j: Int) -> Int { rows + j + 3 }

    /// Cycles from one fold's first beat to the next fold's: its positions, but at least `rows`
    /// (one weight row loads per cycle) and `cols` (the last column must take its weights from
    /// the shadow registers before the next fold's weights overwrite them).
    public static func foldPeriod(positions: Int, rows: Int, cols: Int) -> Int { max(positions, rows, cols) }

    public static func moduleName(_ c: WeightStationaryConfig) -> String {
        var name = "ws_\(c.rows)x\(c.cols)_\(c.a.tag)_\(c.b.tag)_acc\(c.accBits)_\(c.output.tag)_\(c.rounding)"
        if c.rounding == .stochastic { name += "_\(c.lfsrTag)_seed\(String(c.seed, radix: 16))" }
        if c.relu { name += "_relu" }
        if c.zeroGating { name += "_zg" }
        return name + "_psum\(c.psumRegisters)" + c.format.tag + (c.dynamicShift ? "_dynamic" : "")
    }

    public static func validate(_ c: WeightStationaryConfig) throws {
        try c.array.validate(sides: sizes, reductionFlag: "max-reduction")
        // Pipelining is built for the output-stationary array (docs/TIMING.md).
        try require(c.pePipeline == 0, "pe-pipeline", c.pePipeline, "0 with --dataflow ws (pipelining is built for os)")
        try require(c.roundPipeline == 0, "round-pipeline", c.roundPipeline, "0 with --dataflow ws (pipelining is built for os)")
        try require(weightRegisterRange.contains(c.weightRegisters), "weight-registers", c.weightRegisters,
                    "\(weightRegisterRange.lowerBound)...\(weightRegisterRange.upperBound) (the active weight and its shadow)")
        try require(psumDepths.contains(c.psumRegisters), "psum-registers", c.psumRegisters,
                    "\(psumDepths.lowerBound)...\(psumDepths.upperBound)")
    }

    /// Bits of a PE's event count: up to `rows` MACs of one position in one column.
    static func eventBits(_ c: WeightStationaryConfig) -> Int { max(1, ceilLog2(c.rows + 1)) }

    /// One PE. The activation, its valid flag, its zero flag (with gating) and the fold's swap
    /// flag arrive from the west neighbour's registers and leave registered to the east; the
    /// partial sum, its valid flag and the column's event counts arrive from the north and leave
    /// registered to the south. The activation register is also the multiplier's operand: it
    /// only loads a live (valid, and with gating nonzero) activation, so a gated MAC toggles
    /// neither multiplier input, and the partial sum passes through unchanged.
    static func pe(_ c: WeightStationaryConfig) throws -> ModuleDefinition {
        let events = Shape.unsigned(eventBits(c))
        let name = "ws_pe_\(c.a.tag)_\(c.b.tag)_acc\(c.accBits)_ev\(events.width)\(c.zeroGating ? "_zg" : "")\(c.format.tag)"
        let p = PEInterface(c)
        return try ModuleDefinition.define(name) { m in
            let xIn = m.input(p.xIn)
            let validIn = m.input(p.validIn)
            let zeroIn = c.zeroGating ? m.input(p.zeroIn) : nil
            let swapIn = m.input(p.swapIn)
            let weightSelect = m.input(p.wSel)
            let weightIn = m.input(p.wIn)
            let weightValidIn = m.input(p.wValidIn)
            let psumIn = m.input(p.psumIn)
            let psumValidIn = m.input(p.psumValidIn)
            let macsIn = m.input(p.macsIn)
            let gatedIn = c.zeroGating ? m.input(p.gatedIn) : nil

            let live = zeroIn.map { validIn & ~$0 } ?? validIn
            let x = m.register("x_q", c.aCode, reset: nil, enable: live)
            x.assign(xIn)
            let valid = m.delay(validIn, name: "valid_q")
            let zero = zeroIn.map { m.delay($0, name: "zero_q") }

            // Double buffer: the shadow loads from the column's weight bus; the swap flag,
            // travelling with the fold's first activation, moves it into the active register.
            let shadow = m.register("shadow_q", c.peWeight, reset: nil, enable: weightSelect)
            shadow.assign(weightIn)
            let shadowValid = m.register("shadow_valid_q", .bit, enable: weightSelect)
            shadowValid.assign(weightValidIn)
            let weight = m.register("weight_q", c.peWeight, reset: nil, enable: swapIn)
            weight.assign(shadow)
            let weightValid = m.register("weight_valid_q", .bit, enable: swapIn)
            weightValid.assign(shadowValid)

            let used = (valid & weightValid).named("used")
            // Skipped: a zero activation, or a zero weight (ternary, powers of two).
            let skip = ArrayKit.weightIsZero(c.array, weight).map { w in zero.map { $0 | w } ?? w } ?? zero
            let mac = skip.map { used & ~$0 } ?? used
            let addend = ArrayKit.product(m, c.array, a: x, b: weight)
            m.output(p.psumOut, m.delay(mux(mac, psumIn &+ addend, psumIn), name: "psum_q", reset: nil))
            m.output(p.psumValidOut, m.delay(psumValidIn | used, name: "psum_valid_q"))
            m.output(p.macsOut, m.delay(macsIn &+ mac.zeroExtended(to: events.width), name: "macs_q"))
            if let gatedIn, let zero, let skip {
                m.output(p.gatedOut, m.delay(gatedIn &+ (used & skip).zeroExtended(to: events.width), name: "gated_q"))
                m.output(p.zeroOut, zero)
            }
            m.output(p.xOut, x)
            m.output(p.validOut, valid)
            m.output(p.swapOut, m.delay(swapIn, name: "swap_q"))
        }
    }

    public static func module(_ c: WeightStationaryConfig) throws -> ModuleDefinition {
        try validate(c)
        let peDef = try pe(c)
        let (io, peIO) = (Interface(c), PEInterface(c))
        // One ROUND module for every column; each instance sets its column's seed.
        let rounderDef = try Rounder.module(c.array.rounder(column: 0))
        let (R, C) = (c.rows, c.cols)
        let wa = c.aCode.width, wb = c.bCode.width
        let acc = c.accumulator.shape
        let events = Shape.unsigned(eventBits(c))
        let counter = Shape.unsigned(counterBits)

        return try ModuleDefinition.define(moduleName(c)) { m in
            let xValid = m.input(io.xValid)
            let xData = m.input(io.xData)
            let xSwap = m.input(io.xSwap)
            let xFirst = m.input(io.xFirst)
            let xLast = m.input(io.xLast)
            let wLoad = m.input(io.wLoad)
            let wRow = m.input(io.wRow)
            let wValid = m.input(io.wValid)
            let wData = m.input(io.wData)
            let codebook = io.codebook.map { m.input($0) }
            let shift = io.shift.map { m.input($0) }

            // Input register, then row i waits i cycles so each column's wavefront is a diagonal.
            let inX = m.delay(xData, name: "in_x_q", reset: nil)
            let inValid = m.delay(xValid, name: "in_valid_q")
            let inSwap = m.delay(xSwap, name: "in_swap_q")
            func delayed(_ s: Signal, _ n: Int, _ name: String, reset: Int128? = 0, line: Int = #line) -> Signal {
                ArrayKit.delayLine(m, s, stages: n, name: name, reset: reset, line: line)
            }
            let west: [(x: Signal, valid: Signal, zero: Signal?, swap: Signal)] = (0..<R).map { i in
                let x = inX.bits(i * wa + wa - 1, i * wa).reinterpretedAs(c.aCode)
                let zero = c.zeroGating ? delayed(x .== 0, i, "skew_zero\(i)") : nil
                return (delayed(x, i, "skew_x\(i)", reset: nil), delayed(inValid.bit(i), i, "skew_valid\(i)"), zero,
                        delayed(inSwap, i, "skew_swap\(i)"))
            }
            // A codebook index is looked up on the weight bus, so the PEs hold plain weights.
            let weightBus = (0..<C).map { j in
                ArrayKit.decodeWeight(m, c.array, wData.bits(j * wb + wb - 1, j * wb).reinterpretedAs(c.bCode), table: codebook, name: "weight_\(j)")
            }
            let rowSelect = (0..<R).map { i in (wLoad & (wRow .== i)).named("w_sel_\(i)") }

            var above: [Instance?] = Array(repeating: nil, count: C)
            for i in 0..<R {
                var left: Instance?
                for j in 0..<C {
                    var ports: [Port: Signal] = [
                        peIO.xIn: left?[peIO.xOut] ?? west[i].x,
                        peIO.validIn: left?[peIO.validOut] ?? west[i].valid,
                        peIO.swapIn: left?[peIO.swapOut] ?? west[i].swap,
                        peIO.wSel: rowSelect[i], peIO.wIn: weightBus[j], peIO.wValidIn: wValid.bit(j),
                        peIO.psumIn: above[j]?[peIO.psumOut] ?? m.constant(0, acc),
                        peIO.psumValidIn: above[j]?[peIO.psumValidOut] ?? m.constant(0, .bit),
                        peIO.macsIn: above[j]?[peIO.macsOut] ?? m.constant(0, events),
                    ]
                    if c.zeroGating {
                        ports[peIO.zeroIn] = left?[peIO.zeroOut] ?? west[i].zero!
                        ports[peIO.gatedIn] = above[j]?[peIO.gatedOut] ?? m.constant(0, events)
                    }
                    let pe = m.instance(peDef, name: "pe_\(i)_\(j)", connecting: ports)
                    left = pe
                    above[j] = pe
                }
            }

            // The fold flags reach column j's bottom with its partial sums: outputLatency - 1 cycles.
            let control = cat(xSwap, xFirst, xLast)
            var taps: [Signal] = [control]
            for k in 1..<(R + C + 2) { taps.append(m.delay(taps[k - 1], name: "control_\(k)")) }

            // Bottom of each column: psum buffer (read-modify-write), ROUND unit, ReLU.
            var outValid: [Signal] = [], outData: [Signal] = []
            var psumValid: [Signal] = [], bufferReads: [Signal] = [], macs: [Signal] = [], gated: [Signal] = []
            for j in 0..<C {
                let bottom = above[j]!
                let flags = taps[R + j + 2]
                let (start, first, last) = (flags.bit(2), flags.bit(1), flags.bit(0))
                let valid = bottom[peIO.psumValidOut]
                let buffer = m.memory("psum_buffer_\(j)", width: acc.width, depth: c.psumRegisters)
                let next = m.register("psum_address_\(j)", .unsigned(buffer.addressWidth), enable: valid)
                let address = mux(start, m.constant(0, next.shape), next)
                next.assign(address &+ 1)
                let stored = buffer.read(address: address).reinterpretedAs(acc)
                let total = (mux(first, m.constant(0, acc), stored) &+ bottom[peIO.psumOut]).named("total_\(j)")
                buffer.write(address: address, data: total.asUnsigned, enable: valid & ~last)
                let column = ArrayKit.outputColumn(m, rounderDef, c.array, column: j, valid: valid & last, sum: total, shift: shift)
                outData.append(column.y)
                outValid.append(column.valid)
                psumValid.append(valid)
                bufferReads.append(valid & ~first)
                macs.append(bottom[peIO.macsOut])
                if c.zeroGating { gated.append(bottom[peIO.gatedOut]) }
            }
            m.output(io.yValid, cat(outValid.reversed()))
            m.output(io.yData, cat(outData.reversed().map(\.asUnsigned)))

            // Event counters: each event is counted where it becomes visible at the array's edge.
            func sum(_ terms: [Signal], line: Int = #line) -> Signal { ArrayKit.adderTree(m, terms, width: counterBits, line: line) }
            func count(_ event: EventCounter, _ increment: Signal, line: Int = #line) {
                ArrayKit.eventCounter(m, event, increment, line: line)
            }
            func times(_ s: Signal, _ k: Int) -> Signal {
                k == 0 ? m.constant(0, counter) : (s * m.constant(Int128(k), .unsigned(ceilLog2(k + 1)))).truncated(to: counterBits)
            }
            let activations = sum((0..<R).map { inValid.bit($0) })
            let weightWords = sum((0..<C).map { wValid.bit($0) & wLoad })
            let psums = sum(psumValid)
            let macCount = sum(macs)
            count(.macs, macCount)
            count(.gated, sum(gated))
            count(.rfReads, macCount)
            count(.rfWrites, weightWords)
            count(.peToPE, times(activations, C - 1) &+ times(psums, R - 1))
            count(.bufferReads, activations &+ weightWords &+ sum(bufferReads))
            count(.bufferWrites, psums)
        }
    }
}
