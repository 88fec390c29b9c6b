import Conv
import Cores
import Dataflows
import Golden
import Model
import Testing

/// The OS mapper's closed forms against counting every event of the tiled im2col GEMM one
/// by one, as the array meets them.
@Suite struct OutputStationaryMapperTests {
    static func bruteForce(_ s: ConvShape, input: [Int], config c: ArrayConfig) -> DataMovement {
        let a = ConvModel.im2col(s, input: input)
        let (R, C) = (c.rows, c.cols)
        var d = DataMovement()
        let tilesM = (a.rows + R - 1) / R, tilesN = (s.filters + C - 1) / C
        for tm in 0..<tilesM {
            for _ in 0..<tilesN {
                for k in 0..<a.cols {
                    d.bufferReads += R + C
                    for i in 0..<R {
                        let x = tm * R + i < a.rows ? a[tm * R + i, k] : 0
                        for j in 0..<C {
                            if c.zeroGating && x == 0 { d.gatedMACs += 1 } else { d.macs += 1; d.registerFileReads += 1; d.registerFileWrites += 1 }
                            if j + 1 < C { d.peToPE += 1 }  // a to the east neighbour
                            if i + 1 < R { d.peToPE += 1 }  // b to the south neighbour
                        }
                    }
                }
                // Results leave through the column's read-out multiplexer: no PE-to-PE hops.
                d.bufferWrites += R * C
            }
        }
        d.dramReads = s.inputCount + s.weightCount
        d.dramWrites = s.outputCount
        return d
    }

    @Test(arguments: [false, true])
    func analyticEqualsBruteForce(gating: Bool) throws {
        let shapes = [Presets.small[0].shape, Presets.small[1].shape, Presets.small[3].shape,
                      ConvShape(channels: 2, filters: 5, height: 6, width: 5, filterHeight: 1, filterWidth: 1, stride: 2)]
        for (index, s) in shapes.enumerated() {
            for (R, C) in [(2, 2), (3, 4), (4, 3)] {
                let config = ArrayConfig(rows: R, cols: C, zeroGating: gating)
                let mapper = OutputStationaryMapper(config: config)
                try mapper.validate(s)
                // A third of the activations zero, in a pattern that varies along every axis.
                let input = (0..<s.inputCount).map { ($0 * 7 + index) % 3 == 0 ? 0 : ($0 * 29 + 3) % 255 - 127 }
                #expect(mapper.counts(s, input: input) == Self.bruteForce(s, input: input, config: config), "\(s) on \(R)x\(C)")
                let dense = (0..<s.inputCount).map { _ in 1 }
                #expect(mapper.counts(s, input: nil) == Self.bruteForce(s, input: dense, config: config), "\(s) dense on \(R)x\(C)")
            }
        }
    }

    @Test func layerTooDeepForTheAccumulator() {
        let mapper = OutputStationaryMapper(config: ArrayConfig(rows: 4, cols: 4, maxK: 64, zeroGating: true))
        #expect(throws: ParameterError.self) { try mapper.validate(Presets.small[3].shape) }  // K = 363
        do { try mapper.validate(Presets.small[3].shape) } catch let e as ParameterError {
            #expect(e.parameter == "max-reduction")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func alexnetOn16x16() throws {
        let mapper = OutputStationaryMapper(config: ArrayConfig(rows: 16, cols: 16, zeroGating: true))
        for layer in Presets.alexnet {
            try mapper.validate(layer.shape)
            let d = mapper.counts(layer.shape, input: nil)
            let g = OutputStationaryMapper.gemm(layer.shape)
            // Padding lanes of the last row tile and the layer's zero padding are gated; the rest
            // are the layer's MACs exactly.
            #expect(d.macs + d.gatedMACs >= layer.shape.macs)
            #expect(d.macs <= layer.shape.macs)
            #expect(d.bufferReads >= g.m * g.k)  // im2col: more reads than the layer has inputs
            #expect(mapper.cycles(layer.shape) > layer.shape.macs / 256)
        }
    }
}
