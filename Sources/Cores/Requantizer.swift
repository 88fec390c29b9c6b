import HDL

/// Per-output-channel requantization, the integer output stage of TFLite and gemmlowp (Jacob et
/// al., CVPR 2018): a column's exact sum `x`, its channel's bias `b` (at the accumulator's
/// scale), multiplier `M` (unsigned) and right shift `s` give
///
///     y = saturate(roundHalfEven((x + b) · M / 2^s))
///
/// to the output width. The real factor `M · 2^-s` is the channel's `s_in · s_w / s_out`, so
/// per-channel and non-power-of-two scales run on integers. Rounding is to nearest with ties to
/// even, as ONNX's QuantizeLinear; one product, one rounding (no double rounding as TFLite's
/// doubling high multiply followed by its rounding shift). Shifts above `maxShift` act as it.
public struct RequantizerConfig: Hashable, Sendable {
    public static let multiplierBitsRange = 2...32

    /// The exact sums the unit takes (the array's accumulator).
    public var input: Shape
    /// Bits of `M`, unsigned.
    public var multiplierBits: Int
    public var output: Shape

    public init(input: Shape, multiplierBits: Int, output: Shape) {
        self.input = input
        self.multiplierBits = multiplierBits
        self.output = output
    }

    /// Bits of `(x + b) · M`: the sum has one bit more than the accumulator.
    public var productBits: Int { input.width + 1 + multiplierBits }
    /// The widest useful shift: the product's bits below its sign.
    public var maxShift: Int { productBits - 1 }
    public var shiftBits: Int { ceilLog2(maxShift + 1) }
    /// One channel's entry: `{s, M, b}`, the bias (accumulator-wide, signed) lowest.
    public var entryBits: Int { input.width + multiplierBits + shiftBits }

    public var moduleName: String {
        "requant_\(input.isSigned ? "s" : "u")\(input.width)_m\(multiplierBits)_to_\(output.isSigned ? "s" : "u")\(output.width)"
    }

    public func validate() throws {
        try require(Self.multiplierBitsRange.contains(multiplierBits), "requantize", multiplierBits,
                    "\(Self.multiplierBitsRange.lowerBound)...\(Self.multiplierBitsRange.upperBound) (bits of the multiplier)")
        try require(productBits + 2 <= 126, "requantize", multiplierBits, "at most \(124 - input.width) with a \(input.width)-bit accumulator")
    }
}

public enum Requantizer {
    /// The unit's ports: `in_valid`, `x` (the sum), `entry` (`{s, M, b}`, held while `in_valid`)
    /// in; `out_valid`, `y` out.
    public struct Interface: Sendable {
        public let inValid, x, entry: Port
        public let outValid, y: Port
        public init(_ c: RequantizerConfig) {
            (inValid, x, entry) = (.input("in_valid", .bit), .input("x", c.input), .input("entry", .unsigned(c.entryBits)))
            (outValid, y) = (.output("out_valid", .bit), .output("y", c.output))
        }
    }

    /// One register stage, like the ROUND unit it replaces: `y` appears one cycle after a valid
    /// input. Half to even is the floor quotient `p >> s` (arithmetic), plus one when the first
    /// dropped bit is set and either a lower dropped bit or the quotient's low bit is: one
    /// barrel shifter, a mask and a bit select, no second shifter for the rounding.
    public static func module(_ c: RequantizerConfig) throws -> ModuleDefinition {
        try c.validate()
        let io = Interface(c)
        let wb = c.input.width, wm = c.multiplierBits
        return try ModuleDefinition.define(c.moduleName) { m in
            let valid = m.input(io.inValid)
            let x = m.input(io.x)
            let entry = m.input(io.entry)
            let bias = entry.bits(wb - 1, 0).reinterpretedAs(c.input)
            let multiplier = entry.bits(wb + wm - 1, wb)
            let field = entry.bits(c.entryBits - 1, wb + wm)
            // Shift fields past the widest shift act as it (fields reach 2^shiftBits - 1).
            let shift = (1 << c.shiftBits) - 1 > c.maxShift
                ? mux(field .> c.maxShift, m.constant(Int128(c.maxShift), field.shape), field).named("shift") : field
            let sum = (x + bias).named("biased")
            let product = (sum * multiplier).named("product")
            // The floor quotient, the first dropped bit (a zero appended below the product
            // makes it 0 for s = 0) and whether any dropped bit below that one is set.
            let quotient = (product >> shift).named("quotient")
            let roundBit = (cat(product.asUnsigned, m.constant(0, .bit)) >> shift).bit(0).named("round_bit")
            let below = (((m.constant(1, .unsigned(c.productBits)) << shift) >> 1) &- 1).named("below")
            let sticky = (product.asUnsigned & below).orReduce().named("sticky")
            let up = (roundBit & (sticky | quotient.bit(0))).named("round_up")
            let rounded = (quotient + up.extended(to: 2).asSigned).named("rounded")
            let y = m.register("y_q", c.output, enable: valid)
            y.assign(rounded.saturated(to: c.output))
            m.output(io.outValid, m.delay(valid, name: "valid_q"))
            m.output(io.y, y)
        }
    }

    /// Output column j of an array with requantization: the tile's entry for the column enters a
    /// queue with the tile's last beat (`lastFire`, from `entries`, column j's field) and is taken
    /// into the column's register when the column starts reading that tile out (`load`), so
    /// every tile carries its own output channels' entries. Then the unit, then ReLU when
    /// `c.relu`. Returns the unit's `out_valid` and the column's output.
    static func column(_ m: ModuleBuilder, unit: ModuleDefinition, queue: ModuleDefinition, _ c: ArrayConfig, column j: Int,
                       entries: Signal, lastFire: Signal, load: Signal, valid: Signal, sum: Signal,
                       file: String = #fileID, line: Int = #line) -> (valid: Signal, y: Signal) {
        let r = c.requantizer!
        let (w, q, io) = (r.entryBits, FIFO.Interface(c.requantQueue), Interface(r))
        let pending = m.instance(queue, name: "requant_queue_\(j)", connecting: [
            q.inValid: lastFire, q.inData: entries.bits(j * w + w - 1, j * w, file: file, line: line), q.outReady: load,
        ], file: file, line: line)
        let entry = m.register("requant_\(j)", .unsigned(w), reset: nil, enable: load, file: file, line: line)
        entry.assign(pending[q.outData], file: file, line: line)
        let unit = m.instance(unit, name: "requantize_\(j)", connecting: [io.inValid: valid, io.x: sum, io.entry: entry], file: file, line: line)
        var y = unit[io.y]
        if c.relu && c.output.signed {
            y = mux(y.msb, m.constant(0, y.shape, file: file, line: line), y, file: file, line: line).named("relu_\(j)", file: file, line: line)
        }
        return (unit[io.outValid], y)
    }
}

extension ArrayConfig {
    /// The per-column requantizer, when `requantize` gives its multiplier's bits.
    public var requantizer: RequantizerConfig? {
        requantize.map { RequantizerConfig(input: accumulator.shape, multiplierBits: $0, output: output.shape) }
    }

    /// Each column's queue of entries: like the threshold queue, a tile's entries wait from its
    /// last beat until the column reads that tile out.
    var requantQueue: FIFOConfig { FIFOConfig(width: requantizer?.entryBits ?? 1, depth: thresholdDepth) }
}
