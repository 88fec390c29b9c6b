/// How a right shift rounds the bits it drops (see docs/ARITHMETIC.md).
public enum ShiftRounding {
    /// Floor: drop the bits.
    case truncate
    /// Round to nearest, ties to even.
    case nearestEven
    /// Add a random number to the dropped bits, then truncate. `random` supplies at least as many
    /// bits as are dropped; its low bits are used.
    case stochastic(random: Signal)
}

extension Signal {
    /// Keeps the low `width` bits, same kind. Wraps values that do not fit.
    public func truncated(to width: Int, file: String = #fileID, line: Int = #line) -> Signal {
        if width > self.width {
            m.error("cannot truncate \(self) to \(width) bits: that would widen it; use extended(to:)", at: SourceLocation(file: file, line: line))
            return self
        }
        if width == self.width { return self }
        return bits(width - 1, 0, file: file, line: line).reinterpretedLike(self)
    }

    /// Clamps the value into `shape`'s range (for example signed into unsigned clamps negatives
    /// to zero) and returns a signal of exactly that shape.
    public func saturated(to shape: Shape, file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        m.checkWidth(shape, at: here)
        if shape.width > 126 {
            m.error("saturation target \(shape) is too wide (allowed up to 126 bits)", at: here)
            return self
        }
        let low = m.constant(shape.minValue, shape, file: file, line: line)
        let high = m.constant(shape.maxValue, shape, file: file, line: line)
        // Bits that survive when the value is in range; in range the value fits `shape` exactly.
        let kept: Signal
        if width >= shape.width {
            kept = bits(shape.width - 1, 0)
        } else {
            kept = extended(to: shape.width).asUnsigned
        }
        let inRange = shape.isSigned ? kept.asSigned : kept
        let selfFits = Shape(width: width, signed: isSigned)
        let wide = width > 126  // beyond Int128 range arithmetic: always compare
        let needHigh = wide || selfFits.maxValue > shape.maxValue
        let needLow = wide ? (isSigned || shape.minValue > 0) : selfFits.minValue < shape.minValue
        var result = inRange
        if needLow { result = mux(self .< literalValue(shape.minValue, beside: self), low, result) }
        if needHigh { result = mux(self .> literalValue(shape.maxValue, beside: self), high, result) }
        return result
    }

    /// Constant holding `value`, shaped to compare exactly against `other`.
    fileprivate func literalValue(_ value: Int128, beside other: Signal) -> Signal {
        m.constant(value, .fitting(value, signed: other.isSigned || value < 0))
    }

    /// Shifts right by `drop` bits, rounding by `mode`. The result has `width - drop + 1` bits
    /// of the same kind, because rounding up can carry into a new bit.
    public func roundedShiftRight(by drop: Int, mode: ShiftRounding, file: String = #fileID, line: Int = #line) -> Signal {
        let here = SourceLocation(file: file, line: line)
        guard drop >= 0 && drop < width else {
            m.error("cannot drop \(drop) bits of \(self) (allowed 0...\(width - 1))", at: here)
            return self
        }
        let outWidth = width - drop + 1
        if drop == 0 { return extended(to: outWidth) }
        let quotient = bits(width - 1, drop).reinterpretedLike(self).extended(to: outWidth)
        switch mode {
        case .truncate:
            return quotient
        case .nearestEven:
            let half = bit(drop - 1)
            let odd = bit(drop)
            let sticky = drop >= 2 ? bits(drop - 2, 0).orReduce() : m.constant(0, .bit)
            let up = half & (sticky | odd)
            return quotient &+ up.extended(to: outWidth).reinterpretedLike(self)
        case .stochastic(let random):
            if random.width < drop {
                m.error("stochastic rounding drops \(drop) bits but the random input \(random) has only \(random.width)", at: here)
                return quotient
            }
            m.checkOwnership(random, at: here)
            let r = random.bits(drop - 1, 0).extended(to: width + 1).reinterpretedLike(self)
            let sum = extended(to: width + 1) &+ r
            return sum.bits(width, drop).reinterpretedLike(self)
        }
    }
}
