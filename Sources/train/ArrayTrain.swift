import ArgumentParser
import Cores
import Foundation
import Golden
import Model
import Networks
import Verification

/// `train --arithmetic fixed|float`: SGD of a network in the systolic array's arithmetic
/// (Networks/ArrayTraining.swift), checkpointed and resumable, with sampled GEMMs replayed in
/// Verilator every epoch. The run itself is `ArrayTrainingRun`, shared with `--figure`.
extension TrainCommand {
    var arrayOptions: ArrayTrainingOptions {
        var o = ArrayTrainingOptions()
        o.model = model ?? o.model
        o.arithmetic = TrainingArithmetic(rawValue: arithmetic ?? "fixed") ?? .fixed
        o.wordLength = wordLength ?? o.wordLength
        o.fracLength = frac ?? o.fracLength
        o.rounding = rounding.flatMap(RoundingMode.init(rawValue:)) ?? .stochastic
        o.batchMean = batchMean.flatMap(BatchMean.init(rawValue:)) ?? .error
        o.saturationDerivative = saturationDerivative.flatMap(SaturationDerivative.init(rawValue:)) ?? .zero
        if let learningRate { o.learningRate = Double(learningRate) }
        if let batchSize { o.batchSize = batchSize }
        if let epochs { o.epochs = epochs }
        o.seed = seed ?? o.seed
        o.lfsrSeed = lfsrSeed ?? o.lfsrSeed
        o.rows = rows ?? o.rows
        o.cols = cols ?? o.cols
        o.trainLimit = trainLimit
        o.testLimit = testLimit
        return o
    }

    static var checkpointName: String { ArrayTrainingRun.checkpointName }

    func validateArithmetic() throws {
        guard let arithmetic, TrainingArithmetic(rawValue: arithmetic) != nil else {
            throw ValidationError("invalid value \(arithmetic!) for --arithmetic: allowed \(TrainingArithmetic.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let rounding, RoundingMode(rawValue: rounding) == nil {
            throw ValidationError("invalid value \(rounding) for --rounding: allowed \(RoundingMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let batchMean, BatchMean(rawValue: batchMean) == nil {
            throw ValidationError("invalid value \(batchMean) for --batch-mean: allowed \(BatchMean.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let saturationDerivative, SaturationDerivative(rawValue: saturationDerivative) == nil {
            throw ValidationError("invalid value \(saturationDerivative) for --saturation-derivative: allowed \(SaturationDerivative.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let testLimit, !(1...10000).contains(testLimit) { throw ValidationError("invalid value \(testLimit) for --test-limit: allowed 1...10000") }
        if quantize != nil { throw ValidationError("invalid value \(quantize!) for --quantize: allowed only without --arithmetic") }
        if weights != nil { throw ValidationError("invalid value \(weights!) for --weights: allowed only with --quantize") }
        if let p = arrayOptions.problem() {
            // The learning rate as the user typed it, not its Double widening.
            let value = p.flag == "learning-rate" ? learningRate.map { "\($0)" } ?? p.value : p.value
            throw ValidationError("invalid value \(value) for --\(p.flag): allowed \(p.allowed)")
        }
        // ArrayTrainer's own refusals beyond problem() (a model it does not build), one line.
        do { _ = try ArrayTrainer(options: arrayOptions) } catch { throw ValidationError("\(error)") }
        guard let out else { throw ValidationError("missing --out: give the folder for the checkpoint and the epoch log") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("invalid value \(out) for --out: allowed an existing folder")
        }
        // A checkpoint of another configuration is not silently continued or overwritten.
        do { _ = try ArrayTrainingRun.saved(arrayOptions, in: out) } catch {
            switch error {
            case .unreadable:
                throw ValidationError("invalid value \(out) for --out: allowed a folder without an unreadable \(Self.checkpointName)")
            case .otherRun:
                throw ValidationError("invalid value \(out) for --out: allowed a folder whose \(Self.checkpointName) has the same options (it holds another run)")
            }
        }
    }

    func trainInArrayArithmetic() throws {
        let train = try FashionMNIST.load(.train, directory: dataset)
        let test = try FashionMNIST.load(.test, directory: dataset)
        let outcome = try ArrayTrainingRun.run(arrayOptions, in: out!, train: train, test: test,
                                               replay: cosim ? Self.verilatorReplay() : nil, log: say,
                                               warn: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        if outcome.mismatches > 0 { throw ExitCode(1) }
    }

    /// A replayer for one run: it keeps one Verilator model per array configuration, reset
    /// before each GEMM.
    static func verilatorReplay() -> ArrayTrainingRun.Replay {
        var checks: [ArrayConfig: GEMMCheck] = [:]
        return { try replay($0, checks: &checks) }
    }

    /// Runs the sampled GEMM on the generated array, from reset, and compares every element
    /// with its golden model (GEMMCheck) and with what the training computed.
    static func replay(_ s: SampledGEMM, checks: inout [ArrayConfig: GEMMCheck]) throws -> (mismatches: Int, first: String?) {
        let a = s.array
        func point(_ f: FixedFormat) -> FixedPoint { FixedPoint(bits: f.wordLength, frac: f.fracLength, signed: f.isSigned) }
        let config = ArrayConfig(rows: a.rows, cols: a.cols, a: point(a.formatA), b: point(a.formatB), maxK: a.maxK,
                                 output: point(a.output), rounding: a.mode, lfsrWidth: a.lfsrWidth,
                                 seed: a.seed, lfsrStep: a.draw == .leap ? .leap : .one)
        try config.validate(sides: 1...256)
        precondition(config.accBits == a.accBits, "accumulator widths differ")
        let check: GEMMCheck
        if let c = checks[config] {
            check = c
            try check.reset()
        } else {
            check = try GEMMCheck(config, record: false)
            checks[config] = check
        }
        let report = try check.run(label: s.label, a: s.a, b: s.b)
        var mismatches = report.mismatches, first = report.firstMismatch
        if let hw = check.lastOutput {
            for i in 0..<s.c.rows {
                for j in 0..<s.c.cols where hw[i, j] != s.c[i, j] {
                    mismatches += 1
                    if first == nil { first = "C[\(i)][\(j)]: training computed \(s.c[i, j]), the array \(hw[i, j])" }
                }
            }
        }
        return (mismatches, first)
    }
}
