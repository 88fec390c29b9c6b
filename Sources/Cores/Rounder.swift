import HDL

/// The ROUND unit of Gupta et al.: drops the low `input.frac - output.frac` bits of a wide
/// accumulator by truncation, nearest-even or stochastic rounding (an LFSR's bits added to the
/// dropped bits), then saturates to the output format. One register stage, or two with
/// `pipeline` 1 (docs/TIMING.md).
public struct RounderConfig: Hashable, Sendable, Codable {
    public static let inputBits = 2...100
    public static let outputBits = 2...32

    public var input: FixedPoint
    public var output: FixedPoint
    public var rounding: RoundingMode
    /// The LFSR's width and seed; how far it steps per output is `lfsrStep` (see `randomSource`).
    public var lfsr: LFSRConfig
    /// `.leap` (the default): the LFSR advances D steps per output, so every output draws D
    /// new bits; `.one`: one step, so consecutive draws share D - 1 bits.
    public var lfsrStep: LFSRDraw
    /// Dynamic fixed point (Ristretto): the shift is a run-time input (`shift`, 0...D, held
    /// while a layer runs; larger values act as D), so each layer picks its own output
    /// fractional length. The LFSR still advances as for D, the widest shift.
    public var dynamicShift: Bool
    /// Register stages added before `y`: 0, or 1, which registers the rounded quotient (the
    /// LFSR's draw added and shifted) and saturates it in the next cycle.
    public var pipeline: Int
    public static let pipelines = 0...1

    public init(input: FixedPoint = FixedPoint(bits: 24, frac: 8), output: FixedPoint = FixedPoint(bits: 8, frac: 0),
                rounding: RoundingMode = .stochastic, lfsr: LFSRConfig = LFSRConfig(), lfsrStep: LFSRDraw = .leap,
                dynamicShift: Bool = false, pipeline: Int = 0) {
        self.input = input
        self.output = output
        self.rounding = rounding
        self.lfsr = lfsr
        self.lfsrStep = lfsrStep
        self.dynamicShift = dynamicShift
        self.pipeline = pipeline
    }

    /// Bits of the `shift` input.
    public var shiftBits: Int { max(1, ceilLog2(dropBits + 1)) }

    /// Bits dropped by the shift.
    public var dropBits: Int { input.frac - output.frac }

    /// The LFSR the unit instantiates: `lfsr`'s width and seed, `lfsrStep.steps(dropBits:)`
    /// steps per valid input.
    public var randomSource: LFSRConfig {
        LFSRConfig(width: lfsr.width, seed: lfsr.seed, steps: lfsrStep.steps(dropBits: dropBits))
    }

    public var moduleName: String {
        let base = "round_\(input.tag)_to_\(output.tag)_\(rounding)"
        // The seed is a parameter (see `Rounder.parameters`), so one module serves every column.
        let name = rounding == .stochastic ? base + "_" + randomSource.moduleName : base
        return (dynamicShift ? name + "_dynamic" : name) + (pipeline > 0 ? "_p\(pipeline)" : "")
    }

    /// Cycles from a valid input to its output on `y` and `out_valid`.
    public var latency: Int { 1 + pipeline }

    public func validate() throws {
        try require(Self.inputBits.contains(input.bits), "input-bits", input.bits, "\(Self.inputBits.lowerBound)...\(Self.inputBits.upperBound)")
        try require(Self.outputBits.contains(output.bits), "output-bits", output.bits, "\(Self.outputBits.lowerBound)...\(Self.outputBits.upperBound)")
        try require(dropBits >= 0 && dropBits < input.bits, "output-frac", output.frac,
                    "\(input.frac - input.bits + 1)...\(input.frac) (output-frac <= input-frac and fewer than input-bits dropped)")
        try require(Self.pipelines.contains(pipeline), "round-pipeline", pipeline, "\(Self.pipelines.lowerBound)...\(Self.pipelines.upperBound)")
        if rounding == .stochastic {
            try lfsr.validate()
            try require(lfsr.width >= dropBits, "lfsr-width", lfsr.width, "\(max(dropBits, LFSRConfig.widths.lowerBound))...\(LFSRConfig.widths.upperBound) (at least the \(dropBits) dropped bits)")
        }
    }

    // `lfsrStep` is written only when it is not the default, `.leap`, `pipeline` when not 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(input: try c.decode(FixedPoint.self, forKey: .input), output: try c.decode(FixedPoint.self, forKey: .output),
                  rounding: try c.decode(RoundingMode.self, forKey: .rounding), lfsr: try c.decode(LFSRConfig.self, forKey: .lfsr),
                  lfsrStep: try c.decodeIfPresent(LFSRDraw.self, forKey: .lfsrStep) ?? .leap,
                  dynamicShift: try c.decodeIfPresent(Bool.self, forKey: .dynamicShift) ?? false,
                  pipeline: try c.decodeIfPresent(Int.self, forKey: .pipeline) ?? 0)
    }
}

public enum Rounder {
    /// The parameters that give one instance of `Rounder.module(c)` its own LFSR seed: none
    /// unless the rounding is stochastic.
    public static func parameters(_ c: RounderConfig, seed: UInt64, in m: ModuleBuilder) -> [String: Signal] {
        guard c.rounding == .stochastic else { return [:] }
        return [LFSR.seedParameterName: m.constant(Int128(seed), .unsigned(c.lfsr.width))]
    }

    /// The ROUND unit's ports, declared once for the generator, the arrays and the drivers.
    public struct Interface: Sendable {
        public let inValid, x: Port
        public let outValid, y: Port
        /// With a dynamic shift: bits to drop, 0...D.
        public let shift: Port?
        public init(_ c: RounderConfig) {
            (inValid, x) = (.input("in_valid", .bit), .input("x", c.input.shape))
            shift = c.dynamicShift ? .input("shift", .unsigned(c.shiftBits)) : nil
            (outValid, y) = (.output("out_valid", .bit), .output("y", c.output.shape))
        }
    }

    /// What both units start from: the ports, the LFSR (its seed passed down as a parameter,
    /// which costs no logic, unlike a seed port; it advances once per valid input) and the
    /// rounding mode it gives.
    static func front(_ m: ModuleBuilder, _ c: RounderConfig, _ p: Interface, lfsr: ModuleDefinition?)
        -> (valid: Signal, x: Signal, shift: Signal?, mode: ShiftRounding) {
        let random = LFSR.Interface(c.randomSource)
        let seed = c.rounding == .stochastic
            ? m.parameter(LFSR.seedParameterName, .unsigned(c.lfsr.width), default: Int128(c.lfsr.seed)) : nil
        let valid = m.input(p.inValid)
        let x = m.input(p.x)
        let shift = p.shift.map { m.input($0) }
        switch c.rounding {
        case .truncate: return (valid, x, shift, .truncate)
        case .nearest: return (valid, x, shift, .nearestEven)
        case .stochastic:
            let rng = m.instance(lfsr!, name: "rng", parameters: [LFSR.seedParameterName: seed!], connecting: [random.en: valid])
            return (valid, x, shift, .stochastic(random: rng[random.state]))
        }
    }

    /// Ports: `in_valid`, `x` in; `out_valid`, `y` out. The result appears `c.latency` cycles
    /// after a valid input; the LFSR advances (one step or a leap of D) once per valid input.
    public static func module(_ c: RounderConfig) throws -> ModuleDefinition {
        try c.validate()
        if c.pipeline > 0 { return try pipelinedModule(c) }
        let p = Interface(c)
        let lfsr = c.rounding == .stochastic ? try LFSR.module(c.randomSource) : nil
        return try ModuleDefinition.define(c.moduleName) { m in
            let (valid, x, shift, mode) = front(m, c, p, lfsr: lfsr)
            let y = m.register("y_q", c.output.shape, enable: valid)
            if let shift {
                // Every shift 0...D rounded and saturated, then the layer's chosen: the random
                // bits of shift k are the low k bits of the same draw.
                let candidates = (0...c.dropBits).map { k in
                    x.roundedShiftRight(by: k, mode: mode).saturated(to: c.output.shape).named("rounded_\(k)")
                }
                y.assign(select(shift, candidates, default: candidates[c.dropBits]))
            } else {
                let rounded = x.roundedShiftRight(by: c.dropBits, mode: mode).named("rounded")
                y.assign(rounded.saturated(to: c.output.shape))
            }
            m.output(p.outValid, m.delay(valid, name: "valid_q"))
            m.output(p.y, y)
        }
    }
}

extension RounderConfig {
    enum CodingKeys: String, CodingKey { case input, output, rounding, lfsr, lfsrStep, dynamicShift, pipeline }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encode(output, forKey: .output)
        try c.encode(rounding, forKey: .rounding)
        try c.encode(lfsr, forKey: .lfsr)
        if lfsrStep != .leap { try c.encode(lfsrStep, forKey: .lfsrStep) }
        if dynamicShift { try c.encode(true, forKey: .dynamicShift) }
        if pipeline != 0 { try c.encode(pipeline, forKey: .pipeline) }
    }
}

extension Rounder {
    /// The two-stage unit (`c.pipeline` 1). The first stage draws and adds exactly as the
    /// one-stage unit does (the LFSR advances once per valid input, in the cycle it arrives) and
    /// registers the rounded quotient in `rounded_q`; the second saturates it into `y_q`, so
    /// every output is the one-stage unit's, one cycle later. With a dynamic shift the chosen
    /// shift's quotient is registered, widened to shift 0's width (saturation does not depend on
    /// the width a value is held at). `rounded_q` has no reset: `rounded_valid_q` says when it
    /// holds a value. (A builder of its own, so the one-stage unit's Verilog stays as it was.)
    static func pipelinedModule(_ c: RounderConfig) throws -> ModuleDefinition {
        let p = Interface(c)
        let lfsr = c.rounding == .stochastic ? try LFSR.module(c.randomSource) : nil
        return try ModuleDefinition.define(c.moduleName) { m in
            let (valid, x, shift, mode) = front(m, c, p, lfsr: lfsr)
            let rounded: Signal
            if let shift {
                let candidates = (0...c.dropBits).map { k in
                    x.roundedShiftRight(by: k, mode: mode).extended(to: x.width + 1).named("rounded_\(k)")
                }
                rounded = select(shift, candidates, default: candidates[c.dropBits])
            } else {
                rounded = x.roundedShiftRight(by: c.dropBits, mode: mode).named("rounded")
            }
            let staged = m.delay(rounded, name: "rounded_q", reset: nil, enable: valid)
            let stagedValid = m.delay(valid, name: "rounded_valid_q")
            let y = m.register("y_q", c.output.shape, enable: stagedValid)
            y.assign(saturatedBySign(staged, to: c.output.shape, in: m))
            m.output(p.outValid, m.delay(stagedValid, name: "valid_q"))
            m.output(p.y, y)
        }
    }

    /// `q` saturated to `shape`, as `Signal.saturated(to:)` gives it, but decided from the bits
    /// above the output's: `q` is in range exactly when they are copies of the output's sign bit
    /// (all zero for an unsigned output), which is an AND and an OR of those bits (a few LUT
    /// levels) where two magnitude comparisons take carry chains; out of range, `q`'s own sign
    /// picks the end. The two-stage unit's second stage is this and a register.
    static func saturatedBySign(_ q: Signal, to shape: Shape, in m: ModuleBuilder) -> Signal {
        let w = shape.width
        // The bits that must agree: from the output's sign bit (signed) or the first bit past
        // it (unsigned) up to q's top.
        let from = shape.isSigned ? w - 1 : w
        if from >= q.width {
            // Every value of q fits, except a negative one into an unsigned output.
            guard q.isSigned && !shape.isSigned else { return q.extended(to: max(w, q.width)).truncated(to: w).reinterpretedAs(shape) }
            return mux(q.msb, m.constant(0, shape), q.asUnsigned.extended(to: w).reinterpretedAs(shape))
        }
        let upper = q.bits(q.width - 1, from)
        let negative = q.isSigned ? q.msb : m.constant(0, .bit)
        // In range: the bits above are all ones below zero (a signed output), else all zeros.
        let allOnes = upper.andReduce().named("upper_ones"), anyOne = upper.orReduce().named("upper_any")
        let inRange = (shape.isSigned ? mux(negative, allOnes, ~anyOne) : ~anyOne).named("in_range")
        let low = m.constant(shape.minValue, shape), high = m.constant(shape.maxValue, shape)
        let kept = q.bits(w - 1, 0).reinterpretedAs(shape)
        return mux(inRange, kept, mux(negative, low, high))
    }
}
