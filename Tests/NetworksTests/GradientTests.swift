import Foundation
import Model
@testable import Networks
import Testing

/// Each layer's backward pass against central finite differences of L = Σ r·y (r random),
/// on layers small enough to perturb every weight and input.
@Suite("layer gradients")
struct GradientTests {
    static func random(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in (2 * uniform(&rng) - 1) * scale }
    }

    static func dot(_ a: [Float], _ b: [Float], _ n: Int) -> Double {
        (0..<n).reduce(0.0) { $0 + Double(a[$1]) * Double(b[$1]) }
    }

    /// |analytic − numeric| within `abs + rel·|numeric|`, for every element.
    static func expectClose(_ analytic: [Float], _ numeric: [Double], abs: Double, rel: Double, _ what: String) {
        #expect(analytic.count >= numeric.count)
        var worst = 0.0
        for (a, n) in zip(analytic, numeric) { worst = max(worst, Swift.abs(Double(a) - n) - rel * Swift.abs(n)) }
        #expect(worst <= abs, "\(what): worst excess \(worst)")
    }

    /// Checks an operation's input gradient, and the gradients of `parameters`, numerically.
    static func check(_ op: LayerOp, inCount: Int, batch: Int, parameters: [Parameter], eps: Float, abs: Double, rel: Double,
                      seed: UInt64, input: [Float]? = nil, checkInput: Bool = true) {
        var rng = SplitMix64(seed: seed)
        var x = input ?? random(batch * inCount, &rng)
        let r = random(batch * op.outCount, &rng)
        let n = batch * op.outCount
        func loss() -> Double { dot(op.forward(x, batch: batch, training: true), r, n) }
        var numericX: [Double] = []
        if checkInput {
            for i in 0..<x.count {
                let keep = x[i]
                x[i] = keep + eps; let up = loss()
                x[i] = keep - eps; let down = loss()
                x[i] = keep
                numericX.append((up - down) / Double(2 * eps))
            }
        }
        var numericP: [[Double]] = []
        for p in parameters {
            var g: [Double] = []
            for i in 0..<p.value.count {
                let keep = p.value[i]
                p.value[i] = keep + eps; let up = loss()
                p.value[i] = keep - eps; let down = loss()
                p.value[i] = keep
                g.append((up - down) / Double(2 * eps))
            }
            numericP.append(g)
        }
        for p in parameters { p.grad = [Float](repeating: 0, count: p.value.count) }
        _ = op.forward(x, batch: batch, training: true)
        let dx = op.backward(r, batch: batch)
        if checkInput { expectClose(Array(dx.prefix(x.count)), numericX, abs: abs, rel: rel, "input") }
        for (i, p) in parameters.enumerated() { expectClose(p.grad, numericP[i], abs: abs, rel: rel, "parameter \(i)") }
    }

    static func layer(_ shape: ConvShape, conv: Bool, seed: UInt64) -> WeightLayer {
        var rng = SplitMix64(seed: seed)
        return WeightLayer(shape: shape, isConv: conv, weight: Parameter(random(shape.weightCount, &rng)),
                           bias: Parameter(random(shape.filters, &rng)), quantizer: .float)
    }

    @Test("convolution, stride 1 and 2: weights, bias and input", arguments: [1, 2])
    func convolution(stride: Int) {
        let shape = ConvShape(channels: 2, filters: 3, height: 5 + stride, width: 5 + stride, filterHeight: 3, filterWidth: 3, stride: stride)
        let op = Self.layer(shape, conv: true, seed: 1)
        Self.check(op, inCount: op.inCount, batch: 2, parameters: op.parameters, eps: 1e-2, abs: 2e-3, rel: 1e-3, seed: 2)
    }

    @Test("padded convolution (padding 1 and 2, stride 1 and 2): weights, bias and input", arguments: [(1, 1), (2, 2)])
    func paddedConvolution(padding: Int, stride: Int) {
        let shape = ConvShape(channels: 2, filters: 3, height: 5, width: 5, filterHeight: 3, filterWidth: 3, stride: stride, padding: padding)
        let op = Self.layer(shape, conv: true, seed: 5)
        Self.check(op, inCount: op.inCount, batch: 2, parameters: op.parameters, eps: 1e-2, abs: 2e-3, rel: 1e-3, seed: 6)
    }

    @Test("dense: weights, bias and input")
    func dense() {
        let shape = ConvShape(channels: 7, filters: 5, height: 1, width: 1, filterHeight: 1, filterWidth: 1)
        let op = Self.layer(shape, conv: false, seed: 3)
        Self.check(op, inCount: 7, batch: 3, parameters: op.parameters, eps: 1e-2, abs: 2e-3, rel: 1e-3, seed: 4)
    }

    @Test("max and average pooling", arguments: [true, false])
    func pooling(isMax: Bool) {
        let op = Pool(channels: 2, height: 4, width: 6, size: 2, isMax: isMax)
        Self.check(op, inCount: 48, batch: 2, parameters: [], eps: 1e-3, abs: 2e-3, rel: 1e-3, seed: 5)
    }

    @Test("ReLU away from its kink")
    func relu() {
        var rng = SplitMix64(seed: 6)
        // Inputs at least 0.1 from zero, so a 1e-2 step does not cross the kink.
        let x = Self.random(40, &rng).map { $0 + ($0 >= 0 ? 0.1 : -0.1) }
        Self.check(ReLU(count: 20), inCount: 20, batch: 2, parameters: [], eps: 1e-2, abs: 2e-3, rel: 1e-3, seed: 7, input: x)
    }

    @Test("batch normalization in training mode: gamma, beta and input")
    func batchNorm() {
        var rng = SplitMix64(seed: 8)
        let op = BatchNorm(channels: 3, positions: 4, gamma: Parameter(Self.random(3, &rng).map { $0 + 1.5 }),
                           beta: Parameter(Self.random(3, &rng)), mean: [0, 0, 0], variance: [1, 1, 1])
        Self.check(op, inCount: 12, batch: 2, parameters: op.parameters, eps: 3e-3, abs: 5e-3, rel: 1e-2, seed: 9)
    }

    @Test("sign and fake quantization pass the gradient straight through where they should")
    func straightThrough() {
        let x: [Float] = [-1.5, -1, -0.3, 0, 0.7, 1, 2]
        let dy: [Float] = [1, 2, 3, 4, 5, 6, 7]
        let sign = Sign(count: 7)
        #expect(Array(sign.forward(x, batch: 1, training: true).prefix(7)) == [-1, -1, -1, 1, 1, 1, 1])
        #expect(Array(sign.backward(dy, batch: 1).prefix(7)) == [0, 2, 3, 4, 5, 6, 0])
        // 4 bits, frac 2: values -2 ... 1.75 in steps of 0.25; the gradient stops where it saturates.
        let q = FakeQuantize(count: 7, bits: 4, frac: 2)
        #expect(Array(q.forward(x, batch: 1, training: true).prefix(7)) == [-1.5, -1, -0.25, 0, 0.75, 1, 1.75])
        #expect(Array(q.backward(dy, batch: 1).prefix(7)) == [1, 2, 3, 4, 5, 6, 0])
    }

    @Test("a whole network: softmax cross-entropy through dense, pooling, ReLU and convolution")
    func wholeNetwork() throws {
        let spec = NetworkSpec(name: "tiny", input: TensorShape(channels: 1, height: 6, width: 6), layers: [
            .conv(filters: 2, size: 3), .relu, .maxPool(size: 2), .flatten, .dense(outputs: 3),
        ])
        var rng = SplitMix64(seed: 10)
        let parameters = try FloatParameters.random(spec, rng: &rng)
        let engine = try Engine(spec: spec, parameters: parameters, plan: .float(2))
        let x = Self.random(2 * 36, &rng).map { ($0 + 1) / 2 }
        let labels = [2, 0]
        func loss() -> Double {
            let logits = engine.forward(x, batch: 2, training: false)
            return (0..<2).reduce(0.0) { total, b in
                let z = (0..<3).map { Double(logits[b * 3 + $0]) }
                let top = z.max()!
                let lse = top + log(z.map { exp($0 - top) }.reduce(0, +))
                return total + (lse - z[labels[b]]) / 2
            }
        }
        var numeric: [[Double]] = []
        let eps: Float = 1e-3
        for p in engine.trainables {
            numeric.append((0..<p.value.count).map { i in
                let keep = p.value[i]
                p.value[i] = keep + eps; let up = loss()
                p.value[i] = keep - eps; let down = loss()
                p.value[i] = keep
                return (up - down) / Double(2 * eps)
            })
        }
        let logits = engine.forward(x, batch: 2, training: true)
        let summed = engine.backward(logits: logits, labels: labels[0..<2], batch: 2)
        #expect(Swift.abs(summed / 2 - loss()) < 1e-5)
        for (i, p) in engine.trainables.enumerated() { Self.expectClose(p.grad, numeric[i], abs: 1e-3, rel: 1e-2, "tensor \(i)") }
    }
}
