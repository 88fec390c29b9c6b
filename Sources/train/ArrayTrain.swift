import ArgumentParser
import Cores
import Foundation
import Golden
import Model
import Networks
import Verification

/// `train --arithmetic fixed|float`: SGD of the MLP in the systolic array's arithmetic
/// (Networks/ArrayTraining.swift), checkpointed and resumable, with sampled GEMMs replayed in
/// Verilator every epoch.
extension TrainCommand {
    var arrayOptions: ArrayTrainingOptions {
        var o = ArrayTrainingOptions()
        o.arithmetic = TrainingArithmetic(rawValue: arithmetic ?? "fixed") ?? .fixed
        o.wordLength = wordLength
        o.fracLength = frac
        o.rounding = RoundingMode(rawValue: rounding) ?? .stochastic
        o.batchMean = BatchMean(rawValue: batchMean) ?? .error
        if let learningRate { o.learningRate = Double(learningRate) }
        if let batchSize { o.batchSize = batchSize }
        if let epochs { o.epochs = epochs }
        o.seed = seed
        o.lfsrSeed = lfsrSeed
        o.rows = rows
        o.cols = cols
        o.model = model
        o.trainLimit = trainLimit
        o.testLimit = testLimit
        return o
    }

    static let checkpointName = "checkpoint.json"

    func validateArithmetic() throws {
        guard let arithmetic, TrainingArithmetic(rawValue: arithmetic) != nil else {
            throw ValidationError("invalid value \(arithmetic!) for --arithmetic: allowed \(TrainingArithmetic.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard RoundingMode(rawValue: rounding) != nil else {
            throw ValidationError("invalid value \(rounding) for --rounding: allowed \(RoundingMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard BatchMean(rawValue: batchMean) != nil else {
            throw ValidationError("invalid value \(batchMean) for --batch-mean: allowed \(BatchMean.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let testLimit, !(1...10000).contains(testLimit) { throw ValidationError("invalid value \(testLimit) for --test-limit: allowed 1...10000") }
        if quantize != nil { throw ValidationError("invalid value \(quantize!) for --quantize: allowed only without --arithmetic") }
        if weights != nil { throw ValidationError("invalid value \(weights!) for --weights: allowed only with --quantize") }
        if let p = arrayOptions.problem() {
            // The learning rate as the user typed it, not its Double widening.
            let value = p.flag == "learning-rate" ? learningRate.map { "\($0)" } ?? p.value : p.value
            throw ValidationError("invalid value \(value) for --\(p.flag): allowed \(p.allowed)")
        }
        guard let out else { throw ValidationError("missing --out: give the folder for the checkpoint and the epoch log") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("invalid value \(out) for --out: allowed an existing folder")
        }
        // A checkpoint of another configuration is not silently continued or overwritten.
        let path = "\(out)/\(Self.checkpointName)"
        if FileManager.default.fileExists(atPath: path) {
            guard let saved = try? ArrayTrainingCheckpoint.read(path) else {
                throw ValidationError("invalid value \(out) for --out: allowed a folder without an unreadable \(Self.checkpointName)")
            }
            var mine = arrayOptions, theirs = saved.options
            mine.epochs = 0
            theirs.epochs = 0
            if mine != theirs {
                throw ValidationError("invalid value \(out) for --out: allowed a folder whose \(Self.checkpointName) has the same options (it holds another run)")
            }
        }
    }

    func trainInArrayArithmetic() throws {
        let options = arrayOptions
        let path = "\(out!)/\(Self.checkpointName)"
        let trainer: ArrayTrainer
        if FileManager.default.fileExists(atPath: path) {
            var saved = try ArrayTrainingCheckpoint.read(path)
            saved.options.epochs = options.epochs
            trainer = try ArrayTrainer(checkpoint: saved)
            say("train: resuming \(path) after epoch \(trainer.epochsDone)")
            for r in trainer.history { say(r.line) }
        } else {
            trainer = try ArrayTrainer(options: options)
        }
        let train = try FashionMNIST.load(.train, directory: dataset)
        let test = try FashionMNIST.load(.test, directory: dataset)
        let fixed = options.arithmetic == .fixed
        let arithmeticText = fixed
            ? "fixed <\(options.wordLength), \(options.fracLength)>, \(options.rounding) rounding, \(options.rows)x\(options.cols) arrays, LFSR seeds \(options.lfsrSeed)...\(options.lfsrSeed + 3)"
            : "float (Double)"
        say(String(format: "train: %@ %@, SGD learning rate %g (applied: %.6g), batch %d, 1/B in the %@, %d training and %d test images, %d epochs, seed %llu",
                   options.model, arithmeticText, options.learningRate, options.effectiveLearningRate, options.batchSize, options.batchMean.rawValue,
                   min(options.trainLimit ?? train.count, train.count), min(options.testLimit ?? test.count, test.count), options.epochs, options.seed))
        if fixed {
            for role in GEMMRole.allCases {
                let a = options.array(role)
                say("  \(role) array: A \(a.formatA) x B \(a.formatB) -> \(a.output), acc \(a.accBits) bits, D = \(a.dropBits), LFSR \(a.lfsrWidth) bits seed \(a.seed)")
            }
        }
        var checks: [ArrayConfig: GEMMCheck] = [:]
        var anyMismatch = false
        while trainer.epochsDone < options.epochs {
            var samples: [SampledGEMM] = []
            let report = trainer.trainEpoch(data: train, test: test, sample: fixed && cosim ? { samples.append($0) } : nil)
            var simulated = 0, mismatches = 0
            for s in samples {
                let (count, first) = try replay(s, checks: &checks)
                simulated += 1
                mismatches += count
                if let first { FileHandle.standardError.write(Data("train: \(s.label) (epoch \(report.epoch)): \(first)\n".utf8)) }
            }
            trainer.amendLastReport {
                $0.cosimulated = simulated
                $0.mismatches = mismatches
            }
            anyMismatch = anyMismatch || mismatches > 0
            try trainer.checkpoint.write(to: path)
            try writeLog(trainer.history, to: "\(out!)/epochs.csv")
            say(trainer.history.last!.line)
        }
        if anyMismatch { throw ExitCode(1) }
    }

    /// Runs the sampled GEMM on the generated array, from reset, and compares every element
    /// with its golden model (GEMMCheck) and with what the training computed.
    func replay(_ s: SampledGEMM, checks: inout [ArrayConfig: GEMMCheck]) throws -> (Int, String?) {
        let a = s.array
        func point(_ f: FixedFormat) -> FixedPoint { FixedPoint(bits: f.wordLength, frac: f.fracLength, signed: f.isSigned) }
        let config = ArrayConfig(rows: a.rows, cols: a.cols, a: point(a.formatA), b: point(a.formatB), maxK: a.maxK,
                                 output: point(a.output), rounding: OutputRounding(rawValue: a.mode.rawValue)!, lfsrWidth: a.lfsrWidth,
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

    func writeLog(_ history: [ArrayEpochReport], to path: String) throws {
        var text = "epoch,loss,test_error,test_loss,images_per_second,seconds,updates,changed,"
            + ArrayEpochReport.tensors.map { "saturated_\($0),produced_\($0)" }.joined(separator: ",") + ",cosimulated,mismatches\n"
        for r in history {
            text += "\(r.epoch),\(r.loss),\(r.testError),\(r.testLoss),\(r.imagesPerSecond),\(r.seconds),\(r.updates),\(r.changed),"
                + ArrayEpochReport.tensors.map { "\(r.saturated[$0] ?? 0),\(r.produced[$0] ?? 0)" }.joined(separator: ",")
                + ",\(r.cosimulated),\(r.mismatches)\n"
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
