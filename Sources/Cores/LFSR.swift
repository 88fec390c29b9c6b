import HDL

/// A maximal-length Fibonacci LFSR (docs/ARITHMETIC.md): shifts left, feedback is the XOR of the
/// tap bits, period 2^width - 1. With `steps` > 1 it leaps: one enabled clock advances it
/// `steps` single steps at once.
public struct LFSRConfig: Hashable, Sendable, Codable {
    public static let widths = 3...32

    public var width: Int
    public var seed: UInt64
    /// Single steps per enabled clock, 1...width.
    public var steps: Int

    public init(width: Int = 16, seed: UInt64 = 1, steps: Int = 1) {
        self.width = width
        self.seed = seed
        self.steps = steps
    }

    /// The seed is the module's `SEED` parameter (default `seed`), so one module serves every seed.
    public var moduleName: String { LFSR.moduleName(width: width, steps: steps) }

    public func validate() throws {
        try require(Self.widths.contains(width), "width", width, "\(Self.widths.lowerBound)...\(Self.widths.upperBound)")
        let top = (UInt64(1) << width) - 1
        try require(seed >= 1 && seed <= top, "seed", seed, "1...\(top) (nonzero, fits \(width) bits)")
        try require((1...width).contains(steps), "steps", steps, "1...\(width) (single steps per enabled clock)")
    }

    enum CodingKeys: String, CodingKey { case width, seed, steps }

    // `steps` is written only when it is not 1, so the JSON of a one-step LFSR (manifests,
    // sweep stores) is what it was before leaps existed.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(width: try c.decode(Int.self, forKey: .width), seed: try c.decode(UInt64.self, forKey: .seed),
                  steps: try c.decodeIfPresent(Int.self, forKey: .steps) ?? 1)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(width, forKey: .width)
        try c.encode(seed, forKey: .seed)
        if steps != 1 { try c.encode(steps, forKey: .steps) }
    }
}

public enum LFSR {
    /// Taps (1-based bit positions) of primitive polynomials, from Xilinx XAPP052.
    public static let taps: [Int: [Int]] = [
        3: [3, 2], 4: [4, 3], 5: [5, 3], 6: [6, 5], 7: [7, 6], 8: [8, 6, 5, 4],
        9: [9, 5], 10: [10, 7], 11: [11, 9], 12: [12, 6, 4, 1], 13: [13, 4, 3, 1],
        14: [14, 5, 3, 1], 15: [15, 14], 16: [16, 15, 13, 4], 17: [17, 14], 18: [18, 11],
        19: [19, 6, 2, 1], 20: [20, 17], 21: [21, 19], 22: [22, 21], 23: [23, 18],
        24: [24, 23, 22, 17], 25: [25, 22], 26: [26, 6, 2, 1], 27: [27, 5, 2, 1],
        28: [28, 25], 29: [29, 27], 30: [30, 6, 4, 1], 31: [31, 28], 32: [32, 22, 2, 1],
    ]

    /// The parameter that holds the seed: set it per instance with `seedParameter(_:_:in:)`.
    public static let seedParameterName = "SEED"

    /// `lfsr16` steps once per enabled clock, `lfsr16_leap10` ten times.
    public static func moduleName(width: Int, steps: Int) -> String {
        steps == 1 ? "lfsr\(width)" : "lfsr\(width)_leap\(steps)"
    }

    /// The LFSR's ports, declared once for the generator and its users.
    public struct Interface: Sendable {
        /// Step when high.
        public let en: Port
        public let state: Port
        public init(_ c: LFSRConfig) {
            en = .input("en", .bit)
            state = .output("state", .unsigned(c.width))
        }
    }

    /// One single step of any nonzero `width`-bit state (the generator's own integer copy of
    /// the contract's step, for constants).
    static func step(_ s: UInt64, width: Int) -> UInt64 {
        let feedback = taps[width]!.reduce(UInt64(0)) { $0 ^ ((s >> UInt64($1 - 1)) & 1) }
        return ((s << 1) | feedback) & ((UInt64(1) << width) - 1)
    }

    /// Ports: `en` in (step when high); `state` out. `rst` reloads the seed, the `SEED`
    /// parameter (default `c.seed`).
    public static func module(_ c: LFSRConfig) throws -> ModuleDefinition {
        try c.validate()
        let p = Interface(c)
        return try ModuleDefinition.define(c.moduleName) { m in
            let seed = m.parameter(seedParameterName, .unsigned(c.width), default: Int128(c.seed))
            let en = m.input(p.en)
            let state = m.register("state_q", .unsigned(c.width), reset: seed, enable: en)
            // The one-step map composed `steps` times, over GF(2): masks[i] says which bits of
            // the current state XOR to bit i of the state so far; each step's feedback is the XOR
            // of its taps, some of them bits an earlier step made. Then the low `steps` bits of
            // the next state are new (`fresh_i`, each the parity of the state under its own mask),
            // the others are the old low bits shifted up. Every fresh bit reads only `state_q`,
            // so none feeds another: Verilator then computes them inside the enabled update
            // (only on enabled clocks), not on every clock as it does for shared intermediate
            // wires; synthesis builds the same XOR network either way.
            var masks = (0..<c.width).map { UInt64(1) << UInt64($0) }
            for _ in 0..<c.steps {
                let feedback = taps[c.width]!.reduce(UInt64(0)) { $0 ^ masks[$1 - 1] }
                masks = [feedback] + masks.dropLast()
            }
            let fresh = (0..<c.steps).map { i in
                (state & m.constant(Int128(masks[i]), state.shape)).xorReduce().named("fresh_\(i)")
            }
            let kept = c.steps < c.width ? [state.bits(c.width - 1 - c.steps, 0)] : []
            let next = cat(kept + fresh.reversed())
            // The all-zero state would repeat forever; it can only come from a fault, so leave it
            // (to 1, not the seed, as the golden model does; a leap goes on from 1 for its other
            // steps). The steps are a bijection, so `next` is zero exactly on the zero state, and
            // OR-ing in the zero state's successor there is a mux on fewer bits.
            var fromZero: UInt64 = 1
            for _ in 1..<c.steps { fromZero = step(fromZero, width: c.width) }
            let zeroFix = mux(state .== 0, m.constant(Int128(fromZero), state.shape), m.constant(0, state.shape))
            state.assign(next | zeroFix)
            m.output(p.state, state)
        }
    }
}
