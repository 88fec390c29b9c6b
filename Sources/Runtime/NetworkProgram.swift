import Accelerator
import Cores
import Golden
import Model

/// Compiles a `QuantizedNetwork` of dense layers for an accelerator into one program and a
/// DRAM image (docs/ACCELERATOR.md, Networks). Each layer is the golden network's GEMM for one
/// image: the activations are A (one per beat, in lane 0 of a bank A row), the weights B (tile
/// column t: K rows of C weights), so the array rounds every output exactly where the golden
/// model's array does. Tile t's one useful row lands in bank C row t (tile t + 1 writes rows
/// t + 1…, over tile t's padding rows), OUTPUT adds the biases, applies ReLU, narrows and
/// transposes the layer's results into bank A for the next layer, and a STORE puts each layer's
/// results in its own DRAM region. Tile columns of weights are double-buffered in bank B where
/// two fit.
public struct NetworkProgram: Sendable {
    public let program: [ISA.Instruction]
    /// Regions written once (program, biases, weights): (address, bytes).
    public let image: [(address: UInt64, bytes: [UInt8])]
    public let programBase: UInt64
    /// Where the host writes an image's input codes (`inputBytes`).
    public let inputBase: UInt64
    public let window: Range<UInt64>
    public let layers: [Layer]
    let config: AcceleratorConfig

    /// A layer as the program runs it.
    public struct Layer: Sendable {
        public let name: String
        public let inputs: Int, outputs: Int
        /// Instructions from this layer's first on belong to it (up to the next layer's).
        public let firstInstruction: Int
        /// Its results in DRAM: row t holds outputs t·C…, `laneBits` each, from bit 0.
        public let outputBase: UInt64
        public let laneBits: Int
        public let weightBytes: Int
    }

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    public init(network: QuantizedNetwork, config c: AcceleratorConfig, base: UInt64 = 0x1000) throws {
        let (R, C) = (c.array.rows, c.array.cols)
        let (wA, wB, wOut) = (c.array.aCode.width, c.array.bCode.width, c.array.outputCode.width)
        let stages = network.stages
        guard !stages.isEmpty else { throw Refusal(description: "the network has no layers") }
        func name(_ s: Int) -> String {
            let l = stages[s].layer
            let dense = l.height == 1 && l.width == 1 && l.filterHeight == 1 && l.filterWidth == 1
            return "layer \(s) (\(dense ? "dense \(l.channels)->\(l.filters)" : "conv \(l.filterHeight)x\(l.filterWidth)x\(l.channels)->\(l.filters)"))"
        }
        // What the accelerator runs today: dense layers of one fixed-point array format.
        for (s, st) in stages.enumerated() {
            let l = st.layer
            guard l.height == 1 && l.width == 1 && l.filterHeight == 1 && l.filterWidth == 1 && l.padding == 0 else {
                throw Refusal(description: "\(name(s)) is a convolution: the accelerator runs dense layers only (im2col in LOAD and POOL are later work)")
            }
            guard st.pool == nil else { throw Refusal(description: "\(name(s)) pools: POOL is later work") }
            guard st.thresholds == nil && st.codebook == nil, st.format == .fixed, c.array.format == .fixed else {
                throw Refusal(description: "\(name(s)) is \(st.format): the accelerator runs fixed-point networks only (codebooks and thresholds are later work)")
            }
            guard st.activation.bits == wA, st.weight.bits == wB, st.outputBits == wOut, c.array.aCode.isSigned, c.array.outputCode.isSigned else {
                throw Refusal(description: "\(name(s)) has \(st.activation.bits)-bit activations, \(st.weight.bits)-bit weights and \(st.outputBits)-bit outputs; the array takes \(wA), \(wB) and \(wOut) (signed)")
            }
            guard (0...c.array.dropBits).contains(st.shift) else {
                throw Refusal(description: "\(name(s)) drops \(st.shift) bits; the array drops 0...\(c.array.dropBits)")
            }
            let last = s == stages.count - 1
            guard st.resultBits == (last ? wOut : wA) else {
                throw Refusal(description: "\(name(s)) saturates to \(st.resultBits) bits; OUTPUT saturates \(last ? "the last layer to the output width \(wOut)" : "hidden layers to the A code width \(wA)")")
            }
            if s > 0 && stages[s - 1].layer.filters != l.channels {
                throw Refusal(description: "\(name(s)) takes \(l.channels) inputs, but layer \(s - 1) gives \(stages[s - 1].layer.filters)")
            }
        }
        let K = stages.map(\.layer.channels), N = stages.map(\.layer.filters)
        let T = N.map { ($0 + C - 1) / C }
        let (dA, dB, dC) = (c.depth(.a), c.depth(.b), c.depth(.c))
        // Sizes: bank A holds a layer's inputs (the next layer's: T·C rows from OUTPUT), bank B
        // one tile column of weights (K rows), bank C the tiles' rows and every layer's biases.
        func scratchpadNeeded(_ fits: (AcceleratorConfig) -> Bool) -> String {
            var d = c
            for kib in AcceleratorConfig.scratchpadKiBRange {
                d.scratchpadKiB = kib
                if fits(d) { return "at least --scratchpad-kib \(kib)" }
            }
            return "more than --scratchpad-kib \(AcceleratorConfig.scratchpadKiBRange.upperBound)"
        }
        for s in stages.indices {
            let aRows = max(K[s], s + 1 < stages.count ? T[s] * C : 0)
            if aRows > dA || K[s] > dB || K[s] > 65535 {
                let need = scratchpadNeeded { $0.depth(.a) >= aRows && $0.depth(.b) >= K[s] }
                throw Refusal(description: "\(name(s)) does not fit: it needs \(aRows) rows in bank A and \(K[s]) in bank B (one tile column of weights, \(K[s] * c.rowBytes(.b)) bytes), which have \(dA) and \(dB) (--scratchpad-kib \(c.scratchpadKiB); \(need))")
            }
        }
        let hasBias = stages.map { $0.bias.contains { $0 != 0 } }
        let tileArea = zip(T, N).map { t, _ in t + R - 1 }.max()!
        let biasRows = zip(T, hasBias).map { $1 ? $0 : 0 }
        let cRows = tileArea + biasRows.reduce(0, +)
        if cRows > dC {
            let s = T.indices.max { T[$0] < T[$1] }!
            var need = 1
            while need < AcceleratorConfig.outputKiBRange.upperBound {
                var d = c
                d.outputKiB = need
                if d.depth(.c) >= cRows { break }
                need += 1
            }
            throw Refusal(description: "\(name(s)) does not fit: its \(N[s]) outputs need \(tileArea) rows of bank C (\(T[s]) tiles of \(R) rows, overlapped) and the biases \(cRows - tileArea) more, which has \(dC) (--output-kib \(c.outputKiB); at least --output-kib \(need))")
        }

        let (rowA, rowB, rowC) = (c.rowBytes(.a), c.rowBytes(.b), c.rowBytes(.c))
        func align(_ x: UInt64) -> UInt64 { (x + 4095) / 4096 * 4096 }
        // The program for given region addresses (its length does not depend on them).
        var biasRowOf: [Int] = []
        var row = tileArea
        for s in stages.indices { biasRowOf.append(row); row += biasRows[s] }
        func build(input: UInt64, bias: UInt64, weights: [UInt64], outputs: [UInt64]) -> (program: [ISA.Instruction], starts: [Int]) {
            var p: [ISA.Instruction] = [.config(shift: stages[0].shift, reseed: true)]
            if biasRows.reduce(0, +) > 0 { p.append(.load(bank: 2, row: tileArea, rows: biasRows.reduce(0, +), stride: rowC, dram: bias)) }
            p.append(.load(bank: 0, row: 0, rows: K[0], stride: rowA, dram: input))
            var starts: [Int] = []
            func slotsOf(_ s: Int) -> Int { min(2, dB / K[s]) }
            func loadB(_ s: Int, _ t: Int) {
                p.append(.load(bank: 1, row: (t % slotsOf(s)) * K[s], rows: K[s], stride: rowB, dram: weights[s] + UInt64(t * K[s] * rowB)))
            }
            for s in stages.indices {
                starts.append(p.count)
                if s > 0 { p.append(.config(shift: stages[s].shift, reseed: false)) } else { loadB(0, 0) }
                let slots = slotsOf(s)
                for t in 0..<T[s] {
                    // With two slots the next tile column loads while this one computes; with
                    // one, after it.
                    if slots == 2 { if t + 1 < T[s] { loadB(s, t + 1) } } else if t > 0 { loadB(s, t) }
                    p.append(.gemm(a: 0, b: (t % slots) * K[s], k: K[s], c: t))
                }
                let last = s == stages.count - 1
                // The next layer's first weights load while this one's results are processed.
                if !last { loadB(s + 1, 0) }
                p.append(.output(c: 0, rows: T[s], bias: hasBias[s] ? biasRowOf[s] : nil, a: last ? nil : 0, relu: stages[s].relu))
                p.append(.store(row: 0, rows: T[s], stride: rowC, dram: outputs[s]))
            }
            p.append(.finish)
            return (p, starts)
        }
        let count = build(input: 0, bias: 0, weights: K.map { _ in 0 }, outputs: K.map { _ in 0 }).program.count
        var at = align(base + UInt64(16 * count))
        let inputBase = at
        at = align(at + UInt64(K[0] * rowA))
        let biasBase = at
        at = align(at + UInt64(biasRows.reduce(0, +) * rowC))
        var weightBases: [UInt64] = [], outputBases: [UInt64] = []
        for s in stages.indices {
            weightBases.append(at)
            at = align(at + UInt64(T[s] * K[s] * rowB))
        }
        for s in stages.indices {
            outputBases.append(at)
            at = align(at + UInt64(T[s] * rowC))
        }
        let (p, starts) = build(input: inputBase, bias: biasBase, weights: weightBases, outputs: outputBases)

        var image: [(address: UInt64, bytes: [UInt8])] = [(base, ISA.bytes(p))]
        var biasImage: [UInt8] = []
        for (s, st) in stages.enumerated() where hasBias[s] {
            for t in 0..<T[s] { biasImage += Self.row(C, width: wOut, bytes: rowC) { j in t * C + j < N[s] ? Int128(st.bias[t * C + j]) : 0 } }
        }
        if !biasImage.isEmpty { image.append((biasBase, biasImage)) }
        for (s, st) in stages.enumerated() {
            // Weights MCRS of a dense layer: W[m][k] at m·K + k; tile column t, row k: W[t·C + j][k].
            var w: [UInt8] = []
            w.reserveCapacity(T[s] * K[s] * rowB)
            for t in 0..<T[s] {
                for k in 0..<K[s] { w += Self.row(C, width: wB, bytes: rowB) { j in t * C + j < N[s] ? Int128(st.weights[(t * C + j) * K[s] + k]) : 0 } }
            }
            image.append((weightBases[s], w))
        }
        program = p
        self.image = image
        programBase = base
        self.inputBase = inputBase
        window = base..<at
        layers = stages.indices.map { s in
            Layer(name: name(s), inputs: K[s], outputs: N[s], firstInstruction: starts[s], outputBase: outputBases[s],
                  laneBits: s == stages.count - 1 ? wOut : wA, weightBytes: T[s] * K[s] * rowB)
        }
        config = c
    }

    /// `count` fields of `width` bits from bit 0, in `bytes` bytes (a bank row in DRAM).
    static func row(_ count: Int, width: Int, bytes: Int, _ value: (Int) -> Int128) -> [UInt8] {
        var words: [UInt64] = []
        SystolicHarness.pack(count, width: width, into: &words, value)
        var out = words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
        out += [UInt8](repeating: 0, count: max(0, bytes - out.count))
        return Array(out.prefix(bytes))
    }

    /// The first layer's input region for an image's codes: code k in lane 0 of row k.
    public func inputBytes(codes: [Int]) -> [UInt8] {
        precondition(codes.count == layers[0].inputs, "the first layer takes \(layers[0].inputs) codes, not \(codes.count)")
        let c = config
        return codes.flatMap { code in Self.row(1, width: c.array.aCode.width, bytes: c.rowBytes(.a)) { _ in Int128(code) } }
    }

    /// Layer `s`'s results as the program left them in DRAM.
    public func results(of s: Int, from dram: AXIDRAM) -> [Int] {
        let l = layers[s], C = config.array.cols, rowC = config.rowBytes(.c)
        return (0..<l.outputs).map { n in
            let bytes = dram.read(rowC, at: l.outputBase + UInt64((n / C) * rowC))
            var words = [UInt64](repeating: 0, count: (bytes.count + 7) / 8)
            for (x, byte) in bytes.enumerated() { words[x / 8] |= UInt64(byte) << (8 * UInt64(x % 8)) }
            return Int(SystolicHarness.field(words[...], at: (n % C) * l.laneBits, width: l.laneBits, signed: true))
        }
    }

    /// The golden network for this accelerator's array, as after reset: `NetworkModel` with
    /// the array's model (its program reseeds the LFSRs at every start, so reset it per image).
    public static func golden(_ network: QuantizedNetwork, config c: AcceleratorConfig) -> NetworkModel {
        let a = c.array
        let model = SystolicModel(rows: a.rows, cols: a.cols, a: a.a.golden, b: a.b.golden, accBits: a.accBits, output: a.output.golden,
                                  mode: a.rounding, lfsrWidth: a.lfsrWidth, seed: a.seed, draw: a.lfsrStep)
        return NetworkModel(network: network, codes: network.stages.map { _ in a.operandCodes() }, arrays: [model],
                            arrayOfStage: network.stages.map { _ in 0 })
    }
}
