import HDL

/// Pieces every array is built from, written once: delay lines (skew and deskew) and event
/// counters. Source locations pass through, so the emitted Verilog names the array's line.
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

    /// An event counter: register `name_q` (reset to zero) adds `increment` every cycle, and the
    /// output port `name` shows it.
    public static func eventCounter(_ m: ModuleBuilder, _ name: String, _ increment: Signal,
                             file: String = #fileID, line: Int = #line) {
        let shape = Shape.unsigned(counterBits)
        let count = m.register("\(name)_q", shape, file: file, line: line)
        let step = increment.width < counterBits ? increment.extended(to: counterBits) : increment
        count.assign(count &+ step, file: file, line: line)
        m.output(name, count, file: file, line: line)
    }
}

extension Signal {
    /// The same bits read with another shape of the same width.
    public func reinterpretedAs(_ shape: Shape) -> Signal { shape.isSigned ? asSigned : asUnsigned }
}
