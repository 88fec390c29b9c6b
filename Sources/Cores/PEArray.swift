/// What stays put in each PE of a spatial array (the dataflow taxonomy of Chen et al., ISCA 2016).
public enum Dataflow: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Weights preloaded and held (double-buffered); activations stream; partial sums flow.
    case ws
    /// Partial sums stay: the systolic array fed an im2col matrix.
    case os
    /// Each PE convolves one filter row with one input row (Eyeriss).
    case rs
    public var description: String { rawValue }
}

/// Parameters of a spatial PE array for convolution layers. One config type for every
/// dataflow so the front ends and sweeps treat them alike; each generator validates the
/// fields it uses.
public struct PEArrayConfig: Hashable, Sendable, Codable {
    public var dataflow: Dataflow
    public var rows: Int
    public var cols: Int
    /// Input activations and weights.
    public var activation: FixedPoint
    public var weight: FixedPoint
    /// Largest reduction (C·R·S terms into one output) the default accumulator must hold.
    public var maxReduction: Int
    public var accBitsOverride: Int?
    public var output: FixedPoint
    public var rounding: OutputRounding
    /// ReLU after rounding: negative outputs become zero.
    public var relu: Bool
    public var lfsrWidth: Int
    public var seed: UInt64
    /// Skip the register-file read and the multiply when the activation is zero, holding
    /// operands and accumulator; gated MACs are counted.
    public var zeroGating: Bool
    /// Register-file entries per PE: filter weights, input activations, partial sums.
    public var weightRegisters: Int
    public var inputRegisters: Int
    public var psumRegisters: Int

    public init(dataflow: Dataflow, rows: Int = 4, cols: Int = 4,
                activation: FixedPoint = FixedPoint(bits: 8, frac: 6), weight: FixedPoint? = nil,
                maxReduction: Int = 4096, accBits: Int? = nil, output: FixedPoint = FixedPoint(bits: 8, frac: 2),
                rounding: OutputRounding = .stochastic, relu: Bool = false, lfsrWidth: Int = 16, seed: UInt64 = 1,
                zeroGating: Bool = true, weightRegisters: Int = 16, inputRegisters: Int = 16, psumRegisters: Int = 16) {
        self.dataflow = dataflow
        self.rows = rows
        self.cols = cols
        self.activation = activation
        self.weight = weight ?? activation
        self.maxReduction = maxReduction
        self.accBitsOverride = accBits
        self.output = output
        self.rounding = rounding
        self.relu = relu
        self.lfsrWidth = lfsrWidth
        self.seed = seed
        self.zeroGating = zeroGating
        self.weightRegisters = weightRegisters
        self.inputRegisters = inputRegisters
        self.psumRegisters = psumRegisters
    }

    public var accBits: Int { accBitsOverride ?? activation.bits + weight.bits + ceilLog2(maxReduction) }
    public var accumulator: FixedPoint {
        FixedPoint(bits: accBits, frac: activation.frac + weight.frac, signed: activation.signed || weight.signed)
    }
    public var dropBits: Int { accumulator.frac - output.frac }

    /// Formats, accumulator, rounding and LFSR mean what they mean in the systolic array, so
    /// its checks apply; its `max-k` is this array's `max-reduction`.
    public func validateArithmetic() throws {
        let same = SystolicConfig(rows: 1, cols: 1, a: activation, b: weight, maxK: maxReduction, accBits: accBitsOverride,
                                  output: output, rounding: rounding, lfsrWidth: lfsrWidth, seed: seed)
        do {
            try same.validate()
        } catch let e as ParameterError where e.parameter == "max-k" {
            throw ParameterError("max-reduction", maxReduction, allowed: "1...\(MACConfig.maxKRange.upperBound)")
        }
    }

    /// Output column j's ROUND-unit LFSR seed: the systolic array's scheme (docs/SYSTOLIC.md).
    public func columnSeed(_ j: Int) -> UInt64 {
        SystolicConfig(lfsrWidth: lfsrWidth, seed: seed).columnSeed(j)
    }
}
