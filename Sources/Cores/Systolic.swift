import HDL

/// The systolic array's own figures: it adds no fields to `ArrayConfig`, only what follows
/// from them (docs/SYSTOLIC.md).
extension ArrayConfig {
    /// Output FIFO rows: enough for every tile in flight when C is always ready, so the array
    /// only waits for a consumer that is slow.
    public var fifoDepth: Int {
        var d = 2
        while d < 3 * rows + cols + 3 + pipelineLatency { d *= 2 }
        return d
    }

    /// Cycles from a tile's last beat accepted to its first row of C on `c_data` (C ready): the
    /// beat's input register, R + C - 1 skew and array hops, capture, read-out register, ROUND,
    /// deskew, FIFO, pipelining (docs/SYSTOLIC.md). The tile's last row follows R - 1 cycles later.
    public var lastBeatToFirstRow: Int { rows + cols + 3 + pipelineLatency }

    /// Cycles of the output path beyond fill and drain: input register and FIFO write.
    public static let latency = 2

    /// Cycles from the first beat accepted to the last row delivered, for an M×K by K×N GEMM
    /// with data always offered and C always accepted (docs/SYSTOLIC.md).
    public func expectedCycles(m: Int, n: Int, k: Int) -> Int {
        let tiles = ((m + rows - 1) / rows) * ((n + cols - 1) / cols)
        return k + (tiles - 1) * max(k, rows) + 2 * rows + cols + Self.latency + pipelineLatency
    }

    public var moduleName: String {
        var name = "systolic_\(rows)x\(cols)_\(a.tag)_\(b.tag)_acc\(accBits)" + (thresholds ? "" : "_\(output.tag)_\(rounding)")
        if !thresholds, rounding == .stochastic { name += "_\(lfsrTag)_seed\(String(seed, radix: 16))" }  // thresholds: no ROUND path
        if zeroGating { name += "_zg" }
        if relu { name += "_relu" }
        if counters { name += "_cnt" }
        return name + format.tag + (thresholds ? "_thr" : "") + (dynamicShift ? "_dynamic" : "") + (requantize.map { "_rq\($0)" } ?? "") + pipelineTag
    }

    /// The figures docs/SYSTOLIC.md derives from the parameters, for the manifest.
    public var manifestFigures: [String: Int] {
        var figures = ["accBits": accBits, "fifoDepth": fifoDepth, "fifoWidth": cols * outputCode.width + 1,
                       "lastBeatToFirstRowCycles": lastBeatToFirstRow, "lastBeatToLastRowCycles": lastBeatToFirstRow + rows - 1]
        if let r = requantizer { (figures["requantEntryBits"], figures["requantShiftBits"], figures["requantMaxShift"]) = (r.entryBits, r.shiftBits, r.maxShift) }
        return figures
    }

    /// A as the PEs pass it on: its code, and for binary a live bit above it (idle cycles carry
    /// zeros, and a binary 0 codes -1, so the PE must know a real activation from an idle one).
    var peActivation: Shape { format == .binary ? .unsigned(2) : aCode }

    /// Entries of each column's threshold queue: a tile's thresholds wait from its last beat
    /// until the column reads it out, R + j + 1 (+ PE stages) cycles later; tiles are R apart.
    var thresholdDepth: Int {
        var d = 2
        while d < (rows + cols + pePipeline) / rows + 1 { d *= 2 }
        return d
    }

    /// Checks the design as a systolic array: sides up to `Systolic.sizes`.
    public func validate() throws {
        try validate(sides: Systolic.sizes, requantizer: true)
    }
}

public enum Systolic {
    public static let sizes = 1...128

    /// The array's ports, declared once for the generator and the host-side driver
    /// (`SystolicHarness`): A and B stream in with valid/ready (a beat is taken when both are
    /// valid, `a_last` marks a tile's last beat), C streams out (`c_last` marks a tile's last row).
    public struct Interface: Sendable {
        /// `a_valid`, `a_ready`, `a_data` (row i's code in bits i·wa...), `a_last`.
        public let a: StreamPorts
        /// `b_valid`, `b_ready`, `b_data` (column j's code in bits j·wb...).
        public let b: StreamPorts
        /// `c_valid`, `c_ready`, `c_data` (column j's output in bits j·wo...), `c_last`.
        public let c: StreamPorts
        /// With a codebook format: the layer's weight table, held while its tiles run.
        public let codebook: Port?
        /// With thresholds: column j's `{flip, T}` (`thresholdBits` each), taken with a tile's
        /// last beat.
        public let tData: Port?
        /// With a dynamic shift: the ROUND units' shift, 0...dropBits, held while a layer runs.
        public let shift: Port?
        /// With requantization: column j's `{s, M, b}` (`requantizer.entryBits` each), taken
        /// with a tile's last beat.
        public let rqData: Port?
        /// With `counters`: in EventCounter's order, without the register-file counters (every
        /// MAC reads and writes its accumulator once).
        public let counters: [EventCounter]

        public init(_ c: ArrayConfig) {
            a = .stream("a", data: .unsigned(c.rows * c.aCode.width), last: true, direction: .input)
            b = .stream("b", data: .unsigned(c.cols * c.bCode.width), direction: .input)
            self.c = .stream("c", data: .unsigned(c.cols * c.outputCode.width), last: true, direction: .output)
            codebook = ArrayKit.codebookPort(c)
            tData = c.thresholds ? .input("t_data", .unsigned(c.cols * c.thresholdBits)) : nil
            shift = Rounder.Interface(c.rounder(column: 0)).shift
            rqData = c.requantizer.map { .input("rq_data", .unsigned(c.cols * $0.entryBits)) }
            counters = c.counters ? [.macs, .gated, .peToPE, .bufferReads, .bufferWrites] : []
        }
    }

    /// One PE's ports: operands in from the west and north, out to the east and south.
    struct PEInterface {
        let aIn, bIn, restart: Port
        let aOut, bOut, resOut: Port
        init(_ c: ArrayConfig) {
            (aIn, bIn, restart) = (.input("a_in", c.peActivation), .input("b_in", c.peWeight), .input("restart", .bit))
            (aOut, bOut, resOut) = (.output("a_out", c.peActivation), .output("b_out", c.peWeight), .output("res_out", c.accumulator.shape))
        }
    }

    /// One processing element. Operands arrive from the west (A) and north (B) neighbours'
    /// registers and leave registered to the east and south. Idle cycles carry zeros, so the
    /// PE simply adds every cycle: no valid flag. `restart` (a tile's last beat, or reset)
    /// captures the finished sum in `res` and restarts the accumulator from zero, so the next
    /// tile can follow at once; the column reads `res` out while the next tile computes.
    /// `restart` is shared by every PE of an anti-diagonal, so a PE keeps only the registers
    /// its data needs (each costs simulation time as well as area).
    public static func pe(_ c: ArrayConfig) throws -> ModuleDefinition {
        if c.pePipeline > 0 { return try pipelinedPE(c) }
        let (acc, p) = (c.accumulator.shape, PEInterface(c))
        return try ModuleDefinition.define("pe_\(c.a.tag)_\(c.b.tag)_acc\(c.accBits)\(c.zeroGating ? "_zg" : "")\(c.format.tag)") { m in
            let a = m.input(p.aIn)
            let b = m.input(p.bIn)
            let restart = m.input(p.restart)

            // With zero gating a zero A operand, or a zero weight (ternary, powers of two), leaves
            // the accumulator untouched (no toggling), except that a restart must still capture
            // and clear it.
            var gatedOff: Signal?
            if c.zeroGating {
                let live = ArrayKit.weightIsZero(c, b).map { (a .!= 0) & ~$0 } ?? (a .!= 0)
                gatedOff = (live | restart).named("acc_enable")
            }
            let sum = m.register("acc_q", acc, reset: nil, enable: gatedOff)
            // Operands widened to 16 bits make the multiply 32 bits wide: Verilator computes that
            // natively, where a narrower signed multiply sign-extends its operands again on every
            // cycle of every PE. The product is exact either way, and yosys narrows it back.
            // A binary lane is its code with the live bit above it.
            let addend = c.format == .binary
                ? ArrayKit.product(m, c, a: a.bit(0), b: b, live: a.bit(1))
                : ArrayKit.product(m, c, a: a, b: b, multiplierWidth: ArrayConfig.operandBits.upperBound)
            let next = (sum &+ addend).named("sum")
            sum.assign(mux(restart, m.constant(0, acc), next))

            m.output(p.aOut, m.delay(a, name: "a_q", reset: nil))
            m.output(p.bOut, m.delay(b, name: "b_q", reset: nil))
            m.output(p.resOut, m.delay(next, name: "res_q", reset: nil, enable: restart))
        }
    }

    public static func module(_ c: ArrayConfig) throws -> ModuleDefinition {
        try c.validate()
        let peDef = try pe(c)
        // One ROUND module for every column (each instance sets its column's seed), or with
        // thresholds a queue of them per column instead.
        let rounderDef = c.thresholds || c.requantize != nil ? nil : try Rounder.module(c.rounder(column: 0))
        let requantDefs = try c.requantizer.map { (unit: try Requantizer.module($0), queue: try FIFO.module(c.requantQueue)) }
        let thresholdQueue = FIFOConfig(width: c.thresholdBits, depth: c.thresholdDepth)
        let thresholdDef = c.thresholds ? try FIFO.module(thresholdQueue) : nil
        let fifoConfig = FIFOConfig(width: c.cols * c.outputCode.width + 1, depth: c.fifoDepth)
        let fifoDef = try FIFO.module(fifoConfig)
        let (io, pe, queue) = (Interface(c), PEInterface(c), FIFO.Interface(fifoConfig))
        let (R, C) = (c.rows, c.cols)
        let wa = c.aCode.width, wb = c.bCode.width, wo = c.outputCode.width

        return try ModuleDefinition.define(c.moduleName) { m in
            let a = m.stream(io.a), b = m.stream(io.b), cOut = m.stream(io.c)
            let (aValid, aData, aLast) = (a.valid, a.data, a.last!)
            let (bValid, bData, cReady) = (b.valid, b.data, cOut.ready!)
            let codebook = io.codebook.map { m.input($0) }
            let tData = io.tData.map { m.input($0) }
            let shift = io.shift.map { m.input($0) }
            let rqData = io.rqData.map { m.input($0) }

            // Admission: a tile's last beat waits until the previous tile's read-out has room (R
            // cycles since the previous last beat) and the output FIFO can take R more rows.
            let countBits = ceilLog2(R + 1) + 1
            let sinceLast = m.register("since_last_q", .unsigned(countBits), reset: Int128(R))
            let fifoBits = ceilLog2(c.fifoDepth) + 2
            let promised = m.register("promised_q", .unsigned(fifoBits))
            let room = (sinceLast .>= R) & (promised .<= c.fifoDepth - R)
            // Nothing is accepted while reset is held, so the handshake is defined during reset.
            let accept = (~m.reset & (~aLast | room)).named("accept")
            let fire = (aValid & bValid & accept).named("fire")
            let lastFire = (fire & aLast).named("last_fire")
            sinceLast.assign(mux(lastFire, m.constant(1, sinceLast.shape), mux(sinceLast .>= R, sinceLast, sinceLast &+ 1)))
            a.ready!.assign(bValid & accept)
            b.ready!.assign(aValid & accept)

            // Input registers: an accepted beat, or zeros (which add nothing) when idle.
            let inLast = m.delay(lastFire, name: "in_last_q")
            let inA = c.pePipeline >= 2 ? registeredInput(m, aData, fire: fire, name: "in_a") : m.delay(mux(fire, aData, m.constant(0, aData.shape)), name: "in_a_q", reset: nil)
            let inB = c.pePipeline >= 2 ? registeredInput(m, bData, fire: fire, name: "in_b") : m.delay(mux(fire, bData, m.constant(0, bData.shape)), name: "in_b_q", reset: nil)

            func delayed(_ s: Signal, _ n: Int, _ name: String, line: Int = #line) -> Signal {
                ArrayKit.delayLine(m, s, stages: n, name: name, reset: nil, line: line)
            }
            // Skew: row i of A waits i cycles, column j of B j cycles. Stage k of a skew line is
            // the whole bus delayed k cycles, lane k tapped: one wide copy per stage for the
            // simulator instead of one per lane (synthesis drops the lanes nobody reads).
            func skewLine(_ bus: Signal, lanes: Int, lane: Shape, name: String, line: Int = #line) -> [Signal] {
                var stage = bus
                return (0..<lanes).map { k in
                    if k > 0 { stage = m.delay(stage, name: "\(name)_\(k - 1)", reset: nil, line: line) }
                    return stage.bits(k * lane.width + lane.width - 1, k * lane.width, line: line).reinterpretedAs(lane)
                }
            }
            // A tile's last beat reaches PE(i, j) i + j cycles after the input register, its
            // accumulator `pePipeline` more: one shift register (bit s: the beat's last flag s + 1
            // cycles after the input register), tapped per anti-diagonal.
            let chainBits = R + C - 1 + c.pePipeline
            let skewLast = m.register("skew_last_q", .unsigned(chainBits), reset: 0)
            skewLast.assign(chainBits == 1 ? inLast : cat(skewLast.bits(chainBits - 2, 0), inLast))
            let lastChain = [inLast] + (0..<chainBits).map { skewLast.bit($0) }
            // The operand registers (skew lines, each PE's a_q and b_q) and the accumulators have
            // no reset, so after reset whatever they held still reaches anti-diagonal d for d
            // cycles. Reset clears a shift register that fills with ones, one diagonal per cycle:
            // diagonal d restarts in each of the d + 1 cycles after reset (until its bit of
            // `flushed_q` is set), the last of them before the first accepted beat can arrive.
            // One flip-flop per diagonal instead of a reset on every operand register, and each
            // PE still fits one DSP48 (docs/SYSTOLIC.md, Reset).
            let flushed = m.register("flushed_q", .unsigned(chainBits), reset: 0)
            flushed.assign(chainBits == 1 ? m.constant(1, .bit) : cat(flushed.bits(chainBits - 2, 0), m.constant(1, .bit)))
            let chain = chainBits == 1 ? inLast : cat(skewLast.bits(chainBits - 2, 0), inLast)
            let restart = (chain | ~flushed).named("restart")
            let restarts = (0..<chainBits).map { restart.bit($0) }
            // Binary lanes carry a live bit (the beat was accepted) above their code.
            let inLive = c.format == .binary ? m.delay(fire, name: "in_live_q") : nil
            let westBus = inLive.map { live in
                cat((0..<R).reversed().map { i in cat(live, inA.bits(i * wa + wa - 1, i * wa)) })
            } ?? inA
            let west = skewLine(westBus, lanes: R, lane: c.peActivation, name: "skew_a")
            // A codebook index is looked up as it enters, so the PEs multiply plain weights.
            let northBus = codebook == nil ? inB : cat((0..<C).reversed().map { j in
                let code = inB.bits(j * wb + wb - 1, j * wb).reinterpretedAs(c.bCode)
                return ArrayKit.decodeWeight(m, c, code, table: codebook, name: "weight_\(j)").asUnsigned
            })
            let north = skewLine(northBus, lanes: C, lane: c.peWeight, name: "skew_b")

            // The array: A flows east, B south.
            var pes: [[Instance]] = []
            for i in 0..<R {
                var row: [Instance] = []
                for j in 0..<C {
                    row.append(m.instance(peDef, name: "pe_\(i)_\(j)", connecting: [
                        pe.aIn: j > 0 ? row[j - 1][pe.aOut] : west[i],
                        pe.bIn: i > 0 ? pes[i - 1][j][pe.bOut] : north[j],
                        pe.restart: restarts[i + j + c.pePipeline],
                    ]))
                }
                pes.append(row)
            }

            // Read-out: column j's bottom PE restarts R + j - 1 cycles after the input register
            // took the last beat; in the next cycle (`load`) every result of the column is
            // final, and the column reads one row per cycle, top first, into its register `out_j`.
            // Row i is read before its PE captures the next tile's result (tiles take at least R
            // cycles).
            let pendingBits = ceilLog2(R + 1)
            let rowBits = ceilLog2(R)
            var draining: [Signal] = [], columnOut: [Signal] = []
            for j in 0..<C {
                let load = lastChain[R + j + c.pePipeline]
                let pending = m.register("pending_\(j)", .unsigned(pendingBits))
                let busy = pending .!= 0
                pending.assign(mux(load, m.constant(Int128(R), pending.shape),
                                   mux(busy, pending &- 1, m.constant(0, pending.shape))))
                let results = (0..<R).map { pes[$0][j][pe.resOut] }
                var next = results[0]
                if R > 1 {
                    let row = m.register("row_\(j)", .unsigned(rowBits), reset: nil, enable: load | busy)
                    row.assign(mux(load, m.constant(1, row.shape), row &+ 1))
                    next = mux(load, results[0], select(results, by: row))
                }
                columnOut.append(m.delay(next, name: "out_\(j)", reset: nil, enable: load | busy))
                draining.append(busy)
            }

            // Output path: one ROUND unit (or threshold compare) per column, deskew so a row
            // leaves together, FIFO.
            var rounded: [Signal] = []
            var rowValid = m.constant(0, .bit)
            for j in 0..<C {
                let column: (valid: Signal, y: Signal)
                if let thresholdDef, let tData {
                    // The tile's threshold enters the queue with its last beat and leaves it
                    // when the column starts reading that tile out.
                    let t = c.thresholdBits, load = lastChain[R + j + c.pePipeline]
                    let queue = FIFO.Interface(thresholdQueue)
                    let pending = m.instance(thresholdDef, name: "thresholds_\(j)", connecting: [
                        queue.inValid: lastFire, queue.inData: tData.bits(j * t + t - 1, j * t), queue.outReady: load,
                    ])
                    let threshold = m.register("threshold_\(j)", .unsigned(t), reset: nil, enable: load)
                    threshold.assign(pending[queue.outData])
                    column = ArrayKit.thresholdColumn(m, c, column: j, valid: draining[j], sum: columnOut[j], threshold: threshold)
                } else if let requantDefs, let rqData {
                    column = Requantizer.column(m, unit: requantDefs.unit, queue: requantDefs.queue, c, column: j, entries: rqData,
                                                lastFire: lastFire, load: lastChain[R + j], valid: draining[j], sum: columnOut[j])
                } else {
                    column = ArrayKit.outputColumn(m, rounderDef!, c, column: j, valid: draining[j], sum: columnOut[j], shift: shift)
                }
                rounded.append(delayed(column.y, C - 1 - j, "deskew\(j)"))
                if j == C - 1 { rowValid = column.valid }
            }
            let rowIndex = m.register("row_index_q", .unsigned(max(1, ceilLog2(R))), enable: rowValid)
            let lastRow = rowIndex .== (R - 1)
            rowIndex.assign(R == 1 ? rowIndex : mux(lastRow, m.constant(0, rowIndex.shape), rowIndex &+ 1))
            let fifo = m.instance(fifoDef, name: "out_fifo", connecting: [
                queue.inValid: rowValid, queue.inData: cat([lastRow] + rounded.reversed().map(\.asUnsigned)), queue.outReady: cReady,
            ])
            let out = fifo[queue.outData]
            let pop = fifo[queue.outValid] & cReady
            cOut.valid.assign(fifo[queue.outValid])
            cOut.data.assign(out.bits(C * wo - 1, 0))
            cOut.last!.assign(out.bit(C * wo))

            // Rows promised to the FIFO: R per admitted tile, returned as rows leave.
            let promise = mux(lastFire, m.constant(Int128(R), .unsigned(fifoBits)), m.constant(0, .unsigned(fifoBits)))
            promised.assign((promised &+ promise) &- pop.extended(to: fifoBits))

            if c.counters { counters(c, m, aData: aData, bData: bData, fire: fire, lastFire: lastFire, pop: pop) }
        }
    }

    /// `values[index]`: a tree of two-way multiplexers, most significant index bit first
    /// (`values.count` at most 2^index.width; indices past the end read the last value).
    static func select(_ values: [Signal], by index: Signal) -> Signal {
        func tree(_ lo: Int, _ bit: Int) -> Signal {
            if bit < 0 || lo + 1 >= values.count { return values[min(lo, values.count - 1)] }
            let half = 1 << bit
            if lo + half >= values.count { return tree(lo, bit - 1) }
            return mux(index.bit(bit), tree(lo + half, bit - 1), tree(lo, bit - 1))
        }
        return tree(0, index.width - 1)
    }

    /// Event counters at the array's edge. Every A value entering row i meets each of the C PEs
    /// of that row once and every B value each of the R PEs of its column, so per-beat counts
    /// at the edge equal the sums of per-PE events without a counter in each PE. Padding lanes
    /// (zeros the driver sends past a matrix edge) are events like any other.
    static func counters(_ c: ArrayConfig, _ m: ModuleBuilder, aData: Signal, bData: Signal, fire: Signal, lastFire: Signal, pop: Signal) {
        let (R, C) = (c.rows, c.cols)
        let shape = Shape.unsigned(ArrayConfig.counterBits)
        func counter(_ event: EventCounter, _ increment: Signal, line: Int = #line) {
            ArrayKit.eventCounter(m, event, increment, line: line)
        }
        func constant(_ when: Signal, _ value: Int) -> Signal {
            mux(when, m.constant(Int128(value), shape), m.constant(0, shape))
        }
        if c.zeroGating {
            // Zero A lanes of the accepted beat, times the C PEs each one meets.
            let laneBits = ceilLog2(R + 1) + 1
            var zeros = m.constant(0, .unsigned(laneBits))
            for i in 0..<R {
                let wa = c.aCode.width
                zeros = zeros &+ (aData.bits(i * wa + wa - 1, i * wa) .== 0).extended(to: laneBits)
            }
            let gatedLanes = mux(fire, zeros, m.constant(0, zeros.shape)).named("gated_lanes")
            let perLane = m.constant(Int128(C), .unsigned(max(1, ceilLog2(C + 1))))
            var gated = (gatedLanes * perLane).named("gated_increment")
            if c.format.codesZeroWeight {
                // Zero weights too: za zero A lanes and zw zero B lanes gate za·C + zw·R - za·zw PEs.
                let wb = c.bCode.width, weightBits = ceilLog2(C + 1) + 1
                var zeroWeights = m.constant(0, .unsigned(weightBits))
                for j in 0..<C {
                    let code = bData.bits(j * wb + wb - 1, j * wb)
                    zeroWeights = zeroWeights &+ ArrayKit.weightIsZero(c, code)!.extended(to: weightBits)
                }
                let zw = mux(fire, zeroWeights, m.constant(0, zeroWeights.shape)).named("zero_weight_lanes")
                let perWeight = m.constant(Int128(R), .unsigned(max(1, ceilLog2(R + 1))))
                let both = (gatedLanes * zw).named("gated_both")
                gated = ((gated.extended(to: ArrayConfig.counterBits) &+ (zw * perWeight).extended(to: ArrayConfig.counterBits))
                         &- both.extended(to: ArrayConfig.counterBits)).named("gated_increment_weights")
            }
            let performed = (constant(fire, R * C) &- gated.extended(to: shape.width)).named("mac_increment")
            counter(.macs, performed)
            counter(.gated, gated)
        } else {
            counter(.macs, constant(fire, R * C))
            m.output(EventCounter.gated.port, m.constant(0, shape))
        }
        // A moves east R·(C-1) hops and B south C·(R-1) per beat. Results go from their PE
        // straight to the column's read-out multiplexer: no PE-to-PE hops.
        counter(.peToPE, constant(fire, R * (C - 1) + C * (R - 1)))
        counter(.bufferReads, constant(fire, R + C))
        counter(.bufferWrites, constant(pop, C))
    }
}

extension ArrayConfig {
    /// Cycles the pipelining options add to every result: one per PE stage and one per ROUND
    /// stage (docs/TIMING.md); 0 by default.
    public var pipelineLatency: Int { pePipeline + roundPipeline }

    /// `_pp1`, `_rp1`, …: the module name's mark of each pipelining option that is on.
    var pipelineTag: String { (pePipeline > 0 ? "_pp\(pePipeline)" : "") + (roundPipeline > 0 ? "_rp\(roundPipeline)" : "") }
}

extension Systolic {
    /// The PE with `c.pePipeline` stages before its accumulator (docs/TIMING.md). 1 registers
    /// the product (`product_q`, at the exact product's width) and adds it a cycle later, so the
    /// multiply and the accumulate each get a cycle: the MULT18X18D's output feeds a register
    /// only. 2 also multiplies the PE's own `a_q` and `b_q`, the registers it forwards anyway,
    /// instead of the neighbours': no new flip-flops, the multiplier's inputs beside it, one
    /// more cycle. The array delays each anti-diagonal's `restart` by the stages, so it meets
    /// the tile's last product at the accumulator; with zero gating the gate travels beside the
    /// product (`live_q`). (A builder of its own, so the default PE's Verilog stays as it was.)
    static func pipelinedPE(_ c: ArrayConfig) throws -> ModuleDefinition {
        let (acc, p) = (c.accumulator.shape, PEInterface(c))
        let name = "pe_\(c.a.tag)_\(c.b.tag)_acc\(c.accBits)\(c.zeroGating ? "_zg" : "")\(c.format.tag)_pp\(c.pePipeline)"
        return try ModuleDefinition.define(name) { m in
            let a = m.input(p.aIn)
            let b = m.input(p.bIn)
            let restart = m.input(p.restart)
            let aQ = m.delay(a, name: "a_q", reset: nil)
            let bQ = m.delay(b, name: "b_q", reset: nil)
            let (x, w) = c.pePipeline >= 2 ? (aQ, bQ) : (a, b)
            let product = c.format == .binary
                ? ArrayKit.product(m, c, a: x.bit(0), b: w, live: x.bit(1))
                : ArrayKit.product(m, c, a: x, b: w, multiplierWidth: ArrayConfig.operandBits.upperBound)
            // Every exact product fits `productBits`, so only those bits are registered.
            let kept = min(c.format.productBits(a: c.a, b: c.b), acc.width)
            let productQ = m.delay(product.truncated(to: kept), name: "product_q", reset: nil)
            var gatedOff: Signal?
            if c.zeroGating {
                let live = ArrayKit.weightIsZero(c, w).map { (x .!= 0) & ~$0 } ?? (x .!= 0)
                gatedOff = (m.delay(live, name: "live_q", reset: nil) | restart).named("acc_enable")
            }
            let sum = m.register("acc_q", acc, reset: nil, enable: gatedOff)
            let next = (sum &+ productQ.extended(to: acc.width)).named("sum")
            sum.assign(mux(restart, m.constant(0, acc), next))
            m.output(p.aOut, aQ)
            m.output(p.bOut, bQ)
            m.output(p.resOut, m.delay(next, name: "res_q", reset: nil, enable: restart))
        }
    }

    /// An input register of an array with `pePipeline` 2: it takes the beat's data whatever
    /// happens, and a registered `fire` zeroes it after the register (idle cycles carry zeros,
    /// as before). `fire` then drives a flip-flop instead of a multiplexer in front of every
    /// input bit, which spread the admission logic over the chip and put it on the critical path.
    static func registeredInput(_ m: ModuleBuilder, _ data: Signal, fire: Signal, name: String) -> Signal {
        let q = m.delay(data, name: "\(name)_q", reset: nil)
        let live = m.delay(fire, name: "\(name)_fire_q")
        return mux(live, q, m.constant(0, q.shape)).named("\(name)_live")
    }
}
