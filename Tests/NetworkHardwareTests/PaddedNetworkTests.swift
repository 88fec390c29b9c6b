import Golden
import Model
import Networks
import Runtime
import Testing
import Verification

/// Padded convolutions and pooling windows that drop the edge (3×3 on maps that are not
/// multiples of 3), as imported ONNX models have them: the golden network against the
/// training side's evaluator, two implementations written apart (ConvModel's im2col and
/// PoolingModel against the evaluator's own loops).
@Suite("padded networks: golden against the training-side evaluator")
struct PaddedNetworkTests {
    /// conv 3×3 pad 1 (4) + ReLU + 3×3 max pool (13×13 → 4×4, the last row and column
    /// dropped), conv 3×3 pad 2 (6) + ReLU + 2×2 max pool (6×6 → 3×3), conv 5×5 pad 2 stride 2
    /// (5) (3×3 → 2×2) + ReLU, dense 10.
    static let padded = NetworkSpec(name: "padded", input: TensorShape(channels: 1, height: 13, width: 13), layers: [
        .conv(filters: 4, size: 3, padding: 1), .relu, .maxPool(size: 3),
        .conv(filters: 6, size: 3, padding: 2), .relu, .maxPool(size: 2),
        .conv(filters: 5, size: 5, stride: 2, padding: 2), .relu,
        .flatten, .dense(outputs: 10),
    ])

    /// Random weights that are multiples of 2^shift, so no stage rounds (the evaluator rounds
    /// half up, the golden network's ROUND unit to nearest even or stochastically: with
    /// nothing to round, every mode must give the same integers).
    static func exactNetwork(seed: UInt64) -> QuantizedNetwork {
        var net = RandomNetworks.network(padded, format: .fixed, seed: seed)
        for s in net.stages.indices {
            let shift = min(net.stages[s].shift, 4)
            net.stages[s].shift = shift
            net.stages[s].weights = net.stages[s].weights.map { ($0 >> shift) << shift }
        }
        return net
    }

    @Test("the same logits image by image, in every rounding mode (nothing to round)",
          arguments: [RoundingMode.nearest, .stochastic, .truncate])
    func goldenEqualsEvaluator(_ rounding: RoundingMode) throws {
        let net = Self.exactNetwork(seed: 21)
        #expect(net.stages.map(\.layer.padding) == [1, 2, 2, 0])
        #expect(net.stages.map(\.resultShape.description) == ["4×4×4", "6×3×3", "5×2×2", "10×1×1"])
        var golden = try NetworkHardware(rows: 4, cols: 4, rounding: rounding, batch: 1).golden(net)
        let images = RandomNetworks.images(12, pixels: 169, seed: 9)
        var saturated = 0
        for (i, image) in images.enumerated() {
            golden.reset()
            let x = NetworkModel.inputCodes(pixels: image, frac: net.inputFrac, bits: net.stages[0].activation.bits)
            let ours = golden.logits(input: x, images: 1)[0]
            let theirs = TrainingSideEvaluator.logits(net, bytes: image[...])
            #expect(ours == theirs, "image \(i)")
            saturated += ours.filter { abs($0) == 32767 || $0 == -32768 }.count
        }
        // Not every logit saturated: the comparison sees values.
        #expect(saturated < 12 * 10 / 2)
    }

    @Test("a wrong padding is seen: the evaluator on the network without padding differs")
    func paddingMatters() throws {
        let net = Self.exactNetwork(seed: 22)
        var golden = try NetworkHardware(rows: 4, cols: 4, rounding: .nearest, batch: 1).golden(net)
        let image = RandomNetworks.images(1, pixels: 169, seed: 3)[0]
        let x = NetworkModel.inputCodes(pixels: image, frac: net.inputFrac, bits: net.stages[0].activation.bits)
        let first = golden.stage(0, input: x, images: 1).results
        var unpadded = net.stages[0]
        unpadded.layer.padding = 0  // 11×11 → 3×3 pooled: another shape altogether
        #expect(TrainingSideEvaluator.run(unpadded, x).count != first.count)
        #expect(TrainingSideEvaluator.run(net.stages[0], x) == first)
    }
}
