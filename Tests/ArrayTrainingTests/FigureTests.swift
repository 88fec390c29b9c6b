import Foundation
import Golden
import Model
@testable import Networks
import Testing
import TestTags

/// `train --figure` (Networks/TrainingFigure.swift, Networks/ArrayTrainingRun.swift,
/// train/Figure.swift): a tiny plan end to end, resuming, and the refusals.
@Suite("train --figure", .tags(.verilator, .dataset, .training))
struct FigureTests {
    static let train = Result { try FashionMNIST.load(.train) }
    static let test = Result { try FashionMNIST.load(.test) }

    /// A small MLP (784-24-20-10) named `mlp`, so the configurations are named as the plan's.
    static let smallMLP = NetworkSpec(name: "mlp", input: TensorShape(channels: 1, height: 28, width: 28),
                                      layers: [.flatten, .dense(outputs: 24), .relu, .dense(outputs: 20), .relu, .dense(outputs: 10)])

    /// The small MLP, 200 training and 100 test images: a fraction of a second per epoch.
    static func options(_ arithmetic: TrainingArithmetic, draw: LFSRDraw = .leap) -> ArrayTrainingOptions {
        var o = TrainingFigure.base("mlp")
        o.arithmetic = arithmetic
        o.fracLength = 10
        o.rounding = .stochastic
        o.lfsrDraw = draw
        o.network = smallMLP
        return o
    }

    static let tiny = TrainingFigure(configurations: [
        .init(options(.float)), .init(options(.fixed)), .init(options(.fixed, draw: .one)),
    ], epochs: 2, trainLimit: 200, testLimit: 100)

    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("figure-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Replays a sampled GEMM on the golden array from reset (Verilator's stand-in: the
    /// tests of ArrayTrainingTests replay them in Verilator); `extra` mismatches are added.
    static func golden(extra: Int = 0) -> @Sendable () -> ArrayTrainingRun.Replay {
        { { s in
            var model = s.array.goldenModel
            let c = model.gemm(a: s.a, b: s.b).c
            let wrong = zip(c.elements, s.c.elements).filter { $0 != $1 }.count + extra
            return (wrong, wrong > 0 ? "\(s.label) differs" : nil)
        } }
    }

    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
        func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    }

    static func run(_ plan: TrainingFigure, in dir: String, replay: (@Sendable () -> ArrayTrainingRun.Replay)? = golden(),
                    lines: Lines = Lines()) throws -> [TrainingFigure.Result] {
        #expect(plan.problem(out: dir) == nil)
        return try plan.run(out: dir, train: try train.get(), test: try test.get(), jobs: 2, replay: replay,
                            log: lines.add, warn: lines.add)
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test("a tiny plan writes every configuration's folder, figure.csv, figure.json and the plots")
    func tinyPlan() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = Lines()
        let results = try Self.run(Self.tiny, in: dir, lines: lines)
        let names = ["mlp-float-s1", "mlp-fl10-stochastic-s1", "mlp-fl10-stochastic-one-s1"]
        #expect(results.map(\.configuration.name) == names)
        #expect(results.map(\.trained) == [2, 2, 2])
        #expect(results.allSatisfy { $0.error == nil && $0.mismatches == 0 })
        // Every line names its configuration; each configuration printed its two epochs.
        #expect(lines.lines.allSatisfy { line in names.contains { line.hasPrefix("\($0): ") } }, "\(lines.lines)")
        for name in names {
            #expect(lines.lines.filter { $0.hasPrefix("\(name): epoch ") }.count == 2, "\(name)")
            let checkpoint = try ArrayTrainingCheckpoint.read("\(dir)/\(name)/checkpoint.json")
            #expect(checkpoint.epochsDone == 2)
            #expect(try Self.read("\(dir)/\(name)/epochs.csv").split(separator: "\n").count == 3)
        }

        // figure.csv: a header and one row per configuration per epoch; float rows leave the
        // fixed-point fields empty; each fixed epoch replayed its four sampled GEMMs.
        let csv = try Self.read("\(dir)/figure.csv").split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = csv[0]
        #expect(csv.count == 1 + 3 * 2)
        #expect(csv.allSatisfy { $0.count == header.count })
        func column(_ name: String) -> [String] {
            guard let i = header.firstIndex(of: name) else {
                Issue.record("figure.csv has no column \(name)")
                return []
            }
            return csv.dropFirst().map { $0[i] }
        }
        #expect(column("configuration") == names.flatMap { [$0, $0] })
        #expect(column("epoch") == ["1", "2", "1", "2", "1", "2"])
        #expect(column("arithmetic") == ["float", "float", "fixed", "fixed", "fixed", "fixed"])
        #expect(column("frac_length") == ["", "", "10", "10", "10", "10"])
        #expect(column("lfsr_draw") == ["", "", "leap", "leap", "one", "one"])
        #expect(column("cosimulated") == ["0", "0", "4", "4", "4", "4"])
        #expect(column("test_error") == results.flatMap { $0.history.map { "\($0.testError)" } })
        #expect(column("learning_rate_applied")[2] == "\(Self.options(.fixed).effectiveLearningRate)")

        // figure.json: the same epochs with each configuration's options.
        struct Entry: Decodable { var name: String; var options: ArrayTrainingOptions; var epochs: [ArrayEpochReport] }
        struct File: Decodable { var configurations: [Entry] }
        let json = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/figure.json")))
        #expect(json.configurations.map(\.name) == names)
        #expect(json.configurations.map(\.options) == Self.tiny.runs.map(\.options))
        #expect(json.configurations.map { $0.epochs.map(\.loss) } == results.map { $0.history.map(\.loss) })

        // The plots: Figure 2's two panels, and leap against one-step draws.
        #expect(try TrainingFigure.writePlots(results, to: dir) == ["figure-mlp.svg", "lfsr-draw-mlp.svg"])
        let gp = try Self.read("\(dir)/figure-mlp.gp")
        #expect(gp.contains("set multiplot layout 1,2") && gp.contains("(a) round to nearest") && gp.contains("(b) stochastic rounding"))
        #expect(gp.contains("title \"float\"") && gp.contains("title \"FL 10\""))
        // The one-step run is not in Figure 2; it is in the draw plot, with its leap twin.
        let e = results[2].history[1].testError
        #expect(try Self.read("\(dir)/lfsr-draw-mlp.gp").contains("2 \(TrainingFigure.num(100 * e))\n"))
        #expect(try Self.read("\(dir)/lfsr-draw-mlp.gp").contains("one step per draw"))
        for svg in ["figure-mlp.svg", "lfsr-draw-mlp.svg"] {
            #expect(try Self.read("\(dir)/\(svg)").contains("<svg"))
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "scratch files left: \(left)")
    }

    @Test("a second invocation resumes: nothing is retrained and the files keep their bytes; more epochs extend the runs")
    func resumes() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Self.run(Self.tiny, in: dir)
        let files = ["figure.csv", "figure.json"] + Self.tiny.runs.map { "\($0.name)/checkpoint.json" }
        let bytes = try files.map { try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\($0)")) }
        // No replayer: a configuration that trained would co-simulate nothing and change the CSV.
        let lines = Lines()
        let again = try Self.run(Self.tiny, in: dir, replay: nil, lines: lines)
        #expect(again.map(\.trained) == [0, 0, 0])
        #expect(try files.map { try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\($0)")) } == bytes)
        #expect(!lines.lines.contains { $0.contains(": epoch ") }, "\(lines.lines)")
        #expect(lines.lines.filter { $0.contains(": finished, 2 epochs") }.count == 3)

        // A smaller --epochs draws the first epochs without training.
        var shorter = Self.tiny
        shorter.epochs = 1
        let one = try Self.run(shorter, in: dir)
        #expect(one.map(\.trained) == [0, 0, 0] && one.allSatisfy { $0.history.count == 1 })

        var longer = Self.tiny
        longer.epochs = 3
        let three = try Self.run(longer, in: dir)
        #expect(three.map(\.trained) == [1, 1, 1])
        #expect(three.map { Array($0.history.prefix(2)).map(\.loss) } == first.map { $0.history.map(\.loss) })
        #expect(three.allSatisfy { $0.history.map(\.epoch) == [1, 2, 3] })
    }

    @Test("mismatches and errors of a configuration are kept in its result; the others run on")
    func mismatches() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var plan = Self.tiny
        plan.epochs = 1
        plan.configurations = [plan.configurations[1]]
        let lines = Lines()
        let results = try Self.run(plan, in: dir, replay: Self.golden(extra: 1), lines: lines)
        #expect(results[0].mismatches == 4)
        #expect(lines.lines.contains { $0.hasPrefix("mlp-fl10-stochastic-s1: forward-layer1 (epoch 1): ") })

        // A replayer that throws stops its configuration after the epochs it finished.
        struct Broken: Error {}
        let dir2 = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        let failed = try Self.run(Self.tiny, in: dir2, replay: { { _ in throw Broken() } })
        #expect(failed[0].error == nil && failed[0].history.count == 2)  // float: nothing to replay
        #expect(failed[1].error != nil && failed[1].history.isEmpty)
        #expect(failed[2].error != nil)
    }

    @Test("a plan that cannot run is found before anything is written")
    func problems() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var twice = Self.tiny
        twice.configurations.append(twice.configurations[0])
        #expect(twice.problem(out: dir) == .duplicate(name: "mlp-float-s1"))
        var bad = Self.tiny
        bad.configurations[1].options.fracLength = 15
        guard case .configuration(let name, let message)? = bad.problem(out: dir) else {
            Issue.record("FL 15 was not refused")
            return
        }
        #expect(name == "mlp-fl10-stochastic-s1" && message.contains("--frac"), "\(message)")
        // A folder holding a run of other options is not continued.
        var other = Self.options(.float)
        other.seed = 9
        try FileManager.default.createDirectory(atPath: "\(dir)/mlp-float-s1", withIntermediateDirectories: true)
        try ArrayTrainer(options: other).checkpoint.write(to: "\(dir)/mlp-float-s1/checkpoint.json")
        #expect(Self.tiny.problem(out: dir) == .folder(name: "mlp-float-s1", conflict: .otherRun))
        try Data("{".utf8).write(to: URL(fileURLWithPath: "\(dir)/mlp-float-s1/checkpoint.json"))
        #expect(Self.tiny.problem(out: dir) == .folder(name: "mlp-float-s1", conflict: .unreadable))
    }

    @Test("the plan: Figure 2's configurations, unique names, every one runnable")
    func plan() throws {
        let plan = TrainingFigure.gupta2015
        let names = plan.configurations.map(\.name)
        #expect(Set(names).count == names.count)
        for name in ["mlp-float-s1", "mlp-fl8-nearest-s1", "mlp-fl14-stochastic-s1", "mlp-float-s2", "mlp-fl10-nearest-s2",
                     "mlp-fl8-stochastic-one-s1", "mlp-fl10-stochastic-one-s1", "lenet5-float-s1", "lenet5-fl10-stochastic-s1"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(plan.models == ["mlp", "lenet5"])
        // Options that change the curve change the name (its folder).
        var o = TrainingFigure.base("mlp")
        o.fracLength = 14
        o.saturationDerivative = .one
        o.lfsrDraw = .one
        #expect(TrainingFigure.Configuration(o).name == "mlp-fl14-stochastic-one-satone-s1")
        #expect(plan.only(models: ["lenet5"]).configurations.allSatisfy { $0.options.model == "lenet5" })
        for c in plan.configurations {
            #expect(c.options.problem() == nil, "\(c.name)")
            #expect(c.options.seed == 1 || c.options.lfsrSeed != 1, "\(c.name): a second seed takes other LFSR seeds too")
        }
    }
}
