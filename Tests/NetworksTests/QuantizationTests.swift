import Foundation
import Model
@testable import Networks
import Testing
import TestTags

@Suite("quantization")
struct QuantizationTests {
    typealias Stage = QuantizedNetwork.Stage

    static func dense(_ weights: [[Int]], shift: Int, bias: [Int], outputBits: Int = 8, resultBits: Int = 6, relu: Bool = true) -> Stage {
        Stage(layer: ConvShape(channels: weights[0].count, filters: weights.count, height: 1, width: 1, filterHeight: 1, filterWidth: 1),
              format: .fixed, activation: .init(bits: 8, frac: 0), weight: .init(bits: 8, frac: 0), weights: weights.flatMap { $0 },
              shift: shift, outputBits: outputBits, bias: bias, relu: relu, resultBits: resultBits, pool: nil)
    }

    /// Worked by hand: sums 5, -5, 400, 6, -6 of [3, 1]; shift 2 rounds half up
    /// (1.25 → 1, -1.25 → -1, 100, 1.5 → 2, -1.5 → -1); 400/4 = 100 fits 8 bits; bias 50 makes
    /// 150, saturated to 127; ReLU; then 6 result bits saturate 127 to 31.
    @Test("ROUND half up, saturation to the output bits, bias, ReLU and the result bits, by hand")
    func stageArithmetic() {
        let stage = Self.dense([[1, 2], [-1, -2], [100, 100], [2, 0], [-2, 0]], shift: 2, bias: [1, 0, 50, 0, 0])
        #expect(TrainingSideEvaluator.run(stage, [3, 1]) == [2, 0, 31, 2, 0])
        let noReLU = Self.dense([[1, 2], [-1, -2], [100, 100], [2, 0], [-2, 0]], shift: 2, bias: [1, 0, 50, 0, 0], resultBits: 8, relu: false)
        #expect(TrainingSideEvaluator.run(noReLU, [3, 1]) == [2, -1, 127, 2, -1])
    }

    /// 1×1 convolution with weight 1 on a 2×4 map, then 2×2 average pooling: windows summing
    /// to 7 and 6 give (7 + 2) >> 2 = 2 and (6 + 2) >> 2 = 2; max pooling gives 2 and 3.
    @Test("average pooling rounds half up; max pooling takes the largest")
    func pooling() {
        var stage = Stage(layer: ConvShape(channels: 1, filters: 1, height: 2, width: 4, filterHeight: 1, filterWidth: 1),
                          format: .fixed, activation: .init(bits: 8, frac: 0), weight: .init(bits: 8, frac: 0), weights: [1],
                          shift: 0, outputBits: 16, bias: [0], relu: false, resultBits: 8, pool: .init(.average, size: 2))
        let x = [1, 2, 1, 3,
                 2, 2, 1, 1]
        #expect(TrainingSideEvaluator.run(stage, x) == [2, 2])
        stage.pool = .init(.max, size: 2)
        #expect(TrainingSideEvaluator.run(stage, x) == [2, 3])
    }

    @Test("input pixels: round(p/255 · 2^frac) half up, saturated")
    func inputCodes() {
        let net = QuantizedNetwork(model: "m", label: "l", inputFrac: 7, stages: [Self.dense([[1]], shift: 0, bias: [0])])
        // 255 → 128 saturates to 127; 1 → 0.50196 → 1; 2 → 1.0039 → 1; 128 → 64.25 → 64.
        #expect(TrainingSideEvaluator.inputCodes(net, bytes: [0, 1, 2, 128, 255][...]) == [0, 1, 1, 64, 127])
    }

    /// Each weight quantizer's codes, decoded as the formats define them (docs/FORMATS.md),
    /// give back its values.
    @Test("weight codes decode to the quantized values", arguments: [
        WeightQuantizer.fixed(bits: 4, frac: 3), .binary(frac: 2), .ternary(frac: 3), .powerOfTwo(exponentBits: 3, frac: 7),
        .codebook(frac: 5, entries: [-30, -9, -2, 0, 1, 4, 11, 25]),
    ])
    func codesRoundTrip(quantizer: WeightQuantizer) {
        var rng = SplitMix64(seed: 11)
        let w = (0..<500).map { _ in (2 * uniform(&rng) - 1) * 0.9 }
        let format: NumberFormat = switch quantizer {
        case .fixed: .fixed
        case .binary: .binaryWeights
        case .ternary: .ternary
        case .powerOfTwo: .powerOfTwo(exponentBits: 3)
        default: .codebook(indexBits: 3)
        }
        var entries: [Int]?
        if case .codebook(_, let e) = quantizer { entries = e }
        let stage = Stage(layer: ConvShape(channels: 1, filters: 1, height: 1, width: 1, filterHeight: 1, filterWidth: 1),
                          format: format, activation: .init(bits: 8, frac: 0), weight: .init(bits: 8, frac: quantizer.frac),
                          weights: [], codebook: entries, shift: 0, outputBits: 16, bias: [0], relu: false, resultBits: 16, pool: nil)
        let decoded = quantizer.codes(w).map { Float(TrainingSideEvaluator.weightValue(stage, $0)) * pow2f(-quantizer.frac) }
        #expect(decoded == quantizer.values(w))
        // And the values are what the scheme promises.
        let ints = quantizer.integers(w)
        switch quantizer {
        case .fixed: #expect(ints.allSatisfy { (-8...7).contains($0) })
        case .binary: #expect(Set(ints) == [-1, 1])
        case .ternary: #expect(Set(ints) == [-1, 0, 1])
        case .powerOfTwo: #expect(Set(ints.map(abs)).isSubset(of: [0, 1, 2, 4, 8, 16, 32, 64]) && ints.contains(64) && ints.contains(0))
        default: #expect(Set(ints).isSubset(of: Set(entries!)))
        }
    }

    @Test("powers of two round to the nearest in the linear domain")
    func powerOfTwoNearest() {
        let q = WeightQuantizer.powerOfTwo(exponentBits: 2, frac: 0)  // 0, ±1, ±2, ±4
        #expect(q.integers([0.49, 0.5, 1.49, 1.5, 2.99, 3, 100, -2.2]) == [0, 1, 1, 2, 2, 4, 4, -2])
        #expect(q.codes([0.2, 1, -1, 2, -4]) == [0, 0b001, 0b101, 0b010, 0b111])
    }

    /// The folding against batch norm and sign evaluated directly, for every sum in range.
    @Test("batch norm + sign folds into (x >= T) xor flip", arguments: [1, 2, 3, 4, 5, 6])
    func thresholds(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let gamma = seed == 6 ? 0 : Double(2 * uniform(&rng) - 1) * 2
        let beta = Double(2 * uniform(&rng) - 1), mean = Double(2 * uniform(&rng) - 1) * 3
        let sigma = Double(uniform(&rng)) + 0.2
        let scale = seed.isMultiple(of: 2) ? 128.0 : 1.0
        let bound = seed.isMultiple(of: 2) ? 25 * 128 : 150
        let t = Quantizer.threshold(gamma: gamma, beta: beta, mean: mean, sigma: sigma, scale: scale, bound: bound)
        for x in -bound...bound {
            let expected = gamma * (Double(x) / scale - mean) / sigma + beta >= 0
            #expect(((x >= t.value) != t.flip) == expected, "x = \(x), T = \(t)")
        }
    }

    @Test("k-means codebook: 16 sorted 8-bit entries, no worse than a uniform grid")
    func codebook() {
        var rng = SplitMix64(seed: 12)
        let w = (0..<2000).map { _ in (uniform(&rng) + uniform(&rng) + uniform(&rng) - 1.5) * 0.3 }
        let entries = WeightQuantizer.kMeansEntries(w, frac: 8, bits: 8, count: 16, iterations: 30)
        #expect(entries.count == 16 && entries == entries.sorted() && entries.allSatisfy { (-128...127).contains($0) })
        func error(_ e: [Int]) -> Double {
            let q = WeightQuantizer.codebook(frac: 8, entries: e).values(w)
            return zip(w, q).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        }
        let lo = Int(w.min()! * 256), hi = Int(w.max()! * 256)
        let uniformGrid = (0..<16).map { lo + (hi - lo) * $0 / 15 }
        #expect(error(entries) < error(uniformGrid))
    }
}

/// The shipped networks through quantization and the integer evaluator.
@Suite("quantized shipped networks", .tags(.verilator, .training))
struct ShippedQuantizationTests {
    static let test = TrainingTests.test
    static let calibration = Result { try TrainingTests.train.get().prefix(Quantizer.calibrationImages) }

    /// Post-training 8-bit dynamic fixed point keeps LeNet-5's accuracy within a point, and
    /// the integer evaluator agrees with the fake-quantized float forward pass on nearly every
    /// image (they differ only where float sums land on the other side of a rounding).
    @Test("LeNet-5 fixed8 (post-training) is within 1 point of float on 1,000 test images")
    func lenetFixed8() throws {
        let file = try WeightsFile.read(ModelStore.shippedWeightsPath("lenet5"))
        let images = try Self.test.get().prefix(1000)
        let calibration = try Self.calibration.get()
        let network = try Quantizer.quantize(spec: .lenet5, parameters: file.parameters, scheme: .fixed(bits: 8), calibration: calibration)
        let float = try Training.accuracy(.lenet5, parameters: file.parameters, images: images)
        let quantized = TrainingSideEvaluator.accuracy(network, images: images)
        #expect(abs(quantized - float) <= 0.01, "float \(float), fixed8 \(quantized)")
        // The network follows the contract: 8-bit results, 16-bit logits, shifts >= 0.
        #expect(network.stages.map(\.resultBits) == [8, 8, 8, 8, 16])
        #expect(network.stages.map(\.relu) == [true, true, true, true, false])
        #expect(network.stages.allSatisfy { $0.shift >= 0 && $0.outputBits == 16 && $0.format == .fixed })
        #expect(network.stages[0].pool == .init(.max, size: 2) && network.stages[2].pool == nil)
        for (a, b) in zip(network.stages, network.stages.dropFirst()) { #expect(b.activation.frac == a.outputFrac) }
        #expect(network.stages.allSatisfy { s in s.weights.allSatisfy { (-128...127).contains($0) } })

        let plan = try Quantizer.calibrate(spec: .lenet5, parameters: file.parameters, scheme: .fixed(bits: 8), calibration: calibration)
        let engine = try Engine(spec: .lenet5, parameters: file.parameters, plan: plan)
        let n = images.shape.count
        let logits = engine.forward(images.pixels, batch: images.count, training: false)
        let floatClasses = argmax(logits, batch: images.count, classes: 10)
        let weights = TrainingSideEvaluator.weightValues(network)
        let agree = (0..<images.count).filter { TrainingSideEvaluator.classify(network, bytes: images.bytes[$0 * n..<($0 + 1) * n], weights: weights) == floatClasses[$0] }.count
        #expect(agree >= 990, "\(agree) of 1000 agree")
    }

    /// A short fine-tune (MLP, ternary, 2,000 images, one epoch) exports a network whose integer
    /// accuracy is well above chance: the export matches what was trained.
    @Test("fine-tuning ternary weights exports a working integer network")
    func fineTuneTernary() throws {
        let file = try WeightsFile.read(ModelStore.shippedWeightsPath("mlp"))
        let images = try Self.test.get().prefix(500)
        let network = try Quantizer.fineTune(spec: .mlp, parameters: file.parameters, scheme: .ternary, calibration: try Self.calibration.get(),
                                             data: try TrainingTests.train.get(),
                                             options: TrainingOptions(epochs: 1, learningRate: 5e-4, seed: 7, trainLimit: 2000))
        #expect(network.stages.allSatisfy { $0.format == .ternary && $0.weights.allSatisfy { [0, 1, 2, 3].contains($0) } })
        #expect(network.stages.map(\.weight.bits) == [2, 2, 2])
        let accuracy = TrainingSideEvaluator.accuracy(network, images: images)
        #expect(accuracy > 0.80, "ternary MLP \(accuracy)")
    }
}
