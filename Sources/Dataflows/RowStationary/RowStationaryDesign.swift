import Conv
import Cores
import Cosim
import HDL
import Runtime

extension Dataflow {
    /// Row stationary (Eyeriss): each PE convolves one filter row with one input row.
    public static let rs = Dataflow(rawValue: "rs")
}

/// The row-stationary array's parameters: the shared ones plus its PE register files.
public struct RowStationaryConfig: ExtendsArrayConfig, Hashable, Sendable, Encodable {
    public var array: ArrayConfig
    /// Register-file entries per PE: a filter row, an input window, partial sums.
    public var weightRegisters: Int
    public var inputRegisters: Int
    public var psumRegisters: Int

    /// RS arrays always count events, so `array.counters` is set.
    public init(_ array: ArrayConfig, weightRegisters: Int = 16, inputRegisters: Int = 16, psumRegisters: Int = 16) {
        self.array = array
        self.array.counters = true
        self.weightRegisters = weightRegisters
        self.inputRegisters = inputRegisters
        self.psumRegisters = psumRegisters
    }

    enum CodingKeys: String, CodingKey { case dataflow, weightRegisters, inputRegisters, psumRegisters }

    /// Flat: the dataflow, the shared fields, then this array's own.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Dataflow.rs, forKey: .dataflow)
        try array.encode(to: encoder)
        try c.encode(weightRegisters, forKey: .weightRegisters)
        try c.encode(inputRegisters, forKey: .inputRegisters)
        try c.encode(psumRegisters, forKey: .psumRegisters)
    }
}

extension RowStationaryConfig: DataflowDesign {
    public var dataflow: Dataflow { .rs }
    public func validate() throws { try RowStationary.validate(self) }
    public func module() throws -> ModuleDefinition { try RowStationary.module(self) }
    public var manifestFigures: [String: Int] { ["accBits": array.accBits] }
    public func mapper() -> any DataflowMapper { RowStationaryMapper(config: self) }
    public func engine(initialState: InitialState, backend: SimulatorBackend) throws -> any ConvEngine {
        try RowStationaryEngine(config: self, initialState: initialState, backend: backend)
    }
}

extension DataflowEntry {
    static let rowStationary = DataflowEntry(
        dataflow: .rs, title: "row stationary", core: "pe-array-rs", documentation: "docs/dataflows/RS.md",
        sides: RowStationary.sizes,
        storage: [(.weightRegisters, "\(RowStationary.registerRange)"), (.inputRegisters, "\(RowStationary.registerRange)"),
                  (.psumRegisters, "\(RowStationary.psumRegisterRange)")],
        // The RS PE's register files and multiplier are fixed point only, its ROUND shift fixed.
        capabilities: DataflowCapabilities(formats: ["fixed"], dynamicShift: false, thresholdOutput: false, pipelining: false,
                                           networkFormats: ["fixed"]),
        design: { RowStationaryConfig($0, weightRegisters: $1.weightRegisters, inputRegisters: $1.inputRegisters,
                                      psumRegisters: $1.psumRegisters) })
}
