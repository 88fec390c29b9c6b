import Cosim
// The project's one random generator lives in Model (plain values, so training can use it
// without the simulator); every user of Runtime sees it as before.
@_exported import struct Model.SplitMix64

extension ReadyPattern {
    /// The ready values of cycles 0..<cycles, exactly as the driver applies them: for
    /// `.random(probability: p, seed: s)`, ready in cycle c when `(x_c >> 32) < round(p * 2^32)`,
    /// x_c being the (c+1)-th output of `SplitMix64(seed: s)`.
    public func values(cycles: Int) -> [Bool] {
        switch self {
        case .always:
            return Array(repeating: true, count: cycles)
        case .random(let p, let seed):
            let t = Self.threshold(p)
            var g = SplitMix64(seed: seed)
            return (0..<cycles).map { _ in (g.next() >> 32) < t }
        case .repeating(let pattern):
            guard !pattern.isEmpty else { return [] }
            return (0..<cycles).map { pattern[$0 % pattern.count] }
        }
    }
}
