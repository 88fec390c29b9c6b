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
        if c.rounding == .stochastic { name += "_lfsr\(c.lfsrWidth)_seed\(String(c.seed, radix: 16))" }
        if c.relu { name += "_relu" }
        if c.zeroGating { name += "_zg" }
        return name + "_psum\(c.psumRegisters)"
    }

    public static func validate(_ c: WeightStationaryConfig) throws {
        try c.array.validate(sides: sizes, reductionFlag: "max-reduction")
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
        let acc = c.accumulator.shape
        let events = Shape.unsigned(eventBits(c))
        let name = "ws_pe_\(c.a.tag)_\(c.b.tag)_acc\(c.accBits)_ev\(events.width)\(c.zeroGating ? "_zg" : "")"
        return try ModuleDefinition.define(name) { m in
            let xIn = m.input("x_in", c.a.shape)
            let validIn = m.input("valid_in", .bit)
            let zeroIn = c.zeroGating ? m.input("zero_in", .bit) : nil
            let swapIn = m.input("swap_in", .bit)
            let weightSelect = m.input("w_sel", .bit)
            let weightIn = m.input("w_in", c.b.shape)
            let weightValidIn = m.input("w_valid_in", .bit)
            let psumIn = m.input("psum_in", acc)
            let psumValidIn = m.input("psum_valid_in", .bit)
            let macsIn = m.input("macs_in", events)
            let gatedIn = c.zeroGating ? m.input("gated_in", events) : nil

            let live = zeroIn.map { validIn & ~$0 } ?? validIn
            let x = m.register("x_q", c.a.shape, reset: nil, enable: live)
            x.assign(xIn)
            let valid = m.delay(validIn, name: "valid_q")
            let zero = zeroIn.map { m.delay($0, name: "zero_q") }

            // Double buffer: the shadow loads from the column's weight bus; the swap flag,
            // travelling with the fold's first activation, moves it into the active register.
            let shadow = m.register("shadow_q", c.b.shape, reset: nil, enable: weightSelect)
            shadow.assign(weightIn)
            let shadowValid = m.register("shadow_valid_q", .bit, enable: weightSelect)
            shadowValid.assign(weightValidIn)
            let weight = m.register("weight_q", c.b.shape, reset: nil, enable: swapIn)
            weight.assign(shadow)
            let weightValid = m.register("weight_valid_q", .bit, enable: swapIn)
            weightValid.assign(shadowValid)

            let used = (valid & weightValid).named("used")
            let mac = zero.map { used & ~$0 } ?? used
            let product = (x * weight).named("product")
            let addend = product.width > acc.width ? product.truncated(to: acc.width) : product.extended(to: acc.width)
            m.output("psum_out", m.delay(mux(mac, psumIn &+ addend, psumIn), name: "psum_q", reset: nil))
            m.output("psum_valid_out", m.delay(psumValidIn | used, name: "psum_valid_q"))
            m.output("macs_out", m.delay(macsIn &+ mac.zeroExtended(to: events.width), name: "macs_q"))
            if let gatedIn, let zero {
                m.output("gated_out", m.delay(gatedIn &+ (used & zero).zeroExtended(to: events.width), name: "gated_q"))
                m.output("zero_out", zero)
            }
            m.output("x_out", x)
            m.output("valid_out", valid)
            m.output("swap_out", m.delay(swapIn, name: "swap_q"))
        }
    }

    public static func module(_ c: WeightStationaryConfig) throws -> ModuleDefinition {
        try validate(c)
        let peDef = try pe(c)
        // One ROUND module for every column; each instance sets its column's seed.
        let rounderDef = try Rounder.module(c.array.rounder(column: 0))
        let (R, C) = (c.rows, c.cols)
        let wa = c.a.bits, wb = c.b.bits
        let acc = c.accumulator.shape
        let events = Shape.unsigned(eventBits(c))
        let counter = Shape.unsigned(counterBits)

        return try ModuleDefinition.define(moduleName(c)) { m in
            let xValid = m.input("x_valid", .unsigned(R))
            let xData = m.input("x_data", .unsigned(R * wa))
            let xSwap = m.input("x_swap", .bit)
            let xFirst = m.input("x_first", .bit)
            let xLast = m.input("x_last", .bit)
            let wLoad = m.input("w_load", .bit)
            let wRow = m.input("w_row", .unsigned(max(1, ceilLog2(R))))
            let wValid = m.input("w_valid", .unsigned(C))
            let wData = m.input("w_data", .unsigned(C * wb))

            // Input register, then row i waits i cycles so each column's wavefront is a diagonal.
            let inX = m.delay(xData, name: "in_x_q", reset: nil)
            let inValid = m.delay(xValid, name: "in_valid_q")
            let inSwap = m.delay(xSwap, name: "in_swap_q")
            func delayed(_ s: Signal, _ n: Int, _ name: String, reset: Int128? = 0, line: Int = #line) -> Signal {
                ArrayKit.delayLine(m, s, stages: n, name: name, reset: reset, line: line)
            }
            let west: [(x: Signal, valid: Signal, zero: Signal?, swap: Signal)] = (0..<R).map { i in
                let x = inX.bits(i * wa + wa - 1, i * wa).reinterpretedAs(c.a.shape)
                let zero = c.zeroGating ? delayed(x .== 0, i, "skew_zero\(i)") : nil
                return (delayed(x, i, "skew_x\(i)", reset: nil), delayed(inValid.bit(i), i, "skew_valid\(i)"), zero,
                        delayed(inSwap, i, "skew_swap\(i)"))
            }
            let weightBus = (0..<C).map { j in wData.bits(j * wb + wb - 1, j * wb).reinterpretedAs(c.b.shape) }
            let rowSelect = (0..<R).map { i in (wLoad & (wRow .== i)).named("w_sel_\(i)") }

            var above: [Instance?] = Array(repeating: nil, count: C)
            for i in 0..<R {
                var left: Instance?
                for j in 0..<C {
                    var ports: [String: Signal] = [
                        "x_in": left?["x_out"] ?? west[i].x,
                        "valid_in": left?["valid_out"] ?? west[i].valid,
                        "swap_in": left?["swap_out"] ?? west[i].swap,
                        "w_sel": rowSelect[i], "w_in": weightBus[j], "w_valid_in": wValid.bit(j),
                        "psum_in": above[j]?["psum_out"] ?? m.constant(0, acc),
                        "psum_valid_in": above[j]?["psum_valid_out"] ?? m.constant(0, .bit),
                        "macs_in": above[j]?["macs_out"] ?? m.constant(0, events),
                    ]
                    if c.zeroGating {
                        ports["zero_in"] = left?["zero_out"] ?? west[i].zero!
                        ports["gated_in"] = above[j]?["gated_out"] ?? m.constant(0, events)
                    }
                    let pe = m.instance(peDef, name: "pe_\(i)_\(j)", ports)
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
                let valid = bottom["psum_valid_out"]
                let buffer = m.memory("psum_buffer_\(j)", width: acc.width, depth: c.psumRegisters)
                let next = m.register("psum_address_\(j)", .unsigned(buffer.addressWidth), enable: valid)
                let address = mux(start, m.constant(0, next.shape), next)
                next.assign(address &+ 1)
                let stored = buffer.read(address: address).reinterpretedAs(acc)
                let total = (mux(first, m.constant(0, acc), stored) &+ bottom["psum_out"]).named("total_\(j)")
                buffer.write(address: address, data: total.asUnsigned, enable: valid & ~last)
                let column = ArrayKit.outputColumn(m, rounderDef, c.array, column: j, valid: valid & last, sum: total)
                outData.append(column.y)
                outValid.append(column.valid)
                psumValid.append(valid)
                bufferReads.append(valid & ~first)
                macs.append(bottom["macs_out"])
                if c.zeroGating { gated.append(bottom["gated_out"]) }
            }
            m.output("y_valid", cat(outValid.reversed()))
            m.output("y_data", cat(outData.reversed().map(\.asUnsigned)))

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
