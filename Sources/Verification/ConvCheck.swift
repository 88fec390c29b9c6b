import Conv
import Cores
import Foundation
import Golden
import Model
import Runtime

/// One layer co-simulated on one PE array and compared with the golden model.
public struct ConvRun: Sendable, Codable {
    public var shape: ConvShape
    /// Golden outputs (rounded, saturated, ReLU when configured), NMEF order.
    public var expected: [Int]
    /// Outputs the hardware delivered, NMEF order.
    public var got: [Int]
    public var mismatches: Int
    /// The first mismatching output: its (n, m, e, f), expected and got, and the cycle.
    public var firstMismatch: String?
    /// Cycles from the first input accepted to the last output delivered.
    public var cycles: Int
    public var hardwareCounts: DataMovement
    public var analyticCounts: DataMovement
    /// VCD of a failing run.
    public var waveform: String?
    public var wallSeconds: Double
}

/// The golden side of a layer run: exact sums (`ConvModel`), each rounded by its column's ROUND
/// unit in the order the column took them (`ColumnOutputModel`), compared output by output.
public enum ConvCheck {
    /// A layer's error against exact arithmetic (docs/CONV.md), the one definition every front
    /// end reports: the reference is the real convolution of the values the codes stand for,
    /// through ReLU when the array applies it; the hardware's outputs are scaled by the output
    /// format. Returns (reference, actual), in the outputs' order.
    public static func errorPoints(_ shape: ConvShape, input: [Int], weights: [Int], got: [Int],
                                   array c: ArrayConfig) -> (reference: [Double], actual: [Double]) {
        let codes = c.operandCodes()
        let real = ConvModel.real(shape, input: input.map { Int(codes.a.value(Int128($0))) }, inputFormat: c.a.golden,
                                  weights: weights.map { Int(codes.b.value(Int128($0))) }, weightFormat: c.b.golden)
        let scale = pow(2.0, Double(-c.output.frac))
        return (c.relu ? real.map { max(0, $0) } : real, got.map { Double($0) * scale })
    }

    /// Golden outputs in NMEF order for what `d` says the columns rounded, in that order;
    /// `input` and `weights` are codes of the array's number format.
    public static func expected(_ d: ConvDelivery, _ shape: ConvShape, input: [Int], weights: [Int], array: ArrayConfig) -> [Int] {
        // Codes (binary, ternary, powers of two, codebook indices) become the values they stand for.
        let codes = array.operandCodes()
        let sums = ConvModel.accumulate(shape, input: input.map { Int(codes.a.value(Int128($0))) },
                                        weights: weights.map { Int(codes.b.value(Int128($0))) })
        var columns = ColumnOutputModel(array)
        var out = [Int](repeating: 0, count: shape.outputCount)
        for (j, order) in d.columnOrder.enumerated() {
            columns.skip(column: j, count: d.roundedBefore[j])
            for index in order {
                let y = columns.next(column: j, sum: index.map { Int128(sums[$0]) } ?? 0)
                if let index { out[index] = y }
            }
        }
        return out
    }
}

extension ConvEngine {
    /// Runs the layer on the hardware and checks every output and the event counters' inputs:
    /// a failing run names its first wrong output and writes a waveform.
    public func run(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvRun {
        let start = Date()
        let d = try deliver(shape, input: input, weights: weights)
        let expected = ConvCheck.expected(d, shape, input: input, weights: weights, array: array)
        var mismatches = d.problems.count
        var first = d.problems.first
        for index in 0..<shape.outputCount where d.cycleOf[index] == nil || d.got[index] != expected[index] {
            mismatches += 1
            guard first == nil else { continue }
            let plane = shape.outHeight * shape.outWidth
            let (n, m) = (index / (plane * shape.filters), index / plane % shape.filters)
            let (e, f) = (index % plane / shape.outWidth, index % shape.outWidth)
            let got = d.cycleOf[index].map { "got \(d.got[index]) (cycle \($0))" } ?? "never delivered within \(d.simulatedCycles) cycles"
            first = "(n, m, e, f) = (\(n), \(m), \(e), \(f)): expected \(expected[index]), \(got)"
        }
        return ConvRun(shape: shape, expected: expected, got: d.got, mismatches: mismatches, firstMismatch: first,
                       cycles: d.cycles, hardwareCounts: d.hardwareCounts, analyticCounts: analytic.counts(shape, input: input, weights: weights),
                       waveform: mismatches > 0 ? waveform(shape) : nil, wallSeconds: Date().timeIntervalSince(start))
    }
}
