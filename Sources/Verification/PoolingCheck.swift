import Cosim
import Cores
import Foundation
import Golden
import HDL
import Model
import Runtime

/// The pooling core against `PoolingModel`, plane by plane: random planes of many widths and
/// heights (1 up to the maximum, multiples of k and leftovers), random bias (extremes of
/// the `bias` port included) and ReLU on and off, planes of extreme values (saturation at
/// both ends), average ties (window sums of n·q + n/2), bubbles (cycles without a valid
/// value, carrying garbage), resets in the middle of a plane followed by full planes, and
/// whatever random state the registers powered up in.
///
/// Every cycle's `out_valid` and `y` are compared. The expectation comes from the contract
/// alone: `PoolingModel` gives each plane's results, and the value that completes window
/// (i, j) of a plane, the one at row i·k + k - 1, column j·k + k - 1 (any value without
/// pooling), shows its result on the next cycle; `y` holds the latest result, 0 after reset.
public enum PoolingCheck {
    /// `model` defaults to `c`; a different one makes a deliberately wrong reference (tests
    /// use it to show that a disagreement is caught).
    public static func run(_ c: PoolingConfig, randomCycles: Int = 10_000, seed: UInt64 = 1, model modelConfig: PoolingConfig? = nil,
                           initialState: InitialState = .default) throws -> CheckReport {
        let top = try Pooling.module(c)
        let io = Pooling.Interface(c)
        let mc = modelConfig ?? c
        var g = SplitMix64(seed: seed)
        let inputs = [Port.reset] + io.inputs
        let column = Dictionary(uniqueKeysWithValues: inputs.enumerated().map { ($1.name, $0) })
        let xShape = c.inputShape, biasShape = c.biasShape

        var rows: [[Int128]] = []
        var expectValid: [Int128?] = []
        var expectY: [Int128?] = []
        // The state the next row's sample shows: unknown until the first reset edge.
        var validState: Int128? = nil, yState: Int128? = nil
        var held = [Int128](repeating: 0, count: inputs.count)
        func random(_ s: Shape) -> Int128 { Int128.random(in: s.minValue...s.maxValue, using: &g) }
        /// One cycle: `set` fills in this row's inputs over the held ones (x and bias random
        /// unless set); `result` is what the edge puts in the output registers.
        func cycle(reset: Bool = false, valid: Bool, _ set: [String: Int128] = [:], result: Int128? = nil) {
            var row = held
            row[0] = reset ? 1 : 0
            row[column[io.inValid.name]!] = valid ? 1 : 0
            row[column[io.x.name]!] = random(xShape)
            if let b = io.bias { row[column[b.name]!] = random(biasShape) }
            for (name, v) in set { row[column[name]!] = v }
            rows.append(row)
            expectValid.append(validState)
            expectY.append(yState)
            if reset {
                (validState, yState) = (0, 0)
            } else if let result {
                (validState, yState) = (1, result)
            } else if validState != nil {
                validState = 0
            }
        }
        let modelPool: QuantizedNetwork.Pool? = switch mc.pool {
        case .max: QuantizedNetwork.Pool(.max, size: mc.size)
        case .average: QuantizedNetwork.Pool(.average, size: mc.size)
        case .none: nil
        }

        /// Streams one plane (holding width and height), with bubbles at probability
        /// `bubbles`/1000, and a one-cycle reset after `resetAfter` values (the rest is dropped).
        func plane(height: Int, width: Int, values: [Int], bias: Int, relu: Bool, bubbles: UInt64 = 0, resetAfter: Int? = nil) {
            if let w = io.width, let h = io.height {
                held[column[w.name]!] = Int128(width)
                held[column[h.name]!] = Int128(height)
            }
            if let r = io.relu { held[column[r.name]!] = relu ? 1 : 0 }
            let results = c.binary
                ? PoolingModel.applyBinary(values, shape: TensorShape(channels: 1, height: height, width: width), pool: modelPool)
                : PoolingModel.apply(values, shape: TensorShape(channels: 1, height: height, width: width), bias: [bias], relu: relu,
                                     inputBits: mc.inputBits, resultBits: mc.resultBits, pool: modelPool)
            let k = mc.pooling ? mc.size : 1
            for (i, v) in values.enumerated() {
                if i == resetAfter {
                    cycle(reset: true, valid: UInt64.random(in: 0..<2, using: &g) == 1)
                    return
                }
                while UInt64.random(in: 0..<1000, using: &g) < bubbles { cycle(valid: false) }
                let (r, col) = (i / width, i % width)
                var result: Int128?
                if r % k == k - 1 && col % k == k - 1 && r < height / k * k && col < width / k * k {
                    result = Int128(results[(r / k) * (width / k) + col / k])
                }
                var set = [io.x.name: Int128(v)]
                if let b = io.bias { set[b.name] = Int128(bias) }
                cycle(valid: true, set, result: result)
            }
        }

        let (lo, hi) = (Int(xShape.minValue), Int(xShape.maxValue))
        let (biasLo, biasHi) = (Int(biasShape.minValue), Int(biasShape.maxValue))
        let maxW = c.pooling ? c.maxWidth : 64, maxH = c.pooling ? c.maxHeight : 64
        let k = c.pooling ? c.size : 2
        func randomValues(_ n: Int) -> [Int] { (0..<n).map { _ in Int.random(in: lo...hi, using: &g) } }
        func randomBias() -> Int {
            if c.binary { return 0 }
            switch UInt64.random(in: 0..<8, using: &g) {
            case 0: return [biasLo, biasHi, 0, hi, lo][Int.random(in: 0..<5, using: &g)]
            case 1...4: return Int.random(in: -(hi / 4 + 1)...(hi / 4 + 1), using: &g)
            default: return Int.random(in: biasLo...biasHi, using: &g)
            }
        }
        func randomRelu() -> Bool { !c.binary && Bool.random(using: &g) }

        // Power-up: reset with a valid value present (the reset wins), then reset again.
        cycle(reset: true, valid: true)
        cycle(reset: true, valid: false)
        // Corners: a full-size plane; tiny planes (no complete window); extremes with the
        // largest biases, which saturate both ends; leftovers in both directions.
        plane(height: maxH, width: maxW, values: randomValues(maxW * maxH), bias: randomBias(), relu: randomRelu())
        for (rows, cols) in [(1, 1), (1, maxW), (k - 1, 2 * k), (k, k - 1), (k, k), (k + 1, 2 * k + 1), (2 * k - 1, maxW - 1)] {
            let (h, w) = (min(rows, maxH), min(cols, maxW))
            plane(height: h, width: w, values: randomValues(h * w), bias: randomBias(), relu: randomRelu())
        }
        for bias in c.binary ? [0] : [0, biasHi, biasLo, hi, lo, 1, -1] {
            for relu in c.binary ? [false] : [false, true] {
                let (h, w) = (min(4 * k, maxH), min(3 * k, maxW))
                let extremes = (0..<(h * w)).map { _ in [lo, hi, lo + 1, hi - 1, 0, -1, 1].filter { $0 >= lo && $0 <= hi }.randomElement(using: &g)! }
                plane(height: h, width: w, values: extremes, bias: bias, relu: relu)
            }
        }
        // Average ties: every window sums to n·q + n/2 (small values, no bias, no saturation).
        if c.pool == .average && min(c.inputBits, c.resultBits) >= 6 {
            let n = k * k
            for _ in 0..<4 {
                let (h, w) = (min(2 * k, maxH / k * k), min(4 * k, maxW))
                var values = (0..<(h * w)).map { _ in Int.random(in: -8...8, using: &g) }
                for wr in 0..<(h / k) {
                    for wc in 0..<(w / k) {
                        let cells = (0..<n).map { (wr * k + $0 / k) * w + wc * k + $0 % k }
                        let sum = cells.dropLast().reduce(0) { $0 + values[$1] }
                        // The last value makes the sum ≡ n/2 (mod n), as close to the others as possible.
                        let target = n / 2 - ((sum % n) + n) % n
                        values[cells.last!] = target + (Int.random(in: -1...0, using: &g)) * n
                    }
                }
                plane(height: h, width: w, values: values, bias: 0, relu: Bool.random(using: &g))
            }
        }
        // A reset in the middle of a plane (and with bubbles), each followed by a full plane.
        for _ in 0..<3 {
            let (h, w) = (Int.random(in: k...maxH, using: &g), Int.random(in: k...maxW, using: &g))
            plane(height: h, width: w, values: randomValues(h * w), bias: randomBias(), relu: randomRelu(), bubbles: 100,
                  resetAfter: Int.random(in: 0..<(h * w), using: &g))
            plane(height: h, width: w, values: randomValues(h * w), bias: randomBias(), relu: randomRelu())
        }
        // Random planes, mostly small, some with bubbles, until the budget is spent; a reset
        // now and then, in the middle of a plane or between planes.
        let start = rows.count
        while rows.count - start < randomCycles {
            let h = Int.random(in: 1...min(maxH, 3 * k + 3), using: &g)
            let w = UInt64.random(in: 0..<4, using: &g) == 0 ? maxW : Int.random(in: 1...maxW, using: &g)
            let r = UInt64.random(in: 0..<100, using: &g)
            if r < 3 { cycle(reset: true, valid: Bool.random(using: &g)) }
            if r < 20 { for _ in 0..<Int.random(in: 1...3, using: &g) { cycle(valid: false) } }
            plane(height: h, width: w, values: randomValues(h * w), bias: randomBias(), relu: randomRelu(),
                  bubbles: r % 3 == 0 ? 200 : 0, resetAfter: r >= 97 ? Int.random(in: 0..<(h * w), using: &g) : nil)
        }
        cycle(valid: false)

        let harness = BulkComparison(design: try cosimDesign(top), top: top, inputs: inputs.map(\.name),
                                     outputs: [io.outValid, io.y].map(\.name))
        return try harness.run(initialState: initialState, name: c.moduleName, rows: rows) { cycle, _ in
            [expectValid[cycle], expectY[cycle]]
        }
    }
}
