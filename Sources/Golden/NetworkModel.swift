import Model

/// The golden integer network: a `QuantizedNetwork` run stage by stage in plain integers, the
/// reference every hardware run of a network is compared with.
///
/// Each stage follows the contract of `QuantizedNetwork` (Sources/Model/Network.swift): codes
/// become values (`OperandCode`), the convolution is an im2col GEMM whose sums are rounded by
/// the output-stationary array's model (`SystolicModel`: its ROUND units' LFSRs carry on from
/// stage to stage and image batch to image batch, as in the hardware), or compared with their
/// thresholds; the post-processing core's bias, ReLU, narrowing and pooling is `PoolingModel`.
/// Images go through in batches; a batch of n images is one GEMM per stage with n times the
/// rows, so the order in which columns round (and so every stochastic rounding) depends on the
/// batch size, which hardware and model must share.
public struct NetworkModel: Sendable {
    public let network: QuantizedNetwork
    /// What each stage's input and weight codes stand for.
    public let codes: [(a: OperandCode, b: OperandCode)]
    /// One model per array of the design (a BNN has a binary array and a binary-weight one);
    /// `arrayOfStage[s]` says which runs stage s.
    private var arrays: [SystolicModel]
    public let arrayOfStage: [Int]

    public init(network: QuantizedNetwork, codes: [(a: OperandCode, b: OperandCode)], arrays: [SystolicModel], arrayOfStage: [Int]) {
        precondition(codes.count == network.stages.count && arrayOfStage.count == network.stages.count, "one code pair and array per stage")
        precondition(arrayOfStage.allSatisfy(arrays.indices.contains), "a stage names an array that is not there")
        self.network = network
        self.codes = codes
        self.arrays = arrays
        self.arrayOfStage = arrayOfStage
    }

    /// Back to the state after reset: every array's LFSRs reload their seeds.
    public mutating func reset() {
        for i in arrays.indices { arrays[i].reset() }
    }

    /// Input codes of images given as bytes (pixel p/255): `round(p/255 · 2^frac)`, exactly,
    /// as `(2·p·2^frac + 255) / 510`, limited to the largest code of `bits` signed bits.
    public static func inputCodes(pixels: [UInt8], frac: Int, bits: Int) -> [Int] {
        let top = (1 << (bits - 1)) - 1
        return pixels.map { min((2 * Int($0) << frac + 255) / 510, top) }
    }

    /// A network's input codes: its `inputTable` looked up, or else `inputCodes(pixels:frac:bits:)`.
    public static func inputCodes(pixels: [UInt8], network: QuantizedNetwork) -> [Int] {
        if let table = network.inputTable { return pixels.map { table[Int($0)] } }
        return inputCodes(pixels: pixels, frac: network.inputFrac, bits: network.stages[0].activation.bits)
    }

    /// The class a stage's logits stand for: the index of the largest, the lowest on a tie.
    public static func classify(_ logits: ArraySlice<Int>) -> Int {
        var best = logits.startIndex
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best - logits.startIndex
    }

    /// Stage `s` on a batch of `images` inputs (NCHW codes): the array's outputs (NMEF: rounded
    /// sums, or threshold bits) and the post-processing core's results (NCHW of the next stage).
    public mutating func stage(_ s: Int, input: [Int], images: Int) -> (outputs: [Int], results: [Int]) {
        let stage = network.stages[s]
        var shape = stage.layer
        shape.batch = images
        precondition(input.count == shape.inputCount, "stage \(s) takes \(shape.inputCount) codes, not \(input.count)")
        let (ca, cb) = codes[s]
        let a = ConvModel.im2col(shape, input: input).map(ca.value)
        let b = ConvModel.filterMatrix(shape, weights: stage.weights).map(cb.value)
        let plane = shape.outHeight * shape.outWidth
        var outputs = [Int](repeating: 0, count: shape.outputCount)
        // GEMM row (n, e, f) and column m is output (n, m, e, f).
        func scatter(_ c: Matrix<Int128>) {
            for row in 0..<c.rows {
                let (n, pixel) = (row / plane, row % plane)
                for m in 0..<c.cols { outputs[(n * shape.filters + m) * plane + pixel] = Int(c[row, m]) }
            }
        }
        if let requantization = stage.requantization {
            // The requantizer takes the exact sums (the accumulator is sized to hold them).
            let sums = GEMMModel.multiply(a: a, b: b, accBits: 127, signed: true)
            let output = FixedFormat(wordLength: stage.outputBits, fracLength: 0, signed: true)
            let channels = requantization.map { Requantization(bias: Int128($0.bias), multiplier: Int128($0.multiplier), shift: $0.shift) }
            scatter(Matrix(rows: sums.rows, cols: sums.cols) { i, j in channels[j].apply(sums[i, j], maxShift: 126, output: output) })
        } else if let thresholds = stage.thresholds {
            // The array's thresholds compare the exact (wide enough) sums; no ROUND unit runs.
            let sums = GEMMModel.multiply(a: a, b: b, accBits: 127, signed: true)
            scatter(Matrix(rows: sums.rows, cols: sums.cols) { i, j in
                Threshold(Int128(thresholds[j].value), flip: thresholds[j].flip).activation(sums[i, j])
            })
        } else {
            arrays[arrayOfStage[s]].setShift(stage.shift)
            scatter(arrays[arrayOfStage[s]].gemm(a: a, b: b).c)
        }
        let results = post(s, outputs: outputs, images: images)
        return (outputs, results)
    }

    /// Stage `s`'s post-processing core on a batch's array outputs (NMEF): per-filter bias,
    /// ReLU, narrowing and pooling, or for threshold bits pooling alone.
    public func post(_ s: Int, outputs: [Int], images: Int) -> [Int] {
        let stage = network.stages[s]
        let l = stage.layer
        let maps = TensorShape(channels: l.filters, height: l.outHeight, width: l.outWidth)
        return (0..<images).flatMap { n -> [Int] in
            let image = Array(outputs[n * maps.count..<(n + 1) * maps.count])
            return stage.thresholds == nil
                ? PoolingModel.apply(image, shape: maps, bias: stage.bias, relu: stage.relu, inputBits: stage.outputBits,
                                     resultBits: stage.resultBits, pool: stage.pool)
                : PoolingModel.applyBinary(image, shape: maps, pool: stage.pool)
        }
    }

    /// The logits of a batch of images (input codes, NCHW), one array per image.
    public mutating func logits(input: [Int], images: Int) -> [[Int]] {
        var x = input
        for s in network.stages.indices { x = stage(s, input: x, images: images).results }
        let each = x.count / max(images, 1)
        return (0..<images).map { Array(x[$0 * each..<($0 + 1) * each]) }
    }
}
