import Model

/// One weight layer of a network trained in the array's arithmetic: a convolution (stride 1,
/// no padding) or a dense layer, then optionally ReLU and max pooling. A dense layer is the
/// convolution whose kernel covers its whole input, so both are one GEMM of the same shape:
/// `[patches | 1]·[W; b]`, (B·P) × (fanIn + 1) by (fanIn + 1) × M, P the output positions.
///
/// Activations are held per image in HWC order (`(y·W + x)·C + c`), so a patch row is `kh`
/// runs of `kw·C` contiguous values and a flattened map is the same memory. (NetworkSpec's
/// flatten is CHW; the order only permutes the first dense layer's rows, and these networks
/// train from scratch.)
public struct TrainingLayer: Hashable, Sendable {
    public let input: TensorShape
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let outputs: Int
    public var relu = false
    /// Max-pooling window side (stride equal), 1 for none.
    public var pool = 1

    public var outHeight: Int { input.height - kernelHeight + 1 }
    public var outWidth: Int { input.width - kernelWidth + 1 }
    /// Output positions per image: rows of the forward GEMM per image.
    public var positions: Int { outHeight * outWidth }
    public var fanIn: Int { input.channels * kernelHeight * kernelWidth }
    /// Rows of the weight matrix: the kernel (row `(r·kw + s)·C + c`) and the bias.
    public var rows: Int { fanIn + 1 }
    /// Before pooling: the forward GEMM's result per image.
    public var convolved: TensorShape { TensorShape(channels: outputs, height: outHeight, width: outWidth) }
    public var output: TensorShape { TensorShape(channels: outputs, height: outHeight / pool, width: outWidth / pool) }

    /// The weight layers of `spec`, or why it cannot be trained this way.
    public static func layers(of spec: NetworkSpec) -> Result<[TrainingLayer], NetworkError> {
        var shape = spec.input
        var layers: [TrainingLayer] = []
        for layer in spec.layers {
            switch layer {
            case .conv(let m, let k, let u, let p):
                guard u == 1, p == 0, k <= shape.height, k <= shape.width else {
                    return .failure(NetworkError("convolutions are trained with stride 1, no padding and a kernel inside the map"))
                }
                layers.append(TrainingLayer(input: shape, kernelHeight: k, kernelWidth: k, outputs: m))
                shape = layers.last!.output
            case .dense(let n):
                layers.append(TrainingLayer(input: shape, kernelHeight: shape.height, kernelWidth: shape.width, outputs: n))
                shape = layers.last!.output
            case .relu:
                guard let last = layers.last, !last.relu, last.pool == 1 else { return .failure(NetworkError("ReLU must follow a weight layer")) }
                layers[layers.count - 1].relu = true
            case .maxPool(let k):
                guard let last = layers.last, last.pool == 1, k >= 1, k <= last.outHeight, k <= last.outWidth else {
                    return .failure(NetworkError("max pooling must follow a weight layer (and its ReLU) and fit its map"))
                }
                layers[layers.count - 1].pool = k
                shape = layers.last!.output
            case .flatten:
                shape = TensorShape(channels: shape.count)
            case .avgPool:
                return .failure(NetworkError("average pooling is not trained in the array's arithmetic"))
            }
        }
        guard let last = layers.last, !last.relu, last.pool == 1, last.positions == 1 else {
            return .failure(NetworkError("the network must end in a dense layer without ReLU (the logits)"))
        }
        return .success(layers)
    }

    /// The forward GEMM's left operand: each output position's patch of `x` (batch × input, HWC)
    /// and a last column of `one` (the bias input). (B·P) × (fanIn + 1).
    func patches(_ x: [Double], batch: Int, one: Double) -> [Double] {
        let c = input.channels, w = input.width, imageSize = input.count
        let run = kernelWidth * c, k = rows
        var a = [Double](repeating: one, count: batch * positions * k)
        x.withUnsafeBufferPointer { src in
            a.withUnsafeMutableBufferPointer { dst in
                var row = 0
                for b in 0..<batch {
                    for y in 0..<outHeight {
                        for xx in 0..<outWidth {
                            let out = row * k
                            for r in 0..<kernelHeight {
                                let from = b * imageSize + ((y + r) * w + xx) * c
                                for i in 0..<run { dst[out + r * run + i] = src[from + i] }
                            }
                            row += 1
                        }
                    }
                }
            }
        }
        return a
    }

    /// The backward GEMM that carries the error `e` (batch × convolved, the error of this
    /// layer's results) to this layer's input, `dX = Σ_{r,s,m} e[y − r][x − s][m]·W[(r,s,c)][m]`:
    /// operands `(A, B, m, k, n)`. A dense layer's is `e·Wᵀ` (B × M by M × fanIn). A convolution's
    /// is the full correlation as one GEMM: row (b, y, x) of A holds, per kernel offset (r, s),
    /// the M errors at (y − r, x − s) or zeros off the map, and B[(r·kw + s)·M + m][c] =
    /// W[(r·kw + s)·C + c][m]; K = kh·kw·M, one rounding per input error.
    func backwardOperands(_ e: [Double], weights w: [Double], batch: Int) -> (a: [Double], b: [Double], m: Int, k: Int, n: Int) {
        let m = outputs, c = input.channels
        if positions == 1 {
            return (e, ExactGEMM.transpose(Array(w[0..<(fanIn * m)]), rows: fanIn, cols: m), batch, m, fanIn)
        }
        let k = kernelHeight * kernelWidth * m
        var a = [Double](repeating: 0, count: batch * input.height * input.width * k)
        e.withUnsafeBufferPointer { src in
            a.withUnsafeMutableBufferPointer { dst in
                var row = 0
                for b in 0..<batch {
                    for y in 0..<input.height {
                        for x in 0..<input.width {
                            for r in 0..<kernelHeight where y - r >= 0 && y - r < outHeight {
                                for s in 0..<kernelWidth where x - s >= 0 && x - s < outWidth {
                                    let from = ((b * outHeight + y - r) * outWidth + x - s) * m
                                    let to = row * k + (r * kernelWidth + s) * m
                                    for i in 0..<m { dst[to + i] = src[from + i] }
                                }
                            }
                            row += 1
                        }
                    }
                }
            }
        }
        var bm = [Double](repeating: 0, count: k * c)
        for r in 0..<kernelHeight {
            for s in 0..<kernelWidth {
                for ch in 0..<c {
                    for o in 0..<m { bm[((r * kernelWidth + s) * m + o) * c + ch] = w[((r * kernelWidth + s) * c + ch) * m + o] }
                }
            }
        }
        return (a, bm, batch * input.height * input.width, k, c)
    }

    /// Max pooling of `y` (batch × convolved, HWC): the pooled map and, per pooled value, the
    /// index in `y` it came from (the first of equal values in window order), for the backward pass.
    func maxPool(_ y: [Double], batch: Int) -> (pooled: [Double], from: [Int32]) {
        let p = pool, m = outputs, oh = outHeight / p, ow = outWidth / p
        var pooled = [Double](repeating: 0, count: batch * oh * ow * m), from = [Int32](repeating: 0, count: pooled.count)
        var o = 0
        for b in 0..<batch {
            for py in 0..<oh {
                for px in 0..<ow {
                    for ch in 0..<m {
                        var best = ((b * outHeight + py * p) * outWidth + px * p) * m + ch
                        for r in 0..<p {
                            for s in 0..<p {
                                let i = ((b * outHeight + py * p + r) * outWidth + px * p + s) * m + ch
                                if y[i] > y[best] { best = i }
                            }
                        }
                        pooled[o] = y[best]
                        from[o] = Int32(best)
                        o += 1
                    }
                }
            }
        }
        return (pooled, from)
    }
}
