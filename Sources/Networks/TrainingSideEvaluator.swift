import Model

/// Runs a `QuantizedNetwork` in integers on the host, to report what a quantization scheme
/// costs in accuracy while training. It is the training side's evaluator, not the project's
/// golden network: it follows the contract's arithmetic (QuantizedNetwork's doc comment) but
/// ROUND rounds to nearest with ties half up (`(sum + 2^(shift-1)) >> shift`, arithmetic
/// shift, so ties go toward +∞) where the hardware and the golden network round
/// stochastically; input pixels round half up too.
public enum TrainingSideEvaluator {
    /// The input codes of one image of bytes p (pixel p/255): round(p/255 · 2^frac), ties up,
    /// saturated to the first stage's activation bits.
    public static func inputCodes(_ network: QuantizedNetwork, bytes: ArraySlice<UInt8>) -> [Int] {
        let bits = network.stages[0].activation.bits
        let hi = (1 << (bits - 1)) - 1
        let f = network.inputFrac
        return bytes.map { p in
            // floor(p·2^f/255 + 1/2) in integers; a negative frac divides instead.
            let num = f >= 0 ? 2 * Int(p) << f + 255 : 2 * Int(p) + 255 << -f
            let den = f >= 0 ? 510 : 510 << -f
            return min(num / den, hi)
        }
    }

    /// The value of a weight code in `stage`'s format (docs/FORMATS.md).
    static func weightValue(_ stage: QuantizedNetwork.Stage, _ code: Int) -> Int {
        switch stage.format {
        case .fixed: return code
        case .binary, .binaryWeights: return code == 1 ? 1 : -1
        case .ternary: return code >> 1 == 0 ? 0 : (code & 1 == 1 ? -1 : 1)
        case .powerOfTwo(let e):
            let exponent = code & ((1 << e) - 1)
            if exponent == 0 { return 0 }
            return code >> e == 1 ? -(1 << (exponent - 1)) : 1 << (exponent - 1)
        case .codebook:
            guard let entries = stage.codebook else { preconditionFailure("a codebook stage without its entries") }
            return entries[code]
        }
    }

    @inline(__always) static func saturate(_ x: Int, bits: Int) -> Int {
        let hi = (1 << (bits - 1)) - 1
        return min(max(x, -hi - 1), hi)
    }

    /// The weight values of each stage, decoded once for many images.
    public static func weightValues(_ network: QuantizedNetwork) -> [[Int]] {
        network.stages.map { stage in stage.weights.map { weightValue(stage, $0) } }
    }

    /// One stage on its input codes (CHW); returns its result codes (CHW, after pooling).
    /// `weights` are the decoded values (`weightValues`), decoded here when not given.
    public static func run(_ stage: QuantizedNetwork.Stage, _ input: [Int], weights: [Int]? = nil) -> [Int] {
        let s = stage.layer
        let binaryInput = stage.format == .binary
        let x = binaryInput ? input.map { $0 == 1 ? 1 : -1 } : input
        let w = weights ?? stage.weights.map { weightValue(stage, $0) }
        let k = s.channels * s.filterHeight * s.filterWidth
        let e = s.outHeight, f = s.outWidth
        // The receptive field of each output position as one row (im2col), for a plain dot
        // product; a dense layer's input already is that row. Padding is the zero code.
        let dense = e == 1 && f == 1 && s.filterHeight == s.height && s.filterWidth == s.width && s.padding == 0
        let p = s.padding
        var cols = dense ? x : [Int](repeating: 0, count: e * f * k)
        for y in 0..<(dense ? 0 : e) {
            for xx in 0..<f {
                var j = (y * f + xx) * k
                for c in 0..<s.channels {
                    for r in 0..<s.filterHeight {
                        let row = y * s.stride + r - p
                        for t in 0..<s.filterWidth {
                            let col = xx * s.stride + t - p
                            if row >= 0 && row < s.height && col >= 0 && col < s.width {
                                cols[j] = x[(c * s.height + row) * s.width + col]
                            }
                            j += 1
                        }
                    }
                }
            }
        }
        var out = [Int](repeating: 0, count: s.filters * e * f)
        cols.withUnsafeBufferPointer { cb in
            w.withUnsafeBufferPointer { wb in
                for m in 0..<s.filters {
                    let wm = wb.baseAddress! + m * k
                    for p in 0..<e * f {
                        let cp = cb.baseAddress! + p * k
                        // Four partial sums (integers, so the order does not matter) for
                        // instruction-level parallelism.
                        var s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0
                        while i + 4 <= k {
                            s0 &+= wm[i] &* cp[i]
                            s1 &+= wm[i + 1] &* cp[i + 1]
                            s2 &+= wm[i + 2] &* cp[i + 2]
                            s3 &+= wm[i + 3] &* cp[i + 3]
                            i += 4
                        }
                        while i < k { s0 &+= wm[i] &* cp[i]; i += 1 }
                        out[m * e * f + p] = result(stage, filter: m, sum: s0 + s1 + s2 + s3)
                    }
                }
            }
        }
        guard let pool = stage.pool else { return out }
        let n = pool.size, pe = e / n, pf = f / n
        var pooled = [Int](repeating: 0, count: s.filters * pe * pf)
        let log2n = (n * n).trailingZeroBitCount
        for m in 0..<s.filters {
            for y in 0..<pe {
                for xx in 0..<pf {
                    var best = Int.min, sum = 0
                    for r in 0..<n {
                        for t in 0..<n {
                            let v = out[(m * e + y * n + r) * f + xx * n + t]
                            best = max(best, v)
                            sum += v
                        }
                    }
                    // Max of bits 1/0 (+1/-1) is their OR.
                    pooled[(m * pe + y) * pf + xx] = pool.kind == .max ? best : (sum + n * n / 2) >> log2n
                }
            }
        }
        return pooled
    }

    /// Steps 2 and 3 of the contract for one sum.
    @inline(__always) static func result(_ stage: QuantizedNetwork.Stage, filter m: Int, sum: Int) -> Int {
        if let t = stage.thresholds?[m] { return (sum >= t.value) != t.flip ? 1 : 0 }
        let rounded = stage.shift > 0 ? (sum + 1 << (stage.shift - 1)) >> stage.shift : sum
        var v = saturate(rounded, bits: stage.outputBits)
        v = saturate(v + stage.bias[m], bits: stage.outputBits)
        if stage.relu { v = max(v, 0) }
        return saturate(v, bits: stage.resultBits)
    }

    /// The logits of one image (bytes of its pixels).
    public static func logits(_ network: QuantizedNetwork, bytes: ArraySlice<UInt8>, weights: [[Int]]? = nil) -> [Int] {
        let weights = weights ?? weightValues(network)
        var a = inputCodes(network, bytes: bytes)
        for (i, stage) in network.stages.enumerated() { a = run(stage, a, weights: weights[i]) }
        return a
    }

    /// The index of the largest logit, the lowest on a tie.
    public static func classify(_ network: QuantizedNetwork, bytes: ArraySlice<UInt8>, weights: [[Int]]? = nil) -> Int {
        let l = logits(network, bytes: bytes, weights: weights)
        var best = 0
        for j in 1..<l.count where l[j] > l[best] { best = j }
        return best
    }

    /// The fraction of `images` classified right.
    public static func accuracy(_ network: QuantizedNetwork, images: LabeledImages) -> Double {
        let n = images.shape.count
        var correct = 0
        let weights = weightValues(network)
        for i in 0..<images.count where classify(network, bytes: images.bytes[i * n..<(i + 1) * n], weights: weights) == images.labels[i] {
            correct += 1
        }
        return Double(correct) / Double(max(1, images.count))
    }
}
