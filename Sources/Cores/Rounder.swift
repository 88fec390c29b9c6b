import HDL

/// The ROUND unit of Gupta et al.: drops the low `input.frac - output.frac` bits of a wide
/// accumulator by truncation, nearest-even or stochastic rounding (an LFSR's bits added to the
/// dropped bits), then saturates to the output format. One register stage.
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

    public init(input: FixedPoint = FixedPoint(bits: 24, frac: 8), output: FixedPoint = FixedPoint(bits: 8, frac: 0),
                rounding: RoundingMode = .stochastic, lfsr: LFSRConfig = LFSRConfig(), lfsrStep: LFSRDraw = .leap,
                dynamicShift: Bool = false) {
        self.input = input
        self.output = output
        self.rounding = rounding
        self.lfsr = lfsr
        self.lfsrStep = lfsrStep
        self.dynamicShift = dynamicShift
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
        return dynamicShift ? name + "_dynamic" : name
    }

    public func validate() throws {
        try require(Self.inputBits.contains(input.bits), "input-bits", input.bits, "\(Self.inputBits.lowerBound)...\(Self.inputBits.upperBound)")
        try require(Self.outputBits.contains(output.bits), "output-bits", output.bits, "\(Self.outputBits.lowerBound)...\(Self.outputBits.upperBound)")
        try require(dropBits >= 0 && dropBits < input.bits, "output-frac", output.frac,
                    "\(input.frac - input.bits + 1)...\(input.frac) (output-frac <= input-frac and fewer than input-bits dropped)")
        if rounding == .stochastic {
            try lfsr.validate()
            try require(lfsr.width >= dropBits, "lfsr-width", lfsr.width, "\(max(dropBits, LFSRConfig.widths.lowerBound))...\(LFSRConfig.widths.upperBound) (at least the \(dropBits) dropped bits)")
        }
    }

    enum CodingKeys: String, CodingKey { case input, output, rounding, lfsr, lfsrStep, dynamicShift }

    // `lfsrStep` is written only when it is not the default, `.leap`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(input: try c.decode(FixedPoint.self, forKey: .input), output: try c.decode(FixedPoint.self, forKey: .output),
                  rounding: try c.decode(RoundingMode.self, forKey: .rounding), lfsr: try c.decode(LFSRConfig.self, forKey: .lfsr),
                  lfsrStep: try c.decodeIfPresent(LFSRDraw.self, forKey: .lfsrStep) ?? .leap,
                  dynamicShift: try c.decodeIfPresent(Bool.self, forKey: .dynamicShift) ?? false)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encode(output, forKey: .output)
        try c.encode(rounding, forKey: .rounding)
        try c.encode(lfsr, forKey: .lfsr)
        if lfsrStep != .leap { try c.encode(lfsrStep, forKey: .lfsrStep) }
        if dynamicShift { try c.encode(true, forKey: .dynamicShift) }
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

    /// Ports: `in_valid`, `x` in; `out_valid`, `y` out. The result appears one cycle after a
    /// valid input; the LFSR advances (one step or a leap of D) once per valid input.
    public static func module(_ c: RounderConfig) throws -> ModuleDefinition {
        try c.validate()
        let p = Interface(c)
        let lfsr = c.rounding == .stochastic ? try LFSR.module(c.randomSource) : nil
        let random = LFSR.Interface(c.randomSource)
        return try ModuleDefinition.define(c.moduleName) { m in
            // The LFSR's seed, passed down to it: a parameter costs no logic, unlike a seed port.
            let seed = c.rounding == .stochastic
                ? m.parameter(LFSR.seedParameterName, .unsigned(c.lfsr.width), default: Int128(c.lfsr.seed)) : nil
            let valid = m.input(p.inValid)
            let x = m.input(p.x)
            let shift = p.shift.map { m.input($0) }
            let mode: ShiftRounding
            switch c.rounding {
            case .truncate: mode = .truncate
            case .nearest: mode = .nearestEven
            case .stochastic:
                let rng = m.instance(lfsr!, name: "rng", parameters: [LFSR.seedParameterName: seed!], connecting: [random.en: valid])
                mode = .stochastic(random: rng[random.state])
            }
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
