import Model

/// Steps 3 and 4 of a stage (`QuantizedNetwork`, Sources/Model/Network.swift) on whole
/// planes and tensors, straight from the contract: bias with saturation to the output bits,
/// ReLU, saturation to the result bits, then k×k pooling with stride k (max, or the average
/// `(sum + n/2) >> log2(n)`), leftover rows and columns dropped (`floor(side / k)`).
public enum PoolingModel {
    /// The signed `bits`-bit range's nearest value to `v`.
    public static func saturate(_ v: Int, bits: Int) -> Int {
        let high = (1 << (bits - 1)) - 1
        return min(max(v, -high - 1), high)
    }

    /// Step 3 for one value: `sat_resultBits(relu(sat_inputBits(x + bias)))`; with one result
    /// bit, the sign instead: 1 when `sat_inputBits(x + bias) >= 0`, else 0.
    public static func postprocess(_ x: Int, bias: Int, relu: Bool, inputBits: Int, resultBits: Int) -> Int {
        var y = saturate(x + bias, bits: inputBits)
        if resultBits == 1 { return y >= 0 ? 1 : 0 }
        if relu && y < 0 { y = 0 }
        return saturate(y, bits: resultBits)
    }

    /// Step 4 on one plane (`height` rows of `width` values, row-major): the `floor(height/k)`
    /// × `floor(width/k)` window results, row-major; nil pools nothing (the plane itself).
    public static func pool(_ plane: [Int], height: Int, width: Int, pool: QuantizedNetwork.Pool?) -> [Int] {
        precondition(plane.count == height * width, "a \(height)×\(width) plane has \(height * width) values, not \(plane.count)")
        guard let pool else { return plane }
        let k = pool.size
        let n = k * k
        precondition(k >= 1, "window side \(k)")
        precondition(pool.kind == .max || n & (n - 1) == 0, "the average needs a power-of-two window, not \(k)×\(k)")
        var out: [Int] = []
        for wr in 0..<(height / k) {
            for wc in 0..<(width / k) {
                var window: [Int] = []
                for r in (wr * k)..<(wr * k + k) {
                    for c in (wc * k)..<(wc * k + k) { window.append(plane[r * width + c]) }
                }
                switch pool.kind {
                case .max: out.append(window.max()!)
                case .average: out.append((window.reduce(0, +) + n / 2) >> n.trailingZeroBitCount)
                }
            }
        }
        return out
    }

    /// A whole stage's post-processing of a C×H×W tensor (CHW order): channel c's values get
    /// `bias[c]`, then ReLU when `relu`, the two saturations and the pooling. The result is
    /// C × floor(H/k) × floor(W/k), CHW order.
    public static func apply(_ values: [Int], shape: TensorShape, bias: [Int], relu: Bool, inputBits: Int, resultBits: Int,
                             pool: QuantizedNetwork.Pool?) -> [Int] {
        precondition(values.count == shape.count, "a \(shape) tensor has \(shape.count) values, not \(values.count)")
        precondition(bias.count == shape.channels, "one bias per channel: \(shape.channels), not \(bias.count)")
        let plane = shape.height * shape.width
        var out: [Int] = []
        for ch in 0..<shape.channels {
            let processed = values[(ch * plane)..<((ch + 1) * plane)].map {
                postprocess($0, bias: bias[ch], relu: relu, inputBits: inputBits, resultBits: resultBits)
            }
            out += Self.pool(processed, height: shape.height, width: shape.width, pool: pool)
        }
        return out
    }

    /// A binary stage's (threshold units': values 0 and 1, no step 3): max pooling is the OR
    /// of a window; no average.
    public static func applyBinary(_ bits: [Int], shape: TensorShape, pool: QuantizedNetwork.Pool?) -> [Int] {
        precondition(bits.count == shape.count, "a \(shape) tensor has \(shape.count) values, not \(bits.count)")
        precondition(bits.allSatisfy { $0 == 0 || $0 == 1 }, "binary values are 0 or 1")
        precondition(pool.map { $0.kind == .max } ?? true, "binary maps pool by max (OR) only")
        let plane = shape.height * shape.width
        var out: [Int] = []
        for ch in 0..<shape.channels {
            let values = Array(bits[(ch * plane)..<((ch + 1) * plane)])
            guard let pool else {
                out += values
                continue
            }
            let k = pool.size
            for wr in 0..<(shape.height / k) {
                for wc in 0..<(shape.width / k) {
                    var any = 0
                    for r in (wr * k)..<(wr * k + k) {
                        for c in (wc * k)..<(wc * k + k) { any |= values[r * shape.width + c] }
                    }
                    out.append(any)
                }
            }
        }
        return out
    }
}
