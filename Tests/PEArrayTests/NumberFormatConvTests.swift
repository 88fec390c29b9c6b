import Conv
import Cores
import Dataflows
import Golden
import Model
import Runtime
import Testing
import Verification
import TestTags

/// Convolution layers in every number format (docs/FORMATS.md) on the output-stationary and
/// weight-stationary arrays: every output bit-exact against the golden convolution of the
/// decoded codes, and the hardware counters equal to the mapper's.
@Suite(.tags(.verilator)) struct NumberFormatConvTests {
    static let formats: [NumberFormat] = [.binary, .binaryWeights, .ternary, .powerOfTwo(exponentBits: 3), .codebook(indexBits: 3)]

    static func array(_ f: NumberFormat) -> ArrayConfig {
        ArrayConfig(rows: 3, cols: 2, a: FixedPoint(bits: 6, frac: f == .binary ? 0 : 3), b: FixedPoint(bits: 6, frac: f.codesWeightValues ? 0 : 3),
                    maxK: 256, output: FixedPoint(bits: 8, frac: f == .binary ? 0 : 1), rounding: .stochastic, seed: 0x3C,
                    zeroGating: f != .binary, relu: f == .ternary, format: f)
    }

    /// C·R·S = 18 and 20 terms: neither a multiple of the 3 rows; 5 filters over 2 columns.
    static let layers = [
        ConvShape(channels: 2, filters: 5, height: 5, width: 6, filterHeight: 3, filterWidth: 3),
        ConvShape(batch: 2, channels: 5, filters: 3, height: 4, width: 4, filterHeight: 2, filterWidth: 2, stride: 2),
    ]

    static func check(_ engine: any ConvEngine, _ f: NumberFormat) throws {
        let codes = engine.array.operandCodes()
        for (i, shape) in layers.enumerated() {
            let (input, weights) = ConvStimulus.random(shape, codes: codes, sparsity: 0.25, seed: UInt64(i + 1))
            let run = try engine.run(shape, input: input, weights: weights)
            #expect(run.mismatches == 0, "\(f) layer \(i): \(run.firstMismatch ?? "") \(run.waveform ?? "")")
            #expect(run.hardwareCounts == run.analyticCounts, "\(f) layer \(i)")
        }
    }

    @Test("output stationary", arguments: formats)
    func outputStationary(_ f: NumberFormat) throws {
        try Self.check(try OutputStationaryEngine(config: Self.array(f), initialState: .random(seed: 9)), f)
    }

    @Test("weight stationary", arguments: formats)
    func weightStationary(_ f: NumberFormat) throws {
        let config = WeightStationaryConfig(Self.array(f), psumRegisters: 32)
        try Self.check(try WeightStationaryEngine(config: config, initialState: .random(seed: 9)), f)
    }

    @Test("zero weights are gated: all-zero ternary weights skip every MAC, half-zero powers of two skip those")
    func zeroWeights() throws {
        let shape = ConvShape(channels: 2, filters: 3, height: 4, width: 4, filterHeight: 2, filterWidth: 2)
        let config = WeightStationaryConfig(Self.array(.ternary), psumRegisters: 32)
        // No zero activations (codes of s6.3 drawn away from 0), ternary code 0b01 is a zero weight.
        let input = (0..<shape.inputCount).map { $0 % 7 + 1 }
        let run = try WeightStationaryEngine(config: config).run(shape, input: input, weights: Array(repeating: 0b01, count: shape.weightCount))
        #expect(run.mismatches == 0)
        #expect(run.hardwareCounts.gatedMACs == shape.macs)
        #expect(run.hardwareCounts.macs == 0)
        #expect(run.got.allSatisfy { $0 == 0 })
        // pow2e3: filter 0's weights are zero (e = 0, either sign), the others ±1: a third of the MACs.
        let pow2 = WeightStationaryConfig(Self.array(.powerOfTwo(exponentBits: 3)), psumRegisters: 32)
        let perFilter = shape.weightCount / shape.filters
        let weights = (0..<shape.weightCount).map { $0 < perFilter ? ($0 % 2) << 3 : 0b0001 | ($0 % 2) << 3 }
        let mixed = try WeightStationaryEngine(config: pow2).run(shape, input: input, weights: weights)
        #expect(mixed.mismatches == 0)
        #expect(mixed.hardwareCounts.gatedMACs * 3 == shape.macs)
        #expect(mixed.hardwareCounts == mixed.analyticCounts)
    }

    @Test("binary activations refuse a padded layer, and row stationary refuses coded formats")
    func refusals() throws {
        let padded = ConvShape(channels: 1, filters: 1, height: 4, width: 4, filterHeight: 3, filterWidth: 3, padding: 1)
        #expect(throws: ParameterError("padding", 1, allowed: "0 with --format binary (binary activations have no zero to pad with)")) {
            try OutputStationaryMapper(config: Self.array(.binary)).validate(padded)
        }
        #expect(throws: ParameterError.self) {
            try RowStationary.validate(RowStationaryConfig(Self.array(.ternary)))
        }
    }
}
