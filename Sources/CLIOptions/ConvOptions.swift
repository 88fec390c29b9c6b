import ArgumentParser
import Conv
import Cores
import Dataflows

/// The PE-array design flags of `simulate conv` and `generate-rtl pe-array`.
public struct ConvDesignOptions: ParsableArguments {
    @Option(help: ArgumentHelp("\(Dataflows.names) (" + Dataflows.all.map { "\($0.dataflow): \($0.title)" }.joined(separator: ", ") + ").",
                               valueName: "dataflow"))
    public var dataflow: Dataflow = .os
    @Option(help: ArgumentHelp("PE array rows: " + ConvDesignOptions.sidesHelp)) public var rows = 4
    @Option(help: ArgumentHelp("PE array columns: " + ConvDesignOptions.sidesHelp)) public var cols = 4
    @Option(help: "Longest reduction (C·R·S) the default accumulator holds without overflow, 1...16777216.") public var maxReduction = 4096
    @OptionGroup public var arithmetic: ArithmeticOptions
    @Flag(help: "ReLU at the output: negative rounded outputs become 0.") public var relu = false
    @Flag(help: "Turn zero gating off (default on: a zero activation skips the multiply and holds the PE).") public var noZeroGating = false
    @Option(help: ArgumentHelp("Register-file entries per PE for weights: " + ConvDesignOptions.storageHelp(.weightRegisters)))
    public var weightRegisters = 16
    @Option(help: ArgumentHelp("Register-file entries per PE for input activations: " + ConvDesignOptions.storageHelp(.inputRegisters)))
    public var inputRegisters = 16
    @Option(help: ArgumentHelp("Register-file entries per PE for partial sums: " + ConvDesignOptions.storageHelp(.psumRegisters)))
    public var psumRegisters = 16

    public init() {}

    /// "1...128 for os, 1...64 for ws and rs": each dataflow's sides, from the registry.
    static var sidesHelp: String {
        Dictionary(grouping: Dataflows.all, by: \.sides).sorted { $0.key.upperBound > $1.key.upperBound }.map { sides, entries in
            "\(sides.lowerBound)...\(sides.upperBound) for " + entries.map(\.dataflow.rawValue).joined(separator: " and ")
        }.joined(separator: ", ") + "."
    }

    /// "2...256 (the active weight and its shadow) for ws, 1...64 for rs": what each dataflow
    /// that reads `flag` allows, from the registry.
    static func storageHelp(_ flag: PEStorage.Flag) -> String {
        Dataflows.all.compactMap { entry in
            entry.storage.first { $0.flag == flag }.map { "\($0.allowed) for \(entry.dataflow)" }
        }.joined(separator: ", ") + "."
    }

    /// The fields every array shares.
    public var array: ArrayConfig {
        let x = arithmetic
        return ArrayConfig(rows: rows, cols: cols, a: x.a, b: x.b, maxK: maxReduction, accBits: x.accBits, output: x.output,
                           rounding: x.rounding, lfsrWidth: x.lfsrWidth, seed: x.lfsrSeed, lfsrStep: x.lfsrStep,
                           // A binary code 0 stands for -1, so binary activations are never zero.
                           zeroGating: !noZeroGating && x.format != .binary, relu: relu, format: x.format,
                           thresholds: x.thresholdOutput, dynamicShift: x.dynamicShift)
    }

    public var storage: PEStorage {
        PEStorage(weightRegisters: weightRegisters, inputRegisters: inputRegisters, psumRegisters: psumRegisters)
    }

    /// The registry's entry for `--dataflow` (parsing accepts only registered names).
    public var entry: DataflowEntry { Dataflows.entry(dataflow)! }

    /// The chosen dataflow's design.
    public var design: any DataflowDesign { entry.design(array, storage) }
}

extension Dataflow: ExpressibleByArgument {
    public init?(argument: String) {
        guard let entry = Dataflows.entry(Dataflow(rawValue: argument)) else { return nil }
        self = entry.dataflow
    }

    public static var allValueStrings: [String] { Dataflows.all.map(\.dataflow.rawValue) }
    public var defaultValueDescription: String { rawValue }
}
