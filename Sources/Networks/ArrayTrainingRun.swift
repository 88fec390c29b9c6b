import Foundation

/// One run of `ArrayTrainer` in a folder, as `train --arithmetic` does it and `train --figure`
/// does it for each configuration: resume from `checkpoint.json`, train the epochs left, replay
/// each epoch's sampled GEMMs, and after every epoch write the checkpoint and `epochs.csv`
/// atomically, so a killed run loses only the epoch in progress.
public enum ArrayTrainingRun {
    public static let checkpointName = "checkpoint.json"
    public static let logName = "epochs.csv"

    /// Replays one sampled GEMM on the generated array: its mismatches and the first one
    /// described. The caller supplies it because Verilator is outside this target.
    public typealias Replay = (SampledGEMM) throws -> (mismatches: Int, first: String?)

    /// Why a folder cannot take a run.
    public enum Conflict: Error, Equatable, Sendable, CustomStringConvertible {
        /// `checkpoint.json` is there but does not decode.
        case unreadable
        /// `checkpoint.json` holds a run of other options (the epochs aside).
        case otherRun

        public var description: String {
            switch self {
            case .unreadable: "the folder's \(checkpointName) is unreadable"
            case .otherRun: "the folder's \(checkpointName) holds a run with other options"
            }
        }
    }

    public struct Outcome: Sendable {
        /// Every finished epoch, the resumed ones included.
        public var history: [ArrayEpochReport]
        /// Epochs trained by this call, and their GEMM mismatches.
        public var trained: Int
        public var mismatches: Int
    }

    /// The run saved in `dir`, if any; nil when `dir` has no checkpoint. Epochs do not count
    /// as different options: a larger number extends the run.
    public static func saved(_ options: ArrayTrainingOptions, in dir: String) throws(Conflict) -> ArrayTrainingCheckpoint? {
        let path = "\(dir)/\(checkpointName)"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let saved = try? ArrayTrainingCheckpoint.read(path) else { throw .unreadable }
        var mine = options, theirs = saved.options
        mine.epochs = 0
        theirs.epochs = 0
        if mine != theirs { throw .otherRun }
        return saved
    }

    /// Trains `options` in `dir` up to `options.epochs`, resuming from its checkpoint. `log`
    /// gets the progress lines (with `details`, also each array's formats and, on resuming, the
    /// finished epochs), `warn` each GEMM mismatch, `finished` each epoch once it is on disk.
    public static func run(_ options: ArrayTrainingOptions, in dir: String, train: LabeledImages, test: LabeledImages,
                           replay: Replay?, details: Bool = true, log: (String) -> Void, warn: (String) -> Void,
                           finished: (ArrayEpochReport) -> Void = { _ in }) throws -> Outcome {
        let path = "\(dir)/\(checkpointName)"
        let trainer: ArrayTrainer
        if var saved = try saved(options, in: dir) {
            saved.options.epochs = options.epochs
            trainer = try ArrayTrainer(checkpoint: saved)
            log("train: resuming \(path) after epoch \(trainer.epochsDone)")
            if details { for r in trainer.history { log(r.line) } }
        } else {
            trainer = try ArrayTrainer(options: options)
        }
        let fixed = options.arithmetic == .fixed
        let arithmeticText = fixed
            ? "fixed <\(options.wordLength), \(options.fracLength)>, \(options.rounding) rounding, \(options.rows)x\(options.cols) arrays, LFSR seeds \(options.lfsrSeed)...\(options.lfsrSeed + 3)"
            : "float (Double)"
        log(String(format: "train: %@ %@, SGD learning rate %g (applied: %.6g), batch %d, 1/B in the %@, %d training and %d test images, %d epochs, seed %llu",
                   options.model, arithmeticText, options.learningRate, options.effectiveLearningRate, options.batchSize, options.batchMean.rawValue,
                   min(options.trainLimit ?? train.count, train.count), min(options.testLimit ?? test.count, test.count), options.epochs, options.seed))
        if fixed && details {
            for role in GEMMRole.allCases {
                let a = options.array(role)
                log("  \(role) array: A \(a.formatA) x B \(a.formatB) -> \(a.output), acc \(a.accBits) bits, D = \(a.dropBits), LFSR \(a.lfsrWidth) bits seed \(a.seed)")
            }
        }
        var outcome = Outcome(history: trainer.history, trained: 0, mismatches: 0)
        while trainer.epochsDone < options.epochs {
            var samples: [SampledGEMM] = []
            let report = trainer.trainEpoch(data: train, test: test, sample: fixed && replay != nil ? { samples.append($0) } : nil)
            var simulated = 0, mismatches = 0
            for s in samples {
                let (count, first) = try replay!(s)
                simulated += 1
                mismatches += count
                if let first { warn("train: \(s.label) (epoch \(report.epoch)): \(first)") }
            }
            trainer.amendLastReport {
                $0.cosimulated = simulated
                $0.mismatches = mismatches
            }
            try trainer.checkpoint.write(to: path)
            try writeLog(trainer.history, to: "\(dir)/\(logName)")
            outcome.history = trainer.history
            outcome.trained += 1
            outcome.mismatches += mismatches
            log(trainer.history.last!.line)
            finished(trainer.history.last!)
        }
        return outcome
    }

    /// `epochs.csv`: one row per finished epoch.
    public static func writeLog(_ history: [ArrayEpochReport], to path: String) throws {
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
