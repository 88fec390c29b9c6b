import Foundation
import Networks
import Testing

/// `train --figure`'s command line (Networks/TrainingFigure.swift, train/Figure.swift): what it
/// refuses, in one line naming the flag, before writing anything.
extension TrainCommandTests {
    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("figure-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("train --figure refuses flags the plan sets, and bad values, in one line naming the flag; nothing is written", arguments: [
        (["--figure", "--rounding", "nearest"], "invalid value nearest for --rounding: allowed only without --figure"),
        (["--figure", "--frac", "10"], "invalid value 10 for --frac: allowed only without --figure"),
        (["--figure", "--learning-rate", "0.05"], "invalid value 0.05 for --learning-rate: allowed only without --figure"),
        (["--figure", "--model", "mlp"], "invalid value mlp for --model: allowed only without --figure; choose the figure's models with --models"),
        (["--figure", "--arithmetic", "fixed"], "invalid value fixed for --arithmetic: allowed only without --figure"),
        (["--figure", "--jobs", "0"], "invalid value 0 for --jobs: allowed 1...64"),
        (["--figure", "--models", "mlp,vgg"], "invalid value mlp,vgg for --models: allowed a comma-separated list of mlp, lenet5, each once"),
        (["--figure", "--epochs", "0"], "invalid value 0 for --epochs: allowed 1...100"),
        (["--figure", "--test-limit", "20000"], "invalid value 20000 for --test-limit: allowed 1...10000"),
        (["--model", "mlp", "--jobs", "2"], "invalid value 2 for --jobs: allowed only with --figure"),
        (["--figure", "--saturation-derivative", "one"], "invalid value one for --saturation-derivative: allowed only without --figure"),
        (["--model", "mlp", "--arithmetic", "fixed", "--saturation-derivative", "two"], "invalid value two for --saturation-derivative: allowed zero, one"),
    ])
    func figureRefusals(arguments: [String], message: String) throws {
        let parent = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let out = "\(parent)/figure"
        let r = try Self.run(arguments + ["--out", out])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("train: error: ") && r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("train --figure refuses an --out whose configuration folder holds another run")
    func refusesOtherRun() throws {
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        var other = TrainingFigure.gupta2015.configurations[0]
        other.options.seed = 9
        try FileManager.default.createDirectory(atPath: "\(out)/\(TrainingFigure.gupta2015.configurations[0].name)", withIntermediateDirectories: true)
        try ArrayTrainer(options: other.options).checkpoint.write(to: "\(out)/\(TrainingFigure.gupta2015.configurations[0].name)/checkpoint.json")
        let r = try Self.run(["--figure", "--models", "mlp", "--out", out])
        #expect(r.status == 2)
        #expect(r.stderr.contains("invalid value \(out) for --out: allowed a folder whose mlp-float-s1/checkpoint.json has the plan's options"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["mlp-float-s1"])
    }
}
