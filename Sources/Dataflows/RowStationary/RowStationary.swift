import Cores
import HDL

/// The row-stationary (Eyeriss) PE array: each PE convolves one filter row with one input row,
/// holding the filter row and a sliding window of the input row in its register files. The
/// contract (ports, command protocol, fold order, counts, cycles) is docs/dataflows/RS.md.
public enum RowStationary {
    /// Strides the input multicast network can serve: PE(i, j) listens to diagonal lane
    /// i + j·stride, so the lanes and each PE's lane choice are sized for this bound.
    public static let maxStride = 4
    /// Array sides: each PE row and column has an enable bit in one 64-bit command word.
    public static let sizes = 1...64
    public static let registerRange = 1...64
    public static let psumRegisterRange = 1...256
    /// Width of each event counter read out at the end of a layer.
    public static let counterBits = ArrayKit.counterBits

    /// Diagonal input lanes: one per distinct i + j·stride up to the largest stride.
    public static func lanes(_ c: RowStationaryConfig) -> Int { c.rows + (c.cols - 1) * maxStride }

    /// Refuses a configuration this generator cannot build, naming the flag.
    public static func validate(_ c: RowStationaryConfig) throws {
        try c.array.validate(sides: sizes, reductionFlag: "max-reduction")
        // Pipelining is built for the output-stationary array (docs/TIMING.md).
        try require(c.pePipeline == 0, "pe-pipeline", c.pePipeline, "0 with --dataflow rs (pipelining is built for os)")
        try require(c.roundPipeline == 0, "round-pipeline", c.roundPipeline, "0 with --dataflow rs (pipelining is built for os)")
        // The RS PE's register files and its multiplier are fixed point only for now.
        try require(c.format == .fixed, "format", c.format, "fixed with --dataflow rs (number formats are built for os and ws)")
        if c.dynamicShift { try require(false, "dynamic-shift", true, "off with --dataflow rs (built for os and ws)") }
        let regs = "\(registerRange.lowerBound)...\(registerRange.upperBound)"
        try require(registerRange.contains(c.weightRegisters), "weight-registers", c.weightRegisters, regs)
        try require(registerRange.contains(c.inputRegisters), "input-registers", c.inputRegisters, regs)
        try require(psumRegisterRange.contains(c.psumRegisters), "psum-registers", c.psumRegisters,
                    "\(psumRegisterRange.lowerBound)...\(psumRegisterRange.upperBound)")
    }

    public static func moduleName(_ c: RowStationaryConfig) -> String {
        var name = "rs_\(c.rows)x\(c.cols)_\(c.a.tag)_\(c.b.tag)_acc\(c.accBits)_\(c.output.tag)_\(c.rounding)"
        if c.rounding == .stochastic { name += "_\(c.lfsrTag)_seed\(String(c.seed, radix: 16))" }
        name += "_rf\(c.weightRegisters)w\(c.inputRegisters)i\(c.psumRegisters)p"
        if c.relu { name += "_relu" }
        if c.zeroGating { name += "_gated" }
        return name
    }

    /// The array's ports, declared once for the generator and the engine: the command every
    /// PE obeys each cycle (inputs, in the order the engine drives them) and the columns'
    /// rounded outputs; the event counters are read at the end of a layer.
    public struct Interface: Sendable {
        public let stride, rowEn, colEn, wLoad, wAddr, wData, xLoad, xLoadAddr, xRows, xAddr, laneValid, xData, mac, macFirst, macLast, firstPass, outIndex, drain, drainIndex: Port
        public let yValid, yData: Port

        public init(_ c: RowStationaryConfig) {
            let (rows, cols, lanes) = (c.rows, c.cols, RowStationary.lanes(c))
            stride = .input("stride", .unsigned(ceilLog2(maxStride + 1)))
            rowEn = .input("row_en", .unsigned(rows))
            colEn = .input("col_en", .unsigned(cols))
            wLoad = .input("w_load", .bit)
            wAddr = .input("w_addr", .unsigned(addressBits(c.weightRegisters)))
            wData = .input("w_data", .unsigned(rows * c.b.bits))
            xLoad = .input("x_load", .bit)
            xLoadAddr = .input("x_load_addr", .unsigned(addressBits(c.inputRegisters)))
            xRows = .input("x_rows", .unsigned(rows))
            xAddr = .input("x_addr", .unsigned(addressBits(c.inputRegisters)))
            laneValid = .input("x_lane_valid", .unsigned(lanes))
            xData = .input("x_data", .unsigned(lanes * c.a.bits))
            mac = .input("mac", .bit)
            macFirst = .input("mac_first", .bit)
            macLast = .input("mac_last", .bit)
            firstPass = .input("first_pass", .bit)
            outIndex = .input("out_index", .unsigned(addressBits(c.psumRegisters)))
            drain = .input("drain", .bit)
            drainIndex = .input("drain_index", .unsigned(addressBits(c.psumRegisters)))
            yValid = .output("y_valid", .unsigned(cols))
            yData = .output("y_data", .unsigned(cols * c.output.bits))
        }

        public var inputs: [Port] { [stride, rowEn, colEn, wLoad, wAddr, wData, xLoad, xLoadAddr, xRows, xAddr, laneValid, xData, mac, macFirst, macLast, firstPass, outIndex, drain, drainIndex] }
    }

    /// One PE's ports: its share of the command, its operands, and the vertical psum chain.
    struct PEInterface {
        let active, wIn, wLoad, wAddr, xIn, xLoad, xLoadAddr, xAddr, mac, macFirst, psumWrite, psumFirst, psumRead, psumAddr, upIn: Port
        let upOut, evMac, evGated: Port

        init(_ c: RowStationaryConfig) {
            active = .input("active", .bit)
            wIn = .input("w_in", c.b.shape)
            wLoad = .input("w_load", .bit)
            wAddr = .input("w_addr", .unsigned(addressBits(c.weightRegisters)))
            xIn = .input("x_in", c.a.shape)
            xLoad = .input("x_load", .bit)
            xLoadAddr = .input("x_load_addr", .unsigned(addressBits(c.inputRegisters)))
            xAddr = .input("x_addr", .unsigned(addressBits(c.inputRegisters)))
            mac = .input("mac", .bit)
            macFirst = .input("mac_first", .bit)
            psumWrite = .input("psum_write", .bit)
            psumFirst = .input("psum_first", .bit)
            psumRead = .input("psum_read", .bit)
            psumAddr = .input("psum_addr", .unsigned(addressBits(c.psumRegisters)))
            upIn = .input("up_in", c.accumulator.shape)
            upOut = .output("up_out", c.accumulator.shape)
            evMac = .output("ev_mac", .bit)
            evGated = .output("ev_gated", .bit)
        }
    }

    /// Address width of a register file of `entries` (memories have at least two entries).
    static func addressBits(_ entries: Int) -> Int { max(1, ceilLog2(entries)) }

    /// One PE: filter-row RF, input-window RF, psum RF and a MAC. Stage 1 of a MAC step reads
    /// the input window; a zero activation (with gating) skips the filter read and leaves the
    /// operand registers and the accumulator alone. Stage 2 is the MAC core. The psum RF
    /// write-back and the vertical chain are driven from the array (see `module`).
    static func pe(_ c: RowStationaryConfig) throws -> ModuleDefinition {
        let macDef = try MAC.module(MACConfig(a: c.a, b: c.b, maxK: c.maxK, accBits: c.accBits))
        let acc = c.accumulator.shape
        let name = "rs_pe_\(c.a.tag)_\(c.b.tag)_acc\(c.accBits)_rf\(c.weightRegisters)w\(c.inputRegisters)i\(c.psumRegisters)p"
        let (p, macIO) = (PEInterface(c), MAC.Interface(MACConfig(a: c.a, b: c.b, maxK: c.maxK, accBits: c.accBits)))
        return try ModuleDefinition.define(name + (c.zeroGating ? "_gated" : "")) { m in
            let active = m.input(p.active)
            let wIn = m.input(p.wIn)
            let wLoad = m.input(p.wLoad)
            let wAddr = m.input(p.wAddr)
            let xIn = m.input(p.xIn)
            // This PE's own load enable (its set loads, its column is active, its lane valid) and
            // write address, so the next output's elements arrive while the MACs read the window.
            let xLoad = m.input(p.xLoad)
            let xLoadAddr = m.input(p.xLoadAddr)
            let xAddr = m.input(p.xAddr)
            let mac = m.input(p.mac)
            let macFirst = m.input(p.macFirst)
            // Already qualified by the enables of the MAC that produced it (two cycles back).
            let psumWrite = m.input(p.psumWrite)
            let psumFirst = m.input(p.psumFirst)
            let psumRead = m.input(p.psumRead)
            let psumAddr = m.input(p.psumAddr)
            let upIn = m.input(p.upIn)

            let weights = m.memory("w_rf", width: c.b.bits, depth: max(2, c.weightRegisters))
            weights.write(address: wAddr, data: wIn.asUnsigned, enable: wLoad & active)
            let window = m.memory("x_rf", width: c.a.bits, depth: max(2, c.inputRegisters))
            window.write(address: xLoadAddr, data: xIn.asUnsigned, enable: xLoad)

            let x = window.read(address: xAddr).reinterpretedAs(c.a.shape).named("x")
            let slot = (mac & active).named("slot")
            let gated = c.zeroGating ? (slot & (x .== 0)).named("gated") : m.constant(0, .bit)
            let issue = (slot & ~gated).named("issue")
            let w = weights.read(address: wAddr).reinterpretedAs(c.b.shape)
            let xQ = m.register("x_q", c.a.shape, reset: nil, enable: issue)
            xQ.assign(x)
            let wQ = m.register("w_q", c.b.shape, reset: nil, enable: issue)
            wQ.assign(w)
            let unit = m.instance(macDef, name: "mac", connecting: [
                macIO.a: xQ, macIO.b: wQ,
                macIO.en: m.delay(issue, name: "issue_q"),
                macIO.clear: m.delay(slot & macFirst, name: "clear_q"),
            ])
            let sum = unit[macIO.acc]

            let psums = m.memory("psum_rf", width: c.accBits, depth: max(2, c.psumRegisters))
            let held = psums.read(address: psumAddr).reinterpretedAs(acc).named("psum")
            let merged = mux(psumFirst, sum, held &+ sum)
            psums.write(address: psumAddr, data: merged.asUnsigned, enable: psumWrite)
            m.output(p.upOut, upIn &+ mux(psumRead & active, held, m.constant(0, acc)))
            m.output(p.evMac, issue)
            m.output(p.evGated, gated)
        }
    }

    /// The array. Every cycle a command from the global-buffer sequencer (inputs below) says
    /// what all PEs do in lockstep; the data in the command differs per PE row (filter rows,
    /// horizontal multicast) and per diagonal lane (input rows, diagonal multicast).
    public static func module(_ c: RowStationaryConfig) throws -> ModuleDefinition {
        try validate(c)
        let peDef = try pe(c)
        let (io, peIO) = (Interface(c), PEInterface(c))
        // One ROUND module for every column; each instance sets its column's seed.
        let rounderDef = try Rounder.module(c.array.rounder(column: 0))
        let (rows, cols, lanes) = (c.rows, c.cols, lanes(c))
        let wa = c.a.bits, wb = c.b.bits
        let acc = c.accumulator.shape

        return try ModuleDefinition.define(moduleName(c)) { m in
            let stride = m.input(io.stride)
            let rowEn = m.input(io.rowEn)
            let colEn = m.input(io.colEn)
            let wLoad = m.input(io.wLoad)
            let wAddr = m.input(io.wAddr)
            let wData = m.input(io.wData)
            let xLoad = m.input(io.xLoad)
            let xLoadAddr = m.input(io.xLoadAddr)
            let xRows = m.input(io.xRows)
            let xAddr = m.input(io.xAddr)
            let laneValid = m.input(io.laneValid)
            let xData = m.input(io.xData)
            let mac = m.input(io.mac)
            let macFirst = m.input(io.macFirst)
            let macLast = m.input(io.macLast)
            let firstPass = m.input(io.firstPass)
            let outIndex = m.input(io.outIndex)
            let drain = m.input(io.drain)
            let drainIndex = m.input(io.drainIndex)

            // A row convolution's last MAC leaves the MAC pipeline two cycles later; its psum is
            // written back then, by the PEs that were active, whatever the command is by then.
            func late(_ s: Signal, _ name: String) -> Signal {
                m.delay(m.delay(s, name: name + "_d1"), name: name + "_d2")
            }
            let writeBack = late(mac & macLast, "write_back")
            let writeFirst = late(firstPass, "write_first")
            let writeIndex = late(outIndex, "write_index")
            let writeRows = late(rowEn, "write_rows")
            let writeCols = late(colEn, "write_cols")
            let psumAddr = mux(drain, drainIndex, writeIndex)

            // Per-PE events that depend on data: MACs performed (zero gating) and window loads
            // (lane valid bits). Every other event is a command bit times a count of enabled
            // rows and columns, counted below without a per-PE term.
            var performed: [Signal] = [], windowLoads: [Signal] = []
            var top: [Signal] = []
            // Shared by every PE: each lane's slice and valid bit, the stride decode, the
            // write-back qualifier.
            let laneData = (0..<lanes).map { l in xData.bits(l * wa + wa - 1, l * wa) }
            let laneOn = (0..<lanes).map { laneValid.bit($0) }
            let picks = Dictionary(uniqueKeysWithValues: (2...maxStride).map { u in (u, (stride .== u).named("stride_\(u)")) })
            let writeNow = (writeBack & ~drain).named("write_now")
            for j in 0..<cols {
                var below: Signal = m.constant(0, acc)
                for i in (0..<rows).reversed() {
                    let active = (rowEn.bit(i) & colEn.bit(j)).named("active_\(i)_\(j)")
                    // Diagonal multicast: the lane i + j·stride, chosen by the layer's stride.
                    var x = laneData[i + j]
                    var valid = laneOn[i + j]
                    for u in 2...maxStride where j > 0 {
                        x = mux(picks[u]!, laneData[i + j * u], x)
                        valid = mux(picks[u]!, laneOn[i + j * u], valid)
                    }
                    let xWrite = (xLoad & xRows.bit(i) & colEn.bit(j) & valid).named("x_write_\(i)_\(j)")
                    let written = (writeNow & writeRows.bit(i) & writeCols.bit(j)).named("psum_write_\(i)_\(j)")
                    let pe = m.instance(peDef, name: "pe_\(i)_\(j)", connecting: [
                        peIO.active: active,
                        peIO.wIn: wData.bits(i * wb + wb - 1, i * wb).reinterpretedAs(c.b.shape),
                        peIO.wLoad: wLoad, peIO.wAddr: wAddr,
                        peIO.xIn: x.reinterpretedAs(c.a.shape), peIO.xLoad: xWrite, peIO.xLoadAddr: xLoadAddr, peIO.xAddr: xAddr,
                        peIO.mac: mac, peIO.macFirst: macFirst,
                        peIO.psumWrite: written, peIO.psumFirst: writeFirst, peIO.psumRead: drain,
                        peIO.psumAddr: psumAddr, peIO.upIn: below,
                    ])
                    below = pe[peIO.upOut]
                    performed.append(pe[peIO.evMac])
                    windowLoads.append(xWrite)
                }
                top.append(below)
            }

            // Output path: one ROUND unit per column (distinct LFSR seeds), then ReLU.
            var valids: [Signal] = []
            var outputs: [Signal] = []
            for j in 0..<cols {
                let column = ArrayKit.outputColumn(m, rounderDef, c.array, column: j, valid: drain & colEn.bit(j), sum: top[j])
                valids.append(column.valid)
                outputs.append(column.y.asUnsigned)
            }
            m.output(io.yValid, cat(valids.reversed()))
            m.output(io.yData, cat(outputs.reversed()))

            // Event counters, read out at the end of a layer. A command bit `x` that every
            // enabled PE obeys is `x` times (enabled rows)·(enabled columns) events.
            func counter(_ event: EventCounter, _ increment: Signal, line: Int = #line) {
                ArrayKit.eventCounter(m, event, increment, line: line)
            }
            func times(_ bit: Signal, _ count: Signal) -> Signal { mux(bit, count, m.constant(0, count.shape)) }
            let enabledRows = ArrayKit.adderTree(m, (0..<rows).map { rowEn.bit($0) })
            let enabledCols = ArrayKit.adderTree(m, (0..<cols).map { colEn.bit($0) })
            let enabledPEs = (enabledRows * enabledCols).named("enabled_pes")
            let writtenPEs = (ArrayKit.adderTree(m, (0..<rows).map { writeRows.bit($0) }) * ArrayKit.adderTree(m, (0..<cols).map { writeCols.bit($0) })).named("written_pes")
            let macs = ArrayKit.adderTree(m, performed).named("macs_now")
            let slots = times(mac, enabledPEs)
            let written = times(writeNow, writtenPEs)
            let drained = times(drain, enabledPEs)
            counter(.macs, macs)
            counter(.gated, slots.extended(to: counterBits) &- macs.extended(to: counterBits))
            // RF reads: the input window on every MAC slot, the filter row on every MAC
            // performed, the psum RF when adding a later pass and when draining.
            counter(.rfReads, slots + macs + times(~writeFirst, written) + drained)
            counter(.rfWrites, times(wLoad, enabledPEs) + ArrayKit.adderTree(m, windowLoads) + written)
            // The drain: every enabled PE below row 0 passes a psum up, one hop each.
            let upperRows = rows > 1 ? ArrayKit.adderTree(m, (1..<rows).map { rowEn.bit($0) }) : m.constant(0, .unsigned(1))
            counter(.peToPE, times(drain, upperRows * enabledCols))
            counter(.bufferReads, ArrayKit.adderTree(m, (0..<rows).map { wLoad & rowEn.bit($0) } + (0..<lanes).map { xLoad & laneValid.bit($0) }))
            counter(.bufferWrites, ArrayKit.adderTree(m, valids))
        }
    }
}
