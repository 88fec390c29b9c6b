import HDL

/// What every spatial array shares, whatever its dataflow: size, operand and output formats,
/// accumulator, rounding, LFSR and the opt-in extras. A dataflow whose PEs hold more state (the
/// register files of WS and RS) wraps this in its own configuration and adds only those fields.
/// The output-stationary systolic array of docs/SYSTOLIC.md adds none: it takes this directly.
///
/// A is the operand streamed from the west (activations), B the one from the north (weights);
/// `maxK` is the longest reduction (K of a GEMM, C·R·S of a convolution layer).
public struct ArrayConfig: Hashable, Sendable, Codable {
    public static let operandBits = 2...16
    public static let accBitsRange = 2...64
    public static let outputBits = 2...32

    public var rows: Int
    public var cols: Int
    public var a: FixedPoint
    public var b: FixedPoint
    /// Largest reduction length K the default accumulator must hold without overflow.
    public var maxK: Int
    public var accBitsOverride: Int?
    public var output: FixedPoint
    public var rounding: RoundingMode
    public var lfsrWidth: Int
    /// Base seed; column j's LFSR starts at `columnSeed(j)`.
    public var seed: UInt64
    /// How far each ROUND unit's LFSR advances per output: a leap of the dropped bits (the
    /// default: fresh bits for every output) or one step (docs/ARITHMETIC.md).
    public var lfsrStep: LFSRDraw = .leap
    /// Opt-in extras for convolution (docs/CONV.md); all off by default, which leaves the
    /// generated array exactly as docs/SYSTOLIC.md describes it.
    /// A PE whose A operand is zero holds its accumulator instead of adding a zero product.
    public var zeroGating: Bool = false
    /// Event counters as output ports (`count_*`, `counterBits` wide): MACs performed and
    /// gated, PE-to-PE words, buffer words read and written.
    public var counters: Bool = false
    /// Negative rounded outputs become zero (after saturation, before the FIFO).
    public var relu: Bool = false
    /// How A and B are coded and multiplied (docs/FORMATS.md); `a` and `b` are the values the
    /// PEs accumulate, so the initializer fits them to the format (binary A is two signed bits).
    public var format: NumberFormat = .fixed
    /// Binary and binary weights (a BNN's layers, its first one taking multi-bit pixels): each output is one bit, `(sum >= T) xor flip` with a threshold T and
    /// flip per output channel sent with the tile (`t_data`): batch norm and sign folded
    /// (docs/FORMATS.md). The ROUND units are not built.
    public var thresholds: Bool = false
    /// Dynamic fixed point (Ristretto, Gysel et al. 2016): the ROUND units' shift is the
    /// run-time `shift` port (0...dropBits, held while a layer runs), so each layer of a network
    /// picks its own output fractional length, `accumulator.frac - shift` (docs/FORMATS.md).
    public var dynamicShift: Bool = false
    /// Pipelining (docs/TIMING.md), 0 (the default) being the array of docs/SYSTOLIC.md. The
    /// PE: 1 registers each product before the accumulate; 2 also multiplies the PE's own
    /// operand registers (`a_q`, `b_q`) rather than its neighbours', so the multiplier's inputs
    /// come from registers beside it, and zeroes idle beats after the input registers rather
    /// than before. Each stage delays results by a cycle.
    public var pePipeline: Int = 0
    /// The ROUND units: 1 splits each into two stages (docs/TIMING.md), one more cycle.
    public var roundPipeline: Int = 0
    public static let pePipelines = 0...2
    public static let roundPipelines = RounderConfig.pipelines
    /// Per-output-channel requantization (TFLite, gemmlowp): the bits of its multiplier. Each
    /// column's ROUND unit becomes a requantizer, `saturate(roundHalfEven((sum + b)·M / 2^s))`,
    /// whose `{s, M, b}` enters with each tile on `rq_data` (Sources/Cores/Requantizer.swift).
    /// Only the output-stationary systolic array has it.
    public var requantize: Int? = nil

    /// The defaults are the documented default design: 8×8, A and B `s8.6` (values in [-2, 2)),
    /// C `s8.2`, so rounding drops 10 bits.
    public init(rows: Int = 8, cols: Int = 8, a: FixedPoint = FixedPoint(bits: 8, frac: 6), b: FixedPoint? = nil,
                maxK: Int = 4096, accBits: Int? = nil, output: FixedPoint = FixedPoint(bits: 8, frac: 2),
                rounding: RoundingMode = .stochastic, lfsrWidth: Int = 16, seed: UInt64 = 1, lfsrStep: LFSRDraw = .leap,
                zeroGating: Bool = false, counters: Bool = false, relu: Bool = false, format: NumberFormat = .fixed, thresholds: Bool = false,
                dynamicShift: Bool = false, pePipeline: Int = 0, roundPipeline: Int = 0, requantize: Int? = nil) {
        self.rows = rows
        self.pePipeline = pePipeline
        self.roundPipeline = roundPipeline
        self.cols = cols
        self.format = format
        self.a = format.activationValue(a)
        self.b = format.weightValue(b ?? a)
        self.maxK = maxK
        self.accBitsOverride = accBits
        self.output = output
        self.rounding = rounding
        self.lfsrWidth = lfsrWidth
        self.seed = seed
        self.lfsrStep = lfsrStep
        self.zeroGating = zeroGating
        self.counters = counters
        self.relu = relu
        self.thresholds = thresholds
        self.dynamicShift = dynamicShift
        self.requantize = requantize
        if requantize != nil {
            // No ROUND unit either: the requantizer rounds half to even and draws no random bits.
            self.rounding = .nearest
            self.lfsrWidth = 16
            self.seed = 1
            self.lfsrStep = .leap
        }
        if thresholds {
            // No ROUND path is built: its fields take neutral values (nothing dropped, no LFSR),
            // so that equal threshold designs compare equal and their JSON, which leaves the
            // fields out, reads back the same.
            self.output = FixedPoint(bits: 8, frac: self.a.frac + self.b.frac)
            self.rounding = .truncate
            self.lfsrWidth = 16
            self.seed = 1
            self.lfsrStep = .leap
        }
    }

    enum CodingKeys: String, CodingKey {
        case rows, cols, a, b, maxK, accBitsOverride, output, rounding, lfsrWidth, seed, lfsrStep, zeroGating, counters, relu, format, thresholds, dynamicShift
        case pePipeline, roundPipeline, requantize
    }

    // The opt-in fields are written only when on and read as off when absent, so the JSON of
    // a plain array (reports, sweep stores) is what it was before they existed; `lfsrStep`
    // likewise only when it is not the default, `.leap`, except in a manifest (docs/FORMATS.md).

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(rows: try c.decode(Int.self, forKey: .rows), cols: try c.decode(Int.self, forKey: .cols),
                  a: try c.decode(FixedPoint.self, forKey: .a), b: try c.decode(FixedPoint.self, forKey: .b),
                  maxK: try c.decode(Int.self, forKey: .maxK), accBits: try c.decodeIfPresent(Int.self, forKey: .accBitsOverride),
                  // A threshold design has no ROUND path, so no output format, rounding or LFSR
                  // (the initializer sets them for it).
                  output: try c.decodeIfPresent(FixedPoint.self, forKey: .output) ?? FixedPoint(bits: 8, frac: 0),
                  rounding: try c.decodeIfPresent(RoundingMode.self, forKey: .rounding) ?? .truncate,
                  lfsrWidth: try c.decodeIfPresent(Int.self, forKey: .lfsrWidth) ?? 16,
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1,
                  lfsrStep: try c.decodeIfPresent(LFSRDraw.self, forKey: .lfsrStep) ?? .leap,
                  zeroGating: try c.decodeIfPresent(Bool.self, forKey: .zeroGating) ?? false,
                  counters: try c.decodeIfPresent(Bool.self, forKey: .counters) ?? false,
                  relu: try c.decodeIfPresent(Bool.self, forKey: .relu) ?? false,
                  format: try c.decodeIfPresent(NumberFormat.self, forKey: .format) ?? .fixed,
                  thresholds: try c.decodeIfPresent(Bool.self, forKey: .thresholds) ?? false,
                  dynamicShift: try c.decodeIfPresent(Bool.self, forKey: .dynamicShift) ?? false,
                  pePipeline: try c.decodeIfPresent(Int.self, forKey: .pePipeline) ?? 0,
                  roundPipeline: try c.decodeIfPresent(Int.self, forKey: .roundPipeline) ?? 0,
                  requantize: try c.decodeIfPresent(Int.self, forKey: .requantize))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rows, forKey: .rows)
        try c.encode(cols, forKey: .cols)
        try c.encode(a, forKey: .a)
        try c.encode(b, forKey: .b)
        try c.encode(maxK, forKey: .maxK)
        try c.encodeIfPresent(accBitsOverride, forKey: .accBitsOverride)
        // The ROUND path's parameters, which a threshold design does not have (its outputs are
        // one bit per column, `c_data`).
        if !thresholds {
            try c.encode(output, forKey: .output)
            try c.encode(rounding, forKey: .rounding)
            try c.encode(lfsrWidth, forKey: .lfsrWidth)
            try c.encode(seed, forKey: .seed)
            // Stores (sweep points, reports) keep their JSON as before `lfsrStep` existed; a
            // manifest (DesignWriter sets "manifest") always names it.
            if lfsrStep != .leap || encoder.userInfo[CodingUserInfoKey(rawValue: "manifest")!] as? Bool == true {
                try c.encode(lfsrStep, forKey: .lfsrStep)
            }
        }
        if zeroGating { try c.encode(true, forKey: .zeroGating) }
        if counters { try c.encode(true, forKey: .counters) }
        if relu { try c.encode(true, forKey: .relu) }
        if format != .fixed { try c.encode(format, forKey: .format) }
        if thresholds { try c.encode(true, forKey: .thresholds) }
        if dynamicShift { try c.encode(true, forKey: .dynamicShift) }
        if pePipeline != 0 { try c.encode(pePipeline, forKey: .pePipeline) }
        if roundPipeline != 0 { try c.encode(roundPipeline, forKey: .roundPipeline) }
        try c.encodeIfPresent(requantize, forKey: .requantize)
    }

    /// Width of every event counter port.
    public static let counterBits = ArrayKit.counterBits

    /// The default never overflows for `maxK` products: a product's bits plus `ceil(log2 maxK)`,
    /// and for binary (products ±1) `ceil(log2(maxK + 1)) + 1`, the width of a signed
    /// `2·popcount - K` (docs/FORMATS.md).
    public var accBits: Int {
        if let accBitsOverride { return accBitsOverride }
        if format == .binary { return ceilLog2(maxK + 1) + 1 }
        return format.productBits(a: a, b: b) + ceilLog2(maxK)
    }
    /// A's and B's codes on the wires and in the PEs (B before a codebook's decoding).
    public var aCode: Shape { format.activationCode(a) }
    public var bCode: Shape { format.weightCode(b) }
    /// An output on the wires: one bit with thresholds, else the output format.
    public var outputCode: Shape { thresholds ? .unsigned(1) : output.shape }
    /// A threshold on `t_data`: the flip bit above a signed accumulator-wide T.
    public var thresholdBits: Int { accBits + 1 }

    /// B as the PEs hold it: decoded for a codebook (looked up where weights enter the array),
    /// the code for every other format.
    public var peWeight: Shape {
        if case .codebook = format { return b.shape }
        return bCode
    }
    public var accumulator: FixedPoint { FixedPoint(bits: accBits, frac: a.frac + b.frac, signed: a.signed || b.signed) }
    public var dropBits: Int { accumulator.frac - output.frac }

    /// Column j's LFSR seed: spread over the sequence by a prime stride (docs/SYSTOLIC.md).
    public func columnSeed(_ j: Int) -> UInt64 {
        let period = (UInt64(1) << lfsrWidth) - 1
        return 1 + (seed - 1 + 7919 * UInt64(j)) % period
    }

    public func rounder(column j: Int) -> RounderConfig {
        RounderConfig(input: accumulator, output: output, rounding: rounding, lfsr: LFSRConfig(width: lfsrWidth, seed: columnSeed(j)),
                      lfsrStep: lfsrStep, dynamicShift: dynamicShift, pipeline: roundPipeline)
    }

    /// The stochastic part of an array's module name, its LFSR module's name: `lfsr16` (one
    /// step per output) or `lfsr16_leap10`, so the two forms never share a name.
    public var lfsrTag: String { LFSR.moduleName(width: lfsrWidth, steps: lfsrStep.steps(dropBits: dropBits)) }

    /// Checks the array size against `sides` (the dataflow's limit) and the arithmetic; an
    /// error names the front end's flag (`reductionFlag` for `maxK`: `max-k` for GEMMs,
    /// `max-reduction` for convolution layers).
    /// `requantizer`: whether the array builds requantizers (the systolic array); any other
    /// refuses `requantize`.
    public func validate(sides: ClosedRange<Int>, reductionFlag: String = "max-k", requantizer: Bool = false) throws {
        if let requantize {
            try require(requantizer, "requantize", requantize, "only on the output-stationary systolic array (generate-rtl systolic); the ws, os and rs PE arrays have none")
            try require(!thresholds, "requantize", requantize, "off with --threshold-output (no output stage but the thresholds)")
            try require(!dynamicShift, "requantize", requantize, "off with --dynamic-shift (each channel has its own shift)")
            // The requantizer is not pipelined, nor co-simulated behind pipelined PEs.
            try require(roundPipeline == 0, "round-pipeline", roundPipeline, "0 with --requantize (the requantizer has one stage)")
            try require(pePipeline == 0, "pe-pipeline", pePipeline, "0 with --requantize (not built together yet)")
            try self.requantizer!.validate()
        }
        let sizes = "\(sides.lowerBound)...\(sides.upperBound)"
        try require(sides.contains(rows), "rows", rows, sizes)
        try require(sides.contains(cols), "cols", cols, sizes)
        let bits = "\(Self.operandBits.lowerBound)...\(Self.operandBits.upperBound)"
        try require(Self.operandBits.contains(a.bits), "input-bits", a.bits, bits)
        try require(Self.operandBits.contains(b.bits), "weight-bits", b.bits, bits)
        // The values must be what the format codes (set by the initializer; a later change of
        // `format` alone would leave them stale).
        try require(format.activationValue(a) == a, "input-bits", a.bits, "\(format.activationValue(a).bits) with --format \(format)")
        try require(format.weightValue(b) == b, "weight-bits", b.bits, "\(format.weightValue(b).bits) with --format \(format)")
        try require(MACConfig.maxKRange.contains(maxK), reductionFlag, maxK, "1...\(MACConfig.maxKRange.upperBound)")
        try require(Self.accBitsRange.contains(accBits), "acc-bits", accBits, "\(Self.accBitsRange.lowerBound)...\(Self.accBitsRange.upperBound)")
        try require(Self.outputBits.contains(output.bits), "output-bits", output.bits, "\(Self.outputBits.lowerBound)...\(Self.outputBits.upperBound)")
        if thresholds, format != .binary, format != .binaryWeights {
            try require(false, "threshold-output", true, "only with --format binary or bwn")
        }
        if thresholds, dynamicShift {
            try require(false, "dynamic-shift", true, "off with --threshold-output (no ROUND units are built)")
        }
        let pipelines = "\(Self.pePipelines.lowerBound)...\(Self.pePipelines.upperBound)"
        try require(Self.pePipelines.contains(pePipeline), "pe-pipeline", pePipeline, pipelines)
        try require(Self.roundPipelines.contains(roundPipeline), "round-pipeline", roundPipeline,
                    "\(Self.roundPipelines.lowerBound)...\(Self.roundPipelines.upperBound)")
        if thresholds, roundPipeline != 0 {
            try require(false, "round-pipeline", roundPipeline, "0 with --threshold-output (no ROUND units are built)")
        }
        if thresholds, relu {
            try require(false, "relu", true, "off with --threshold-output (the output is already a sign)")
        }
        if format == .binary, zeroGating {
            try require(false, "format", format, "\(NumberFormat.allowed(except: ["binary"])) with zero gating (a binary 0 bit codes -1, not zero)")
        }
        // The accumulator must keep at least one bit above those rounding drops. Blame the
        // accumulator width only when it was chosen, not derived.
        if dropBits >= accBits, accBitsOverride != nil, dropBits >= 0 {
            try require(false, "acc-bits", accBits, "\(dropBits + 1)...\(Self.accBitsRange.upperBound) (more than the \(dropBits) bits rounding drops: input-frac + weight-frac - output-frac)")
        }
        try require(dropBits >= 0 && dropBits < accBits, "output-frac", output.frac,
                    "\(accumulator.frac - accBits + 1)...\(accumulator.frac) (input-frac + weight-frac - output-frac bits are dropped)")
        if rounding == .stochastic {
            try require(LFSRConfig.widths.contains(lfsrWidth) && lfsrWidth >= dropBits, "lfsr-width", lfsrWidth,
                        "\(max(dropBits, LFSRConfig.widths.lowerBound))...\(LFSRConfig.widths.upperBound) (at least the \(dropBits) dropped bits)")
            let top = (UInt64(1) << lfsrWidth) - 1
            try require(seed >= 1 && seed <= top, "lfsr-seed", seed, "1...\(top)")
        }
    }
}

/// A dataflow's own configuration: the shared `ArrayConfig` plus only the fields its PEs add.
/// The shared fields read (and write) through it: `c.rows` is `c.array.rows`.
@dynamicMemberLookup
public protocol ExtendsArrayConfig {
    var array: ArrayConfig { get set }
}

extension ExtendsArrayConfig {
    public subscript<T>(dynamicMember path: WritableKeyPath<ArrayConfig, T>) -> T {
        get { array[keyPath: path] }
        set { array[keyPath: path] = newValue }
    }

    public subscript<T>(dynamicMember path: KeyPath<ArrayConfig, T>) -> T { array[keyPath: path] }
}
