/// The rounding unit (ROUND): narrows `<accBits, FLin>` to `<WLout, FLout>` by dropping
/// `D = FLin - FLout` bits, rounds, saturates, and registers the result.
public struct RounderModel: Sendable {
    public let input: FixedFormat
    public let output: FixedFormat
    public let mode: RoundingMode
    /// Only the stochastic mode has a random source; other modes ignore `lfsrWidth`, `seed` and `draw`.
    private var lfsr: LFSRModel?
    /// Single LFSR steps per valid input: 1, or D (at least 1) for `.leap`.
    public let lfsrSteps: Int

    public var dropBits: Int { input.fracLength - output.fracLength }
    /// The LFSR state the next valid input will draw from; nil unless stochastic. Exposed so
    /// that models built from several units (the systolic array) can check their draw counts.
    public var lfsrState: UInt64? { lfsr?.state }
    /// High for one edge after each valid input.
    public private(set) var outValid = false
    /// Dynamic fixed point: bits dropped now (0...D; larger values act as D), instead of D.
    /// The LFSR advances as for D whatever the shift.
    public var shift: Int?

    /// The output register. It keeps its value while no valid input arrives.
    public private(set) var out: Int128 = 0
    /// Register stages between the rounding and `out` (a pipelined unit): each valid input's
    /// result reaches `out` that many edges later. The draw happens when the input arrives.
    public let stages: Int
    /// What is in flight through those stages, oldest first: valid, and the rounded value.
    private var inFlight: [(valid: Bool, value: Int128)]

    public init(input: FixedFormat, output: FixedFormat, mode: RoundingMode, lfsrWidth: Int, seed: UInt64, draw: LFSRDraw = .leap,
                stages: Int = 0) {
        precondition(stages >= 0, "stages \(stages) must be >= 0")
        self.stages = stages
        inFlight = Array(repeating: (false, 0), count: stages)
        let d = input.fracLength - output.fracLength
        precondition(d >= 0, "FLin \(input.fracLength) < FLout \(output.fracLength): cannot drop negative bits")
        self.input = input
        self.output = output
        self.mode = mode
        lfsrSteps = draw == .leap ? max(d, 1) : 1
        if mode == .stochastic {
            precondition(lfsrWidth >= d, "LFSR width \(lfsrWidth) is narrower than D = \(d)")
            lfsr = LFSRModel(width: lfsrWidth, seed: seed)
        }
    }

    /// One rising edge. `reset` wins: it clears `out`, `outValid` and the stages and reloads
    /// the seed. A valid input is rounded with `r = state mod 2^D` (state before the step), then
    /// the LFSR steps `lfsrSteps` times; its result reaches `out` after `stages` more edges. An
    /// edge that delivers no result leaves `out` alone and drops `outValid`.
    public mutating func clock(valid: Bool, x: Int128, reset: Bool = false) {
        if reset {
            out = 0
            outValid = false
            inFlight = inFlight.map { _ in (false, 0) }
            if let l = lfsr { lfsr = LFSRModel(width: l.width, seed: l.seed) }
            return
        }
        if stages == 0 {
            outValid = valid
            if valid { out = draw(x) }
            return
        }
        inFlight.append((valid, valid ? draw(x) : 0))
        let leaving = inFlight.removeFirst()
        outValid = leaving.valid
        if leaving.valid { out = leaving.value }
    }

    /// Rounds `x` with the next draw (the LFSR advances).
    private mutating func draw(_ x: Int128) -> Int128 {
        let d = shift.map { min(max($0, 0), dropBits) } ?? dropBits
        var random: Int128 = 0
        if var l = lfsr {
            random = Int128(l.state & ((UInt64(1) << d) - 1))  // d <= D <= width <= 32
            for _ in 0..<lfsrSteps { l.step() }
            lfsr = l
        }
        if d == dropBits {
            return Self.round(x, input: input, output: output, mode: mode, random: random)
        }
        precondition(input.contains(x), "x = \(x) is outside \(input)")
        return output.saturate(Rounding.shiftRight(x, by: d, mode: mode, random: random))
    }

    /// The combinational part: `saturate(roundShift(x, D, mode, random))`.
    public static func round(_ x: Int128, input: FixedFormat, output: FixedFormat, mode: RoundingMode,
                             random: Int128) -> Int128 {
        precondition(input.contains(x), "x = \(x) is outside \(input)")
        let d = input.fracLength - output.fracLength
        precondition(d >= 0, "FLin \(input.fracLength) < FLout \(output.fracLength)")
        return output.saturate(Rounding.shiftRight(x, by: d, mode: mode, random: random))
    }
}
