import Conv
import Cores
import Dataflows
import Golden
import Model
import Testing

/// Presets reproduce the figures of Sze et al. (Proc. IEEE 2017); bad shapes are refused naming the flag.
@Suite struct PresetTests {
    static func layer(_ name: String) throws -> ConvShape { try #require(try Presets.named(name).first).shape }

    @Test func everyPresetIsValid() throws {
        for layer in Presets.all { try layer.shape.validate() }
        #expect(Set(Presets.all.map(\.name)).count == Presets.all.count)
    }

    /// Sze et al. (Proc. IEEE 2017), AlexNet layer table (R, M, C, stride) and the per-layer
    /// figures 34k/307k/885k params and 105M/224M/150M MACs; 2.3M weights and 666M MACs in all.
    @Test func alexnetMatchesTheSeed() throws {
        let table: [(r: Int, m: Int, c: Int, stride: Int)] = [(11, 96, 3, 4), (5, 256, 48, 1), (3, 384, 256, 1), (3, 384, 192, 1), (3, 256, 192, 1)]
        #expect(Presets.alexnet.count == 5)
        for (layer, row) in zip(Presets.alexnet, table) {
            let s = layer.shape
            #expect(s.filterHeight == row.r && s.filterWidth == row.r && s.filters == row.m && s.channels == row.c && s.stride == row.stride)
        }
        let s = Presets.alexnet.map(\.shape)
        #expect(s[0].height == 227 && s[0].width == 227 && s[0].outHeight == 55)
        #expect(s[0].weightCount / 1000 == 34)  // 34,848: "34k"
        #expect(s[1].weightCount / 1000 == 307)
        #expect((s[2].weightCount + 500) / 1000 == 885)
        #expect((s[0].macs + 500_000) / 1_000_000 == 105)
        #expect((s[1].macs + 500_000) / 1_000_000 == 224)
        #expect((s[2].macs + 500_000) / 1_000_000 == 150)
        #expect((s.reduce(0) { $0 + $1.macs } + 500_000) / 1_000_000 == 666)
        #expect((s.reduce(0) { $0 + $1.weightCount } + 50_000) / 100_000 == 23)  // 2.3M
        // Every CONV2–5 output map keeps its input's size (padding (R-1)/2, stride 1).
        for shape in s.dropFirst() { #expect(shape.outHeight == shape.height && shape.outWidth == shape.width) }
    }

    /// Sze et al. (Proc. IEEE 2017), LeNet-5 column: 5×5 filters, 1 and 6 channels, 6 and 16 filters, stride 1, 2.6k weights.
    @Test func lenetMatchesTheSeed() throws {
        let c1 = try Self.layer("lenet-c1"), c3 = try Self.layer("lenet-c3")
        #expect(c1.channels == 1 && c1.filters == 6 && c1.height == 32 && c1.outHeight == 28 && c1.filterHeight == 5)
        #expect(c3.channels == 6 && c3.filters == 16 && c3.height == 14 && c3.outHeight == 10 && c3.filterWidth == 5)
        #expect((c1.weightCount + c3.weightCount + 50) / 100 == 26)
        #expect(c1.macs == 117_600 && c3.macs == 240_000)
    }

    @Test func groupsAndUnknownNames() throws {
        #expect(try Presets.named("alexnet").map(\.name) == (1...5).map { "alexnet-conv\($0)" })
        #expect(try Presets.named("lenet").count == 2)
        #expect(throws: ParameterError.self) { try Presets.named("vgg16") }
        do { _ = try Presets.named("vgg16") } catch let e as ParameterError {
            #expect(e.parameter == "layer" && e.allowed.contains("alexnet-conv3"))
        }
    }

    @Test(arguments: [
        ("stride", ConvShape(channels: 1, filters: 1, height: 4, width: 4, filterHeight: 3, filterWidth: 3, stride: 0)),
        ("batch", ConvShape(batch: 0, channels: 1, filters: 1, height: 4, width: 4, filterHeight: 3, filterWidth: 3)),
        ("channels", ConvShape(channels: 0, filters: 1, height: 4, width: 4, filterHeight: 3, filterWidth: 3)),
        ("filters", ConvShape(channels: 1, filters: 1 << 17, height: 4, width: 4, filterHeight: 3, filterWidth: 3)),
        ("filter-width", ConvShape(channels: 1, filters: 1, height: 4, width: 4, filterHeight: 3, filterWidth: 0)),
        ("filter-height", ConvShape(channels: 1, filters: 1, height: 4, width: 4, filterHeight: 7, filterWidth: 7, padding: 1)),
        ("filter-width", ConvShape(channels: 1, filters: 1, height: 9, width: 4, filterHeight: 5, filterWidth: 5)),
        ("padding", ConvShape(channels: 1, filters: 1, height: 4, width: 4, filterHeight: 3, filterWidth: 3, padding: 3)),
        ("padding", ConvShape(channels: 1, filters: 1, height: 4, width: 4, filterHeight: 3, filterWidth: 3, padding: -1)),
    ])
    func invalidShapesNameTheFlag(_ flag: String, _ shape: ConvShape) {
        #expect(throws: ParameterError.self) { try shape.validate() }
        do { try shape.validate() } catch let e as ParameterError {
            #expect(e.parameter == flag)
            #expect(!e.description.contains("\n"))
        } catch { Issue.record("unexpected \(error)") }
    }
}

/// The direct convolution and its im2col GEMM on more shapes: non-square filters and inputs,
/// stride 3, batches, a filter as large as the padded input.
@Suite struct Im2colTests {
    @Test(arguments: [
        ConvShape(batch: 3, channels: 2, filters: 3, height: 5, width: 8, filterHeight: 2, filterWidth: 3, stride: 1, padding: 1),
        ConvShape(batch: 1, channels: 4, filters: 2, height: 11, width: 10, filterHeight: 4, filterWidth: 3, stride: 3, padding: 2),
        ConvShape(batch: 2, channels: 1, filters: 5, height: 3, width: 3, filterHeight: 5, filterWidth: 5, stride: 1, padding: 1),
    ])
    func im2colEqualsDirect(_ s: ConvShape) throws {
        try s.validate()
        let input = (0..<s.inputCount).map { ($0 * 73 + 11) % 256 - 128 }
        let weights = (0..<s.weightCount).map { ($0 * 41 + 5) % 256 - 128 }
        let direct = ConvModel.accumulate(s, input: input, weights: weights)
        let gemm = GEMMModel.multiply(a: ConvModel.im2col(s, input: input), b: ConvModel.filterMatrix(s, weights: weights), accBits: 40, signed: true)
        let plane = s.outHeight * s.outWidth
        for row in 0..<gemm.rows {
            for m in 0..<s.filters {
                #expect(Int128(direct[s.outputIndex(n: row / plane, m: m, e: row % plane / s.outWidth, f: row % s.outWidth)]) == gemm[row, m])
            }
        }
    }
}

/// Energy from counts: a hand-computed example.
@Suite struct ConvEnergyTests {
    @Test func handComputedExample() {
        // s8 × s8, accumulator 8 + 8 + log2(4096) = 28 bits. Multiply 8b×8b: 0.2 pJ; a 28-bit add
        // lies on the 16b–32b segment (0.05 → 0.1 pJ, exponent 1): 0.05 · 28/16 = 0.0875 pJ.
        let config = ArrayConfig(rows: 4, cols: 4, zeroGating: true)
        #expect(config.accBits == 28)
        let unit = 0.2875
        let model = EnergyModel(Datapath(config))
        #expect(abs(model.mac - unit) < 1e-12)
        let counts = DataMovement(macs: 10, gatedMACs: 2, registerFileReads: 10, registerFileWrites: 10, peToPE: 5,
                                  bufferReads: 4, bufferWrites: 2, dramReads: 3, dramWrites: 1)
        let e = model.estimate(counts, layerMACs: 12)
        // 10 MACs + 20 RF × 1 + 5 hops × 2 + 6 buffer × 6 + 4 DRAM × 200 = 876 MAC-equivalents.
        #expect(Set(e.breakdown.keys) == ["mac", "registerFile", "peToPE", "buffer", "dram"])
        #expect(abs(e.breakdown["mac"]! - 2.875) < 1e-9)
        #expect(abs(e.breakdown["registerFile"]! - 5.75) < 1e-9)
        #expect(abs(e.breakdown["peToPE"]! - 2.875) < 1e-9)
        #expect(abs(e.breakdown["buffer"]! - 10.35) < 1e-9)
        #expect(abs(e.breakdown["dram"]! - 230) < 1e-9)
        #expect(abs(e.totalPicojoules - 251.85) < 1e-9)
        #expect(abs(e.picojoulesPerMAC - 251.85 / 12) < 1e-9)
        #expect(abs(e.breakdown.values.reduce(0, +) - e.totalPicojoules) < 1e-9)
    }
}
