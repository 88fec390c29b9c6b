import Conv
import Cores
import Cosim
import Dataflows
import Golden
import Model
import Networks
import Runtime
import Foundation
import Testing
@testable import Verification
import TestTags

/// Whole networks on the generated arrays and pooling cores, every output of every stage
/// compared with the golden network. Random weights (RandomNetworks) reach saturation, ties,
/// every code and threshold; small arrays and a small network keep the builds quick.
@Suite("networks on the hardware", .tags(.verilator))
struct NetworkCheckTests {
    /// conv 3×3 (4) + ReLU + max pool, conv 2×2 (8) + ReLU + average pool, dense 10: the
    /// layer kinds of LeNet-5 on a 12×12 image.
    static let tiny = NetworkSpec(name: "tiny", input: TensorShape(channels: 1, height: 12, width: 12), layers: [
        .conv(filters: 4, size: 3), .relu, .maxPool(size: 2),
        .conv(filters: 8, size: 2), .relu, .avgPool(size: 2),
        .flatten, .dense(outputs: 10),
    ])

    static func labels(_ n: Int) -> [Int] { (0..<n).map { $0 % 10 } }

    @Test("fixed point, stochastic rounding, random power-up state: every stage bit-exact, a short last batch",
          arguments: [InitialState.random(seed: 3), .random(seed: 4)])
    func fixedStochastic(state: InitialState) throws {
        let net = RandomNetworks.network(Self.tiny, format: .fixed, seed: 11)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .stochastic, batch: 3)
        let images = RandomNetworks.images(7, pixels: 144, seed: 5)
        let run = try NetworkCheck(net, hardware: hw, initialState: state).run(images: images, labels: Self.labels(7))
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 7)
        // Array outputs and pooling results of every stage, per image.
        let perImage = net.stages.map { s -> Int in s.layer.outputCount + s.resultShape.count }.reduce(0, +)
        #expect(run.comparedOutputs == 7 * perImage)
        #expect(run.classes == (try hw.goldenClasses(net, images: images)))
        #expect(run.stages.allSatisfy { $0.cycles > 0 && $0.counts.macs > 0 && $0.energyPJ > 0 })
    }

    @Test("padded convolutions (im2col with zero codes on the host) and 3×3 pooling that drops the edge (the pooling core's counters): bit-exact",
          arguments: [RoundingMode.stochastic, .nearest])
    func padded(_ rounding: RoundingMode) throws {
        let net = RandomNetworks.network(PaddedNetworkTests.padded, format: .fixed, seed: 13)
        #expect(net.stages.map { $0.pool?.size } == [3, 2, nil, nil])
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: rounding, batch: 2)
        let images = RandomNetworks.images(5, pixels: 169, seed: 6)
        let run = try NetworkCheck(net, hardware: hw, initialState: .random(seed: 7)).run(images: images, labels: Self.labels(5))
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 5)
        let perImage = net.stages.map { s -> Int in s.layer.outputCount + s.resultShape.count }.reduce(0, +)
        #expect(run.comparedOutputs == 5 * perImage)
        #expect(run.classes == (try hw.goldenClasses(net, images: images)))
    }

    @Test("padded layers and 3×3 pooling on weight and row stationary arrays", arguments: ["ws", "rs"])
    func paddedOtherDataflows(dataflow: String) throws {
        let net = RandomNetworks.network(PaddedNetworkTests.padded, format: .fixed, seed: 13)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .nearest, batch: 2)
        let images = RandomNetworks.images(3, pixels: 169, seed: 8)
        let check = try NetworkCheck(net, hardware: hw, initialState: .random(seed: 11)) { config in
            try Dataflows.design(Dataflow(rawValue: dataflow), config)!.engine(initialState: .random(seed: 11))
        }
        let run = try check.run(images: images, labels: Self.labels(3))
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 3)
        #expect(run.classes == (try hw.goldenClasses(net, images: images)))
    }

    @Test("16-bit fixed point, stochastic: shifts past 16 bits get an LFSR as wide as the bits they drop")
    func wideShifts() throws {
        let net = RandomNetworks.network(Self.tiny, format: .fixed, bits: 16, seed: 14)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .stochastic, batch: 2)
        #expect(net.stages.contains { $0.shift > 16 })
        let (configs, _) = try hw.arrays(for: net)
        #expect(configs.allSatisfy { $0.lfsrWidth >= $0.dropBits })
        let run = try NetworkCheck(net, hardware: hw, initialState: .random(seed: 15)).run(images: RandomNetworks.images(2, pixels: 144, seed: 8), labels: Self.labels(2))
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 2)
    }

    @Test("number formats on the systolic array: BNN (thresholds, sign), ternary, powers of two, codebooks",
          arguments: ["binary", "ternary", "pow2e3", "codebook4", "bwn"])
    func formats(format: String) throws {
        let net = RandomNetworks.network(Self.tiny, format: NumberFormat(format)!, seed: 12)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .nearest, batch: 2)
        let images = RandomNetworks.images(4, pixels: 144, seed: 6)
        let run = try NetworkCheck(net, hardware: hw, initialState: .random(seed: 9)).run(images: images, labels: Self.labels(4))
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 4)
        #expect(run.comparedOutputs == 4 * net.stages.map { $0.layer.outputCount + $0.resultShape.count }.reduce(0, +))
        #expect(run.classes == (try hw.goldenClasses(net, images: images)))
        if format == "binary" {
            // A binary array with thresholds and a binary-weight one for the first and last layers.
            #expect(Set(run.arrays.map(\.format)) == [.binary, .binaryWeights])
            #expect(run.arrays.contains { $0.thresholds })
        }
    }

    @Test("weight and row stationary: each stage a layer on the dataflow's array, generated for its shift",
          arguments: [("ws", RoundingMode.stochastic), ("rs", .stochastic), ("ws", .nearest)])
    func otherDataflows(dataflow: String, rounding: RoundingMode) throws {
        let net = RandomNetworks.network(Self.tiny, format: .fixed, seed: 13)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: rounding, batch: 2)
        let images = RandomNetworks.images(3, pixels: 144, seed: 7)
        let check = try NetworkCheck(net, hardware: hw, initialState: .random(seed: 10)) { config in
            try Dataflows.design(Dataflow(rawValue: dataflow), config)!.engine(initialState: .random(seed: 10))
        }
        let run = try check.run(images: images, labels: Self.labels(3))
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 3)
        #expect(run.stages.allSatisfy { $0.cycles > 0 && $0.counts.macs > 0 })
        // Nearest rounding does not depend on the order the columns round in.
        if rounding == .nearest { #expect(run.classes == (try hw.goldenClasses(net, images: images))) }
    }

    @Test("a golden network that disagrees is caught: the first mismatch names stage, image, output and cycle, with a waveform")
    func disagreementCaught() throws {
        let net = RandomNetworks.network(Self.tiny, format: .fixed, seed: 11)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .stochastic, batch: 2)
        let check = try NetworkCheck(net, hardware: hw)
        // The golden side rounds with other LFSR seeds than the arrays.
        var other = hw
        other.seed = 2
        check.golden = try other.golden(net)
        let run = try check.run(images: RandomNetworks.images(4, pixels: 144, seed: 5), labels: Self.labels(4))
        #expect(run.mismatches == 1)
        #expect(run.images == 0)
        let text = run.firstMismatch ?? ""
        #expect(text.contains("stage 0") && text.contains("image 0") && text.contains("cycle"), "\(text)")
        #expect(run.waveform.map { FileManager.default.fileExists(atPath: $0) } == true)
    }

    /// On ws and rs a pooling-core mismatch used to be replayed on output-stationary arrays, so
    /// its waveform showed a design that had not run. It must be the pooling core's.
    @Test("a pooling-core mismatch on ws or rs gives the pooling core's waveform", arguments: ["ws", "rs"])
    func poolingMismatchWaveform(dataflow: String) throws {
        let net = RandomNetworks.network(Self.tiny, format: .fixed, seed: 13)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .nearest, batch: 2)
        let check = try NetworkCheck(net, hardware: hw) { config in
            try Dataflows.design(Dataflow(rawValue: dataflow), config)!.engine(initialState: .default)
        }
        // The golden side adds other biases after stage 0: the arrays agree, the pooling core does not.
        var other = net
        other.stages[0].bias = other.stages[0].bias.map { $0 + 5 }
        check.golden = try hw.golden(other)
        let run = try check.run(images: RandomNetworks.images(2, pixels: 144, seed: 7), labels: Self.labels(2))
        #expect(run.mismatches == 1)
        #expect(run.firstMismatch?.contains("stage 0") == true && run.firstMismatch?.contains("pooling core") == true, "\(run.firstMismatch ?? "")")
        let path = try #require(run.waveform)
        let vcd = try String(contentsOfFile: path, encoding: .utf8)
        let pool = try Pooling.module(PoolingConfig(stage: net.stages[0])).name
        #expect(vcd.contains(pool), "the waveform \(path) does not show the pooling core \(pool)")
        #expect(!vcd.contains("systolic_"), "the waveform \(path) shows a systolic array")
    }
}

/// The shipped LeNet-5, quantized without training (fixed8 and ternary weights), on real test
/// images in each dataflow: small arrays and a few images, every stage compared.
@Suite("LeNet-5 on the hardware", .tags(.verilator, .dataset, .training))
struct LeNetOnHardwareTests {
    static let test = Result { try FashionMNIST.load(.test).prefix(4) }
    static let calibration = Result { try FashionMNIST.load(.train).prefix(200) }

    static func quantized(_ scheme: QuantizationScheme) throws -> QuantizedNetwork {
        let weights = try WeightsFile.read(ModelStore.shippedWeightsPath("lenet5"))
        return try Quantizer.quantize(spec: .lenet5, parameters: weights.parameters, scheme: scheme, calibration: try calibration.get())
    }

    @Test("LeNet-5 bit-exact in every dataflow and two formats", arguments: [
        ("os", "fixed8"), ("os", "ternary"), ("ws", "fixed8"), ("rs", "fixed8"),
    ])
    func lenet(dataflow: String, scheme: String) throws {
        let images = try Self.test.get()
        let net = try Self.quantized(QuantizationScheme(scheme)!)
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .stochastic, batch: 2)
        let engines: NetworkCheck.EngineFactory? = dataflow == "os" ? nil : { config in
            try Dataflows.design(Dataflow(rawValue: dataflow), config)!.engine(initialState: .random(seed: 21))
        }
        let pixels = (0..<images.count).map { Array(images.bytes[$0 * 784..<($0 + 1) * 784]) }
        let run = try NetworkCheck(net, hardware: hw, initialState: .random(seed: 20), engines: engines).run(images: pixels, labels: images.labels)
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 4)
        #expect(run.comparedOutputs == 4 * net.stages.map { $0.layer.outputCount + $0.resultShape.count }.reduce(0, +))
        if dataflow == "os" { #expect(run.classes == (try hw.goldenClasses(net, images: pixels))) }
        // LeNet-5's five stages: two convolutions with pooling, three dense layers.
        #expect(net.stages.map { $0.pool != nil } == [true, true, false, false, false])
    }
}
