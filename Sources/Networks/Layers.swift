import Foundation
import Model

/// A trained tensor with its gradient and the optimizer's moments.
final class Parameter {
    var value: [Float]
    var grad: [Float]
    var m: [Float]
    var v: [Float]
    /// BinaryConnect keeps latent binary weights in [-1, 1] (clipped after each step).
    var clip: Float?
    init(_ value: [Float], clip: Float? = nil) {
        self.value = value
        grad = [Float](repeating: 0, count: value.count)
        m = grad
        v = grad
        self.clip = clip
    }
}

/// One step of the float network. Activations are batch-major: image b's tensor (CHW) is
/// `x[b·count ..< (b+1)·count]`. Buffers are reused between batches and may be longer than
/// the batch needs; only the first `batch · count` elements mean anything.
protocol LayerOp: AnyObject {
    var outCount: Int { get }
    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float]
    /// The input's gradient from the output's (parameter gradients accumulate on the side).
    func backward(_ dy: [Float], batch: Int) -> [Float]
    var parameters: [Parameter] { get }
}

extension LayerOp {
    var parameters: [Parameter] { [] }
}

/// How a stage's array sum is fake-quantized: ROUND to `bits`.`frac` before the bias, which is
/// itself an integer at `frac` (the contract's steps 2 and 3).
struct SumRounding: Hashable {
    var bits: Int
    var frac: Int
}

/// A convolution (im2col + GEMM per image) or, with a 1×1 shape on a C×1×1 input, a dense
/// layer (one GEMM for the batch). Weights MCRS, bias per filter.
final class WeightLayer: LayerOp {
    let shape: ConvShape
    let isConv: Bool
    let weight: Parameter
    let bias: Parameter?
    var quantizer: WeightQuantizer
    var rounding: SumRounding?
    /// The first layer needs no input gradient.
    var needsInputGradient = true
    /// Called once per training step before the forward pass (codebooks refit their entries).
    var refit: ((WeightLayer) -> Void)?

    private var input: [Float] = []      // dense: the batch's input, kept for backward
    private var cols: [Float] = []       // conv: the batch's im2col matrices
    private var quantized: [Float] = []  // the weights the forward pass used
    private var out: [Float] = []
    private var dx: [Float] = []
    private var scratch: [Float] = []
    private var scratch2: [Float] = []

    init(shape: ConvShape, isConv: Bool, weight: Parameter, bias: Parameter?, quantizer: WeightQuantizer) {
        self.shape = shape
        self.isConv = isConv
        self.weight = weight
        self.bias = bias
        self.quantizer = quantizer
    }

    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    var inCount: Int { shape.channels * shape.height * shape.width }
    var outCount: Int { shape.filters * shape.outHeight * shape.outWidth }
    var k: Int { shape.channels * shape.filterHeight * shape.filterWidth }
    var positions: Int { shape.outHeight * shape.outWidth }

    /// The bias as the stage adds it (an integer at the output's fractional length when rounding).
    var effectiveBias: [Float]? {
        guard let bias else { return nil }
        guard let r = rounding else { return bias.value }
        return bias.value.map { fakeQuantize($0, bits: r.bits, frac: r.frac) }
    }

    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float] {
        quantized = quantizer.values(weight.value)
        let m = shape.filters, k = self.k, p = positions, inCount = self.inCount
        out.ensure(batch * m * p)
        if isConv {
            cols.ensure(batch * k * p)
            x.withUnsafeBufferPointer { xb in
                cols.withUnsafeMutableBufferPointer { cb in
                    out.withUnsafeMutableBufferPointer { ob in
                        quantized.withUnsafeBufferPointer { wb in
                            for b in 0..<batch {
                                let c = cb.baseAddress! + b * k * p
                                im2col(xb.baseAddress! + b * inCount, channels: shape.channels, height: shape.height, width: shape.width,
                                       size: shape.filterHeight, stride: shape.stride, padding: shape.padding, c)
                                gemm(m, p, k, wb.baseAddress!, c, ob.baseAddress! + b * m * p, accumulate: false)
                            }
                        }
                    }
                }
            }
        } else {
            if training { input = x }
            scratch.ensure(k * m)
            quantized.withUnsafeBufferPointer { wb in
                scratch.withUnsafeMutableBufferPointer { transpose(m, k, wb.baseAddress!, $0.baseAddress!) }
            }
            x.withUnsafeBufferPointer { xb in
                scratch.withUnsafeBufferPointer { tb in
                    out.withUnsafeMutableBufferPointer { gemm(batch, m, k, xb.baseAddress!, tb.baseAddress!, $0.baseAddress!, accumulate: false) }
                }
            }
        }
        out.withUnsafeMutableBufferPointer { o in
            if let r = rounding {
                for i in 0..<batch * m * p { o[i] = fakeQuantize(o[i], bits: r.bits, frac: r.frac) }
            }
            if let bias = effectiveBias {
                bias.withUnsafeBufferPointer { b in
                    for n in 0..<batch {
                        for f in 0..<m {
                            let base = (n * m + f) * p
                            for j in 0..<p { o[base + j] += b[f] }
                        }
                    }
                }
            }
        }
        return out
    }

    func backward(_ dy: [Float], batch: Int) -> [Float] {
        let m = shape.filters, k = self.k, p = positions, inCount = self.inCount
        // Straight-through: the gradient of the quantized weights (and of ROUND) is taken as
        // the latent float weights' (Bengio et al. 2013; BinaryConnect).
        if let bias {
            dy.withUnsafeBufferPointer { g in
                bias.grad.withUnsafeMutableBufferPointer { gb in
                    for n in 0..<batch {
                        for f in 0..<m {
                            var s: Float = 0
                            for j in 0..<p { s += g[(n * m + f) * p + j] }
                            gb[f] += s
                        }
                    }
                }
            }
        }
        if isConv {
            scratch.ensure(p * k)
            scratch2.ensure(k * p)
            if needsInputGradient { dx.ensure(batch * inCount) }
            var wT = [Float](repeating: 0, count: k * m)
            quantized.withUnsafeBufferPointer { transpose(m, k, $0.baseAddress!, &wT) }
            dy.withUnsafeBufferPointer { db in
                cols.withUnsafeBufferPointer { cb in
                    scratch.withUnsafeMutableBufferPointer { colsT in
                        weight.grad.withUnsafeMutableBufferPointer { gw in
                            for b in 0..<batch {
                                transpose(k, p, cb.baseAddress! + b * k * p, colsT.baseAddress!)
                                gemm(m, k, p, db.baseAddress! + b * m * p, colsT.baseAddress!, gw.baseAddress!, accumulate: true)
                            }
                        }
                    }
                    guard needsInputGradient else { return }
                    scratch2.withUnsafeMutableBufferPointer { dcols in
                        dx.withUnsafeMutableBufferPointer { dxb in
                            for b in 0..<batch {
                                gemm(k, p, m, wT, db.baseAddress! + b * m * p, dcols.baseAddress!, accumulate: false)
                                col2im(dcols.baseAddress!, channels: shape.channels, height: shape.height, width: shape.width,
                                       size: shape.filterHeight, stride: shape.stride, padding: shape.padding, dxb.baseAddress! + b * inCount)
                            }
                        }
                    }
                }
            }
        } else {
            scratch.ensure(m * batch)
            dy.withUnsafeBufferPointer { db in
                scratch.withUnsafeMutableBufferPointer { dyT in
                    transpose(batch, m, db.baseAddress!, dyT.baseAddress!)
                    input.withUnsafeBufferPointer { xb in
                        weight.grad.withUnsafeMutableBufferPointer {
                            gemm(m, k, batch, dyT.baseAddress!, xb.baseAddress!, $0.baseAddress!, accumulate: true)
                        }
                    }
                }
                guard needsInputGradient else { return }
                dx.ensure(batch * k)
                quantized.withUnsafeBufferPointer { wb in
                    dx.withUnsafeMutableBufferPointer { gemm(batch, k, m, db.baseAddress!, wb.baseAddress!, $0.baseAddress!, accumulate: false) }
                }
            }
            input = []
        }
        return dx
    }
}

final class ReLU: LayerOp {
    let outCount: Int
    private var out: [Float] = []
    private var dx: [Float] = []
    init(count: Int) { outCount = count }
    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float] {
        out.ensure(batch * outCount)
        let n = batch * outCount
        x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = max(xb[i], 0) } } }
        return out
    }
    func backward(_ dy: [Float], batch: Int) -> [Float] {
        dx.ensure(batch * outCount)
        let n = batch * outCount
        dy.withUnsafeBufferPointer { g in
            out.withUnsafeBufferPointer { o in dx.withUnsafeMutableBufferPointer { d in for i in 0..<n { d[i] = o[i] > 0 ? g[i] : 0 } } }
        }
        return dx
    }
}

/// k×k pooling with stride k: max (the gradient goes to the first maximum) or average.
final class Pool: LayerOp {
    let channels: Int, height: Int, width: Int, size: Int
    let isMax: Bool
    private var out: [Float] = []
    private var argmax: [Int32] = []
    private var dx: [Float] = []
    init(channels: Int, height: Int, width: Int, size: Int, isMax: Bool) {
        self.channels = channels
        self.height = height
        self.width = width
        self.size = size
        self.isMax = isMax
    }
    var inCount: Int { channels * height * width }
    var outCount: Int { channels * (height / size) * (width / size) }

    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float] {
        let e = height / size, f = width / size, size = self.size, height = self.height, width = self.width, isMax = self.isMax
        out.ensure(batch * outCount)
        if argmax.count < batch * outCount { argmax.append(contentsOf: repeatElement(0, count: batch * outCount - argmax.count)) }
        let area = Float(size * size)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                argmax.withUnsafeMutableBufferPointer { ab in
                    for plane in 0..<batch * channels {
                        let xin = plane * height * width
                        for y in 0..<e {
                            for xx in 0..<f {
                                let o = (plane * e + y) * f + xx
                                var best = -Float.infinity, at = 0, sum: Float = 0
                                for r in 0..<size {
                                    for s in 0..<size {
                                        let i = xin + (y * size + r) * width + xx * size + s
                                        if xb[i] > best { best = xb[i]; at = i }
                                        sum += xb[i]
                                    }
                                }
                                if isMax {
                                    ob[o] = best
                                    ab[o] = Int32(at)
                                } else {
                                    ob[o] = sum / area
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    func backward(_ dy: [Float], batch: Int) -> [Float] {
        let e = height / size, f = width / size, size = self.size, height = self.height, width = self.width, isMax = self.isMax
        dx.ensure(batch * inCount)
        let area = Float(size * size)
        let n = batch * inCount
        dy.withUnsafeBufferPointer { g in
            argmax.withUnsafeBufferPointer { ab in
                dx.withUnsafeMutableBufferPointer { d in
                    for i in 0..<n { d[i] = 0 }
                    for plane in 0..<batch * channels {
                        for y in 0..<e {
                            for xx in 0..<f {
                                let o = (plane * e + y) * f + xx
                                if isMax {
                                    d[Int(ab[o])] += g[o]
                                } else {
                                    for r in 0..<size {
                                        for s in 0..<size { d[plane * height * width + (y * size + r) * width + xx * size + s] += g[o] / area }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Fake quantization to `bits`.`frac` (round half up, saturating). The gradient passes
/// straight through inside the format's range and is zero where the value saturated.
final class FakeQuantize: LayerOp {
    let outCount: Int, bits: Int, frac: Int
    private var input: [Float] = []
    private var out: [Float] = []
    private var dx: [Float] = []
    init(count: Int, bits: Int, frac: Int) {
        outCount = count
        self.bits = bits
        self.frac = frac
    }
    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float] {
        if training { input = x }
        out.ensure(batch * outCount)
        let n = batch * outCount, bits = self.bits, frac = self.frac
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = fakeQuantize(xb[i], bits: bits, frac: frac) } }
        }
        return out
    }
    func backward(_ dy: [Float], batch: Int) -> [Float] {
        let hi = (pow2f(bits - 1) - 0.5) * pow2f(-frac), lo = -(pow2f(bits - 1) + 0.5) * pow2f(-frac)
        dx.ensure(batch * outCount)
        let n = batch * outCount
        dy.withUnsafeBufferPointer { g in
            input.withUnsafeBufferPointer { x in
                dx.withUnsafeMutableBufferPointer { d in for i in 0..<n { d[i] = x[i] >= lo && x[i] < hi ? g[i] : 0 } }
            }
        }
        input = []
        return dx
    }
}

/// Batch normalization (Ioffe and Szegedy 2015) per channel over the batch and positions;
/// inference uses running averages (momentum 0.9).
final class BatchNorm: LayerOp {
    let channels: Int, positions: Int
    let gamma: Parameter, beta: Parameter
    var mean: [Float], variance: [Float]
    static let epsilon: Float = 1e-5
    private var xhat: [Float] = []
    private var invStd: [Float] = []
    private var out: [Float] = []
    private var dx: [Float] = []
    init(channels: Int, positions: Int, gamma: Parameter, beta: Parameter, mean: [Float], variance: [Float]) {
        self.channels = channels
        self.positions = positions
        self.gamma = gamma
        self.beta = beta
        self.mean = mean
        self.variance = variance
    }
    var outCount: Int { channels * positions }
    var parameters: [Parameter] { [gamma, beta] }

    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float] {
        out.ensure(batch * outCount)
        xhat.ensure(batch * outCount)
        invStd = [Float](repeating: 0, count: channels)
        let n = Double(batch * positions), channels = self.channels, positions = self.positions
        x.withUnsafeBufferPointer { xb in
            xhat.withUnsafeMutableBufferPointer { hb in
                out.withUnsafeMutableBufferPointer { ob in
                    for c in 0..<channels {
                        var mu = mean[c], v = variance[c]
                        if training {
                            var s = 0.0, s2 = 0.0
                            for b in 0..<batch {
                                let base = (b * channels + c) * positions
                                for j in 0..<positions { s += Double(xb[base + j]) }
                            }
                            let m = s / n
                            for b in 0..<batch {
                                let base = (b * channels + c) * positions
                                for j in 0..<positions { let d = Double(xb[base + j]) - m; s2 += d * d }
                            }
                            mu = Float(m)
                            v = Float(s2 / n)
                            mean[c] = 0.9 * mean[c] + 0.1 * mu
                            variance[c] = 0.9 * variance[c] + 0.1 * v
                        }
                        let inv = 1 / (v + Self.epsilon).squareRoot()
                        invStd[c] = inv
                        let g = gamma.value[c], be = beta.value[c]
                        for b in 0..<batch {
                            let base = (b * channels + c) * positions
                            for j in 0..<positions {
                                let h = (xb[base + j] - mu) * inv
                                hb[base + j] = h
                                ob[base + j] = g * h + be
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    func backward(_ dy: [Float], batch: Int) -> [Float] {
        dx.ensure(batch * outCount)
        let n = Float(batch * positions), channels = self.channels, positions = self.positions
        dy.withUnsafeBufferPointer { g in
            xhat.withUnsafeBufferPointer { hb in
                dx.withUnsafeMutableBufferPointer { d in
                    for c in 0..<channels {
                        var sumDy: Float = 0, sumDyH: Float = 0
                        for b in 0..<batch {
                            let base = (b * channels + c) * positions
                            for j in 0..<positions {
                                sumDy += g[base + j]
                                sumDyH += g[base + j] * hb[base + j]
                            }
                        }
                        gamma.grad[c] += sumDyH
                        beta.grad[c] += sumDy
                        let scale = gamma.value[c] * invStd[c] / n
                        for b in 0..<batch {
                            let base = (b * channels + c) * positions
                            for j in 0..<positions { d[base + j] = scale * (n * g[base + j] - sumDy - hb[base + j] * sumDyH) }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// sign(x) (0 counts as +1), with the straight-through estimator of BNNs (Hubara et al. 2016):
/// the gradient of hardtanh, 1 for |x| ≤ 1 and 0 elsewhere.
final class Sign: LayerOp {
    let outCount: Int
    private var input: [Float] = []
    private var out: [Float] = []
    private var dx: [Float] = []
    init(count: Int) { outCount = count }
    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float] {
        if training { input = x }
        out.ensure(batch * outCount)
        let n = batch * outCount
        x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = xb[i] >= 0 ? 1 : -1 } } }
        return out
    }
    func backward(_ dy: [Float], batch: Int) -> [Float] {
        dx.ensure(batch * outCount)
        let n = batch * outCount
        dy.withUnsafeBufferPointer { g in
            input.withUnsafeBufferPointer { x in
                dx.withUnsafeMutableBufferPointer { d in for i in 0..<n { d[i] = abs(x[i]) <= 1 ? g[i] : 0 } }
            }
        }
        input = []
        return dx
    }
}

/// (x − mean) / std, for float training only: centred inputs train faster (LeCun et al.,
/// "Efficient BackProp", 1998). Without padding it folds exactly into the first layer
/// (`FloatParameters.foldingInputNormalization`), so the shipped weights read raw pixels.
final class Normalize: LayerOp {
    let outCount: Int, mean: Float, std: Float
    private var out: [Float] = []
    init(count: Int, mean: Float, std: Float) {
        outCount = count
        self.mean = mean
        self.std = std
    }
    func forward(_ x: [Float], batch: Int, training: Bool) -> [Float] {
        out.ensure(batch * outCount)
        let n = batch * outCount, mean = self.mean, std = self.std
        x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = (xb[i] - mean) / std } } }
        return out
    }
    func backward(_ dy: [Float], batch: Int) -> [Float] { dy }
}
