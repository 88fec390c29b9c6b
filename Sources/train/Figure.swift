import ArgumentParser
import Foundation
import Networks

/// `train --figure`: the training figure's plan (Networks/TrainingFigure.swift), each
/// configuration a resumable `--arithmetic` run in `--out/<name>/`, then `figure.csv`,
/// `figure.json` and the plots. The runner is in Networks so that the tests can drive it; this
/// is its command line.
extension TrainCommand {
    /// The plan with the command line's overrides.
    var figurePlan: TrainingFigure {
        var plan = TrainingFigure.gupta2015
        if let models { plan = plan.only(models: models.split(separator: ",").map(String.init)) }
        plan.epochs = epochs
        plan.trainLimit = trainLimit
        plan.testLimit = testLimit
        return plan
    }

    func validateFigure() throws {
        // What a configuration sets is the plan's: a flag for it would be silently ignored.
        let planned: [(String, String?)] = [
            ("model", model), ("arithmetic", arithmetic), ("word-length", wordLength.map { "\($0)" }), ("frac", frac.map { "\($0)" }),
            ("rounding", rounding), ("batch-mean", batchMean), ("rows", rows.map { "\($0)" }), ("cols", cols.map { "\($0)" }),
            ("lfsr-seed", lfsrSeed.map { "\($0)" }), ("seed", seed.map { "\($0)" }), ("learning-rate", learningRate.map { "\($0)" }),
            ("batch-size", batchSize.map { "\($0)" }), ("saturation-derivative", saturationDerivative),
        ]
        for (flag, value) in planned {
            if let value {
                let hint = flag == "model" ? "; choose the figure's models with --models" : " (the plan in Sources/Networks/TrainingFigure.swift sets it)"
                throw ValidationError("invalid value \(value) for --\(flag): allowed only without --figure\(hint)")
            }
        }
        if let quantize { throw ValidationError("invalid value \(quantize) for --quantize: allowed only without --figure") }
        if let weights { throw ValidationError("invalid value \(weights) for --weights: allowed only with --quantize") }
        if let epochs, !(1...100).contains(epochs) { throw ValidationError("invalid value \(epochs) for --epochs: allowed 1...100") }
        if let trainLimit, !(1...60000).contains(trainLimit) {
            throw ValidationError("invalid value \(trainLimit) for --train-limit: allowed 1...60000")
        }
        if let testLimit, !(1...10000).contains(testLimit) { throw ValidationError("invalid value \(testLimit) for --test-limit: allowed 1...10000") }
        if let jobs, !(1...64).contains(jobs) { throw ValidationError("invalid value \(jobs) for --jobs: allowed 1...64") }
        if let models {
            let all = TrainingFigure.gupta2015.models
            let list = models.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if list.contains(where: { !all.contains($0) }) || Set(list).count != list.count {
                throw ValidationError("invalid value \(models) for --models: allowed a comma-separated list of \(all.joined(separator: ", ")), each once")
            }
        }
        guard let out else { throw ValidationError("missing --out: give the folder for the figure (created when missing)") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("invalid value \(out) for --out: allowed a folder (this is a file)")
        }
        switch figurePlan.problem(out: out) {
        case nil: break
        case .folder(let name, .unreadable):
            throw ValidationError("invalid value \(out) for --out: allowed a folder without an unreadable \(name)/\(Self.checkpointName)")
        case .folder(let name, .otherRun):
            throw ValidationError("invalid value \(out) for --out: allowed a folder whose \(name)/\(Self.checkpointName) has the plan's options for \(name) (it holds another run)")
        case let problem?:
            throw ValidationError("the figure's plan cannot run: \(problem)")
        }
    }

    func runFigure() throws {
        let clock = ContinuousClock.now
        let plan = figurePlan, out = out!
        let train = try FashionMNIST.load(.train, directory: dataset)
        let test = try FashionMNIST.load(.test, directory: dataset)
        say("figure: \(plan.runs.count) configurations (\(plan.models.joined(separator: ", "))) in \(out), \(jobs ?? 2) at a time\(cosim ? "" : ", no co-simulation")")
        let replay: (@Sendable () -> ArrayTrainingRun.Replay)? = cosim ? { @Sendable in TrainCommand.verilatorReplay() } : nil
        let results: [TrainingFigure.Result] = try plan.run(
            out: out, train: train, test: test, jobs: jobs ?? 2, replay: replay, log: { say($0) },
            warn: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        var plotError: Error?
        var plots: [String] = []
        do { plots = try TrainingFigure.writePlots(results, to: out) } catch { plotError = error }

        let elapsed = ContinuousClock.now - clock
        let seconds = Int(elapsed.components.seconds)
        let trained = results.reduce(0) { $0 + $1.trained }
        let resumed = results.reduce(0) { $0 + $1.history.count } - trained
        say("figure: \(results.count) configurations, \(trained) epochs in \(seconds / 60) min \(seconds % 60) s"
            + (resumed > 0 ? " (\(resumed) more from checkpoints)" : ""))
        let width = max(13, results.map(\.configuration.name.count).max() ?? 0)
        func padded(_ s: String) -> String { s + String(repeating: " ", count: width - s.count) }
        say("  \(padded("configuration"))  epochs  test error  mismatches")
        for r in results {
            let error = r.history.last.map { String(format: "%9.2f%%", 100 * $0.testError) } ?? "         –"
            let note = r.error.map { "  error: \($0)" } ?? ""
            say("  \(padded(r.configuration.name))  " + String(format: "%6d  %@  %10d", r.history.count, error, r.mismatches) + note)
        }
        say("figure: wrote " + ([TrainingFigure.csvName, TrainingFigure.jsonName] + plots).map { "\(out)/\($0)" }.joined(separator: ", "))
        var failed = false
        if let plotError {
            FileHandle.standardError.write(Data("train: error: \(plotError)\n".utf8))
            failed = true
        }
        let mismatched = results.filter { $0.mismatches > 0 }.map(\.configuration.name)
        if !mismatched.isEmpty {
            FileHandle.standardError.write(Data("train: co-simulated GEMMs mismatched in \(mismatched.joined(separator: ", "))\n".utf8))
            failed = true
        }
        let stopped = results.filter { $0.error != nil }.map(\.configuration.name)
        if !stopped.isEmpty {
            FileHandle.standardError.write(Data("train: stopped by an error: \(stopped.joined(separator: ", ")) (the finished epochs are kept; rerun to resume)\n".utf8))
            failed = true
        }
        if failed { throw ExitCode(1) }
    }
}
