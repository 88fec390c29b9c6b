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
public struct EnergyModel: Hashable, Sendable {
    public let datapath: Datapath
    /// One aBits×bBits multiply, pJ.
    public let multiply: Double
    /// One accumulator-width add (the MAC's add), pJ.
    public let accumulate: Double
    /// One MAC: multiply + accumulate; the unit of the Eyeriss ratios.
    public let mac: Double
    /// A register write and a PE-to-PE transfer, per bit: their ratio × mac / operand bits.
    public let registerPerBit: Double
    public let hopPerBit: Double
    /// One ROUND operation: saturation is a compare of the shifted value (an adder of its
    /// width); nearest and stochastic add a rounding increment or the random bits over the
    /// accumulator width; stochastic also steps an lfsrBits-bit LFSR (a register write).
    public let round: Double

    public init(_ d: Datapath) {
        datapath = d
        multiply = CostTable.multiply(d.aBits, d.bBits)
        accumulate = CostTable.add(d.accBits)
        mac = multiply + accumulate
        let operandBits = Double(d.aBits + d.bBits) / 2
        registerPerBit = CostTable.registerRatio * mac / operandBits
        hopPerBit = CostTable.peToPERatio * mac / operandBits
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

    /// Register (register-file) reads and writes: reads cost as much as writes.
    public func registers(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * registerPerBit
        case .words(let n): Double(n) * CostTable.registerRatio * mac
        }
    }

    public func peToPE(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * hopPerBit
        case .words(let n): Double(n) * CostTable.peToPERatio * mac
        }
    }

    /// Global buffer (SRAM) accesses, reads and writes alike.
    public func buffer(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * CostTable.sramPerBit
        case .words(let n): Double(n) * CostTable.bufferRatio * mac
        }
    }

    /// DRAM accesses, reads and writes alike.
    public func dram(_ a: Amount) -> Double {
        switch a {
        case .bits(let b): b * CostTable.dramPerBit
        case .words(let n): Double(n) * CostTable.dramRatio * mac
        }
    }

    // MARK: Estimates

    /// A GEMM on the systolic array (docs/ENERGY.md), words at their own widths. Keys:
    /// multiply, accumulate, accumulator register, skew registers, PE-to-PE, drain, round,
    /// buffer, DRAM; summed in key order. `usefulMACs` is M·N·K, so the padding of ragged
    /// tiles shows as a higher cost per MAC.
    public func estimate(_ e: GEMMEvents, usefulMACs: Int) -> EnergyEstimate {
        let d = datapath
        let wa = Double(d.aBits), wb = Double(d.bBits), wacc = Double(d.accBits), wo = Double(d.outputBits)
        let dramA = Double(e.dramReadsA) * wa, dramB = Double(e.dramReadsB) * wb
        let parts: [String: Double] = [
            "multiply": multiplies(e.macs),
            "accumulate": accumulates(e.macs),
            "accumulator register": registers(.bits(Double(e.accumulatorWrites) * wacc)),
            "skew registers": registers(.bits(Double(e.skewWritesA) * wa + Double(e.skewWritesB) * wb + Double(e.deskewWrites) * wo)),
            "PE-to-PE": peToPE(.bits(Double(e.hopsA) * wa + Double(e.hopsB) * wb)),
            "drain": peToPE(.bits(Double(e.readouts) * wacc)),
            "round": rounds(e.rounds),
            // Reads feeding the array, fills from DRAM, and the output FIFO's write and read.
            "buffer": buffer(.bits(Double(e.bufferReadsA) * wa + Double(e.bufferReadsB) * wb + dramA + dramB
                                   + 2 * Double(e.fifoWords) * wo)),
            "DRAM": dram(.bits(dramA + dramB + Double(e.dramWritesC) * wo)),
        ]
        return EnergyEstimate(parts: parts.keys.sorted().map { ($0, parts[$0]!) }, macs: usefulMACs)
    }

    /// A convolution layer on a PE array (docs/CONV.md §Energy), words as operand-width words.
    /// Keys: mac, registerFile, peToPE, buffer, dram; summed in that order. `layerMACs` is the
    /// layer's N·M·E·F·C·R·S, gated or not, so gating shows as a lower cost per MAC.
    public func estimate(_ counts: DataMovement, layerMACs: Int) -> EnergyEstimate {
        EnergyEstimate(parts: [
            ("mac", macs(counts.macs)),
            ("registerFile", registers(.words(counts.registerFileReads + counts.registerFileWrites))),
            ("peToPE", peToPE(.words(counts.peToPE))),
            ("buffer", buffer(.words(counts.bufferReads + counts.bufferWrites))),
            ("dram", dram(.words(counts.dramReads + counts.dramWrites))),
        ], macs: layerMACs)
    }
}
