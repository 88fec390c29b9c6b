import HDL

/// Pieces every array is built from, written once: delay lines (skew and deskew), adder trees,
/// the per-column output path and event counters. Source locations pass through, so the emitted Verilog names the array's line.
public enum ArrayKit {
    /// Width of every event counter port (`count_*`): 2^48 events is days of simulation.
    public static let counterBits = 48

    /// `s` delayed by `stages` registers named `name_0`, `name_1`, …; `reset` is their reset
    /// value (nil: none, for data whose validity travels beside it).
    public static func delayLine(_ m: ModuleBuilder, _ s: Signal, stages: Int, name: String, reset: Int128?,
                          file: String = #fileID, line: Int = #line) -> Signal {
        var x = s
        for step in 0..<stages { x = m.delay(x, name: "\(name)_\(step)", reset: reset, file: file, line: line) }
        return x
    }

    /// An event counter: register `count_<event>_q` (reset to zero) adds `increment` every cycle,
    /// and the output port `count_<event>` shows it.
    public static func eventCounter(_ m: ModuleBuilder, _ event: EventCounter, _ increment: Signal,
                                    file: String = #fileID, line: Int = #line) {
        let count = m.register("\(event.port.name)_q", event.port.shape, file: file, line: line)
        let step = increment.width < counterBits ? increment.extended(to: counterBits) : increment
        count.assign(count &+ step, file: file, line: line)
        m.output(event.port, count, file: file, line: line)
    }

    /// The sum of `terms` as a balanced tree of adders. With `width`, every term is first
    /// zero-extended to it and the adds wrap there (counters of that width); without, each add
    /// widens by a bit, so the sum of one-bit terms is a population count.
    public static func adderTree(_ m: ModuleBuilder, _ terms: [Signal], width: Int? = nil,
                                 file: String = #fileID, line: Int = #line) -> Signal {
        var level = terms.map { t in width.map { t.zeroExtended(to: $0) } ?? t.asUnsigned }
        if level.isEmpty { return m.constant(0, .unsigned(width ?? 1), file: file, line: line) }
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: 2).map { k in
                guard k + 1 < level.count else { return level[k] }
                return width == nil ? level[k] + level[k + 1] : level[k] &+ level[k + 1]
            }
        }
        return level[0]
    }

    /// A PE's product of an A code and a B code (`c.format`), at the accumulator's width. Fixed
    /// point (and decoded codebook weights) multiply, widened first to `multiplierWidth` when
    /// given; the other formats need no multiplier: binary is an XNOR, ±1 weights a conditional
    /// negate, ternary adds a zero gate, powers of two a shift (docs/FORMATS.md).
    /// With `live`, a binary product is zero when it is low: binary codes have no zero, so an
    /// array that adds on idle cycles must say which activations are real.
    public static func product(_ m: ModuleBuilder, _ c: ArrayConfig, a: Signal, b: Signal, multiplierWidth: Int? = nil,
                               live: Signal? = nil, file: String = #fileID, line: Int = #line) -> Signal {
        let acc = c.accumulator.shape
        func fit(_ s: Signal) -> Signal {
            s.width > acc.width ? s.truncated(to: acc.width, file: file, line: line) : s.extended(to: acc.width, file: file, line: line)
        }
        func zero() -> Signal { m.constant(0, acc, file: file, line: line) }
        // A's value at the accumulator's width, and its negation.
        func activation() -> (x: Signal, negated: Signal) {
            let x = fit(a).reinterpretedAs(acc).named("x", file: file, line: line)
            return (x, (zero() &- x).named("x_negated", file: file, line: line))
        }
        switch c.format {
        case .fixed, .codebook:
            let p = multiplierWidth.map { a.extended(to: $0, file: file, line: line) * b.extended(to: $0, file: file, line: line) } ?? a * b
            return fit(p.named("product", file: file, line: line))
        case .binary:
            let agree = (~(a ^ b)).named("agree", file: file, line: line)
            let signed = mux(agree, m.constant(1, acc, file: file, line: line), m.constant(-1, acc, file: file, line: line),
                             file: file, line: line)
            return (live.map { mux($0, signed, zero(), file: file, line: line) } ?? signed).named("product", file: file, line: line)
        case .binaryWeights:
            let (x, negated) = activation()
            return mux(b.bit(0), x, negated, file: file, line: line).named("product", file: file, line: line)
        case .ternary:
            let (x, negated) = activation()
            let signed = mux(b.bit(0), negated, x, file: file, line: line)
            return mux(b.bit(1), signed, zero(), file: file, line: line).named("product", file: file, line: line)
        case .powerOfTwo(let e):
            let (x, _) = activation()
            // Exponent field k: 0 is a zero weight, k >= 1 shifts A left by k - 1.
            let shifts = [zero()] + (1..<(1 << e)).map { k in x << (k - 1) }
            let magnitude = select(b.bits(e - 1, 0), shifts, default: zero()).named("magnitude", file: file, line: line)
            let negated = (zero() &- magnitude).named("magnitude_negated", file: file, line: line)
            return mux(b.bit(e), negated, magnitude, file: file, line: line).named("product", file: file, line: line)
        }
    }

    /// High when weight `code` is a zero the PE skips (zero gating on, and a format whose code
    /// flags a zero: ternary, powers of two); nil when no weight is skipped.
    public static func weightIsZero(_ c: ArrayConfig, _ code: Signal, file: String = #fileID, line: Int = #line) -> Signal? {
        guard c.zeroGating else { return nil }
        switch c.format {
        case .ternary: return (~code.bit(1, file: file, line: line)).named("zero_weight", file: file, line: line)
        case .powerOfTwo(let e): return (code.bits(e - 1, 0, file: file, line: line) .== 0).named("zero_weight", file: file, line: line)
        case .fixed, .binary, .binaryWeights, .codebook: return nil
        }
    }

    /// The `codebook` port of an array whose weights are table indices: the layer's 2^n
    /// fixed-point weights, entry 0 lowest; nil for other formats.
    public static func codebookPort(_ c: ArrayConfig) -> Port? {
        guard case .codebook(let n) = c.format else { return nil }
        return .input("codebook", .unsigned((1 << n) * c.b.bits))
    }

    /// A weight as the PEs take it: a codebook index looked up in `table` (the codebook
    /// port), any other code unchanged.
    public static func decodeWeight(_ m: ModuleBuilder, _ c: ArrayConfig, _ code: Signal, table: Signal?, name: String,
                                    file: String = #fileID, line: Int = #line) -> Signal {
        guard case .codebook(let n) = c.format, let table else { return code }
        let wb = c.b.bits
        let entries = (0..<(1 << n)).map { k in table.bits(k * wb + wb - 1, k * wb, file: file, line: line).reinterpretedAs(c.b.shape) }
        return select(code.asUnsigned, entries, default: entries[0]).named(name, file: file, line: line)
    }

    /// Output column j of a binary array with thresholds (BNN): one register stage, like the
    /// ROUND unit it replaces, holding `(sum >= T) xor flip`, where `threshold` is `{flip, T}`.
    public static func thresholdColumn(_ m: ModuleBuilder, _ c: ArrayConfig, column j: Int, valid: Signal, sum: Signal, threshold: Signal,
                                       file: String = #fileID, line: Int = #line) -> (valid: Signal, y: Signal) {
        let t = threshold.bits(c.accBits - 1, 0, file: file, line: line).reinterpretedAs(c.accumulator.shape)
        let above = (sum .>= t) ^ threshold.bit(c.accBits, file: file, line: line)
        let y = m.register("sign_\(j)", .unsigned(1), enable: valid, file: file, line: line)
        y.assign(above, file: file, line: line)
        return (m.delay(valid, name: "sign_valid_\(j)", file: file, line: line), y)
    }

    /// Output column j of an array: its ROUND unit (with a dynamic shift, `shift` is the array's
    /// `shift` port) (one `rounder` module for every column, the
    /// column's LFSR seed passed as a parameter), then ReLU when `c.relu` (a negative rounded
    /// output becomes zero). Returns the unit's `out_valid` and the column's output.
    public static func outputColumn(_ m: ModuleBuilder, _ rounder: ModuleDefinition, _ c: ArrayConfig, column j: Int,
                                    valid: Signal, sum: Signal, shift: Signal? = nil,
                                    file: String = #fileID, line: Int = #line) -> (valid: Signal, y: Signal) {
        let io = Rounder.Interface(c.rounder(column: j))
        var ports = [io.inValid: valid, io.x: sum]
        if let port = io.shift, let shift { ports[port] = shift }
        let unit = m.instance(rounder, name: "round_\(j)", parameters: Rounder.parameters(c.rounder(column: j), seed: c.columnSeed(j), in: m),
                              connecting: ports, file: file, line: line)
        var y = unit[io.y]
        if c.relu && c.output.signed {
            y = mux(y.msb, m.constant(0, y.shape, file: file, line: line), y, file: file, line: line).named("relu_\(j)", file: file, line: line)
        }
        return (unit[io.outValid], y)
    }
}

/// The events an array counts, in the order of the data-movement record (Conv's `DataMovement`,
/// which adds the host's DRAM traffic). Each is an output port `count_<event>`, `counterBits` wide.
public enum EventCounter: String, CaseIterable, Sendable {
    /// MACs performed, and MACs skipped by zero gating.
    case macs, gated
    /// Register-file (PE-local storage) reads and writes.
    case rfReads = "rf_reads", rfWrites = "rf_writes"
    /// Words moved between neighbouring PEs.
    case peToPE = "pe_to_pe"
    /// Global-buffer reads and writes.
    case bufferReads = "buffer_reads", bufferWrites = "buffer_writes"

    public var port: Port { .output("count_\(rawValue)", .unsigned(ArrayKit.counterBits)) }
}

extension Signal {
    /// The same bits read with another shape of the same width.
    public func reinterpretedAs(_ shape: Shape) -> Signal { shape.isSigned ? asSigned : asUnsigned }
}
