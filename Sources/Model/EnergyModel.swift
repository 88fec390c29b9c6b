/// The energy model of every array: GEMMs on the systolic array (docs/ENERGY.md) and
/// convolution layers on the PE arrays (docs/CONV.md). It prices each event class once, from
/// one cost table (`CostTable`: Horowitz ISSCC 2014, Chen et al. ISCA 2016) and a datapath's
/// widths; `estimate` turns a GEMM's `GEMMEvents` or a layer's `DataMovement` into
/// components with these prices.
///
/// Data movement comes in two units (`Amount`), because the two documented models count it
/// differently:
/// - `.bits`: words of their own widths (the GEMM model). Registers and PE-to-PE hops cost
///   their Eyeriss ratio × one MAC per operand-width word, linear in bits; the buffer and DRAM
///   cost Horowitz's absolute SRAM and DRAM figures per bit.
/// - `.words`: words each costed as one operand-width word at its Eyeriss ratio × one MAC,
///   whatever its width (the convolution model, Eyeriss's normalization), for the buffer and
///   DRAM too.
/// For registers and hops the two agree on an operand-width word; for the buffer and DRAM they
/// do not (6× and 200× a MAC against 5 and 640 pJ per 32 bits), as the two documents define.
///
/// Number formats (docs/ENERGY.md, "Number formats") change what a MAC costs (`multiply`: an
/// XNOR, a conditional negate, a zero select, a shift) and how many bits A and B words have
/// (their codes), not what a bit costs: the Eyeriss ratios stay relative to the fixed-point MAC
/// of the activation width (`movementMAC`). Zero weights a PE skips are events (gated MACs),
/// not a discount in the price.
public struct EnergyModel: Hashable, Sendable {
    public let datapath: Datapath
    /// One aBits×bBits multiply, pJ; for the other number formats what replaces it (XNOR,
    /// conditional negate, zero select, shift), and in a PE that gates zero weights the gate.
    public let multiply: Double
    /// One accumulator-width add (the MAC's add), pJ.
    public let accumulate: Double
    /// One performed MAC: multiply + accumulate, the PE's arithmetic. MACs skipped by zero
    /// gating (activations, and weights where `gatesZeroWeights`) are not performed: the events
    /// count them apart and they cost nothing.
    public let mac: Double
    /// The unit of the Eyeriss ratios: one MAC of the array's operand width in fixed point.
    /// For fixed point (and codebooks, whose PEs multiply fixed-point weights) it is `mac`;
    /// for the other formats the fixed-point aBits×aBits MAC with the same accumulator, so that
    /// a register bit costs what it costs whatever the PE does with it.
    public let movementMAC: Double
    /// A register write and a PE-to-PE transfer, per bit: their ratio × movementMAC / operand bits.
    public let registerPerBit: Double
    public let hopPerBit: Double
    /// One table read per weight word entering the array (codebooks; 0 otherwise), pJ.
    public let decode: Double
    /// One ROUND operation: saturation is a compare of the shifted value (an adder of its
    /// width); nearest and stochastic add a rounding increment or the random bits over the
    /// accumulator width; stochastic also steps an lfsrBits-bit LFSR (a register write).
    public let round: Double

    public init(_ d: Datapath) {
        datapath = d
        let add = CostTable.add(d.accBits)
        // What a MAC does instead of multiplying (docs/ENERGY.md, "Number formats").
        var decode = 0.0
        switch d.format {
        case .fixed:
            multiply = CostTable.multiply(d.aBits, d.bBits)
            accumulate = add
        case .codebook(let n):
            multiply = CostTable.multiply(d.aBits, d.bBits)
            accumulate = add
            decode = CostTable.tableRead(entries: 1 << n, bits: d.bBits)
        case .binary:
            multiply = CostTable.xnor
            accumulate = add
        case .binaryWeights:
            multiply = CostTable.negate(d.aBits)
            accumulate = add
        case .ternary:
            multiply = CostTable.negate(d.aBits) + CostTable.zeroSelect(d.aBits)
                + (d.gatesZeroWeights ? CostTable.zeroGate(codeBits: 1) : 0)
            accumulate = add
        case .powerOfTwo(let e):
            let maxShift = (1 << e) - 2
            let width = d.aBits + maxShift
            multiply = CostTable.shift(width: width, maxShift: maxShift) + CostTable.zeroSelect(width) + CostTable.negate(width)
                + (d.gatesZeroWeights ? CostTable.zeroGate(codeBits: e) : 0)
            accumulate = add
        }
        self.decode = decode
        mac = multiply + accumulate
        let operandBits: Double
        switch d.format {
        case .fixed, .codebook:
            movementMAC = mac
            operandBits = Double(d.aBits + d.bBits) / 2
        case .binary, .binaryWeights, .ternary, .powerOfTwo:
            movementMAC = CostTable.multiply(d.aBits, d.aBits) + add
            operandBits = Double(d.aBits)
        }
        registerPerBit = CostTable.registerRatio * movementMAC / operandBits
        hopPerBit = CostTable.peToPERatio * movementMAC / operandBits
        var round = CostTable.add(max(d.accBits - d.droppedBits, 1))
        switch d.rounding {
        case .truncate: break
        case .nearest: round += CostTable.add(d.accBits)
        case .stochastic: round += CostTable.add(d.accBits) + registerPerBit * Double(d.lfsrBits)
        }
        self.round = round
    }

    // MARK: Prices: the one place each event class is priced

    /// An amount of data moved: `bits` in all (words of their own widths), or a number of
    /// `words` each costed as an operand-width word (see the type's description).
    public enum Amount: Hashable, Sendable {
        case bits(Double)
        case words(Int)
    }

    public func multiplies(_ n: Int) -> Double { Double(n) * multiply }
    public func accumulates(_ n: Int) -> Double { Double(n) * accumulate }
    /// Performed MACs (gated MACs cost nothing and are not passed here).
    public func macs(_ n: Int) -> Double { Double(n) * mac }
    public func rounds(_ n: Int) -> Double { Double(n) * round }
    /// Codebook table reads, one per weight word entering the array.
    public func decodes(_ n: Int) -> Double { Double(n) * decode }

    /// Register (register-file) reads and writes: reads cost as much as writes.
    public func registers(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * registerPerBit
        case .words(let n): Double(n) * CostTable.registerRatio * movementMAC
        }
    }

    public func peToPE(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * hopPerBit
        case .words(let n): Double(n) * CostTable.peToPERatio * movementMAC
        }
    }

    /// Global buffer (SRAM) accesses, reads and writes alike.
    public func buffer(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * CostTable.sramPerBit
        case .words(let n): Double(n) * CostTable.bufferRatio * movementMAC
        }
    }

    /// DRAM accesses, reads and writes alike.
    public func dram(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * CostTable.dramPerBit
        case .words(let n): Double(n) * CostTable.dramRatio * movementMAC
        }
    }

    // MARK: Estimates

    /// A GEMM on the systolic array (docs/ENERGY.md), words at their own widths. Keys:
    /// multiply, accumulate, accumulator register, skew registers, PE-to-PE, drain, round,
    /// buffer, DRAM; summed in key order. `usefulMACs` is M·N·K, so the padding of ragged
    /// tiles shows as a higher cost per MAC.
    public func estimate(_ e: GEMMEvents, usefulMACs: Int) -> EnergyEstimate {
        let d = datapath
        // Words at their widths: codes in the buffer and DRAM (wa, wb), in the array's registers
        // (ra, rb); all the value widths in fixed point.
        let wa = Double(d.aWordBits), wb = Double(d.bWordBits), wacc = Double(d.accBits), wo = Double(d.outputBits)
        let ra = Double(d.aArrayBits), rb = Double(d.bArrayBits)
        let dramA = Double(e.dramReadsA) * wa, dramB = Double(e.dramReadsB) * wb
        var parts: [String: Double] = [
            "multiply": multiplies(e.macs),
            "accumulate": accumulates(e.macs),
            "accumulator register": registers(.bits(Double(e.accumulatorWrites) * wacc)),
            "skew registers": registers(.bits(Double(e.skewWritesA) * ra + Double(e.skewWritesB) * rb + Double(e.deskewWrites) * wo)),
            "PE-to-PE": peToPE(.bits(Double(e.hopsA) * ra + Double(e.hopsB) * rb)),
            "drain": peToPE(.bits(Double(e.readouts) * wacc)),
            "round": rounds(e.rounds),
            // Reads feeding the array, fills from DRAM, and the output FIFO's write and read.
            "buffer": buffer(.bits(Double(e.bufferReadsA) * wa + Double(e.bufferReadsB) * wb + dramA + dramB
                                   + 2 * Double(e.fifoWords) * wo)),
            "DRAM": dram(.bits(dramA + dramB + Double(e.dramWritesC) * wo)),
        ]
        // A codebook's table is read once for every weight word that enters the array.
        if decode > 0 { parts["decode"] = decodes(e.bufferReadsB) }
        return EnergyEstimate(parts: parts.keys.sorted().map { ($0, parts[$0]!) }, macs: usefulMACs)
    }

    /// A convolution layer on a PE array (docs/CONV.md §Energy), words as operand-width words.
    /// Keys: mac, registerFile, peToPE, buffer, dram; summed in that order. `layerMACs` is the
    /// layer's N·M·E·F·C·R·S, gated or not, so gating shows as a lower cost per MAC.
    /// With a codebook, `weightLoads` weight words entering the array cost a table read each
    /// (key `decode`, after the others).
    public func estimate(_ counts: DataMovement, layerMACs: Int, weightLoads: Int = 0) -> EnergyEstimate {
        var parts = [
            ("mac", macs(counts.macs)),
            ("registerFile", registers(.words(counts.registerFileReads + counts.registerFileWrites))),
            ("peToPE", peToPE(.words(counts.peToPE))),
            ("buffer", buffer(.words(counts.bufferReads + counts.bufferWrites))),
            ("dram", dram(.words(counts.dramReads + counts.dramWrites))),
        ]
        if decode > 0 { parts.append(("decode", decodes(weightLoads))) }
        return EnergyEstimate(parts: parts, macs: layerMACs)
    }
}
