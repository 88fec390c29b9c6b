import Runtime

/// The fuzzer's draws from the project's generator: a seed names every circuit and stimulus.
extension SplitMix64 {
    /// Uniform in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    public mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }

    /// A 64-bit word biased towards the values that break arithmetic: zero, all ones, one bit,
    /// small numbers, alternating patterns.
    public mutating func word() -> UInt64 {
        switch int(0...9) {
        case 0: return 0
        case 1: return ~0
        case 2: return 1 << UInt64(int(0...63))
        case 3: return UInt64(int(0...7))
        case 4: return ~0 << UInt64(int(0...63))
        case 5: return pick([0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA, 0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF])
        default: return next()
        }
    }
}
