import Model
import Runtime

/// Quantized networks with random weights, biases, shifts and thresholds: what the hardware
/// runner must get bit-exact whatever a network's weights are (trained ones come from
/// Networks; these exercise saturation, ties and every code).
enum RandomNetworks {
    /// The code range of a weight format (Golden's `OperandCode` definitions).
    static func weightCodes(_ format: NumberFormat, bits: Int) -> ClosedRange<Int> {
        switch format {
        case .fixed: -(1 << (bits - 1))...((1 << (bits - 1)) - 1)
        case .binaryWeights, .binary: 0...1
        case .ternary: 0...3
        case .powerOfTwo(let e): 0...((1 << (e + 1)) - 1)
        case .codebook(let n): 0...((1 << n) - 1)
        }
    }

    /// The weight value format's width for a coded format (what the array's B is).
    static func weightBits(_ format: NumberFormat, fixedBits: Int) -> Int {
        switch format {
        case .binaryWeights, .binary, .ternary: 2
        case .powerOfTwo(let e): 1 << e
        case .fixed, .codebook: fixedBits
        }
    }

    /// `spec`'s layers as stages: conv and dense each start a stage that absorbs the ReLU and
    /// pooling after it. Activations are `bits` wide; weights are `format`; outputs 16 bits.
    /// With `binary`, the hidden stages are binary with thresholds and the first and last `bwn`.
    static func network(_ spec: NetworkSpec, format: NumberFormat, bits: Int = 8, seed: UInt64) -> QuantizedNetwork {
        var g = SplitMix64(seed: seed)
        var stages: [QuantizedNetwork.Stage] = []
        var shape = spec.input
        var i = 0
        let weighted = spec.layers.filter { if case .conv = $0 { return true }; if case .dense = $0 { return true }; return false }.count
        while i < spec.layers.count {
            let layer = spec.layers[i]
            i += 1
            var conv: ConvShape
            switch layer {
            case .conv(let m, let k, let u, let p):
                conv = ConvShape(channels: shape.channels, filters: m, height: shape.height, width: shape.width,
                                 filterHeight: k, filterWidth: k, stride: u, padding: p)
            case .dense(let m):
                conv = ConvShape(channels: shape.count, filters: m, height: 1, width: 1, filterHeight: 1, filterWidth: 1)
            case .flatten:
                shape = TensorShape(channels: shape.count)
                continue
            default:
                continue
            }
            var relu = false
            var pool: QuantizedNetwork.Pool?
            while i < spec.layers.count {
                if case .relu = spec.layers[i] { relu = true } else if case .maxPool(let k) = spec.layers[i] { pool = .init(.max, size: k) }
                else if case .avgPool(let k) = spec.layers[i] { pool = .init(.average, size: k) } else { break }
                i += 1
            }
            let index = stages.count
            let last = index == weighted - 1
            let hiddenBinary = format == .binary && index > 0 && !last
            let stageFormat: NumberFormat = format == .binary ? (hiddenBinary ? .binary : .binaryWeights) : format
            let inputBinary = format == .binary && index > 0
            let k = conv.channels * conv.filterHeight * conv.filterWidth
            let codes = weightCodes(stageFormat, bits: bits)
            let weights = (0..<conv.weightCount).map { _ in Int.random(in: codes, using: &g) }
            let wBits = weightBits(stageFormat, fixedBits: bits)
            var isCodebook = false
            if case .codebook = stageFormat { isCodebook = true }
            let codebook = isCodebook
                ? (0..<(codes.count)).map { _ in Int.random(in: -(1 << (bits - 1))...((1 << (bits - 1)) - 1), using: &g) } : nil
            // A shift that leaves the typical sum a few bits above the output's range, so some
            // outputs saturate and most do not.
            let sumBits = (inputBinary ? 1 : bits - 1) + (wBits - 1) + (k.bitWidth - k.leadingZeroBitCount) / 2
            let shift = max(0, sumBits - bits + Int.random(in: -1...2, using: &g))
            let thresholds = hiddenBinary
                ? (0..<conv.filters).map { _ in QuantizedNetwork.ThresholdValue(value: Int.random(in: -k / 4...k / 4, using: &g), flip: Bool.random(using: &g)) }
                : nil
            let resultBits = format == .binary && !last ? 1 : last ? 16 : bits
            if resultBits == 1, let p = pool { pool = .init(.max, size: p.size) }  // bits pool by OR
            stages.append(QuantizedNetwork.Stage(
                layer: conv, format: stageFormat,
                activation: .init(bits: inputBinary ? 1 : bits, frac: 4), weight: .init(bits: wBits, frac: shift),
                weights: weights, codebook: codebook, shift: shift, outputBits: 16, thresholds: thresholds,
                bias: (0..<conv.filters).map { _ in Int.random(in: -(1 << (bits - 1))...(1 << (bits - 1)), using: &g) },
                relu: relu && !last, resultBits: resultBits, pool: pool))
            shape = stages.last!.resultShape
        }
        return QuantizedNetwork(model: spec.name, label: "random-\(format)", inputFrac: bits - 1, stages: stages)
    }

    /// Random 28×28 images (bytes).
    static func images(_ count: Int, pixels: Int = 784, seed: UInt64) -> [[UInt8]] {
        var g = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<pixels).map { _ in UInt8.random(in: 0...255, using: &g) } }
    }
}
